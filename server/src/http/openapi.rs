//! The OpenAPI 3.1 document, generated from the routes: aide reads each handler's inputs and
//! outputs (bodies, path and query parameters through their schemars schemas, the same ones the
//! MCP tools publish), each route adds what a signature cannot say (its id, the scope it needs,
//! the statuses it succeeds with, the error codes its domain can answer), and `finish` turns the
//! collected codes into one documented response per status, each listing exactly its codes.
//!
//! Served at `GET /v1/openapi.json`; a copy is committed as `docs/openapi.json` and a test fails
//! when the two differ.

use std::collections::BTreeSet;
use std::sync::Arc;

use aide::generate::GenContext;
use aide::openapi::{MediaType, OpenApi, Operation, Response, SchemaObject, SecurityScheme, Tag};
use aide::transform::{TransformOpenApi, TransformOperation};
use aide::{OperationInput, OperationOutput};
use axum::Extension;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::response::Response as HttpResponse;
use memory::tenancy::Scope;
use serde_json::{Value, json};

use super::codes::Code;

/// The extension under which inputs and routes collect an operation's error codes until
/// `finish` turns them into responses.
const CODES: &str = "x-error-codes";

/// The security scheme's name.
const BEARER: &str = "bearer";

/// What calling an operation takes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Need {
    /// Nothing: anyone who reaches the port.
    Public,
    /// A tenant key with this scope (or the admin key).
    Scope(Scope),
    /// The admin key.
    AdminKey,
}

impl Need {
    /// The role name in the operation's security requirement.
    fn role(self) -> Option<&'static str> {
        match self {
            Need::Public => None,
            Need::Scope(scope) => Some(scope.as_str()),
            Need::AdminKey => Some("admin_key"),
        }
    }
}

/// Records error codes an operation can answer with; idempotent, as aide may call inputs
/// more than once.
pub(super) fn add_codes(operation: &mut Operation, codes: &[Code]) {
    let list = operation
        .extensions
        .entry(CODES.to_owned())
        .or_insert_with(|| json!([]));
    if let Value::Array(items) = list {
        for code in codes {
            let name = json!(code.name());
            if !items.contains(&name) {
                items.push(name);
            }
        }
    }
}

/// Codes every operation can answer with, whatever it does: the connection's head limits,
/// the request timeout, the connection limits, a stopping server, a full disk and an unexpected
/// failure.
const ANY_REQUEST: &[Code] = &[
    Code::BadRequest,
    Code::UriTooLong,
    Code::HeadersTooLarge,
    Code::Internal,
    Code::Timeout,
    Code::Overloaded,
    Code::Unavailable,
    Code::InsufficientStorage,
];

/// What a route says about itself beyond its handler's signature.
pub(super) trait Documented {
    /// The operation's id, its tag and a one-line summary; the scope it needs.
    fn doc(self, id: &str, tag: &str, summary: &str, need: Need) -> Self;
    /// The statuses it answers with on success (the body's schema is the same for each).
    fn statuses(self, statuses: &[u16]) -> Self;
    /// Error codes its domain can answer with, beyond those of its inputs and its scope.
    fn codes(self, codes: &[Code]) -> Self;
}

impl Documented for TransformOperation<'_> {
    fn doc(self, id: &str, tag: &str, summary: &str, need: Need) -> Self {
        let mut op = self.id(id).tag(tag).summary(summary);
        if let Some(role) = need.role() {
            op = op.security_requirement_scopes(BEARER, [role]);
            let scoped = [Code::Unauthenticated, Code::Forbidden];
            add_codes(op.inner_mut(), &scoped);
        }
        add_codes(op.inner_mut(), ANY_REQUEST);
        op
    }

    fn statuses(mut self, statuses: &[u16]) -> Self {
        use aide::openapi::StatusCode;
        let responses = self
            .inner_mut()
            .responses
            .get_or_insert_with(Default::default);
        if let Some(ok) = responses.responses.shift_remove(&StatusCode::Code(200)) {
            for &status in statuses {
                responses
                    .responses
                    .insert(StatusCode::Code(status), ok.clone());
            }
        }
        self
    }

    fn codes(mut self, codes: &[Code]) -> Self {
        add_codes(self.inner_mut(), codes);
        self
    }
}

/// Codes an input adds: a JSON body, query-string parameters or path parameters.
pub(super) const BODY_CODES: &[Code] = &[
    Code::UnsupportedMediaType,
    Code::PayloadTooLarge,
    Code::MalformedJson,
    Code::MalformedBody,
    Code::MissingField,
    Code::UnknownField,
    Code::InvalidField,
];

