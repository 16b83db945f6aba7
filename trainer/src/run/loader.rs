//! From a GTZAN-layout directory (or the synthetic stand-in) to the examples a run trains and
//! tests on: discovery, the split by track, the front end per model, the feature cache and the
//! offline / online waveform augmentation.
//!
//! - `baseline` and `resnet18` read non-overlapping 3 s segments through the default front end
//!   (librosa's defaults): 128 × 130 per segment, ten segments per 30 s track.
//! - `arbitrary` (Won et al.) reads the whole track through its own front end
//!   ([`FrontendConfig::HTK1024`]) and crops 29 s (1249 frames) from it: at random in training,
//!   from the start in evaluation (the crop happens when batches are built).
//!
//! Waveform augmentation (`--aug noise,pitch,...`) is applied to training tracks only, before the
//! front end, through the feature cache's [`WaveTransform`](crate::data::cache::WaveTransform) hook:
//! offline, `--aug-copies C` copies of each training track are made once, cached, and added to the
//! training set (which grows by the factor `1 + C`); online, each epoch replaces every training
//! track by a fresh draw ([`epoch_train`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::augment::{AugMode, AugSpec};
use crate::base::dataset::{Dataset, Track};
use crate::base::segment::SegmentConfig;
use crate::data::cache::{CachedSet, FeatureCache, FrontendConfig, WaveTransform};
use crate::data::split::Split;
use crate::data::synth;
use crate::models::ModelKind;
use crate::run::config::{DataSource, RunConfig, aug_spec, parse_split};
use crate::run::examples::{Examples, FeatureStore, Prepared};
use crate::run::toy;

/// Seconds of the `arbitrary` model's crop.
pub const ARBITRARY_CROP_SECONDS: f32 = 29.0;

/// The feature-cache root: `$TINYGENRE_CACHE`, or `cache/` in the working directory.
pub fn cache_root() -> PathBuf {
    std::env::var_os("TINYGENRE_CACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cache"))
}

/// The front end, segmentation and model input width (frames) of a network reading audio at
/// `sample_rate` (the segment models' rates: [`crate::models::frontend_at`]; the arbitrary model has its own
/// front end, and the default's where the rate has none).
pub fn input_spec(model: ModelKind, sample_rate: u32) -> (FrontendConfig, SegmentConfig, usize) {
    match model {
        ModelKind::Arbitrary => {
            let fe = FrontendConfig::HTK1024;
            let crop = (ARBITRARY_CROP_SECONDS * fe.sample_rate as f32) as usize;
            (fe, SegmentConfig::whole_track(), fe.n_frames(crop))
        }
        ModelKind::Baseline | ModelKind::Resnet18 => {
            let fe = crate::models::frontend_at(sample_rate).unwrap_or(FrontendConfig::DEFAULT);
            let seg = SegmentConfig::default();
            let n = (seg.seconds * fe.sample_rate as f32).round() as usize;
            (fe, seg, fe.n_frames(n))
        }
    }
}

/// What [`prepare_audio`] keeps to build online-augmented epochs later.
#[derive(Debug, Clone)]
pub struct AudioSource {
    dataset: Dataset,
    train_tracks: Vec<Track>,
    test_tracks: Vec<Track>,
    frontend: FrontendConfig,
    segments: SegmentConfig,
    eval_segments: SegmentConfig,
}

/// The examples of a cached set: an index into the cache, no features in memory.
pub fn cached_examples(set: CachedSet, n_mels: usize) -> Examples {
    let set = Arc::new(set);
    let (mut index, mut labels, mut tracks) = (Vec::new(), Vec::new(), Vec::new());
    for (i, e) in set.entries().enumerate() {
        index.push((Arc::clone(&set), i));
        labels.push(e.genre);
        tracks.push(e.track);
    }
    Examples {
        n_mels,
        features: FeatureStore::Cache(index),
        labels,
        tracks,
    }
}

/// The data a run needs: the toy set in memory, or a GTZAN-layout dataset (or the default
/// synthetic one, generated if needed) through the feature cache.
///
/// # Errors
/// Unreadable data, an invalid split or augmentation, cache errors.
pub fn prepare(cfg: &RunConfig) -> anyhow::Result<Prepared> {
    Ok(prepare_with_source(cfg)?.0)
}

