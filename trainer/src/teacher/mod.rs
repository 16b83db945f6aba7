//! The distillation teacher: a pretrained audio model run in-process from an ONNX file, and the
//! genre heads that turn its outputs into genre targets for a student network.
//!
//! # The teacher contract (version 1)
//! A teacher file is an ONNX model with
//! - one input `waveform`, f32 `[1, W]`: mono audio in [-1, 1] at the teacher's sample rate;
//! - two outputs, `logits` f32 `[1, C]` over the teacher's own classes and `embedding` f32
//!   `[1, D]`;
//! - model metadata (`metadata_props`): `tinygenre.teacher` = `1`, `tinygenre.name`,
//!   `tinygenre.sample_rate`, `tinygenre.window_samples` (= W), `tinygenre.class_names` (the C
//!   names, one per line) and `tinygenre.source_sha256` (the weights it was made from).
//!
//! A file without that metadata (for example a converted third-party model) can carry it in a
//! sidecar `<file>.json` with the same keys without the `tinygenre.` prefix, plus `input`,
//! `logits_output` and `embedding_output` naming its tensors.
//!
//! `tools/teacher/mn04_export.py` makes such a file from EfficientAT mn04's published weights;
//! `tools/teacher/tiny_teacher.py` makes the tiny test teacher the tests carry.
//!
//! # Where it sits
//! This module imports the foundations (audio, segments), the data layer (datasets, the feature
//! cache's keys) and the augmentation seam; the run layer above it asks it for soft targets.
//! The ONNX engine (tract-onnx) is behind the cargo feature `teacher`, so the default build of
//! the trainer does not compile it; without the feature, loading a teacher is a typed error that
//! says which feature to build with.
//!
//! Imports: `base` and `data`.

mod engine;
pub mod head;
pub mod targets;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use head::{GenreHead, HeadKind, default_zero_shot_map, softmax_t};
pub use targets::{TeacherCache, TeacherOutputs};

/// The contract version this trainer reads (`tinygenre.teacher`).
pub const CONTRACT_VERSION: &str = "1";

/// Errors of loading or running a teacher; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TeacherError {
    /// The file cannot be read.
    #[error("teacher {path}: {source}")]
    Io {
        /// The teacher file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model the engine can parse.
    #[error("teacher {path}: not a readable ONNX model ({reason})")]
    NotOnnx {
        /// The teacher file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// The model breaks the teacher contract (metadata, inputs, outputs, shapes).
    #[error("teacher {path}: {reason}")]
    Contract {
        /// The teacher file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file's hash is not the one expected.
    #[error(
        "teacher {path}: sha256 {found} is not the expected {expected} (a damaged or different file)"
    )]
    HashMismatch {
        /// The teacher file.
        path: PathBuf,
        /// The expected hash.
        expected: String,
        /// The file's hash.
        found: String,
    },
    /// The engine failed while running the model.
    #[error("teacher {path}: inference failed: {reason}")]
    Inference {
        /// The teacher file.
        path: PathBuf,
        /// The engine's message.
        reason: String,
    },
    /// The trainer was built without the ONNX engine.
    #[error(
        "teacher {path}: this trainer was built without the ONNX engine; rebuild with the `teacher` feature (`cargo run -p trainer --features teacher -- ...`)"
    )]
    Unavailable {
        /// The teacher file.
        path: PathBuf,
    },
    /// The genre head does not fit the teacher (class map, embedding size).
    #[error("teacher {path}: genre head: {reason}")]
    Head {
        /// The teacher file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// What a teacher file says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherInfo {
    /// The model's name (`tinygenre.name`).
    pub name: String,
    /// Sample rate of its input (Hz).
    pub sample_rate: u32,
    /// Samples of one input window.
    pub window_samples: usize,
    /// Its classes, in logit order.
    pub class_names: Vec<String>,
    /// Size of its embedding.
    pub embedding_dim: usize,
    /// sha256 of the weights it was made from (`none` when not applicable).
    pub source_sha256: String,
    /// sha256 of the teacher file itself.
    pub file_sha256: String,
}

/// The teacher's outputs for one stretch of audio: its class logits and its embedding (means over
/// the windows the audio was cut into).
#[derive(Clone, Debug, PartialEq)]
pub struct TeacherOutput {
    /// Logits over the teacher's classes, `[C]`.
    pub logits: Vec<f32>,
    /// The embedding, `[D]`.
    pub embedding: Vec<f32>,
}

