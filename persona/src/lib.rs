//! mnemo's persona layer: statements about each user and speaker, with provenance.
//!
//! Empty until the persona issue lands; the crate exists so that the workspace already has its
//! final shape and dependency direction (`memory` <- `persona` <- `server`).
