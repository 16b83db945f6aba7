//! A synthetic stand-in for GTZAN: procedurally generated music in ten classes
//! named after the GTZAN genres, written in the GTZAN layout
//! (`genres/<genre>/<genre>.000NN.wav`, 22050 Hz, 16-bit mono).
//!
//! The classes differ the way genres do: tempo, rhythm pattern (four-on-the-floor,
//! one-drop, back-beat, double kick, jazz ride), swing, drum timbres, bass style
//! (walking, boom-chick, octave, 808 sub, syncopated), harmony (dominant 7ths,
//! extended chords, power chords, triads) and its instrument (strings, piano,
//! plucked guitar, distorted guitar, organ skank), distortion, dynamics and
//! recording bandwidth/noise. They overlap where genres overlap: rock and metal
//! share distorted power chords and back-beats, blues and jazz share swing and
//! walking bass, disco and pop share four-on-the-floor and synth pads. Every clip
//! draws its key, tempo, instrument choices, mix levels, tone, noise floor and
//! level at random, so a classifier must generalise over pitch and noise.
//!
//! Generation is deterministic: each clip's RNG is seeded from
//! `(seed, genre, index)`, and clips are rendered in parallel with rayon.
//!
//! The generator's parts: `voices` (sound sources), `theory` (scales, chords, progressions),
//! `styles` (the genres as data), `render` (one clip: the plan drawn from the clip's RNG, then
//! the steps), `rhythm` (drums, bass), `harmony` (chord instrument, lead) and `mix` (mixing,
//! mastering, recording).

mod harmony;
mod mix;
mod plan;
mod render;
mod rhythm;
mod styles;
mod theory;
mod voices;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::base::audio::{AudioError, WavData};
use crate::base::dataset::GTZAN_GENRES;

pub use render::render_clip;

/// Sample rate of the generated files (GTZAN's).
pub const SAMPLE_RATE: u32 = 22050;

/// Size of the default synthetic set built by [`ensure_default`]: clips per genre.
///
/// 8 clips x 10 genres x 15 s = 80 tracks, 400 three-second segments (60 tracks train, 20 test
/// with the study's per-genre 70/30 split). It is sized for the README's main job to learn
/// clearly in under 10 minutes of training on 2 cores: many short tracks rather than a few long
/// ones, so that the test split has 20 tracks to vote on. `trainer synth --per-genre 100
/// --seconds 30` makes a GTZAN-size set.
pub const DEFAULT_PER_GENRE: usize = 8;
/// Clip length of the default synthetic set, in seconds.
pub const DEFAULT_SECONDS: f32 = 15.0;
/// Seed of the default synthetic set (`--synthetic`: the README's main job and demos).
pub const DEFAULT_SEED: u64 = 2026;

/// Seed of the demo model's training set (`models/baseline-synth-*.postcard`:
/// `trainer synth --per-genre 10 --seconds 30 --seed 2020`).
pub const DEMO_MODEL_SEED: u64 = 2020;
/// Seed of `trainer synth` without `--seed` (sets users make for themselves).
pub const CLI_SEED: u64 = 2027;
/// Seed of the set the demo model's int8 agreement is measured on (models/README.md): clips
/// that neither training, calibration nor the choice of the logit slack saw.
pub const AGREEMENT_SEED: u64 = 2028;
/// Seeds the test suites generate their sets with (`synth::generate(.., seed)`; checked by
/// `trainer/tests/synth_purposes.rs`).
pub const TEST_SEEDS: std::ops::Range<u64> = 0..1000;

/// Every reserved purpose with its seed and the most clips per genre it uses; sets of different
/// purposes share no clip (a unit test checks every clip seed of every pair).
pub const PURPOSES: [(&str, u64, usize); 4] = [
    (
        "default synthetic set (--synthetic, README)",
        DEFAULT_SEED,
        100,
    ),
    ("demo model training set", DEMO_MODEL_SEED, 100),
    ("trainer synth without --seed", CLI_SEED, 100),
    ("demo model's int8 agreement set", AGREEMENT_SEED, 100),
];

/// Errors of the generator; each names the file or folder concerned.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Bad parameters.
    #[error("synth: {0}")]
    BadParameters(String),
    /// A folder could not be made, or the set could not be moved into place.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A clip's WAV file could not be written.
    #[error(transparent)]
    Write(#[from] AudioError),
}