/// Describes a typed input (`T` as aide's own extractor for it would) and adds its codes.
pub(super) fn input<T: OperationInput>(
    ctx: &mut GenContext,
    operation: &mut Operation,
    codes: &[Code],
) {
    T::operation_input(ctx, operation);
    add_codes(operation, codes);
}

/// The document's title, description, security scheme, tags and error schema.
pub(super) fn describe(api: TransformOpenApi<'_>) -> TransformOpenApi<'_> {
    let api = api
        .title("mnemo")
        .version(env!("CARGO_PKG_VERSION"))
        .description(
            "Long-term conversational memory: store dialogue sessions, search them, read \
             persona summaries and prompt-ready context blocks. Every answer that is not a \
             success is `{\"error\": {\"code\", \"message\"}}` with a stable code; each \
             response below lists the codes it can carry. The security requirement's role \
             names the scope a tenant key needs (`read`, `write`, `admin`) or `admin_key` \
             for the server's admin key, which may do everything. With `auth.mode = \"off\"` \
             (loopback only) no key is needed.",
        )
        .security_scheme(
            BEARER,
            SecurityScheme::Http {
                scheme: "bearer".into(),
                bearer_format: Some("mnemo_<key id>_<secret>".into()),
                description: Some(
                    "An API key's token, as `Authorization: Bearer <token>`; no key, an \
                     unknown or a revoked one is answered `401 unauthenticated`."
                        .into(),
                ),
                extensions: Default::default(),
            },
        );
    let tags = [
        (
            "sessions",
            "Store, append, read, list and delete dialogue sessions.",
        ),
        ("units", "The memory units built from sessions."),
        ("search", "Searches and context blocks."),
        (
            "persona",
            "Persona statements and summaries, with their history.",
        ),
        (
            "users",
            "A user as a whole: erase every trace, read the audit log.",
        ),
        ("admin", "Tenants, API keys, statistics and metrics."),
        ("system", "Health, the caller's users and this document."),
    ];
    tags.into_iter().fold(api, |api, (name, description)| {
        api.tag(Tag {
            name: name.into(),
            description: Some(description.into()),
            ..Tag::default()
        })
    })
}

/// The error body's schema.
fn error_schema() -> Value {
    let names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    let table: String = Code::ALL
        .iter()
        .map(|c| {
            format!(
                "\n- `{}` ({}): {}",
                c.name(),
                c.status().as_u16(),
                c.description()
            )
        })
        .collect();
    json!({
        "type": "object",
        "description": format!("Every answer that is not a success. The codes:{table}"),
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "enum": names,
                        "description": "A stable code from the registry; see the README's Errors table."
                    },
                    "message": {"type": "string", "description": "What went wrong, for people."}
                }
            }
        }
    })
}

/// One error response for `codes`, all of one status.
fn error_response(codes: &[Code]) -> Value {
    let names: Vec<&str> = codes.iter().map(|c| c.name()).collect();
    let description = format!(
        "An error with one of these codes (see the `Error` schema): {}.",
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut response = json!({
        "description": description,
        "content": {"application/json": {"schema": {
            "allOf": [{"$ref": "#/components/schemas/Error"}],
            "properties": {"error": {"properties": {"code": {"enum": names}}}}
        }}}
    });
    if codes.contains(&Code::Unauthenticated) {
        response["headers"] = json!({"WWW-Authenticate": {
            "description": "`Bearer`", "schema": {"type": "string"}
        }});
    }
    if codes.contains(&Code::RateLimited) || codes.contains(&Code::Overloaded) {
        response["headers"] = json!({"Retry-After": {
            "description": "Whole seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 0}
        }});
    }
    response
}

/// Turns each operation's collected codes into responses, one per status, in the
/// registry's order.
fn with_errors(mut doc: Value) -> Value {
    doc["openapi"] = json!("3.1.0");
    doc["components"]["schemas"]["Error"] = error_schema();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return doc;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            let Some(listed) = operation.as_object_mut().and_then(|o| o.remove(CODES)) else {
                continue;
            };
            let listed: BTreeSet<String> = serde_json::from_value(listed).unwrap_or_default();
            let codes: Vec<Code> = Code::ALL
                .iter()
                .copied()
                .filter(|c| listed.contains(c.name()))
                .collect();
            let mut statuses: Vec<u16> = codes.iter().map(|c| c.status().as_u16()).collect();
            statuses.dedup();
            statuses.sort_unstable();
            statuses.dedup();
            for status in statuses {
                let of_status: Vec<Code> = codes
                    .iter()
                    .copied()
                    .filter(|c| c.status().as_u16() == status)
                    .collect();
                operation["responses"][status.to_string()] = error_response(&of_status);
            }
        }
    }
    doc
}

