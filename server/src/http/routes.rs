//! The route table: every operation's path, handler and what it promises beyond its
//! signature (id, scope, success statuses, domain error codes). The OpenAPI document is
//! generated from this table, so a route cannot exist without being documented.

use aide::axum::ApiRouter;
use aide::axum::routing::{delete_with, get_with, patch_with, post_with};
use aide::transform::TransformOperation;
use memory::tenancy::Scope;

use super::codes::Code::{self, *};
use super::openapi::{self, Documented, Need};
use super::{admin, archive, context, persona, search, sessions, system, units, users};
use crate::Engine;

const READ: Need = Need::Scope(Scope::Read);
const WRITE: Need = Need::Scope(Scope::Write);
const KEYS: Need = Need::Scope(Scope::Admin);

/// Turns sent to be stored.
const TURNS: &[Code] = &[
    InvalidId,
    UserNotFound,
    EmptySession,
    EmptyText,
    TextTooLong,
    TooManyTurns,
    DuplicateExternalId,
    InvalidTimestamp,
    SessionConflict,
    RateLimited,
    EmbedderUnavailable,
];

/// A search or a context block.
const QUERY: &[Code] = &[
    InvalidId,
    UserNotFound,
    InvalidQuery,
    EmptyText,
    TextTooLong,
    InvalidTimestamp,
    RateLimited,
    EmbedderUnavailable,
];

/// Documents one operation.
fn op<'a>(
    id: &'a str,
    tag: &'a str,
    summary: &'a str,
    need: Need,
    codes: &'a [Code],
) -> impl FnOnce(TransformOperation<'_>) -> TransformOperation<'_> + 'a {
    move |t| t.doc(id, tag, summary, need).codes(codes)
}