/// Writes `per_genre` clips of `seconds` s for each of the ten genres under
/// `out_dir/genres/<genre>/<genre>.000NN.wav`. Deterministic for a `seed`.
pub fn generate(
    out_dir: &Path,
    per_genre: usize,
    seconds: f32,
    seed: u64,
) -> Result<(), SynthError> {
    if per_genre == 0 || !(seconds.is_finite() && (0.5..=600.0).contains(&seconds)) {
        return Err(SynthError::BadParameters(format!(
            "need per_genre >= 1 and 0.5 <= seconds <= 600 (got {per_genre}, {seconds})"
        )));
    }
    for g in GTZAN_GENRES {
        let dir = out_dir.join("genres").join(g);
        std::fs::create_dir_all(&dir).map_err(|source| SynthError::Io { path: dir, source })?;
    }
    let jobs: Vec<(usize, usize)> = (0..GTZAN_GENRES.len())
        .flat_map(|g| (0..per_genre).map(move |i| (g, i)))
        .collect();
    jobs.par_iter().try_for_each(|&(g, i)| {
        let samples = render_clip(g, seconds, clip_seed(seed, g, i));
        let name = GTZAN_GENRES[g];
        let path = out_dir
            .join("genres")
            .join(name)
            .join(format!("{name}.{i:05}.wav"));
        write_clip(&path, &samples)
    })
}

/// Builds, once, the default synthetic set under `cache_root/synthetic-<params>`
/// and returns its root (usable with `Dataset::discover`). The set is generated
/// into a temporary folder beside it and renamed into place, so an interrupted
/// build leaves nothing half-made under the final name.
pub fn ensure_default(cache_root: &Path) -> Result<PathBuf, SynthError> {
    ensure(cache_root, DEFAULT_PER_GENRE, DEFAULT_SECONDS, DEFAULT_SEED)
}

/// [`ensure_default`] with explicit size and seed.
pub fn ensure(
    cache_root: &Path,
    per_genre: usize,
    seconds: f32,
    seed: u64,
) -> Result<PathBuf, SynthError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Io { path, source }
    };
    let name = format!("synthetic-v{GENERATOR_VERSION}-{per_genre}x{seconds}s-seed{seed}");
    let dest = cache_root.join(name);
    if dest.join("genres").is_dir() {
        return Ok(dest);
    }
    std::fs::create_dir_all(cache_root).map_err(io(cache_root))?;
    let tmp = tempfile::Builder::new()
        .prefix(".synthetic-tmp-")
        .tempdir_in(cache_root)
        .map_err(io(cache_root))?;
    eprintln!(
        "synth: generating {per_genre} x {seconds} s clips per genre (seed {seed}) into {}",
        dest.display()
    );
    generate(tmp.path(), per_genre, seconds, seed)?;
    let tmp_path = tmp.keep();
    match std::fs::rename(&tmp_path, &dest) {
        Ok(()) => Ok(dest),
        // Another process finished first: keep theirs.
        Err(_) if dest.join("genres").is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp_path);
            Ok(dest)
        }
        Err(e) => Err(io(&dest)(e)),
    }
}

/// Bumped whenever the generator's output changes, so cached sets are rebuilt.
pub const GENERATOR_VERSION: u32 = 1;

/// The per-clip seed: blake3 of `(seed, genre, index)`.
fn clip_seed(seed: u64, genre: usize, index: usize) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(b"tinygenre synth clip");
    h.update(&seed.to_le_bytes());
    h.update(&(genre as u64).to_le_bytes());
    h.update(&(index as u64).to_le_bytes());
    let b = h.finalize();
    let mut s = [0u8; 8];
    s.copy_from_slice(&b.as_bytes()[..8]);
    u64::from_le_bytes(s)
}

/// Sample rate as `f32`, for the DSP.
const SR: f32 = SAMPLE_RATE as f32;

/// 16-bit PCM as the generator has always written it: `round(clamp(x, -1, 1) * 32767)`, so that
/// full scale is +-32767. [`crate::base::audio::to_pcm16`] scales by 32768 instead (the inverse of the
/// reader); using it would change the bytes of every generated file.
fn pcm16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&x| (x.clamp(-1.0, 1.0) * 32767.0).round() as i16)
        .collect()
}

