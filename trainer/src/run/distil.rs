//! Distillation for a run: loads the teacher a [`Distil`] names, fits or builds its genre head on
//! the training tracks, and gives the tempered teacher posterior of every training example,
//! aligned one to one with the examples the student sees (originals, offline copies, or each
//! epoch's online draw).
//!
//! Protocol: the probe is fitted on the training tracks' original segments only. The teacher's
//! own scores on the test split (zero-shot and probe, `teacher.json` in the run directory) are
//! computed once, with the final report, like the student's.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::augment::{AugMode, AugSpec};
use crate::base::dataset::Track;
use crate::base::fsio::write_json;
use crate::base::metrics::{self, Evaluation};
use crate::data::cache::WaveTransform;
use crate::run::config::{Distil, RunConfig};
use crate::run::examples::{Examples, Prepared};
use crate::run::loader::{AudioSource, cache_root};
use crate::teacher::targets::check_aligned;
use crate::teacher::{
    GenreHead, HeadKind, Teacher, TeacherCache, TeacherInfo, TeacherOutputs, softmax_t,
};

/// The label of an unlabelled example (`--unlabelled`): no genre, taught by the teacher alone.
pub const UNLABELLED: usize = usize::MAX;
/// Track ids of unlabelled tracks start here (far above any dataset's).
const UNLABELLED_ID_BASE: usize = 1 << 40;

/// Unlabelled examples and the teacher's targets of each.
#[derive(Clone, Debug, Default)]
pub struct UnlabelledSet {
    /// The examples (label [`UNLABELLED`]).
    pub examples: Examples,
    /// The teacher's tempered posterior of each.
    pub targets: Vec<Vec<f32>>,
}

/// The audio files under `dir` (recursively, `.wav` / `.au` / `.snd`), sorted.
fn audio_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    let rd = std::fs::read_dir(dir)
        .with_context(|| format!("--unlabelled: reading {}", dir.display()))?;
    for e in rd {
        let p = e
            .with_context(|| format!("--unlabelled: reading {}", dir.display()))?
            .path();
        if p.is_dir() {
            audio_files(&p, out)?;
        } else if crate::base::audio::AudioKind::from_path(&p).is_some() {
            out.push(p);
        }
    }
    out.sort();
    Ok(())
}

/// `teacher.json` in a distilled run's directory: the teacher, its head and its test scores.
pub const TEACHER_JSON: &str = "teacher.json";

/// The teacher's scores on the test split, per head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherScores {
    /// Head name (`zero-shot`, `probe`).
    pub head: String,
    /// Segment accuracy.
    pub segment_accuracy: f64,
    /// Track accuracy (majority vote of the segments).
    pub track_accuracy: f64,
    /// Track confusion matrix.
    pub confusion_tracks: Vec<Vec<usize>>,
}

/// What `teacher.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherReport {
    /// The teacher file's metadata.
    pub info: TeacherInfo,
    /// The head the student was taught with.
    pub head: GenreHead,
    /// Scores of the zero-shot head (when the genres map to teacher classes) and of the probe.
    pub test: Vec<TeacherScores>,
}

/// The teacher of a run, ready to give targets.
#[derive(Debug)]
pub struct Distiller {
    teacher: Teacher,
    head: GenreHead,
    cache: TeacherCache,
    temperature: f32,
    /// Tracks the student's examples come from, in the order of the feature cache's sets.
    tracks: Vec<Track>,
    /// Tempered teacher posterior of each (non-online) training example.
    train: Vec<Vec<f32>>,
    probe_l2: f64,
    map: Vec<(String, String)>,
    /// `--unlabelled` music and the teacher's targets of it; part of every epoch.
    unlabelled: Option<UnlabelledSet>,
}

/// The tracks among `tracks` that have examples in `ex`, in the order of `tracks`.
fn tracks_with_examples(tracks: &[Track], ex: &Examples) -> Vec<Track> {
    let ids: HashSet<usize> = ex.tracks.iter().copied().collect();
    tracks
        .iter()
        .filter(|t| ids.contains(&t.id))
        .cloned()
        .collect()
}

/// `softmax(head(o) / t)` of every teacher output.
fn tempered(head: &GenreHead, outs: &TeacherOutputs, t: f32) -> Vec<Vec<f32>> {
    outs.segments
        .iter()
        .map(|o| softmax_t(&head.genre_logits(o), t))
        .collect()
}

/// The probe fitted on teacher outputs of labelled training tracks (each segment labelled with
/// its track's genre in `src`'s dataset).
fn fit_probe_on(
    outs: &TeacherOutputs,
    src: &AudioSource,
    n_genres: usize,
    l2: f64,
) -> Result<GenreHead, String> {
    let emb: Vec<Vec<f32>> = outs.segments.iter().map(|o| o.embedding.clone()).collect();
    let labels = outs
        .tracks
        .iter()
        .map(|&id| {
            src.dataset()
                .tracks
                .get(id)
                .map(|t| t.genre)
                .ok_or_else(|| format!("probe: track {id} is not in the dataset"))
        })
        .collect::<Result<Vec<usize>, String>>()?;
    GenreHead::fit_probe(&emb, &labels, n_genres, l2)
}

