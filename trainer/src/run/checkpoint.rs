//! Checkpoints of a run (`runs/<name>/checkpoints/`): the network, the optimiser and the
//! [`TrainState`], committed together so that an interrupted run resumes from its last complete
//! epoch, and loading a run's network for evaluation or export.
//!
//! Integrity: the state records the SHA-256 of the network and optimiser files it commits (and
//! of the selected epoch's network), and every load checks it. A damaged file is a
//! [`CheckpointError::Damaged`] naming it; `--resume` then falls back, with a warning, to the
//! previous epoch's checkpoint, which is kept beside the current one (`model.<epoch>.bpk`,
//! `optim.<epoch>.bpk`, `state.<epoch>.json`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::ModuleRecord;
use serde::{Deserialize, Serialize};

use crate::base::fsio::{sha256_hex, write_atomic, write_json};
use crate::models::plain::PlainBaseline;
use crate::models::{Model, ModelKind};
use crate::run::config::{CHECKPOINT_DIR, RunConfig, RunFile, Selection};
use crate::run::history::EpochRow;

/// `checkpoints/state.json`: what, besides weights and optimiser, a resumption needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs finished.
    pub epochs_done: usize,
    /// Their learning curve.
    pub rows: Vec<EpochRow>,
    /// With `--select best-valid`: the epoch of lowest validation loss so far, whose network is
    /// `checkpoints/best.<epoch>.bpk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<BestEpoch>,
    /// SHA-256 of the network and optimiser files this state commits (`None` in states written
    /// before checkpoints were hashed: such files are loaded unchecked, with a warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<CheckpointHashes>,
}

/// What the files of one checkpoint hash to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointHashes {
    /// SHA-256 of the network file.
    pub model: String,
    /// SHA-256 of the optimiser file.
    pub optim: String,
}

/// A checkpoint that cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file's bytes are not those its state recorded when it was written.
    #[error(
        "{path}: damaged checkpoint: its SHA-256 is {found}, but {state} recorded {expected} when it was written"
    )]
    Damaged {
        /// The damaged file.
        path: PathBuf,
        /// The state file that recorded the hash.
        state: PathBuf,
        /// The recorded hash.
        expected: String,
        /// The file's hash now.
        found: String,
    },
    /// The file cannot be read.
    #[error("{path}: cannot read checkpoint: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No checkpoint of the run verifies: every one is damaged or incomplete.
    #[error("{dir}: no intact checkpoint to resume from ({reasons})")]
    NoneIntact {
        /// The checkpoints folder.
        dir: PathBuf,
        /// Why each candidate was refused.
        reasons: String,
    },
}

/// The SHA-256 of the file at `path`.
fn file_sha256(path: &Path) -> Result<String, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(sha256_hex(&bytes))
}

/// Checks that `path` hashes to `expected` (recorded in `state`); `None` (a state from before
/// checkpoints were hashed) passes with a warning.
pub fn verify_file(
    path: &Path,
    expected: Option<&str>,
    state: &Path,
) -> Result<(), CheckpointError> {
    let Some(expected) = expected else {
        eprintln!(
            "warning: {}: no hash recorded in {} (written before checkpoints were hashed); loaded unchecked",
            path.display(),
            state.display()
        );
        return Ok(());
    };
    let found = file_sha256(path)?;
    if found == expected {
        Ok(())
    } else {
        Err(CheckpointError::Damaged {
            path: path.to_path_buf(),
            state: state.to_path_buf(),
            expected: expected.to_string(),
            found,
        })
    }
}

/// The selected epoch of a `--select best-valid` run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Its validation loss.
    pub valid_loss: f64,
    /// SHA-256 of `best.<epoch>.bpk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Path of the network kept for `--select best-valid` after `epoch` epochs.
pub fn best_model_path(run_dir: &Path, epoch: usize) -> PathBuf {
    run_dir
        .join(CHECKPOINT_DIR)
        .join(format!("best.{epoch}.bpk"))
}

/// Save the network of `epoch` as the selected one and return its SHA-256. It becomes the
/// selection only when the next [`save_checkpoint`] commits a state naming it; call
/// [`prune_best`] after that commit.
pub fn save_best(run_dir: &Path, epoch: usize, model: &Model) -> anyhow::Result<String> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serialising the model: {e}"))?;
    write_atomic(&best_model_path(run_dir, epoch), &bytes)?;
    Ok(sha256_hex(&bytes))
}