/// Writes one clip as a 16-bit mono WAV file at [`SAMPLE_RATE`], atomically.
fn write_clip(path: &Path, samples: &[f32]) -> Result<(), SynthError> {
    crate::base::audio::write_wav_mono(path, WavData::Pcm16(&pcm16(samples)), SAMPLE_RATE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm16_rounds_at_full_scale_32767_and_clips() {
        let x = [
            1.0,
            -1.0,
            2.0,
            -3.0,
            0.5,
            -0.5,
            0.0,
            1.0 / 32767.0,
            0.4 / 32767.0,
        ];
        // 0.5 x 32767 = 16383.5, rounded away from zero
        assert_eq!(
            pcm16(&x),
            [32767, -32767, 32767, -32767, 16384, -16384, 0, 1, 0]
        );
    }

    #[test]
    fn generate_writes_the_gtzan_layout_as_16_bit_wavs() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), 2, 0.5, 9).unwrap();
        for (g, name) in GTZAN_GENRES.iter().enumerate() {
            for i in 0..2 {
                let path = dir.path().join(format!("genres/{name}/{name}.{i:05}.wav"));
                // a 44-byte header and 0.5 s x 22050 Hz x 2 bytes
                assert_eq!(std::fs::metadata(&path).unwrap().len(), 44 + 2 * 11025);
                let mut r = hound::WavReader::open(&path).unwrap();
                let spec = r.spec();
                assert_eq!((spec.channels, spec.sample_rate), (1, 22050));
                assert_eq!(spec.bits_per_sample, 16);
                let got: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
                assert_eq!(got, pcm16(&render_clip(g, 0.5, clip_seed(9, g, i))));
            }
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (per_genre, seconds) in [(0, 1.0), (1, 0.4), (1, 601.0), (1, f32::NAN)] {
            let e = generate(dir.path(), per_genre, seconds, 1).unwrap_err();
            assert!(matches!(e, SynthError::BadParameters(_)), "{e}");
        }
    }

    #[test]
    fn purposes_share_no_clip() {
        // every clip of up to 100 per genre of each purpose, and of 20 per genre of every test
        // seed: no clip seed twice, so no two sets hold the same clip
        let mut owner = std::collections::HashMap::new();
        let sets = PURPOSES
            .iter()
            .map(|&(name, seed, n)| (name.to_string(), seed, n))
            .chain(TEST_SEEDS.map(|s| (format!("test seed {s}"), s, 20)));
        for (name, seed, n) in sets {
            assert!(
                !TEST_SEEDS.contains(&seed) || name.starts_with("test"),
                "{name} uses a test seed"
            );
            for g in 0..GTZAN_GENRES.len() {
                for i in 0..n {
                    if let Some(other) = owner.insert(clip_seed(seed, g, i), name.clone()) {
                        assert_eq!(other, name, "{name} and {other} share a clip");
                    }
                }
            }
        }
        // and the default set is not the demo model's: their first clips differ
        let a = render_clip(0, 0.5, clip_seed(DEFAULT_SEED, 0, 0));
        let b = render_clip(0, 0.5, clip_seed(DEMO_MODEL_SEED, 0, 0));
        assert_ne!(a, b);
    }

    #[test]
    fn clip_seeds_differ_by_seed_genre_and_index() {
        let mut seen = std::collections::BTreeSet::new();
        for seed in [1, 2] {
            for g in 0..10 {
                for i in 0..5 {
                    assert!(seen.insert(clip_seed(seed, g, i)));
                }
            }
        }
        assert_eq!(clip_seed(1, 2, 3), clip_seed(1, 2, 3));
    }

    #[test]
    fn ensure_builds_once_and_names_the_set_by_its_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let a = ensure(dir.path(), 1, 0.5, 3).unwrap();
        assert_eq!(
            a.file_name().unwrap(),
            format!("synthetic-v{GENERATOR_VERSION}-1x0.5s-seed3").as_str()
        );
        let wav = a.join("genres/rock/rock.00000.wav");
        let before = std::fs::metadata(&wav).unwrap().modified().unwrap();
        assert_eq!(ensure(dir.path(), 1, 0.5, 3).unwrap(), a);
        assert_eq!(std::fs::metadata(&wav).unwrap().modified().unwrap(), before);
        // no temporary folder left behind
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