impl Distiller {
    /// Loads the teacher (checking its hash), builds the head and computes (or reads from the
    /// cache) the teacher's outputs for every training example of `data`.
    ///
    /// # Errors
    /// The teacher's typed errors; a head that does not fit; misaligned outputs.
    pub fn start(
        d: &Distil,
        cfg: &RunConfig,
        spec: &AugSpec,
        data: &Prepared,
        src: &AudioSource,
    ) -> anyhow::Result<Distiller> {
        let teacher = Teacher::load(&d.teacher, Some(&d.teacher_sha256))?;
        let info = teacher.info().clone();
        eprintln!(
            "teacher: {} ({} classes, {}-d embedding, {} Hz, {:.2} s window), head {:?}, alpha {}, T {}",
            info.name,
            info.class_names.len(),
            info.embedding_dim,
            info.sample_rate,
            info.window_samples as f64 / f64::from(info.sample_rate),
            d.head,
            d.alpha,
            d.temperature
        );
        let cache = TeacherCache::open(&cache_root().join("teacher"))?;
        let tracks = tracks_with_examples(src.train_tracks(), &data.train);
        let (fe, seg) = (src.frontend(), src.segments());
        let originals = cache.tracks(&teacher, &tracks, &fe, &seg, None, "training tracks")?;
        let mut outs = originals.clone();
        if cfg.aug_mode == AugMode::Offline {
            for t in spec.offline_transforms(cfg.aug_copies, cfg.seed) {
                let o = cache.tracks(
                    &teacher,
                    &tracks,
                    &fe,
                    &seg,
                    Some(&t as &dyn WaveTransform),
                    &format!("offline copy {}", t.copy()),
                )?;
                outs.segments.extend(o.segments);
                outs.tracks.extend(o.tracks);
            }
        }
        check_aligned(&outs, &data.train.tracks, "training set")?;
        let head_err = |reason| crate::teacher::TeacherError::Head {
            path: d.teacher.clone(),
            reason,
        };
        let head = match d.head {
            HeadKind::ZeroShot => GenreHead::zero_shot(&info, &data.genres, &d.map),
            HeadKind::Probe => fit_probe_on(&originals, src, data.genres.len(), d.probe_l2),
        }
        .map_err(head_err)?;
        head.check(&info).map_err(head_err)?;
        let t = d.temperature as f32;
        let train = tempered(&head, &outs, t);
        let mut distiller = Distiller {
            teacher,
            head,
            cache,
            temperature: t,
            tracks,
            train,
            probe_l2: d.probe_l2,
            map: d.map.clone(),
            unlabelled: None,
        };
        if let Some(dir) = &d.unlabelled {
            let u = distiller.load_unlabelled(dir, src)?;
            distiller.train.extend(u.targets.iter().cloned());
            distiller.unlabelled = Some(u);
        }
        Ok(distiller)
    }

    /// The segments of the audio under `dir` with the teacher's targets: files whose header
    /// cannot be read, or whose audio does not decode, are skipped with a named warning.
    ///
    /// # Errors
    /// A folder with no audio file in it, or none that decodes; cache or teacher failures.
    fn load_unlabelled(&self, dir: &Path, src: &AudioSource) -> anyhow::Result<UnlabelledSet> {
        let mut files = Vec::new();
        audio_files(dir, &mut files)?;
        anyhow::ensure!(
            !files.is_empty(),
            "--unlabelled {}: no audio files (.wav, .au) in it",
            dir.display()
        );
        let mut tracks = Vec::new();
        for (k, p) in files.iter().enumerate() {
            match crate::base::audio::probe(p) {
                Ok(info) => tracks.push(Track {
                    id: UNLABELLED_ID_BASE + k,
                    path: p.clone(),
                    genre: UNLABELLED,
                    name: format!("unlabelled/{}", p.display()),
                    sample_rate: info.sample_rate,
                    frames: info.frames,
                }),
                Err(e) => eprintln!("warning: --unlabelled: skipping {}: {e}", p.display()),
            }
        }
        let (fe, seg) = (src.frontend(), src.segments());
        let cache = crate::data::cache::FeatureCache::open(&cache_root().join("features"))?;
        let set = cache.precompute(&tracks, &fe, &seg, None)?;
        let skipped: Vec<std::path::PathBuf> = set.skipped.iter().map(|s| s.path.clone()).collect();
        let examples = crate::run::loader::cached_examples(set, fe.n_mels as usize);
        anyhow::ensure!(
            !examples.is_empty(),
            "--unlabelled {}: none of its {} audio files could be read",
            dir.display(),
            files.len()
        );
        let tracks: Vec<Track> = tracks
            .into_iter()
            .filter(|t| !skipped.contains(&t.path))
            .collect();
        let outs =
            self.cache
                .tracks(&self.teacher, &tracks, &fe, &seg, None, "unlabelled tracks")?;
        check_aligned(&outs, &examples.tracks, "unlabelled set")?;
        let targets = tempered(&self.head, &outs, self.temperature);
        Ok(UnlabelledSet { examples, targets })
    }