/// [`prepare`], plus what online augmentation needs to draw each epoch's audio (`None` for the
/// toy source).
///
/// # Errors
/// As [`prepare`].
pub fn prepare_with_source(cfg: &RunConfig) -> anyhow::Result<(Prepared, Option<AudioSource>)> {
    match &cfg.data {
        DataSource::Toy(spec) => Ok((toy::toy(spec, cfg.seed), None)),
        DataSource::Path { .. } | DataSource::Synthetic => {
            let (p, a) = prepare_audio(cfg)?;
            Ok((p, Some(a)))
        }
    }
}

/// Loads a GTZAN-layout dataset (or generates the default synthetic one) for `cfg`.
pub fn prepare_audio(cfg: &RunConfig) -> anyhow::Result<(Prepared, AudioSource)> {
    let Some(found) = discover(cfg)? else {
        bail!("prepare_audio: the toy source holds no audio");
    };
    prepare_discovered(cfg, found)
}

/// A dataset found on disk: its root and what discovery read there (folders, files, headers).
pub struct Discovered {
    /// The folder `--data` / `--synthetic` resolved to.
    pub root: PathBuf,
    /// The dataset found there.
    pub dataset: Dataset,
}

/// Discovers the dataset `cfg` names (generating the default synthetic one if needed), once;
/// `None` for the toy source. A caller that checks the dataset before features are computed
/// passes it on to [`prepare_discovered`].
pub fn discover(cfg: &RunConfig) -> anyhow::Result<Option<Discovered>> {
    let root = match &cfg.data {
        DataSource::Path { path } => path.clone(),
        DataSource::Synthetic => synth::ensure_default(&cache_root())
            .context("building the default synthetic dataset")?,
        DataSource::Toy(_) => return Ok(None),
    };
    let dataset = Dataset::discover(&root).with_context(|| format!("--data {}", root.display()))?;
    Ok(Some(Discovered { root, dataset }))
}

/// [`prepare_audio`] on a dataset [`discover`] found: splits it, computes (or reads) the
/// features of every partition and keeps what online augmentation needs.
pub fn prepare_discovered(
    cfg: &RunConfig,
    found: Discovered,
) -> anyhow::Result<(Prepared, AudioSource)> {
    let Discovered { root, dataset: ds } = found;
    if !ds.skipped.is_empty() {
        eprintln!(
            "data: {} of {} files skipped (unreadable; see the warnings above)",
            ds.skipped.len(),
            ds.skipped.len() + ds.tracks.len()
        );
    }
    let kind = parse_split(&cfg.split)?;
    let split = Split::new(&ds, &kind, cfg.seed)?;
    split.check_disjoint(&ds)?;
    if !split.missing.is_empty() {
        eprintln!(
            "data: {} tracks of the {} split lists are not in {}",
            split.missing.len(),
            cfg.split,
            root.display()
        );
    }
    let (frontend, segments, input_frames) = input_spec(cfg.model, cfg.sample_rate);
    let with_hop = |hop: Option<f32>| SegmentConfig {
        hop_seconds: hop.unwrap_or(segments.hop_seconds),
        ..segments
    };
    let (mut segments, eval_segments) = (with_hop(cfg.train_hop), with_hop(cfg.test_hop));
    if cfg.stream_context {
        // training examples one block-5 column wider on either side (center framing: frames =
        // 1 + samples / hop)
        let frames = crate::models::baseline::context_frames(input_frames);
        let samples = (frames - 1) * frontend.hop_length as usize;
        segments.seconds = (samples as f64 / f64::from(frontend.sample_rate)) as f32;
        anyhow::ensure!(
            segments
                .lengths(frontend.sample_rate)?
                .map(|(n, _)| frontend.n_frames(n))
                == Some(frames),
            "--stream-context: no segment length gives {frames} frames"
        );
    }
    let cache_dir = cache_root().join("features");
    let cache = FeatureCache::open(&cache_dir)?;
    let pick =
        |ids: &[usize]| -> Vec<Track> { ids.iter().map(|&i| ds.tracks[i].clone()).collect() };
    let (train_tracks, valid_tracks, test_tracks) =
        (pick(&split.train), pick(&split.valid), pick(&split.test));

    let spec = aug_spec(cfg)?;
    let n_mels = frontend.n_mels as usize;
    let set = cache.precompute(&train_tracks, &frontend, &segments, None)?;
    let mut train = cached_examples(set, n_mels);
    let originals = train.len();
    if cfg.aug_mode == AugMode::Offline {
        for t in spec.offline_transforms(cfg.aug_copies, cfg.seed) {
            eprintln!("augment: offline copy {} ({})", t.copy(), t.key());
            let set = cache.precompute(&train_tracks, &frontend, &segments, Some(&t))?;
            train.extend(cached_examples(set, n_mels))?;
        }
        if train.len() > originals {
            eprintln!(
                "augment: training set grew from {originals} to {} examples (x{})",
                train.len(),
                train.len() / originals.max(1)
            );
        }
    }
    let valid = if valid_tracks.is_empty() {
        Examples {
            n_mels,
            ..Default::default()
        }
    } else {
        let set = cache.precompute(&valid_tracks, &frontend, &eval_segments, None)?;
        cached_examples(set, n_mels)
    };
    let set = cache.precompute(&test_tracks, &frontend, &eval_segments, None)?;
    let test = cached_examples(set, n_mels);

    let rel = |ids: &[usize]| -> Vec<String> {
        ids.iter()
            .filter_map(|&i| ds.relative_path(i))
            .collect::<Vec<_>>()
    };
    let prepared = Prepared {
        genres: ds.genres.clone(),
        train,
        valid,
        test,
        input_frames,
        fingerprint: ds.fingerprint(),
        split_lists: Some([rel(&split.train), rel(&split.valid), rel(&split.test)]),
    };
    let source = AudioSource {
        dataset: ds,
        train_tracks,
        test_tracks,
        frontend,
        segments,
        eval_segments,
    };
    Ok((prepared, source))
}

