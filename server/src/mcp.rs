//! mnemo as a Model Context Protocol server (the official `rmcp` SDK): the same engine calls,
//! access checks and wire types as the REST API, as tools an agent can call. Served over
//! Streamable HTTP at `/mcp` (the HTTP layer authenticates the bearer key and hands the caller
//! here) and over stdio by `mnemo mcp` (the operator's own data directory).
//!
//! A tool whose engine call fails answers with `isError` and the REST error body
//! (`{"error": {"code", "message"}}`), so an agent reads the same stable codes as a REST client.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Extensions, Implementation, ServerCapabilities, ServerConfig,
};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::engine::Access;
use crate::http::dto::{
    self, ContextIn, ContextOut, DeleteOut, IngestOut, PersonaOut, PersonaQuery, SearchIn,
    SearchOut, SessionIn, SessionListOut, SessionPage, StatementOut, StatementPatch,
};
use crate::http::error::ApiError;

/// A tool's arguments: the user whose memory it touches, and the REST request body's fields.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ForUser<T> {
    /// The user whose memory this is (as in `/v1/users/{user_id}/...`).
    user_id: String,
    #[serde(flatten)]
    body: T,
}

/// `remember`'s arguments beyond a session's fields.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct Remember {
    #[serde(flatten)]
    session: SessionIn,
    /// Append `turns` to the stored session `session_id` instead of storing a session.
    #[serde(default)]
    append: bool,
}

/// Names a session.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionName {
    session_id: String,
}

/// A persona statement and what to change in it.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct StatementChange {
    statement_id: i64,
    #[serde(flatten)]
    patch: StatementPatch,
}

/// Names a persona statement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatementName {
    statement_id: i64,
}

/// Who is calling: fixed for stdio, or put into the request by the HTTP layer's authentication.
#[derive(Debug, Clone)]
enum Caller {
    Fixed(Access),
    PerRequest,
}

/// The MCP server over an engine.
#[derive(Debug, Clone)]
pub struct Mcp {
    engine: Engine,
    caller: Caller,
    tool_router: ToolRouter<Self>,
}

/// A tool's answer: the REST reply's JSON, or the REST error body flagged as an error.
fn answer<T: Serialize>(result: Result<T, ApiError>) -> Result<CallToolResult, ErrorData> {
    match result {
        Ok(body) => {
            let value = serde_json::to_value(body)
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            Ok(CallToolResult::success(vec![ContentBlock::text(
                value.to_string(),
            )]))
        }
        Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(
            e.body().to_string(),
        )])),
    }
}

impl Mcp {
    /// For one caller whose access is known beforehand (stdio).
    pub fn with_access(engine: Engine, access: Access) -> Self {
        Self {
            engine,
            caller: Caller::Fixed(access),
            tool_router: Self::tool_router(),
        }
    }

    /// For HTTP, where each request carries its caller (see [`crate::http`]).
    pub(crate) fn per_request(engine: Engine) -> Self {
        Self {
            engine,
            caller: Caller::PerRequest,
            tool_router: Self::tool_router(),
        }
    }

    /// The caller of a tool call.
    fn access(&self, extensions: &Extensions) -> Result<Access, ApiError> {
        match &self.caller {
            Caller::Fixed(access) => Ok(access.clone()),
            Caller::PerRequest => extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Access>())
                .cloned()
                // The HTTP layer authenticates before a call reaches a tool; without its
                // answer nothing is allowed.
                .ok_or_else(|| {
                    ApiError::from(crate::Error::Unauthenticated {
                        reason: "the request was not authenticated".to_owned(),
                    })
                }),
        }
    }
}

#[tool_router]
impl Mcp {
    /// Stores a conversation session in a user's memory (or, with `append`, adds turns to a
    /// stored one) and waits until its memories are built. Sending the same session again
    /// changes nothing.
    #[tool(annotations(
        title = "Remember a conversation",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn remember(
        &self,
        extensions: Extensions,
        Parameters(args): Parameters<ForUser<Remember>>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(
            async {
                let access = self.access(&extensions)?;
                let user = dto::user_id(args.user_id)?;
                let report = if args.body.append {
                    let (session, channel, turns) = args.body.session.into_append()?;
                    self.engine
                        .append(&access, user, session, turns, channel, true)
                        .await?
                } else {
                    let channel = args.body.session.channel;
                    let session = args.body.session.into_draft()?;
                    self.engine
                        .ingest(&access, user, session, channel, true)
                        .await?
                };
                Ok(IngestOut::from(report))
            }
            .await,
        )
    }

