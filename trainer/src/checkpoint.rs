//! Checkpoints of a run (`runs/<name>/checkpoints/`): the network, the optimiser and the
//! [`TrainState`], committed together so that an interrupted run resumes from its last complete
//! epoch, and loading a run's network for evaluation or export.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::ModuleRecord;
use serde::{Deserialize, Serialize};

use crate::config::{CHECKPOINT_DIR, RunConfig, RunFile, Selection};
use crate::fsio::{write_atomic, write_json};
use crate::history::EpochRow;
use crate::models::plain::PlainBaseline;
use crate::models::{Model, ModelKind};

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
}

/// The selected epoch of a `--select best-valid` run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Its validation loss.
    pub valid_loss: f64,
}

/// Path of the network kept for `--select best-valid` after `epoch` epochs.
pub fn best_model_path(run_dir: &Path, epoch: usize) -> PathBuf {
    run_dir
        .join(CHECKPOINT_DIR)
        .join(format!("best.{epoch}.bpk"))
}

/// Save the network of `epoch` as the selected one. It becomes the selection only when the
/// next [`save_checkpoint`] commits a state naming it; call [`prune_best`] after that commit.
pub fn save_best(run_dir: &Path, epoch: usize, model: &Model) -> anyhow::Result<()> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serialising the model: {e}"))?;
    Ok(write_atomic(&best_model_path(run_dir, epoch), &bytes)?)
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
/// the last checkpoint's.
pub fn load_model(run_dir: &Path, file: &RunFile, device: &Device) -> anyhow::Result<Model> {
    let model_path = match file.run.select {
        Selection::Last => checkpoint_paths(run_dir).0,
        Selection::BestValid => {
            let (state, _, _) = latest_checkpoint(run_dir)?
                .with_context(|| format!("{}: no checkpoint", run_dir.display()))?;
            let best = state.best.with_context(|| {
                format!(
                    "{}: --select best-valid, but no epoch has been selected yet",
                    run_dir.display()
                )
            })?;
            best_model_path(run_dir, best.epoch)
        }
    };
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

/// Saves a checkpoint after `state.epochs_done` epochs.
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
    fs::create_dir_all(model_path.parent().unwrap_or(run_dir))?;
    let mb = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serialising the model: {e}"))?;
    let ob = optim
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serialising the optimiser: {e}"))?;
    // The state file is the commit point: it names the epoch the two others belong to. Write
    // the weights under epoch-tagged names first, then the state, then move them into place.
    let e = state.epochs_done;
    let tagged = |p: &Path| p.with_extension(format!("{e}.bpk"));
    write_atomic(&tagged(&model_path), &mb)?;
    write_atomic(&tagged(&optim_path), &ob)?;
    write_json(&state_path.with_extension(format!("{e}.json")), state)?;
    fs::rename(tagged(&model_path), &model_path)?;
    fs::rename(tagged(&optim_path), &optim_path)?;
    fs::rename(state_path.with_extension(format!("{e}.json")), &state_path)?;
    Ok(())
}

/// Finds the last complete checkpoint: the newest `state.{e}.json` or `state.json` whose model
/// and optimiser files for the same epoch exist.
pub fn latest_checkpoint(run_dir: &Path) -> anyhow::Result<Option<(TrainState, PathBuf, PathBuf)>> {
    let (model_path, optim_path, state_path) = checkpoint_paths(run_dir);
    let mut best: Option<(TrainState, PathBuf, PathBuf)> = None;
    let mut consider = |sp: PathBuf, mp: PathBuf, op: PathBuf| -> anyhow::Result<()> {
        if sp.exists() && mp.exists() && op.exists() {
            let st: TrainState = serde_json::from_slice(&fs::read(&sp)?)
                .with_context(|| format!("{}", sp.display()))?;
            if best
                .as_ref()
                .is_none_or(|b| st.epochs_done > b.0.epochs_done)
            {
                best = Some((st, mp, op));
            }
        }
        Ok(())
    };
    if state_path.exists() {
        let st: TrainState = serde_json::from_slice(&fs::read(&state_path)?)?;
        let e = st.epochs_done;
        // interrupted between the renames: the tagged files are the matching ones
        let pick = |p: &Path| {
            let t = p.with_extension(format!("{e}.bpk"));
            if t.exists() { t } else { p.to_path_buf() }
        };
        consider(state_path.clone(), pick(&model_path), pick(&optim_path))?;
    }
    if let Ok(rd) = fs::read_dir(run_dir.join(CHECKPOINT_DIR)) {
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(e) = name
                .strip_prefix("state.")
                .and_then(|s| s.strip_suffix(".json"))
                .and_then(|s| s.parse::<usize>().ok())
            {
                consider(
                    entry.path(),
                    model_path.with_extension(format!("{e}.bpk")),
                    optim_path.with_extension(format!("{e}.bpk")),
                )?;
            }
        }
    }
    Ok(best)
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
    )?;
    Ok((file.run, plain))
}
