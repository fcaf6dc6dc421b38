//! The local embedding model: an ONNX sentence-transformer run by fastembed on ONNX Runtime.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, TryLockError};

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::{Embedder, normalise};
use crate::{MemoryError, Result};

/// Where the model lives and how to run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbedderConfig {
    /// Folder with `model.onnx`, `tokenizer.json`, `config.json`, `special_tokens_map.json` and
    /// `tokenizer_config.json`.
    pub model_dir: PathBuf,
    /// The ONNX Runtime shared library (`libonnxruntime.so.*`).
    pub ort_library: PathBuf,
    /// The most texts in one inference call.
    pub batch_size: usize,
    /// The most padded tokens (texts times the longest text's tokens) in one inference call.
    /// Batches of similar lengths waste no compute on padding; this budget keeps long texts in
    /// small batches and lets short ones share large batches.
    pub batch_tokens: usize,
    /// ONNX Runtime intra-op threads of each session.
    pub threads: usize,
    /// Model sessions, each used by one caller at a time: as many as the cores lets that many
    /// texts be embedded at once. One short query barely gains from a second thread, so one
    /// thread per session and a session per core serve concurrent searches best.
    pub sessions: usize,
    /// The model's input limit in tokens (all-MiniLM-L6-v2 was trained on 256).
    pub max_tokens: usize,
    /// The vector size the model produces.
    pub dim: usize,
}

impl Default for EmbedderConfig {
    fn default() -> Self {
        Self {
            model_dir: PathBuf::from(".deps/models/all-minilm-l6-v2"),
            ort_library: PathBuf::from(".deps/onnxruntime/libonnxruntime.so"),
            batch_size: 64,
            batch_tokens: 1024,
            threads: 1,
            sessions: 2,
            max_tokens: 256,
            dim: 384,
        }
    }
}

const MODEL_FILES: [&str; 5] = [
    "model.onnx",
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// Loads ONNX Runtime once per process: the library is global to `ort`.
fn init_runtime(library: &Path) -> Result<()> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = LOADED.get_or_init(|| {
        if !library.is_file() {
            return Err(format!(
                "ONNX Runtime library not found at {} (set embedding.ort_library or \
                 MNEMO__EMBEDDING__ORT_LIBRARY; scripts/setup installs it)",
                library.display()
            ));
        }
        ort::init_from(library)
            .map(|_| ())
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", library.display()))
    });
    outcome
        .clone()
        .map_err(|reason| MemoryError::EmbedderUnavailable { reason })
}

fn read_model_file(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|e| MemoryError::EmbedderUnavailable {
        reason: format!(
            "cannot read model file {} ({e}); set embedding.model_dir or \
             MNEMO__EMBEDDING__MODEL_DIR (scripts/setup installs the model)",
            path.display()
        ),
    })
}

/// One model session from the model files (`model.onnx` first, then the tokenizer's).
fn load_session(config: &EmbedderConfig, files: &[Vec<u8>]) -> Result<TextEmbedding> {
    let file = |i: usize| files.get(i).cloned().unwrap_or_default();
    let tokenizer_files = TokenizerFiles {
        tokenizer_file: file(1),
        config_file: file(2),
        special_tokens_map_file: file(3),
        tokenizer_config_file: file(4),
    };
    let model =
        UserDefinedEmbeddingModel::new(file(0), tokenizer_files).with_pooling(Pooling::Mean);
    let options = InitOptionsUserDefined::new()
        .with_max_length(config.max_tokens)
        .with_intra_threads(config.threads.max(1))
        // Spinning threads burn a core while idle; on small shared machines that halves throughput.
        .with_session_config("session.intra_op.allow_spinning", "0")
        .with_session_config("session.inter_op.allow_spinning", "0");
    TextEmbedding::try_new_from_user_defined(model, options).map_err(|e| {
        MemoryError::EmbedderUnavailable {
            reason: format!("cannot load model from {}: {e}", config.model_dir.display()),
        }
    })
}