/// Remove the kept networks of epochs other than `keep` (superseded selections).
pub fn prune_best(run_dir: &Path, keep: usize) -> anyhow::Result<()> {
    let Ok(rd) = fs::read_dir(run_dir.join(CHECKPOINT_DIR)) else {
        return Ok(());
    };
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let epoch = name
            .strip_prefix("best.")
            .and_then(|s| s.strip_suffix(".bpk"))
            .and_then(|s| s.parse::<usize>().ok());
        if epoch.is_some_and(|e| e != keep) {
            fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Paths of the checkpoint inside `runs/<name>/checkpoints/`.
pub fn checkpoint_paths(run_dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let d = run_dir.join(CHECKPOINT_DIR);
    (
        d.join("model.bpk"),
        d.join("optim.bpk"),
        d.join("state.json"),
    )
}

/// Load a run's network onto `device`: the selected epoch's for `--select best-valid`, else
/// the last checkpoint's. The file must hash to what the run's state recorded: a damaged one is
/// refused ([`CheckpointError::Damaged`]), never exported or scored.
pub fn load_model(run_dir: &Path, file: &RunFile, device: &Device) -> anyhow::Result<Model> {
    let (model_path, _, state_path) = checkpoint_paths(run_dir);
    let state: TrainState = serde_json::from_slice(
        &fs::read(&state_path).with_context(|| format!("{}: no checkpoint", run_dir.display()))?,
    )
    .with_context(|| format!("{}", state_path.display()))?;
    let (model_path, expected) = match file.run.select {
        Selection::Last => (model_path, state.sha256.map(|h| h.model)),
        Selection::BestValid => {
            let best = state.best.with_context(|| {
                format!(
                    "{}: --select best-valid, but no epoch has been selected yet",
                    run_dir.display()
                )
            })?;
            (best_model_path(run_dir, best.epoch), best.sha256)
        }
    };
    verify_file(&model_path, expected.as_deref(), &state_path)?;
    let record = ModuleRecord::load(&model_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    file.model
        .init(device)
        .try_load_record(record)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: does not fit {:?}: {e}",
                model_path.display(),
                file.model
            )
        })
}