/// Every documented route.
pub(super) fn table() -> ApiRouter<Engine> {
    let users = "/v1/users/{user_id}";
    ApiRouter::new()
        .api_route(
            "/health",
            get_with(
                system::health,
                op(
                    "health",
                    "system",
                    "Whether the server is up",
                    Need::Public,
                    &[],
                ),
            ),
        )
        .api_route(
            "/v1/openapi.json",
            get_with(
                openapi::serve,
                op("openapi", "system", "This document", Need::Public, &[]),
            ),
        )
        .api_route(
            "/v1/users",
            get_with(
                system::users,
                op(
                    "listUsers",
                    "system",
                    "The users of the key's tenant",
                    READ,
                    &[],
                ),
            ),
        )
        .api_route(
            "/v1/admin/tenants",
            post_with(admin::create_tenant, |t| {
                op(
                    "createTenant",
                    "admin",
                    "Create a tenant",
                    Need::AdminKey,
                    &[InvalidId, TextTooLong, TenantExists],
                )(t)
                .statuses(&[201])
            })
            .get_with(
                admin::tenants,
                op("listTenants", "admin", "Every tenant", Need::AdminKey, &[]),
            ),
        )
        .api_route(
            "/v1/admin/tenants/{tenant_id}",
            delete_with(
                admin::delete_tenant,
                op(
                    "deleteTenant",
                    "admin",
                    "Delete a tenant without stored sessions, with its keys",
                    Need::AdminKey,
                    &[InvalidId, InvalidField, TenantNotFound, TenantNotEmpty],
                ),
            ),
        )
        .api_route(
            "/v1/admin/keys",
            post_with(admin::create_key, |t| {
                op(
                    "createKey",
                    "admin",
                    "Create an API key; its token is in this answer only",
                    KEYS,
                    &[InvalidId, TextTooLong, TenantNotFound],
                )(t)
                .statuses(&[201])
            })
            .get_with(
                admin::keys,
                op(
                    "listKeys",
                    "admin",
                    "The keys the caller may manage, without secrets",
                    KEYS,
                    &[InvalidId],
                ),
            ),
        )
        .api_route(
            "/v1/admin/keys/{key_id}",
            delete_with(
                admin::revoke_key,
                op(
                    "revokeKey",
                    "admin",
                    "Revoke a key; the next request with it fails",
                    KEYS,
                    &[KeyNotFound],
                ),
            ),
        )
        .api_route(
            "/v1/admin/stats",
            get_with(
                admin::stats,
                op(
                    "stats",
                    "admin",
                    "Sizes of the stores and language-model usage",
                    Need::AdminKey,
                    &[],
                ),
            ),
        )
        .api_route(
            "/metrics",
            get_with(
                admin::metrics,
                op(
                    "metrics",
                    "admin",
                    "Measurements in the Prometheus text format",
                    Need::AdminKey,
                    &[],
                ),
            ),
        )
        .api_route(
            users,
            delete_with(
                users::erase,
                op(
                    "eraseUser",
                    "users",
                    "Erase every trace of the user; answers with an erasure receipt",
                    WRITE,
                    &[InvalidId, UserNotFound],
                ),
            ),
        )
        .api_route(
            &format!("{users}/audit"),
            get_with(
                users::audit,
                op(
                    "listAudit",
                    "users",
                    "A page of the audit log about the user, oldest first",
                    READ,
                    &[InvalidId, UserNotFound, InvalidQuery, InvalidTimestamp],
                ),
            ),
        )
        .api_route(
            &format!("{users}/export"),
            get_with(
                archive::export,
                op(
                    "exportUser",
                    "users",
                    "The user's memory as a JSON Lines archive (no vectors)",
                    READ,
                    &[InvalidId, UserNotFound],
                ),
            ),
        )
        .api_route(
            &format!("{users}/import"),
            post_with(archive::import, |t| {
                op(
                    "importUser",
                    "users",
                    "Restore an archive into a user without memory",
                    WRITE,
                    &[
                        InvalidId,
                        InvalidQuery,
                        InvalidArchive,
                        UserNotEmpty,
                        Overloaded,
                        EmbedderUnavailable,
                    ],
                )(t)
                .statuses(&[201, 202])
            }),
        )
        .api_route(
            &format!("{users}/sessions"),
            post_with(sessions::create, |t| {
                op("storeSession", "sessions", "Store a session", WRITE, TURNS)(t)
                    .statuses(&[201, 200, 202])
            })
            .get_with(
                sessions::list,
                op(
                    "listSessions",
                    "sessions",
                    "A page of the user's sessions",
                    READ,
                    &[InvalidId, UserNotFound, InvalidQuery],
                ),
            ),
        )
        .api_route(
            &format!("{users}/sessions/{{session_id}}"),
            get_with(
                sessions::get,
                op(
                    "getSession",
                    "sessions",
                    "A session with its turns",
                    READ,
                    &[InvalidId, UserNotFound, SessionNotFound],
                ),
            )
            .delete_with(
                sessions::delete,
                op(
                    "deleteSession",
                    "sessions",
                    "Delete a session, its units and the persona evidence it alone gave",
                    WRITE,
                    &[InvalidId, UserNotFound, SessionNotFound],
                ),
            ),
        )
        .api_route(
            &format!("{users}/sessions/{{session_id}}/turns"),
            post_with(sessions::append, |t| {
                op(
                    "appendTurns",
                    "sessions",
                    "Append turns to a stored session",
                    WRITE,
                    TURNS,
                )(t)
                .codes(&[SessionNotFound])
                .statuses(&[200, 202])
            }),
        )
        .api_route(
            &format!("{users}/sessions/{{session_id}}/turns/{{turn_id}}"),
            patch_with(
                sessions::edit_turn,
                op(
                    "editTurn",
                    "sessions",
                    "Correct a turn; the session's units and persona are rebuilt before the answer",
                    WRITE,
                    &[
                        InvalidId,
                        UserNotFound,
                        SessionNotFound,
                        TurnNotFound,
                        InvalidField,
                        TextTooLong,
                        EmbedderUnavailable,
                    ],
                ),
            )
            .delete_with(
                sessions::delete_turn,
                op(
                    "deleteTurn",
                    "sessions",
                    "Delete a turn; the session's units and persona are rebuilt before the answer",
                    WRITE,
                    &[
                        InvalidId,
                        UserNotFound,
                        SessionNotFound,
                        TurnNotFound,
                        EmptySession,
                        EmbedderUnavailable,
                    ],
                ),
            ),
        )
        .api_route(
            &format!("{users}/units"),
            get_with(
                units::list,
                op(
                    "listUnits",
                    "units",
                    "A page of the user's memory units",
                    READ,
                    &[InvalidId, UserNotFound, InvalidQuery],
                ),
            ),
        )
        .api_route(
            &format!("{users}/units/{{unit_id}}"),
            get_with(
                units::get,
                op(
                    "getUnit",
                    "units",
                    "A memory unit with its association links",
                    READ,
                    &[InvalidId, UserNotFound, UnitNotFound],
                ),
            )
            .patch_with(
                units::edit,
                op(
                    "editUnit",
                    "units",
                    "Correct a unit's text; it is embedded, indexed and associated again",
                    WRITE,
                    &[
                        InvalidId,
                        UserNotFound,
                        UnitNotFound,
                        FactUnit,
                        InvalidField,
                        TextTooLong,
                        EmbedderUnavailable,
                    ],
                ),
            )
            .delete_with(
                units::delete,
                op(
                    "deleteUnit",
                    "units",
                    "Delete a unit; its history stays and it is not built again",
                    WRITE,
                    &[InvalidId, UserNotFound, UnitNotFound, FactUnit],
                ),
            ),
        )
        .api_route(
            &format!("{users}/units/{{unit_id}}/history"),
            get_with(
                units::history,
                op(
                    "unitHistory",
                    "units",
                    "A unit's versions, oldest first (a deleted unit's too)",
                    READ,
                    &[InvalidId, UserNotFound, UnitNotFound],
                ),
            ),
        )
        .api_route(
            &format!("{users}/search"),
            post_with(
                search::search,
                op("search", "search", "Search the user's memory", READ, QUERY),
            ),
        )
        .api_route(
            &format!("{users}/context"),
            post_with(
                context::context,
                op(
                    "context",
                    "search",
                    "A prompt-ready context block within a token budget",
                    READ,
                    QUERY,
                ),
            ),
        )
        .api_route(
            &format!("{users}/persona"),
            get_with(
                persona::get,
                op(
                    "getPersona",
                    "persona",
                    "The user's persona statements and summaries",
                    READ,
                    &[InvalidId, UserNotFound, InvalidQuery],
                ),
            ),
        )
        .api_route(
            &format!("{users}/persona/statements/{{statement_id}}"),
            patch_with(
                persona::edit,
                op(
                    "editStatement",
                    "persona",
                    "Correct a persona statement",
                    WRITE,
                    &[
                        InvalidId,
                        UserNotFound,
                        StatementNotFound,
                        EmptyText,
                        TextTooLong,
                        EmbedderUnavailable,
                    ],
                ),
            )
            .delete_with(
                persona::delete,
                op(
                    "deleteStatement",
                    "persona",
                    "Delete a persona statement",
                    WRITE,
                    &[InvalidId, UserNotFound, StatementNotFound],
                ),
            ),
        )
        .api_route(
            &format!("{users}/persona/statements/{{statement_id}}/history"),
            get_with(
                persona::history,
                op(
                    "statementHistory",
                    "persona",
                    "A persona statement's versions",
                    READ,
                    &[InvalidId, UserNotFound, StatementNotFound],
                ),
            ),
        )
}