/// The training examples of epoch `epoch` (0-based) in online mode: every training track through
/// a fresh draw of the waveform stages (`AugSpec::waveform_transform(epoch + 1, seed)`). `None`
/// without waveform stages.
///
/// The features go to a feature cache in `dir`, not the shared one: a run passes a folder of its
/// own and empties it before each epoch ([`clear_online_dir`]), so disk use stays at one epoch's
/// draw however long the run, and no other run reads or deletes those files. The draw is a
/// function of `(epoch, seed)`, so a resumed run recomputes exactly the same audio.
pub fn epoch_train(
    src: &AudioSource,
    spec: &AugSpec,
    epoch: usize,
    seed: u64,
    dir: &Path,
) -> anyhow::Result<Option<Examples>> {
    let Some(t) = spec.waveform_transform(epoch + 1, seed) else {
        return Ok(None);
    };
    // Quiet: the epoch's own line reports it (its seconds include the draw).
    let cache = FeatureCache::open(dir)?.quiet();
    let set = cache.precompute(
        &src.train_tracks,
        &src.frontend,
        &src.segments,
        Some(&t as &dyn WaveTransform),
    )?;
    Ok(Some(cached_examples(set, src.frontend.n_mels as usize)))
}

/// Removes an online-augmentation folder of [`epoch_train`] and everything in it (nothing to do
/// when it does not exist).
pub fn clear_online_dir(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context(format!("removing {}", dir.display()))),
    }
}

impl AudioSource {
    /// The discovered dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The training tracks, in the order of the training examples.
    pub fn train_tracks(&self) -> &[Track] {
        &self.train_tracks
    }

    /// The test tracks, in the order of the test examples.
    pub fn test_tracks(&self) -> &[Track] {
        &self.test_tracks
    }

    /// The front end of the examples.
    pub fn frontend(&self) -> FrontendConfig {
        self.frontend
    }

    /// The segmentation of the training examples.
    pub fn segments(&self) -> SegmentConfig {
        self.segments
    }

    /// The segmentation of the validation and test examples.
    pub fn eval_segments(&self) -> SegmentConfig {
        self.eval_segments
    }
}

/// The root that `--data` / `--synthetic` resolve to (the synthetic set is generated if needed).
pub fn data_root(data: &DataSource) -> anyhow::Result<Option<PathBuf>> {
    Ok(match data {
        DataSource::Path { path } => Some(path.clone()),
        DataSource::Synthetic => Some(synth::ensure_default(&cache_root())?),
        DataSource::Toy(_) => None,
    })
}
