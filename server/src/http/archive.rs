//! A user's memory out and back in: `GET .../export` streams the archive as JSON Lines,
//! `POST .../import` reads one (up to `server.max_archive_bytes`) into an empty user.

use aide::generate::GenContext;
use aide::openapi::{MediaType, Operation, ReferenceOr, RequestBody, Response, SchemaObject};
use aide::{OperationInput, OperationOutput};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response as HttpResponse};

use super::auth::Caller;
use super::codes::Code;
use super::dto::{ImportOut, ImportParams, UserPath};
use super::error::ApiError;
use super::extract::{Path, Query, check_content_type, media_type};
use super::openapi::{add_codes, as_200};
use super::{Reply, reply};
use crate::Engine;
use crate::archive::{MEDIA_TYPE, read, write_lines};

/// The smallest archive: a header and the end line (it imports a user with no memory).
const EMPTY_ARCHIVE: &str = concat!(
    r#"{"type":"header","format":"mnemo-user-archive","version":1,"mnemo_version":"0.1.0","#,
    r#""embedding_model":"all-minilm-l6-v2","user_id":"ann","exported_at":"2026-01-01T00:00:00Z"}"#,
    "\n",
    r#"{"type":"end","lines":1}"#,
    "\n"
);

fn ndjson(description: &str, example: bool) -> (String, MediaType) {
    let schema = SchemaObject {
        json_schema: schemars::json_schema!({
            "type": "string",
            "description": description,
        }),
        example: None,
        external_docs: None,
    };
    (
        MEDIA_TYPE.to_owned(),
        MediaType {
            schema: Some(schema),
            example: example.then(|| serde_json::Value::String(EMPTY_ARCHIVE.to_owned())),
            ..MediaType::default()
        },
    )
}

const FORMAT_NOTE: &str = "A mnemo user archive: JSON Lines, a header line (format \
    `mnemo-user-archive`, version 1), the records (sessions with turns and units, persona \
    statements with history, unit histories and changes, association edges, audit entries), \
    then an end line counting the lines before it. See the README's Export and import.";

/// An archive as a downloadable JSON Lines body.
#[derive(Debug)]
pub(super) struct ArchiveFile {
    user_id: String,
    lines: Vec<String>,
}

impl IntoResponse for ArchiveFile {
    fn into_response(self) -> HttpResponse {
        let size = self.lines.iter().map(|l| l.len() + 1).sum();
        let mut text = String::with_capacity(size);
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        let disposition = format!("attachment; filename=\"mnemo-{}.jsonl\"", self.user_id);
        (
            [
                (CONTENT_TYPE, MEDIA_TYPE.to_owned()),
                (CONTENT_DISPOSITION, disposition),
            ],
            Body::from(text),
        )
            .into_response()
    }
}

impl OperationOutput for ArchiveFile {
    type Inner = String;

    fn operation_response(_: &mut GenContext, _: &mut Operation) -> Option<Response> {
        Some(Response {
            description: FORMAT_NOTE.into(),
            content: [ndjson("The archive, one JSON object per line.", false)]
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

/// An archive sent to be imported: `application/x-ndjson` (or no content type), at most
/// `server.max_archive_bytes`. Codes: `unsupported_media_type`, `payload_too_large`,
/// `malformed_body`.
#[derive(Debug)]
pub(super) struct ArchiveBody(Bytes);

fn is_archive_type(content_type: &str) -> bool {
    matches!(
        media_type(content_type).as_str(),
        "application/x-ndjson" | "application/jsonl" | "application/json-lines"
    )
}

impl FromRequest<Engine> for ArchiveBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, engine: &Engine) -> Result<Self, Self::Rejection> {
        check_content_type(&req, is_archive_type, MEDIA_TYPE)?;
        let limit = engine.config().server.max_archive_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| {
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                    || e.to_string().contains("length limit");
                if too_large {
                    ApiError::new(
                        Code::PayloadTooLarge,
                        format!("the archive is larger than server.max_archive_bytes ({limit})"),
                    )
                } else {
                    ApiError::new(Code::MalformedBody, e.to_string())
                }
            })?;
        Ok(Self(bytes))
    }
}

impl OperationInput for ArchiveBody {
    fn operation_input(_: &mut GenContext, operation: &mut Operation) {
        operation.request_body = Some(ReferenceOr::Item(RequestBody {
            description: Some(FORMAT_NOTE.to_owned()),
            content: [ndjson("An archive written by `GET .../export`.", true)]
                .into_iter()
                .collect(),
            required: true,
            ..RequestBody::default()
        }));
        add_codes(
            operation,
            &[
                Code::UnsupportedMediaType,
                Code::PayloadTooLarge,
                Code::MalformedBody,
            ],
        );
    }
}

/// `GET /v1/users/{user_id}/export`
pub(super) async fn export(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
) -> Result<ArchiveFile, ApiError> {
    let user = path.user()?;
    let (header, archive) = engine.export_user(&access, user.clone()).await?;
    Ok(ArchiveFile {
        user_id: user.to_string(),
        lines: write_lines(&header, &archive),
    })
}

/// `POST /v1/users/{user_id}/import`
pub(super) async fn import(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
    Query(params): Query<ImportParams>,
    ArchiveBody(bytes): ArchiveBody,
) -> Result<Reply<ImportOut>, ApiError> {
    let user = path.user()?;
    let (_, archive) = read(&bytes).map_err(crate::Error::from)?;
    let report = engine
        .import_user(&access, user.clone(), archive, params.channel, params.wait)
        .await?;
    let status = if report.pending == 0 {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    Ok(reply(status, ImportOut::new(&user, report)))
}