/// Names of the tensors and the metadata of a teacher file, from its metadata or sidecar.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(not(feature = "teacher"), allow(dead_code))] // read by the engine only
pub(crate) struct Contract {
    pub(crate) name: Option<String>,
    pub(crate) sample_rate: Option<String>,
    pub(crate) window_samples: Option<String>,
    pub(crate) class_names: Option<String>,
    pub(crate) source_sha256: Option<String>,
    pub(crate) teacher: Option<String>,
    #[serde(default)]
    pub(crate) input: Option<String>,
    #[serde(default)]
    pub(crate) logits_output: Option<String>,
    #[serde(default)]
    pub(crate) embedding_output: Option<String>,
}

#[cfg_attr(not(feature = "teacher"), allow(dead_code))]
impl Contract {
    /// The contract from ONNX `metadata_props` (keys prefixed `tinygenre.`), overridden by a
    /// sidecar `<file>.json` when one exists.
    pub(crate) fn resolve(
        path: &Path,
        meta: &HashMap<String, String>,
    ) -> Result<Contract, TeacherError> {
        let get = |k: &str| meta.get(&format!("tinygenre.{k}")).cloned();
        let mut c = Contract {
            name: get("name"),
            sample_rate: get("sample_rate"),
            window_samples: get("window_samples"),
            class_names: get("class_names"),
            source_sha256: get("source_sha256"),
            teacher: get("teacher"),
            input: None,
            logits_output: None,
            embedding_output: None,
        };
        let side = sidecar_path(path);
        if side.exists() {
            let b = std::fs::read(&side).map_err(|source| TeacherError::Io {
                path: side.clone(),
                source,
            })?;
            let s: Contract = serde_json::from_slice(&b).map_err(|e| TeacherError::Contract {
                path: path.to_path_buf(),
                reason: format!("sidecar {}: {e}", side.display()),
            })?;
            c = Contract {
                name: s.name.or(c.name),
                sample_rate: s.sample_rate.or(c.sample_rate),
                window_samples: s.window_samples.or(c.window_samples),
                class_names: s.class_names.or(c.class_names),
                source_sha256: s.source_sha256.or(c.source_sha256),
                teacher: s.teacher.or(c.teacher),
                input: s.input,
                logits_output: s.logits_output,
                embedding_output: s.embedding_output,
            };
        }
        Ok(c)
    }

    /// Checks the metadata and builds the [`TeacherInfo`] (the embedding size is filled in by
    /// the engine from the model's output shape).
    pub(crate) fn info(
        &self,
        path: &Path,
        file_sha256: String,
    ) -> Result<TeacherInfo, TeacherError> {
        let bad = |reason: String| TeacherError::Contract {
            path: path.to_path_buf(),
            reason,
        };
        let missing = |k: &str| {
            bad(format!(
                "no `tinygenre.{k}` in the model's metadata (and no sidecar {}): not a tinygenre teacher file; make one with tools/teacher/",
                sidecar_path(path).display()
            ))
        };
        match self.teacher.as_deref() {
            Some(CONTRACT_VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "teacher contract version {v}; this trainer reads version {CONTRACT_VERSION}"
                )));
            }
            None => return Err(missing("teacher")),
        }
        let rate: u32 = self
            .sample_rate
            .as_deref()
            .ok_or_else(|| missing("sample_rate"))?
            .trim()
            .parse()
            .map_err(|_| {
                bad(format!(
                    "sample_rate {:?} is not an integer",
                    self.sample_rate
                ))
            })?;
        if !(4_000..=192_000).contains(&rate) {
            return Err(bad(format!(
                "sample rate {rate} Hz is outside 4000..192000"
            )));
        }
        let window: usize = self
            .window_samples
            .as_deref()
            .ok_or_else(|| missing("window_samples"))?
            .trim()
            .parse()
            .map_err(|_| {
                bad(format!(
                    "window_samples {:?} is not an integer",
                    self.window_samples
                ))
            })?;
        if window == 0 || window > 60 * rate as usize {
            return Err(bad(format!(
                "window of {window} samples is outside 1..{} (60 s)",
                60 * rate
            )));
        }
        let class_names: Vec<String> = self
            .class_names
            .as_deref()
            .ok_or_else(|| missing("class_names"))?
            .lines()
            .map(|l| l.trim().to_string())
            .collect();
        if class_names.is_empty() || class_names.iter().any(String::is_empty) {
            return Err(bad("class_names holds an empty name".into()));
        }
        Ok(TeacherInfo {
            name: self.name.clone().unwrap_or_else(|| "unnamed".into()),
            sample_rate: rate,
            window_samples: window,
            class_names,
            embedding_dim: 0,
            source_sha256: self.source_sha256.clone().unwrap_or_else(|| "none".into()),
            file_sha256,
        })
    }
}

/// The sidecar file of a teacher: `<file>.json`.
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".json");
    PathBuf::from(s)
}

/// A loaded teacher: its metadata and the engine's optimised plan.
pub struct Teacher {
    path: PathBuf,
    info: TeacherInfo,
    engine: engine::Engine,
}

