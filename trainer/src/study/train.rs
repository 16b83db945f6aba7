//! The training loop: [`run`] trains a network as a [`RunConfig`] says and writes its run
//! directory (docs/architecture.md), with progress on the terminal.
//!
//! Reproducibility: the model is initialised after seeding the device with `seed`; every epoch
//! re-seeds the device (dropout masks) and its own shuffling/cropping RNG from `(seed, epoch)`, so
//! an interrupted run resumed from its last checkpoint (model, Adam state, epoch counter) takes
//! exactly the same steps as an uninterrupted one on the CPU.

use std::fs;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::ModuleRecord;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use crate::augment::AugMode;
use crate::base::fsio::{write_atomic, write_json};
use crate::base::metrics::{self, Metrics};
use crate::evaluate::eval;
use crate::evaluate::inference::predict;
use crate::models::{Model, ModelConfig};
use crate::run::checkpoint::{
    BestEpoch, TrainState, latest_checkpoint, load_model, prune_best, save_best, save_checkpoint,
};
use crate::run::config::{
    CONFIG_JSON, EPOCHS_CSV, METRICS_JSON, ONLINE_DIR, RunConfig, RunFile, SPLIT_DIR, Selection,
    aug_spec,
};
use crate::run::distil::Distiller;
use crate::run::examples::{Examples, Prepared, normalisation};
use crate::run::history::{EpochRow, write_epochs_csv};
use crate::run::loader::{clear_online_dir, epoch_train, prepare_with_source};
pub use crate::run::step::{
    SoftTargets, apply_batch_stages, distil_loss, optimizer, train_step, train_step_distil,
};
use crate::run::step::{Step, train_epoch};

