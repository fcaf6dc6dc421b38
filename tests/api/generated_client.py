"""Drives mnemo through a client that openapi-python-client generated from docs/openapi.json.

Usage: generated_client.py DIR, where DIR holds the generated package `mnemo_client`; the
server's address and a read/write key come from MNEMO_URL and MNEMO_TOKEN. Prints one line per
step for the Rust test (tests/tests/contract.rs) to check, and fails on anything unexpected.
"""

import os
import sys

sys.path.insert(0, sys.argv[1])

from mnemo_client import AuthenticatedClient  # noqa: E402
from mnemo_client.api.search import search  # noqa: E402
from mnemo_client.api.sessions import store_session  # noqa: E402
from mnemo_client.models import (  # noqa: E402
    Error,
    IngestOut,
    SearchIn,
    SearchOut,
    SessionIn,
    TurnIn,
)

client = AuthenticatedClient(base_url=os.environ["MNEMO_URL"], token=os.environ["MNEMO_TOKEN"])

session = SessionIn(
    session_id="trip",
    turns=[
        TurnIn(speaker="Ann", text="We are planning a trip to Lisbon in May."),
        TurnIn(speaker="Bob", text="Great, I will book the flights to Lisbon."),
    ],
)
stored = store_session.sync_detailed("ann", client=client, body=session, wait=True)
assert stored.status_code == 201, (stored.status_code, stored.content)
assert isinstance(stored.parsed, IngestOut), stored.content
assert stored.parsed.session_id == "trip" and stored.parsed.status == "ready", stored.parsed
print(f"stored trip: {str(stored.parsed.outcome)}")

found = search.sync("ann", client=client, body=SearchIn(query="Lisbon flights", top_k=5))
assert isinstance(found, SearchOut), found
texts = [r.text for r in found.results]
assert any("Lisbon" in t for t in texts), texts
print("found: Lisbon")

# An error comes back as the typed error body with its registry code.
missing = search.sync_detailed("nobody", client=client, body=SearchIn(query="Lisbon"))
assert missing.status_code == 404, (missing.status_code, missing.content)
assert isinstance(missing.parsed, Error), missing.content
print(f"other user: {str(missing.parsed.error.code)}")
