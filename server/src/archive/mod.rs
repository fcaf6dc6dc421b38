//! The user archive file: a header line naming the format and its version, then the records
//! of that version, then an end line counting the lines. One reader per format version, so
//! that archives written by older mnemo versions stay readable.

mod v1;

use memory::store::archive::UserArchive;
use memory::{MemoryError, Timestamp};
use serde::{Deserialize, Serialize};

/// The name in every archive's header.
pub const FORMAT: &str = "mnemo-user-archive";
/// The format version this mnemo writes; it reads every version up to it.
pub const FORMAT_VERSION: u32 = 1;
/// The media type of an archive.
pub const MEDIA_TYPE: &str = "application/x-ndjson";

/// What the first line of an archive says.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveHeader {
    pub version: u32,
    /// The mnemo version that wrote it.
    pub mnemo_version: String,
    /// The model the exporting store embedded with (vectors are not in the archive).
    pub embedding_model: String,
    /// The user it was exported from.
    pub user_id: String,
    pub exported_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize)]
struct HeaderLine {
    #[serde(rename = "type")]
    kind: String,
    format: String,
    version: u32,
    mnemo_version: String,
    embedding_model: String,
    user_id: String,
    exported_at: v1::Time,
}

fn invalid(reason: impl Into<String>) -> MemoryError {
    MemoryError::InvalidArchive {
        reason: reason.into(),
    }
}

fn to_json(value: &impl Serialize) -> String {
    // Serialising plain records to a string cannot fail (no maps with non-string keys).
    serde_json::to_string(value).unwrap_or_default()
}

/// The archive as lines of JSON, each without its newline, in the current format version.
pub fn write_lines(header: &ArchiveHeader, archive: &UserArchive) -> Vec<String> {
    let head = HeaderLine {
        kind: "header".to_owned(),
        format: FORMAT.to_owned(),
        version: FORMAT_VERSION,
        mnemo_version: header.mnemo_version.clone(),
        embedding_model: header.embedding_model.clone(),
        user_id: header.user_id.clone(),
        exported_at: v1::Time(header.exported_at),
    };
    let mut out = vec![to_json(&head)];
    out.extend(v1::lines(archive).iter().map(to_json));
    let lines = out.len() as u64;
    out.push(to_json(&v1::Line::End { lines }));
    out
}

/// Reads an archive of any known format version. Errors name the line (counting from 1).
pub fn read(bytes: &[u8]) -> Result<(ArchiveHeader, UserArchive), MemoryError> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(format!("not UTF-8: {e}")))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines
        .next()
        .ok_or_else(|| invalid("the archive is empty"))?;
    let head: HeaderLine = serde_json::from_str(first)
        .map_err(|e| invalid(format!("line 1 is not an archive header: {e}")))?;
    if head.kind != "header" || head.format != FORMAT {
        return Err(invalid(format!(
            "line 1 is not a header of a {FORMAT} (type {:?}, format {:?})",
            head.kind, head.format
        )));
    }
    let header = ArchiveHeader {
        version: head.version,
        mnemo_version: head.mnemo_version,
        embedding_model: head.embedding_model,
        user_id: head.user_id,
        exported_at: head.exported_at.0,
    };
    let mut archive = UserArchive::default();
    let mut count: u64 = 1;
    let mut ended = false;
    match header.version {
        1 => {
            for (i, line) in lines {
                if ended {
                    return Err(invalid(format!("line {} follows the end line", i + 1)));
                }
                let record: v1::Line = serde_json::from_str(line)
                    .map_err(|e| invalid(format!("line {}: {e}", i + 1)))?;
                if let v1::Line::End { lines } = record {
                    if lines != count {
                        return Err(invalid(format!(
                            "the end line counts {lines} lines before it, the archive has {count}"
                        )));
                    }
                    ended = true;
                }
                v1::absorb(&mut archive, record)
                    .map_err(|e| invalid(format!("line {}: {e}", i + 1)))?;
                count += 1;
            }
        }
        v => {
            return Err(invalid(format!(
                "format version {v} is not one this mnemo reads (1 to {FORMAT_VERSION}); \
                 import it with the mnemo that wrote it ({}) or a newer one",
                header.mnemo_version
            )));
        }
    }
    if !ended {
        return Err(invalid(
            "the archive has no end line: it was cut short (export it again)",
        ));
    }
    Ok((header, archive))
}