fn mix(seed: u64, epoch: usize) -> u64 {
    // splitmix64 of (seed, epoch)
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Progress reporting: a bar on a terminal, log lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total_steps: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total_steps);
            b.set_style(
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Self { bar }
    }
    fn step(&self, epoch: usize, epochs: usize, loss: f64, seg_per_s: f64) {
        if let Some(b) = &self.bar {
            b.set_prefix(format!("epoch {epoch}/{epochs}"));
            b.set_message(format!("loss {loss:.4} {seg_per_s:.1} seg/s"));
            b.inc(1);
        }
    }
    fn epoch(&self, r: &EpochRow, epochs: usize) {
        let valid = match (r.valid_loss, r.valid_accuracy) {
            (Some(l), Some(a)) => format!(" | valid loss {l:.4} acc {a:.3}"),
            _ => String::new(),
        };
        let line = format!(
            "epoch {}/{}: train loss {:.4} acc {:.3}{valid} | {:.1} s",
            r.epoch, epochs, r.train_loss, r.train_accuracy, r.seconds
        );
        match &self.bar {
            Some(b) => {
                b.println(line);
                b.reset();
            }
            None => eprintln!("{line}"),
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Train a model as `cfg` says, writing `out_dir` (see docs/architecture.md), and return the
/// test metrics. With `resume`, continue from the last complete checkpoint in `out_dir`.
pub fn run(cfg: &RunConfig, out_dir: &Path, resume: bool) -> anyhow::Result<Metrics> {
    cfg.validate()?;
    check_out_dir(cfg, out_dir, resume)?;
    // The device and the data first: a run that cannot start leaves no folder behind (and a
    // missing GPU or driver is reported before minutes of feature extraction).
    let plain = cfg.device.device()?;
    let (data, audio) = prepare_with_source(cfg)?;
    fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let spec = aug_spec(cfg)?;
    // `--split all` trains on every track and has no test split; any other split needs one.
    let no_test = cfg.split == "all";
    ensure!(
        !data.train.is_empty() && (no_test || !data.test.is_empty()),
        "empty training or test set"
    );
    ensure!(
        cfg.select == Selection::Last || !data.valid.is_empty(),
        "--select best-valid needs a validation split (e.g. --split random:0.2); {:?} has none",
        cfg.split
    );
    let distiller = match (&cfg.distil, &audio) {
        (Some(d), Some(src)) => Some(Distiller::start(d, cfg, &spec, &data, src)?),
        (Some(_), None) => bail!("--teacher: distillation needs audio; this data source has none"),
        (None, _) => None,
    };
    // Unlabelled music joins every epoch's training set, with the teacher's targets only.
    let unlabelled = distiller.as_ref().and_then(Distiller::unlabelled_examples);
    let mut data = data;
    if let Some(u) = unlabelled {
        data.train.extend(u.clone())?;
    }
    let file = write_run_file(cfg, &data, out_dir, resume)?;
    let norm = file.normalisation();

    let device = plain.clone().autodiff();
    device.seed(cfg.seed);
    let (mut model, mut optim, mut state) =
        start_or_resume(&file.model, &device, cfg.seed, out_dir, resume)?;

    // A split scored by the network in evaluation mode (dropout off).
    let predict_eval = |model: &Model, ex: &Examples| {
        predict(
            &model.valid(),
            ex,
            data.input_frames,
            norm,
            cfg.batch,
            &plain,
        )
    };
    // stream context: training examples wider than the network's input (`context_frames`)
    let train_frames = if cfg.stream_context {
        crate::models::baseline::context_frames(data.input_frames)
    } else {
        data.input_frames
    };
    let steps_per_epoch = data.train.len().div_ceil(cfg.batch) as u64;
    let progress = Progress::new(steps_per_epoch);
    let online_dir = out_dir.join(ONLINE_DIR);
    for epoch in state.epochs_done..cfg.epochs {
        let t0 = Instant::now();
        let epoch_seed = mix(cfg.seed, epoch + 1);
        device.seed(epoch_seed);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(epoch_seed);
        // Online augmentation: this epoch's fresh draw of every training track.
        // Its features live in the run's own folder, which holds only the current epoch's draw.
        let online = match (&audio, cfg.aug_mode) {
            (Some(a), AugMode::Online) => {
                clear_online_dir(&online_dir)?;
                epoch_train(a, &spec, epoch, cfg.seed, &online_dir)?
            }
            _ => None,
        };
        // The teacher's targets of exactly these examples (this epoch's draw when online).
        let epoch_soft;
        let soft = match (&distiller, &online, &audio) {
            (Some(d), Some(ex), Some(src)) => {
                let t = spec
                    .waveform_transform(epoch + 1, cfg.seed)
                    .context("online draw without waveform stages")?;
                epoch_soft = d.epoch_targets(src, &t, ex, epoch)?;
                Some(epoch_soft.as_slice())
            }
            (Some(d), _, _) => Some(d.train_targets()),
            (None, _, _) => None,
        };
        let online = match (online, unlabelled) {
            (Some(mut ex), Some(u)) => {
                ex.extend(u.clone())?;
                Some(ex)
            }
            (o, _) => o,
        };
        let train = online.as_ref().unwrap_or(&data.train);
        let step = Step {
            cfg,
            spec: &spec,
            norm,
            frames: train_frames,
            n_classes: data.genres.len(),
            lr: cfg.lr_schedule.lr(cfg.lr, epoch, cfg.epochs),
            device: &device,
            soft: soft.zip(cfg.distil.as_ref()),
        };
        let (next, fit) = train_epoch(&step, model, &mut optim, train, &mut rng, |loss, seen| {
            progress.step(
                epoch + 1,
                cfg.epochs,
                loss,
                seen as f64 / t0.elapsed().as_secs_f64(),
            );
        })
        .with_context(|| format!("epoch {}", epoch + 1))?;
        model = next;
        // Each epoch reads the training and validation splits only; the test split is read
        // once, after the last epoch, for the final report.
        let valid = if data.valid.is_empty() {
            None
        } else {
            Some(predict_eval(&model, &data.valid)?)
        };
        let row = EpochRow {
            epoch: epoch + 1,
            train_loss: fit.loss,
            train_accuracy: fit.accuracy,
            valid_loss: valid.as_ref().map(|v| v.loss),
            valid_accuracy: valid.as_ref().map(|v| v.accuracy(&data.valid.labels)),
            seconds: t0.elapsed().as_secs_f64(),
        };
        progress.epoch(&row, cfg.epochs);
        let improved = match (cfg.select, row.valid_loss) {
            (Selection::BestValid, Some(v)) => state.best.as_ref().is_none_or(|b| v < b.valid_loss),
            _ => false,
        };
        if improved {
            let sha256 = save_best(out_dir, epoch + 1, &model)?;
            state.best = Some(BestEpoch {
                epoch: epoch + 1,
                valid_loss: row.valid_loss.unwrap_or(f64::NAN),
                sha256: Some(sha256),
            });
        }
        state.rows.push(row);
        state.epochs_done = epoch + 1;
        save_checkpoint(out_dir, &model, &optim, &state)?;
        if let Some(b) = &state.best {
            prune_best(out_dir, b.epoch)?;
        }
        write_epochs_csv(&out_dir.join(EPOCHS_CSV), &state.rows)?;
    }
    progress.finish();
    clear_online_dir(&online_dir)?;

    // The kept network: the last epoch's, or the selected one's (read back from its file).
    let kept = match cfg.select {
        Selection::Last => model,
        Selection::BestValid => {
            let b = state
                .best
                .as_ref()
                .context("--select best-valid: no epoch was selected")?;
            eprintln!(
                "select: epoch {} of {} (validation loss {:.4})",
                b.epoch, state.epochs_done, b.valid_loss
            );
            load_model(out_dir, &file, &device)?
        }
    };
    if no_test {
        eprintln!("--split all: every track trained; no test split, so no test figures");
        return Ok(eval::assemble(
            &file,
            metrics::evaluate(data.genres.len(), &[], &[], &[]),
            state.rows.iter().map(|r| r.seconds).sum(),
            state.epochs_done,
        ));
    }
    let pred = predict_eval(&kept, &data.test)?;
    let ev = metrics::evaluate(
        data.genres.len(),
        &data.test.labels,
        &data.test.tracks,
        &pred.probs,
    );
    let mut metrics = eval::assemble(
        &file,
        ev,
        state.rows.iter().map(|r| r.seconds).sum(),
        state.epochs_done,
    );
    metrics.selected_epoch = state.best.as_ref().map(|b| b.epoch);
    write_json(&out_dir.join(METRICS_JSON), &metrics)?;
    if let (Some(d), Some(src)) = (&distiller, &audio) {
        d.report(src, &data.test, &data.genres, out_dir)?;
    }
    Ok(metrics)
}

/// Refuses to start over an existing run, or to resume one started with other settings.
fn check_out_dir(cfg: &RunConfig, out_dir: &Path, resume: bool) -> anyhow::Result<()> {
    let config_path = out_dir.join(CONFIG_JSON);
    if resume {
        let old = RunFile::read(out_dir).context("--resume: no run to resume")?;
        if !old.run.same_run(cfg) {
            bail!(
                "--resume: {} was started with a different configuration:\n  saved: {}\n  given: {}",
                config_path.display(),
                serde_json::to_string(&RunConfig {
                    device: cfg.device,
                    ..old.run.clone()
                })?,
                serde_json::to_string(cfg)?
            );
        }
    } else if config_path.exists() {
        bail!(
            "{} already holds a run: pass --resume to continue it, or choose another --out",
            out_dir.display()
        );
    }
    Ok(())
}

/// Derives the network and the input normalisation from the data and writes `config.json` and
/// the split's track lists. On resumption the dataset and network must be those of the start.
fn write_run_file(
    cfg: &RunConfig,
    data: &Prepared,
    out_dir: &Path,
    resume: bool,
) -> anyhow::Result<RunFile> {
    let norm = normalisation(&data.train)?;
    let model_cfg = ModelConfig {
        kind: cfg.model,
        posenc: cfg.posenc,
        n_classes: data.genres.len(),
        n_mels: data.train.n_mels,
        frames: data.input_frames,
        dropout: cfg.dropout,
        widths: cfg.widths,
    };
    model_cfg.validate()?;
    let file = RunFile {
        run: cfg.clone(),
        model: model_cfg,
        input_mean: norm.mean,
        input_std: norm.std,
        genres: data.genres.clone(),
        dataset_fingerprint: data.fingerprint.clone(),
    };
    if resume {
        let old = RunFile::read(out_dir)?;
        ensure!(
            old.dataset_fingerprint == file.dataset_fingerprint && old.model == file.model,
            "--resume: the dataset changed since the run started ({} vs {})",
            old.dataset_fingerprint,
            file.dataset_fingerprint
        );
    }
    write_json(&out_dir.join(CONFIG_JSON), &file)?;
    if let Some(lists) = &data.split_lists {
        let d = out_dir.join(SPLIT_DIR);
        for (name, list) in ["train.txt", "valid.txt", "test.txt"].iter().zip(lists) {
            write_atomic(&d.join(name), (list.join("\n") + "\n").as_bytes())?;
        }
    }
    Ok(file)
}

/// The seed, not the device, fixes the initial weights: every backend draws from its own random
/// generator, so off flex the network is initialised on flex and moved to `device`.
///
/// On flex nothing changes: Burn initialises parameters lazily, at their first use, which in a
/// fresh run is the first training step, after the first epoch's reseed (`mix(seed, 1)`). Off
/// flex the parameters are drawn on flex from that same seed before the move, in visiting order.
/// For the baseline that is also its forward order, so a `libtorch` run starts from exactly the
/// weights of the `flex` run with the same seed and dropout 0 (trainer/tests/libtorch.rs); for
/// models whose forward order differs, or with dropout (whose masks interleave with the lazy
/// draws on flex), the weights are a different, still seeded, draw.
pub fn init_on_host(model_cfg: &ModelConfig, device: &Device, seed: u64) -> Model {
    let host = Device::flex().autodiff();
    if *device == host {
        return model_cfg.init(device);
    }
    host.seed(mix(seed, 1));
    let model = model_cfg.init(&host);
    model.visit(&mut Materialise);
    // `fork`, not `to_device`: the moved parameters must be leaves of the new device's graph
    model.fork(device)
}

/// Draws every lazily initialised parameter where it is.
struct Materialise;

impl burn::module::ModuleVisitor for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// A freshly initialised network and optimiser (the device already seeded), or, with `resume`,
/// those of the last complete checkpoint and its state.
fn start_or_resume(
    model_cfg: &ModelConfig,
    device: &Device,
    seed: u64,
    out_dir: &Path,
    resume: bool,
) -> anyhow::Result<(Model, ModuleOptimizer, TrainState)> {
    let model = init_on_host(model_cfg, device, seed);
    let optim = optimizer();
    let fresh = TrainState {
        epochs_done: 0,
        rows: Vec::new(),
        best: None,
        sha256: None,
    };
    if !resume {
        return Ok((model, optim, fresh));
    }
    let Some(c) = latest_checkpoint(out_dir)? else {
        return Ok((model, optim, fresh));
    };
    let (st, mp, op) = (c.state, c.model, c.optim);
    let record = ModuleRecord::load(&mp).map_err(|e| anyhow::anyhow!("{}: {e}", mp.display()))?;
    let model = model
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{}: {e}", mp.display()))?;
    let optim = optim
        .load(&op)
        .map_err(|e| anyhow::anyhow!("{}: {e}", op.display()))?;
    eprintln!(
        "resuming {} after epoch {}",
        out_dir.display(),
        st.epochs_done
    );
    Ok((model, optim, st))
}
