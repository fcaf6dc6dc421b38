"""Schemathesis hooks for mnemo's contract test: an archive body (JSON Lines) goes on the wire
as the text it is; a generated value that is not text is sent as one JSON line."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8")}
    return {"data": (json.dumps(value) + "\n").encode("utf-8")}
