//! Reading mnemo's OpenAPI document the way a client generator would: its operations, the
//! role each needs, the error codes each response may carry, and a minimal valid value of a
//! schema. The contract tests build their requests from here, not from a hand-kept list.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path template, such as `/v1/users/{user_id}/sessions`.
    pub path: String,
    /// The role its security requirement names (`read`, `write`, `admin`, `admin_key`), or
    /// `None` for a public operation.
    pub role: Option<String>,
    /// The operation object.
    pub spec: Value,
}

impl Operation {
    /// `GET /path`, for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Whether the document lists `status` among the operation's answers.
    pub fn documents(&self, status: u16) -> bool {
        self.spec["responses"].get(status.to_string()).is_some()
    }

    /// The error codes the document allows for `status`.
    pub fn codes(&self, status: u16) -> Vec<String> {
        let schema =
            &self.spec["responses"][status.to_string()]["content"]["application/json"]["schema"];
        schema["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The success statuses (2xx) the document lists.
    pub fn successes(&self) -> Vec<u16> {
        self.spec["responses"]
            .as_object()
            .map(|r| {
                r.keys()
                    .filter_map(|k| k.parse::<u16>().ok())
                    .filter(|s| (200..300).contains(s))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The path with its parameters filled from `values` (a parameter name to its value).
    pub fn uri(&self, values: &[(&str, String)]) -> String {
        values
            .iter()
            .fold(self.path.clone(), |path, (name, value)| {
                path.replace(&format!("{{{name}}}"), value)
            })
    }
}

/// The committed document, `docs/openapi.json`.
pub fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

/// Every operation of `doc`, in the document's order.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, spec) in item.as_object().into_iter().flatten() {
            let role = spec["security"]
                .as_array()
                .and_then(|reqs| reqs.first())
                .and_then(|req| req["bearer"].as_array())
                .and_then(|roles| roles.first())
                .and_then(|r| r.as_str())
                .map(str::to_owned);
            found.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                role,
                spec: spec.clone(),
            });
        }
    }
    found
}

/// The schema `schema` refers to, followed through `$ref`s.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(target) => {
            let name = target.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A small value that `schema` accepts: required properties only, the first of alternatives
/// and enums, numbers inside their bounds, ids and texts that the server's rules accept.
pub fn minimal(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    if let Some(first) = schema["allOf"].as_array().and_then(|s| s.first()) {
        return minimal(doc, first);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema[key].as_array() {
            let pick = options
                .iter()
                .find(|o| o["type"] != "null")
                .unwrap_or(&options[0]);
            return minimal(doc, pick);
        }
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .find(|k| *k != "null")
            .and_then(|k| k.as_str())
            .unwrap_or("null"),
        Value::String(kind) => kind.as_str(),
        _ => "object",
    };
    match kind {
        "object" => {
            let mut object = serde_json::Map::new();
            let properties = &schema["properties"];
            let mut required: Vec<String> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect();
            if required.is_empty() && schema["minProperties"].as_u64().unwrap_or(0) > 0 {
                required.extend(
                    properties
                        .as_object()
                        .and_then(|p| p.keys().next().cloned()),
                );
            }
            for name in required {
                object.insert(name.clone(), minimal(doc, &properties[&name]));
            }
            Value::Object(object)
        }
        "array" => {
            let count = schema["minItems"].as_u64().unwrap_or(0) as usize;
            Value::Array(vec![minimal(doc, &schema["items"]); count])
        }
        "string" if schema["format"] == "date-time" => json!("2024-03-01T10:00:00Z"),
        "string" => json!("hello"),
        "integer" => json!(schema["minimum"].as_i64().unwrap_or(0).max(1)),
        "number" => {
            let low = schema["minimum"]
                .as_f64()
                .or_else(|| schema["exclusiveMinimum"].as_f64())
                .unwrap_or(0.0);
            let high = schema["maximum"].as_f64().unwrap_or(low + 2.0);
            json!((low + high) / 2.0)
        }
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// The operation's request body: a minimal valid value of its schema, if it takes one; for an
/// archive (JSON Lines), the document's example as a string.
pub fn minimal_body(doc: &Value, op: &Operation) -> Option<Value> {
    let content = &op.spec["requestBody"]["content"];
    if let Some(example) = content["application/x-ndjson"].get("example") {
        return Some(example.clone());
    }
    let schema = content["application/json"].get("schema")?;
    Some(minimal(doc, schema))
}

/// An installed Python tool of `scripts/setup-api-tools`.
pub fn api_tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("MNEMO_API_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::deps_dir().join("api-tools"));
    let tool = venv.join("bin").join(name);
    assert!(
        tool.exists(),
        "{} is missing: run ./scripts/setup-api-tools (./scripts/test does)",
        tool.display()
    );
    tool
}