/// The finished document: `api` as aide filled it from the routes, with the error responses
/// and without the schemas nothing refers to (the path and query types, described inline as
/// parameters).
pub(super) fn finish(api: &OpenApi) -> Value {
    // Serialising a document of string-keyed maps cannot fail.
    let mut doc = serde_json::to_value(api).unwrap_or_default();
    plain_enums(&mut doc);
    without_unused_schemas(with_errors(doc))
}

/// Rewrites every `oneOf` of documented string constants (how schemars renders an enum whose
/// variants have doc comments) as a plain `enum`, the variants' descriptions moved into the
/// schema's: the form every client generator reads (openapi-python-client mis-parses the other).
fn plain_enums(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let constants: Option<Vec<(Value, Option<String>)>> = map
                .get("oneOf")
                .and_then(Value::as_array)
                .and_then(|options| {
                    options
                        .iter()
                        .map(|o| {
                            let c = o.get("const").filter(|_| o["type"] == "string")?;
                            let doc = o["description"].as_str().map(str::to_owned);
                            Some((c.clone(), doc))
                        })
                        .collect()
                });
            if let Some(constants) = constants {
                let mut description = map
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                for (name, doc) in &constants {
                    if let (Some(name), Some(doc)) = (name.as_str(), doc) {
                        description.push_str(&format!("\n- `{name}`: {doc}"));
                    }
                }
                map.remove("oneOf");
                map.insert("type".into(), json!("string"));
                let names: Vec<Value> = constants.into_iter().map(|(c, _)| c).collect();
                map.insert("enum".into(), Value::Array(names));
                map.insert("description".into(), json!(description.trim_start()));
            }
            map.values_mut().for_each(plain_enums);
        }
        Value::Array(items) => items.iter_mut().for_each(plain_enums),
        _ => {}
    }
}

/// Every `$ref` target named inside `value`.
fn refs_in(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix("#/components/schemas/") {
                            found.insert(name.to_owned());
                        }
                    }
                    _ => refs_in(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, found)),
        _ => {}
    }
}

/// Drops component schemas that no operation reaches, directly or through other schemas.
fn without_unused_schemas(mut doc: Value) -> Value {
    let mut used = BTreeSet::new();
    refs_in(&doc["paths"], &mut used);
    let schemas = doc["components"]["schemas"].clone();
    let mut todo: Vec<String> = used.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        let mut more = BTreeSet::new();
        refs_in(&schemas[&name], &mut more);
        for m in more {
            if used.insert(m.clone()) {
                todo.push(m);
            }
        }
    }
    if let Some(map) = doc["components"]["schemas"].as_object_mut() {
        map.retain(|name, _| used.contains(name));
    }
    doc
}

/// The document as served: the same bytes as `docs/openapi.json`.
pub(super) fn render(doc: &Value) -> String {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    text
}

/// An operation's success response, documented as `200`.
pub(super) fn as_200(
    response: Option<Response>,
) -> Vec<(Option<aide::openapi::StatusCode>, Response)> {
    response
        .map(|r| (Some(aide::openapi::StatusCode::Code(200)), r))
        .into_iter()
        .collect()
}

/// The served document.
#[derive(Debug, Clone)]
pub(super) struct Document(pub(super) Arc<String>);

impl IntoResponse for Document {
    fn into_response(self) -> HttpResponse {
        (
            [(CONTENT_TYPE, "application/json")],
            self.0.as_str().to_owned(),
        )
            .into_response()
    }
}

impl OperationOutput for Document {
    type Inner = Value;

    fn operation_response(_: &mut GenContext, _: &mut Operation) -> Option<Response> {
        let schema = SchemaObject {
            json_schema: schemars::json_schema!({"type": "object"}),
            example: None,
            external_docs: None,
        };
        Some(Response {
            description: "This OpenAPI 3.1 document.".into(),
            content: [(
                "application/json".into(),
                MediaType {
                    schema: Some(schema),
                    ..MediaType::default()
                },
            )]
            .into_iter()
            .collect(),
            ..Response::default()
        })
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<aide::openapi::StatusCode>, Response)> {
        as_200(Self::operation_response(ctx, operation))
    }
}

/// `GET /v1/openapi.json`
pub(super) async fn serve(Extension(doc): Extension<Document>) -> Document {
    doc
}

#[cfg(test)]
mod tests {
    /// The committed copy, which reviewers read when the API changes.
    const COMMITTED: &str = include_str!("../../../docs/openapi.json");

    #[test]
    fn the_committed_document_is_the_generated_one() {
        let generated = crate::openapi_json();
        assert!(
            generated == COMMITTED,
            "docs/openapi.json differs from the API; if the change is meant, regenerate it:\n  \
             cargo run -p server --bin mnemo -- openapi > docs/openapi.json"
        );
    }
}