impl std::fmt::Debug for Teacher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Teacher")
            .field("path", &self.path)
            .field("info", &self.info.name)
            .finish()
    }
}

pub use crate::base::fsio::sha256_hex;

impl Teacher {
    /// Loads and checks a teacher file. With `expected_sha256`, the file's hash must match.
    ///
    /// # Errors
    /// A missing or unreadable file, bytes that are not ONNX, a model that breaks the contract,
    /// a hash mismatch, or a trainer built without the `teacher` feature.
    pub fn load(path: &Path, expected_sha256: Option<&str>) -> Result<Teacher, TeacherError> {
        let bytes = std::fs::read(path).map_err(|source| TeacherError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let hash = sha256_hex(&bytes);
        if let Some(e) = expected_sha256
            && !e.eq_ignore_ascii_case(&hash)
        {
            return Err(TeacherError::HashMismatch {
                path: path.to_path_buf(),
                expected: e.to_string(),
                found: hash,
            });
        }
        let (engine, info) = engine::Engine::load(path, &bytes, hash)?;
        Ok(Teacher {
            path: path.to_path_buf(),
            info,
            engine,
        })
    }

    /// What the file says about itself.
    pub fn info(&self) -> &TeacherInfo {
        &self.info
    }

    /// The teacher file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the teacher on `audio` (mono, at [`TeacherInfo::sample_rate`], any length): the audio
    /// is cut into `ceil(len / W)` windows of W samples spread evenly from its start to its end
    /// (one window, zero-padded at the end, when it is shorter than W), and the outputs are
    /// averaged over the windows.
    ///
    /// # Errors
    /// The engine's failures, and non-finite outputs.
    pub fn infer(&self, audio: &[f32]) -> Result<TeacherOutput, TeacherError> {
        let w = self.info.window_samples;
        let starts = window_starts(audio.len(), w);
        let mut out = TeacherOutput {
            logits: vec![0.0; self.info.class_names.len()],
            embedding: vec![0.0; self.info.embedding_dim],
        };
        let mut buf = vec![0f32; w];
        for &s in &starts {
            buf.fill(0.0);
            let end = (s + w).min(audio.len());
            if let Some(src) = audio.get(s..end) {
                buf[..src.len()].copy_from_slice(src);
            }
            let (l, e) = self.engine.run(&self.path, &buf)?;
            for (a, b) in out.logits.iter_mut().zip(&l) {
                *a += b / starts.len() as f32;
            }
            for (a, b) in out.embedding.iter_mut().zip(&e) {
                *a += b / starts.len() as f32;
            }
        }
        if out
            .logits
            .iter()
            .chain(&out.embedding)
            .any(|v| !v.is_finite())
        {
            return Err(TeacherError::Inference {
                path: self.path.clone(),
                reason: "non-finite output".into(),
            });
        }
        Ok(out)
    }
}

/// Start samples of the windows [`Teacher::infer`] cuts `len` samples into: `ceil(len / w)`
/// windows, the first at 0 and the last ending at `len`, spread evenly in between.
pub fn window_starts(len: usize, w: usize) -> Vec<usize> {
    if len <= w || w == 0 {
        return vec![0];
    }
    let n = len.div_ceil(w);
    let last = len - w;
    (0..n)
        .map(|i| ((i as f64) * last as f64 / (n - 1) as f64).round() as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_audio_evenly() {
        assert_eq!(window_starts(100, 100), vec![0]);
        assert_eq!(window_starts(50, 100), vec![0]);
        assert_eq!(window_starts(250, 100), vec![0, 75, 150]);
        assert_eq!(
            window_starts(48_000, 15_600),
            vec![0, 10_800, 21_600, 32_400]
        );
    }

    #[test]
    fn contract_needs_its_metadata() {
        let p = Path::new("x.onnx");
        let e = Contract::default().info(p, "h".into()).unwrap_err();
        assert!(e.to_string().contains("tinygenre.teacher"), "{e}");
        let c = Contract {
            teacher: Some("1".into()),
            sample_rate: Some("32000".into()),
            window_samples: Some("96000".into()),
            class_names: Some("A\nB".into()),
            ..Default::default()
        };
        let i = c.info(p, "h".into()).unwrap();
        assert_eq!(
            (i.sample_rate, i.window_samples, i.class_names.len()),
            (32000, 96000, 2)
        );
        let bad = Contract {
            sample_rate: Some("1".into()),
            ..c.clone()
        };
        assert!(
            bad.info(p, "h".into())
                .unwrap_err()
                .to_string()
                .contains("outside")
        );
        let v2 = Contract {
            teacher: Some("2".into()),
            ..c
        };
        assert!(
            v2.info(p, "h".into())
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
    }
}