/// Saves a checkpoint after `state.epochs_done` epochs, recording the files' hashes in the
/// state; the previous epoch's checkpoint is kept under epoch-tagged names, older ones removed.
///
/// # Errors
/// Serialising or writing a file failed.
pub fn save_checkpoint(
    run_dir: &Path,
    model: &Model,
    optim: &ModuleOptimizer,
    state: &TrainState,
) -> anyhow::Result<()> {
    let (model_path, optim_path, state_path) = checkpoint_paths(run_dir);
    let dir = run_dir.join(CHECKPOINT_DIR);
    fs::create_dir_all(&dir)?;
    let mb = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serialising the model: {e}"))?;
    let ob = optim
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serialising the optimiser: {e}"))?;
    let state = TrainState {
        sha256: Some(CheckpointHashes {
            model: sha256_hex(&mb),
            optim: sha256_hex(&ob),
        }),
        ..state.clone()
    };
    // A state file is the commit point: it names the epoch the two others belong to and their
    // hashes. Write this epoch's files under epoch-tagged names, move the current checkpoint to
    // its own tagged names, then this epoch's into place: at every instant one complete
    // checkpoint exists on disk.
    let e = state.epochs_done;
    let tag = |p: &Path, e: usize, ext: &str| p.with_extension(format!("{e}.{ext}"));
    write_atomic(&tag(&model_path, e, "bpk"), &mb)?;
    write_atomic(&tag(&optim_path, e, "bpk"), &ob)?;
    write_json(&tag(&state_path, e, "json"), &state)?;
    let previous = fs::read(&state_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<TrainState>(&b).ok())
        .map(|s| s.epochs_done)
        .filter(|&p| p != e && model_path.exists() && optim_path.exists());
    if let Some(p) = previous {
        fs::rename(&model_path, tag(&model_path, p, "bpk"))?;
        fs::rename(&optim_path, tag(&optim_path, p, "bpk"))?;
        fs::rename(&state_path, tag(&state_path, p, "json"))?;
    }
    fs::rename(tag(&model_path, e, "bpk"), &model_path)?;
    fs::rename(tag(&optim_path, e, "bpk"), &optim_path)?;
    fs::rename(tag(&state_path, e, "json"), &state_path)?;
    // Keep one previous checkpoint: remove tagged files of other epochs.
    for entry in fs::read_dir(&dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let epoch = ["model.", "optim.", "state."]
            .iter()
            .find_map(|pre| name.strip_prefix(pre))
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        if epoch.is_some_and(|n| Some(n) != previous && n != e) {
            fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// One complete checkpoint on disk: its state, and the network and optimiser files.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The state.
    pub state: TrainState,
    /// The state's file.
    pub state_path: PathBuf,
    /// The network file.
    pub model: PathBuf,
    /// The optimiser file.
    pub optim: PathBuf,
}

impl Candidate {
    /// Checks both files against the state's hashes.
    pub fn verify(&self) -> Result<(), CheckpointError> {
        let h = self.state.sha256.as_ref();
        verify_file(&self.model, h.map(|h| h.model.as_str()), &self.state_path)?;
        verify_file(&self.optim, h.map(|h| h.optim.as_str()), &self.state_path)
    }
}

/// Every complete checkpoint of a run, newest first: `state.json` with its files (or, if
/// interrupted between the renames, the tagged ones) and each `state.<e>.json` whose tagged
/// network and optimiser files exist.
pub fn checkpoints(run_dir: &Path) -> anyhow::Result<Vec<Candidate>> {
    let (model_path, optim_path, state_path) = checkpoint_paths(run_dir);
    let mut found: Vec<Candidate> = Vec::new();
    let read = |sp: &Path| -> anyhow::Result<TrainState> {
        serde_json::from_slice(&fs::read(sp)?).with_context(|| format!("{}", sp.display()))
    };
    if state_path.exists() {
        let st = read(&state_path)?;
        let e = st.epochs_done;
        // interrupted between the renames: the tagged files are the matching ones
        let pick = |p: &Path| {
            let t = p.with_extension(format!("{e}.bpk"));
            if t.exists() { t } else { p.to_path_buf() }
        };
        let (mp, op) = (pick(&model_path), pick(&optim_path));
        if mp.exists() && op.exists() {
            found.push(Candidate {
                state: st,
                state_path: state_path.clone(),
                model: mp,
                optim: op,
            });
        }
    }
    if let Ok(rd) = fs::read_dir(run_dir.join(CHECKPOINT_DIR)) {
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(e) = name
                .strip_prefix("state.")
                .and_then(|s| s.strip_suffix(".json"))
                .and_then(|s| s.parse::<usize>().ok())
            {
                let (mp, op) = (
                    model_path.with_extension(format!("{e}.bpk")),
                    optim_path.with_extension(format!("{e}.bpk")),
                );
                if mp.exists() && op.exists() {
                    found.push(Candidate {
                        state: read(&entry.path())?,
                        state_path: entry.path(),
                        model: mp,
                        optim: op,
                    });
                }
            }
        }
    }
    found.sort_by_key(|c| std::cmp::Reverse(c.state.epochs_done));
    Ok(found)
}

/// The newest checkpoint whose files verify. A damaged newer one is skipped with a warning
/// naming the file; if checkpoints exist but none verifies, [`CheckpointError::NoneIntact`].
/// `Ok(None)` when the run has no checkpoint yet.
pub fn latest_checkpoint(run_dir: &Path) -> anyhow::Result<Option<Candidate>> {
    let all = checkpoints(run_dir)?;
    let mut reasons = Vec::new();
    for c in &all {
        match c.verify() {
            Ok(()) => {
                if !reasons.is_empty() {
                    eprintln!(
                        "warning: falling back to the checkpoint of epoch {} ({})",
                        c.state.epochs_done,
                        c.state_path.display()
                    );
                }
                return Ok(Some(c.clone()));
            }
            Err(e) => {
                eprintln!("warning: {e}");
                reasons.push(e.to_string());
            }
        }
    }
    if all.is_empty() {
        Ok(None)
    } else {
        Err(CheckpointError::NoneIntact {
            dir: run_dir.join(CHECKPOINT_DIR),
            reasons: reasons.join("; "),
        }
        .into())
    }
}

/// Load a trained baseline run (`runs/<name>/`): its config and weights as plain arrays.
pub fn load_baseline(run_dir: &Path) -> anyhow::Result<(RunConfig, PlainBaseline)> {
    let file = RunFile::read(run_dir)?;
    ensure!(
        file.model.kind == ModelKind::Baseline,
        "{}: the run trained {}, not the baseline",
        run_dir.display(),
        file.model.kind
    );
    let model = load_model(run_dir, &file, &Device::flex())?;
    let Model::Baseline(b) = model else {
        anyhow::bail!("{}: checkpoint is not a baseline", run_dir.display());
    };
    let plain = PlainBaseline::from_model(
        &b,
        file.model.n_mels,
        file.model.frames,
        file.input_mean,
        file.input_std,
        file.run.sample_rate,
    )?;
    Ok((file.run, plain))
}