    /// What mnemo remembers about a query, as a prompt-ready block within a token budget: the
    /// persona summary, then memories grouped by session in time order, with citations.
    #[tool(annotations(
        title = "Recall memories for a prompt",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn recall(
        &self,
        extensions: Extensions,
        Parameters(args): Parameters<ForUser<ContextIn>>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(
            async {
                let access = self.access(&extensions)?;
                let user = dto::user_id(args.user_id)?;
                let block = self
                    .engine
                    .context(&access, user, args.body.into_request())
                    .await?;
                Ok(ContextOut::from(block))
            }
            .await,
        )
    }

    /// Searches a user's memory: ranked memory units with their source turns.
    #[tool(annotations(
        title = "Search memory",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn search(
        &self,
        extensions: Extensions,
        Parameters(args): Parameters<ForUser<SearchIn>>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(
            async {
                let access = self.access(&extensions)?;
                let user = dto::user_id(args.user_id)?;
                let request = args.body.into_request()?;
                let outcome = self
                    .engine
                    .search_from(&access, user, request.params, request.sources)
                    .await?;
                Ok(SearchOut::new(outcome, request.group_by, request.explain))
            }
            .await,
        )
    }

    /// A user's persona: statements per speaker with provenance, and a summary paragraph.
    #[tool(annotations(
        title = "Get the persona",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn get_persona(
        &self,
        extensions: Extensions,
        Parameters(args): Parameters<ForUser<PersonaQuery>>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(
            async {
                let access = self.access(&extensions)?;
                let user = dto::user_id(args.user_id)?;
                let filter = args.body.into_filter()?;
                Ok(PersonaOut::from(
                    self.engine.persona(&access, user, filter).await?,
                ))
            }
            .await,
        )
    }

    /// A user's stored sessions in time order, with turn and unit counts and build status.
    #[tool(annotations(
        title = "List sessions",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn list_sessions(
        &self,
        extensions: Extensions,
        Parameters(args): Parameters<ForUser<SessionPage>>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(
            async {
                let access = self.access(&extensions)?;
                let user = dto::user_id(args.user_id)?;
                let (limit, after) = args.body.checked()?;
                let (sessions, next) = self.engine.sessions(&access, user, limit, after).await?;
                Ok(SessionListOut::new(sessions, next))
            }
            .await,
        )
    }

    /// Deletes a session with everything built from it: turns, memory units, vectors and
    /// full-text entries. Cannot be undone.
    #[tool(annotations(
        title = "Delete a session",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn delete_session(
        &self,
        extensions: Extensions,
        Parameters(args): Parameters<ForUser<SessionName>>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(
            async {
                let access = self.access(&extensions)?;
                let user = dto::user_id(args.user_id)?;
                let session = dto::session_id(args.body.session_id)?;
                let counts = self.engine.delete_session(&access, user, session).await?;
                Ok(DeleteOut::from(counts))
            }
            .await,
        )
    }

    /// Corrects a persona statement (text, kind or confidence); audited and versioned.
    #[tool(annotations(
        title = "Edit a persona statement",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn edit_statement(
        &self,
        extensions: Extensions,
        Parameters(args): Parameters<ForUser<StatementChange>>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(
            async {
                let access = self.access(&extensions)?;
                let user = dto::user_id(args.user_id)?;
                let edit = args.body.patch.into_edit()?;
                let statement = self
                    .engine
                    .edit_statement(&access, user, args.body.statement_id, edit)
                    .await?;
                Ok(StatementOut::from(statement))
            }
            .await,
        )
    }

    /// Deletes a persona statement (kept in its history); what it had superseded holds again.
    #[tool(annotations(
        title = "Delete a persona statement",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn delete_statement(
        &self,
        extensions: Extensions,
        Parameters(args): Parameters<ForUser<StatementName>>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(
            async {
                let access = self.access(&extensions)?;
                let user = dto::user_id(args.user_id)?;
                let statement = self
                    .engine
                    .delete_statement(&access, user, args.body.statement_id)
                    .await?;
                Ok(StatementOut::from(statement))
            }
            .await,
        )
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Mcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mnemo", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "mnemo is long-term conversational memory. `remember` stores conversation \
                 sessions for a user; `recall` returns a prompt-ready block of what is \
                 remembered about a query within a token budget; `search`, `get_persona` and \
                 `list_sessions` read; `delete_session`, `edit_statement` and \
                 `delete_statement` change what is remembered.",
            )
    }
}