/// An [`Embedder`] backed by fastembed: a pool of ONNX sessions, each used by one caller at a
/// time.
pub struct FastEmbedder {
    models: Vec<Mutex<TextEmbedding>>,
    /// Where the next caller that finds every session busy waits, in turn.
    next: AtomicUsize,
    config: EmbedderConfig,
}

impl std::fmt::Debug for FastEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastEmbedder")
            .field("config", &self.config)
            .finish()
    }
}

impl FastEmbedder {
    /// Loads the model, failing with a message that names the missing file or setting.
    pub fn open(config: &EmbedderConfig) -> Result<Self> {
        init_runtime(&config.ort_library)?;
        let mut files = Vec::with_capacity(MODEL_FILES.len());
        for name in MODEL_FILES {
            files.push(read_model_file(&config.model_dir, name)?);
        }
        let models = (0..config.sessions.max(1))
            .map(|_| load_session(config, &files).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        let embedder = Self {
            models,
            next: AtomicUsize::new(0),
            config: config.clone(),
        };
        let probe = embedder.embed(&["probe"])?;
        let got = probe.first().map_or(0, Vec::len);
        if got != config.dim {
            return Err(MemoryError::DimensionMismatch {
                expected: config.dim,
                got,
            });
        }
        Ok(embedder)
    }

    /// A free session, or when every one is busy, the next in turn once it is free.
    fn lock(&self) -> Result<MutexGuard<'_, TextEmbedding>> {
        let poisoned = || MemoryError::Embedding {
            reason: "embedding model lock poisoned by an earlier panic".to_owned(),
        };
        for model in &self.models {
            match model.try_lock() {
                Ok(guard) => return Ok(guard),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Poisoned(_)) => return Err(poisoned()),
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.models.len();
        self.models[turn].lock().map_err(|_| poisoned())
    }
}

impl Embedder for FastEmbedder {
    fn dim(&self) -> usize {
        self.config.dim
    }

    fn max_tokens(&self) -> usize {
        self.config.max_tokens
    }

    fn token_counts(&self, texts: &[&str]) -> Result<Vec<usize>> {
        let model = self.lock()?;
        texts
            .iter()
            .map(|t| {
                model
                    .tokenizer
                    .encode_fast(*t, false)
                    .map(|e| e.get_ids().len())
                    .map_err(|e| MemoryError::Embedding {
                        reason: format!("tokenizer: {e}"),
                    })
            })
            .collect()
    }

    #[instrument(skip_all, fields(texts = texts.len()))]
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // A batch is padded to its longest text, so texts are embedded longest first and a batch
        // closes when its padded size would pass the token budget; vectors go back in input order.
        let lengths = self.token_counts(texts)?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
        let max_texts = self.config.batch_size.max(1);
        let mut vectors: Vec<Vec<f32>> = Vec::with_capacity(texts.len());
        let mut model = self.lock()?;
        let mut start = 0;
        while start < order.len() {
            // Model input adds two special tokens and is cut at the model's limit.
            let longest = (lengths[order[start]] + 2)
                .min(self.config.max_tokens)
                .max(1);
            let fit = (self.config.batch_tokens / longest).clamp(1, max_texts);
            let end = (start + fit).min(order.len());
            let batch: Vec<&str> = order[start..end].iter().map(|&i| texts[i]).collect();
            let embedded =
                model
                    .embed(&batch, Some(batch.len()))
                    .map_err(|e| MemoryError::Embedding {
                        reason: e.to_string(),
                    })?;
            vectors.extend(embedded);
            start = end;
        }
        drop(model);
        let mut out = vec![Vec::new(); texts.len()];
        for (mut v, &i) in vectors.into_iter().zip(&order) {
            normalise(&mut v);
            out[i] = v;
        }
        Ok(out)
    }
}