    /// The `--unlabelled` examples, which join every epoch's training set after the labelled
    /// ones ([`Distiller::train_targets`] and [`Distiller::epoch_targets`] include their
    /// targets).
    pub fn unlabelled_examples(&self) -> Option<&Examples> {
        self.unlabelled.as_ref().map(|u| &u.examples)
    }

    /// The tempered teacher posterior of each example of the fixed training set (with the
    /// unlabelled examples at its end).
    pub fn train_targets(&self) -> &[Vec<f32>] {
        &self.train
    }

    /// The tempered teacher posterior of each example of an online epoch's draw `ex`, made by
    /// `transform` from the same tracks, followed by those of the unlabelled examples.
    ///
    /// # Errors
    /// As [`Distiller::start`].
    pub fn epoch_targets(
        &self,
        src: &AudioSource,
        transform: &dyn WaveTransform,
        ex: &Examples,
        epoch: usize,
    ) -> anyhow::Result<Vec<Vec<f32>>> {
        let outs = self.cache.tracks(
            &self.teacher,
            &self.tracks,
            &src.frontend(),
            &src.segments(),
            Some(transform),
            &format!("epoch {} draw", epoch + 1),
        )?;
        check_aligned(&outs, &ex.tracks, "online draw")?;
        let mut targets = tempered(&self.head, &outs, self.temperature);
        if let Some(u) = &self.unlabelled {
            targets.extend(u.targets.iter().cloned());
        }
        Ok(targets)
    }

    /// Scores the teacher on `test` (its segments, unaugmented) with the head it taught with,
    /// the zero-shot head (when every genre maps to a teacher class) and the probe, and writes
    /// `teacher.json` into `out_dir`.
    ///
    /// # Errors
    /// The teacher failing; writing the file.
    pub fn report(
        &self,
        src: &AudioSource,
        test: &Examples,
        genres: &[String],
        out_dir: &Path,
    ) -> anyhow::Result<TeacherReport> {
        let kept = tracks_with_examples(src.test_tracks(), test);
        let outs: TeacherOutputs = self.cache.tracks(
            &self.teacher,
            &kept,
            &src.frontend(),
            &src.eval_segments(),
            None,
            "test tracks (final report)",
        )?;
        check_aligned(&outs, &test.tracks, "test set")?;
        let info = self.teacher.info();
        let mut heads: Vec<(String, GenreHead)> = Vec::new();
        if let Ok(h) = GenreHead::zero_shot(info, genres, &self.map) {
            heads.push(("zero-shot".into(), h));
        }
        let probe = match &self.head {
            h @ GenreHead::Probe { .. } => Some(h.clone()),
            GenreHead::ZeroShot { .. } => {
                // Fit a probe for the report, on the training tracks' originals (cached).
                let tr = self.cache.tracks(
                    &self.teacher,
                    &self.tracks,
                    &src.frontend(),
                    &src.segments(),
                    None,
                    "training tracks",
                )?;
                fit_probe_on(&tr, src, genres.len(), self.probe_l2).ok()
            }
        };
        if let Some(p) = probe {
            heads.push(("probe".into(), p));
        }
        let mut scores = Vec::new();
        for (name, h) in heads {
            let probs: Vec<Vec<f32>> = outs
                .segments
                .iter()
                .map(|o| metrics::softmax(&h.genre_logits(o)))
                .collect();
            let ev: Evaluation =
                metrics::evaluate(genres.len(), &test.labels, &test.tracks, &probs);
            eprintln!(
                "teacher ({name}): test track accuracy {:.3}, segment accuracy {:.3}",
                ev.track_accuracy, ev.segment_accuracy
            );
            scores.push(TeacherScores {
                head: name,
                segment_accuracy: ev.segment_accuracy,
                track_accuracy: ev.track_accuracy,
                confusion_tracks: ev.confusion_tracks,
            });
        }
        let report = TeacherReport {
            info: info.clone(),
            head: self.head.clone(),
            test: scores,
        };
        write_json(&out_dir.join(TEACHER_JSON), &report)
            .with_context(|| format!("writing {}", out_dir.join(TEACHER_JSON).display()))?;
        Ok(report)
    }
}
