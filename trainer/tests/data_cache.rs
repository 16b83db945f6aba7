//! Feature cache tests: keys and invalidation, crash safety (truncated / garbage
//! entries, orphan temporary files), the streaming `CachedSet`, short tracks, and,
//! with `GTZAN_DEV_DIR` set, the real development clips against `trainer features`.

use std::path::{Path, PathBuf};
use std::process::Command;

use trainer::base::dataset::{Dataset, Track};
use trainer::base::segment::SegmentConfig;
use trainer::data::cache::{self, FeatureCache, FrontendConfig, WaveTransform};

fn write_i16(path: &Path, sr: u32, samples: &[i16]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: sr,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// A chirp-plus-noise signal, deterministic, `seconds` long at 22050 Hz.
fn signal(seconds: f32, seed: u32) -> Vec<i16> {
    let n = (seconds * 22050.0) as usize;
    let mut s = seed | 1;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let t = i as f32 / 22050.0;
            let v = 0.3 * (2.0 * std::f32::consts::PI * (200.0 + 300.0 * t) * t).sin()
                + 0.05 * (s as f32 / u32::MAX as f32 - 0.5);
            (v * 32767.0) as i16
        })
        .collect()
}

fn one_track_dataset(root: &Path, seconds: f32) -> Dataset {
    write_i16(
        &root.join("genres/rock/rock.00000.wav"),
        22050,
        &signal(seconds, 1),
    );
    Dataset::discover(root).unwrap()
}

fn decode_i16(path: &Path) -> Vec<f32> {
    hound::WavReader::open(path)
        .unwrap()
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

#[test]
fn cache_reuses_and_invalidates_on_frontend_change() {
    let dir = tempfile::tempdir().unwrap();
    let ds = one_track_dataset(&dir.path().join("data"), 7.0);
    let t = &ds.tracks[0];
    let cache = FeatureCache::open(&dir.path().join("cache")).unwrap();
    let seg = SegmentConfig::default();
    let a = cache
        .features(t, &FrontendConfig::DEFAULT, &seg, None)
        .unwrap();
    assert_eq!(cache.stats(), (1, 0));
    // 7 s -> two 3 s segments, each [128, 1 + 66150 / 512 = 130].
    assert_eq!((a.n_mels, a.frames, a.segments.len()), (128, 130, 2));
    let again = cache
        .features(t, &FrontendConfig::DEFAULT, &seg, None)
        .unwrap();
    assert_eq!(again, a);
    assert_eq!(cache.stats(), (1, 1), "second call reads the cache");

    // Another front end: another entry, computed, different values.
    let b = cache
        .features(t, &FrontendConfig::HTK1024, &seg, None)
        .unwrap();
    assert_eq!(cache.stats(), (2, 1));
    assert_ne!(b.segments, a.segments);
    let pa = cache
        .entry_path(t, &FrontendConfig::DEFAULT, &seg, None)
        .unwrap();
    let pb = cache
        .entry_path(t, &FrontendConfig::HTK1024, &seg, None)
        .unwrap();
    assert_ne!(pa, pb);
    assert!(pa.exists() && pb.exists());
    // A changed field (not just a preset) also invalidates.
    let mut cfg = FrontendConfig::DEFAULT;
    cfg.n_mels = 64;
    let c = cache.features(t, &cfg, &seg, None).unwrap();
    assert_eq!((c.n_mels, cache.stats().0), (64, 3));
    // Another segmentation.
    let ov = SegmentConfig {
        seconds: 3.0,
        hop_seconds: 1.0,
        whole_track: false,
    };
    let d = cache
        .features(t, &FrontendConfig::DEFAULT, &ov, None)
        .unwrap();
    assert_eq!((d.segments.len(), cache.stats().0), (5, 4));
    // New file contents (same path): recomputed.
    write_i16(&t.path, 22050, &signal(7.0, 99));
    let e = cache
        .features(t, &FrontendConfig::DEFAULT, &seg, None)
        .unwrap();
    assert_eq!(cache.stats().0, 5);
    assert_ne!(e.segments, a.segments);
}

#[test]
fn each_segment_is_the_front_end_on_that_segment_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ds = one_track_dataset(&dir.path().join("data"), 7.0);
    let t = &ds.tracks[0];
    let cache = FeatureCache::open(&dir.path().join("cache")).unwrap();
    let cfg = FrontendConfig::DEFAULT;
    let f = cache
        .features(t, &cfg, &SegmentConfig::default(), None)
        .unwrap();
    let x = decode_i16(&t.path);
    for (k, seg) in f.segments.iter().enumerate() {
        let (m, frames, expect) = cache::log_mel(&cfg, &x[k * 66150..(k + 1) * 66150]).unwrap();
        assert_eq!((m, frames), (128, 130));
        assert_eq!(seg, &expect, "segment {k}");
    }
}

#[test]
fn corrupt_entries_are_detected_and_recomputed_and_orphans_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let ds = one_track_dataset(&dir.path().join("data"), 4.0);
    let t = &ds.tracks[0];
    let cache_dir = dir.path().join("cache");
    let cache = FeatureCache::open(&cache_dir).unwrap();
    let cfg = FrontendConfig::DEFAULT;
    let seg = SegmentConfig::default();
    let good = cache.features(t, &cfg, &seg, None).unwrap();
    let path = cache.entry_path(t, &cfg, &seg, None).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    // Truncated (a crash mid-write without the rename would look like this).
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(cache.features(t, &cfg, &seg, None).unwrap(), good);
    assert_eq!(cache.stats(), (2, 0), "truncated entry recomputed");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "and rewritten whole");

    // Same length, one payload byte flipped: the checksum catches it.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40;
    std::fs::write(&path, &flipped).unwrap();
    assert_eq!(cache.features(t, &cfg, &seg, None).unwrap(), good);
    assert_eq!(cache.stats(), (3, 0));

    // Garbage header.
    std::fs::write(&path, b"not a cache entry at all").unwrap();
    assert_eq!(cache.features(t, &cfg, &seg, None).unwrap(), good);
    assert_eq!(cache.stats(), (4, 0));

    // An orphan temporary file (a crash before the rename) beside the entry is
    // never read; the entry is reused and no other file appears.
    let orphan = path.parent().unwrap().join(".tmp-orphan123");
    std::fs::write(&orphan, &bytes[..100]).unwrap();
    assert_eq!(cache.features(t, &cfg, &seg, None).unwrap(), good);
    assert_eq!(cache.stats(), (4, 1));
    let entries: Vec<PathBuf> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");

    // precompute verifies too.
    std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
    let set = cache.precompute(&ds.tracks, &cfg, &seg, None).unwrap();
    assert_eq!((set.computed, set.reused), (1, 0));
    assert_eq!(set.load(0).unwrap(), good.segments[0]);
}

#[test]
fn cached_set_streams_segments_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    for (g, secs) in [("blues", 6.5f32), ("jazz", 3.5), ("jazz", 9.2)] {
        let i = if secs > 9.0 { 1 } else { 0 };
        write_i16(
            &root.join(format!("genres/{g}/{g}.{i:05}.wav")),
            22050,
            &signal(secs, secs as u32),
        );
    }
    let ds = Dataset::discover(&root).unwrap();
    let cache = FeatureCache::open(&dir.path().join("cache")).unwrap();
    let cfg = FrontendConfig::DEFAULT;
    let seg = SegmentConfig::default();
    let set = cache.precompute(&ds.tracks, &cfg, &seg, None).unwrap();
    // 6.5 s -> 2, 3.5 s -> 1, 9.2 s -> 3 segments.
    assert_eq!(set.len(), 6);
    assert_eq!(set.n_tracks(), 3);
    assert_eq!(set.computed, 3);
    let refs: Vec<(usize, usize, usize)> = set
        .entries()
        .map(|e| (e.track, e.genre, e.segment))
        .collect();
    assert_eq!(
        refs,
        vec![
            (0, 0, 0),
            (0, 0, 1),
            (1, 1, 0),
            (2, 1, 0),
            (2, 1, 1),
            (2, 1, 2)
        ]
    );
    for i in 0..set.len() {
        let e = set.entry(i).unwrap();
        let whole = cache
            .features(&ds.tracks[e.track], &cfg, &seg, None)
            .unwrap();
        assert_eq!(set.load(i).unwrap(), whole.segments[e.segment], "entry {i}");
    }
    assert!(set.load(6).is_err());
    // A second precompute reuses everything.
    let again = cache.precompute(&ds.tracks, &cfg, &seg, None).unwrap();
    assert_eq!((again.computed, again.reused), (0, 3));
}

#[test]
fn short_track_is_zero_padded_to_one_segment() {
    let dir = tempfile::tempdir().unwrap();
    let ds = one_track_dataset(&dir.path().join("data"), 1.2);
    let cache = FeatureCache::open(&dir.path().join("cache")).unwrap();
    let cfg = FrontendConfig::DEFAULT;
    let f = cache
        .features(&ds.tracks[0], &cfg, &SegmentConfig::default(), None)
        .unwrap();
    assert_eq!((f.segments.len(), f.frames), (1, 130));
    let mut x = decode_i16(&ds.tracks[0].path);
    assert_eq!(x.len(), 26460);
    x.resize(66150, 0.0);
    assert_eq!(f.segments[0], cache::log_mel(&cfg, &x).unwrap().2);
    // Whole-track mode: one segment of the track's own length.
    let w = cache
        .features(&ds.tracks[0], &cfg, &SegmentConfig::whole_track(), None)
        .unwrap();
    assert_eq!((w.segments.len(), w.frames), (1, 1 + 26460 / 512));
}

/// Multiplies the waveform by a constant: a transform with a key.
struct Gain(f32);
impl WaveTransform for Gain {
    fn key(&self) -> String {
        format!("gain={}", self.0)
    }
    fn apply(&self, _track: &Track, samples: &mut Vec<f32>, _sr: u32) {
        samples.iter_mut().for_each(|v| *v *= self.0);
    }
}

#[test]
fn wave_transform_key_is_part_of_the_cache_key() {
    let dir = tempfile::tempdir().unwrap();
    let ds = one_track_dataset(&dir.path().join("data"), 3.5);
    let t = &ds.tracks[0];
    let cache = FeatureCache::open(&dir.path().join("cache")).unwrap();
    let cfg = FrontendConfig::DEFAULT;
    let seg = SegmentConfig::default();
    let plain = cache.features(t, &cfg, &seg, None).unwrap();
    let half = cache.features(t, &cfg, &seg, Some(&Gain(0.5))).unwrap();
    let half2 = cache.features(t, &cfg, &seg, Some(&Gain(0.5))).unwrap();
    let quarter = cache.features(t, &cfg, &seg, Some(&Gain(0.25))).unwrap();
    assert_eq!(cache.stats(), (3, 1));
    assert_eq!(half, half2);
    // Power scales by 0.25 -> -6.02 dB everywhere the log is above amin.
    let d = 20.0 * 0.5f32.log10();
    for (p, h) in plain.segments[0].iter().zip(&half.segments[0]) {
        if *p > -60.0 {
            assert!((h - p - d).abs() < 1e-3, "{h} vs {p} + {d}");
        }
    }
    assert_ne!(quarter, half);
}

/// A transform that draws from the track's name, as the augmentations do.
struct NameGain;

impl WaveTransform for NameGain {
    fn key(&self) -> String {
        "name-gain".into()
    }
    fn apply(&self, track: &Track, samples: &mut Vec<f32>, _sr: u32) {
        let g = if track.name.ends_with('0') { 0.5 } else { 0.25 };
        samples.iter_mut().for_each(|v| *v *= g);
    }
}

/// GTZAN holds exact repeats: two files with the same content but different names must get
/// their own augmented entries (the draws depend on the name), and share the plain one.
#[test]
fn identical_files_get_their_own_augmented_copies() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    one_track_dataset(&root, 3.5);
    std::fs::copy(
        root.join("genres/rock/rock.00000.wav"),
        root.join("genres/rock/rock.00001.wav"),
    )
    .unwrap();
    let ds = Dataset::discover(&root).unwrap();
    let cache = FeatureCache::open(&dir.path().join("cache")).unwrap();
    let (cfg, seg) = (FrontendConfig::DEFAULT, SegmentConfig::default());
    let a = cache
        .features(&ds.tracks[0], &cfg, &seg, Some(&NameGain))
        .unwrap();
    let b = cache
        .features(&ds.tracks[1], &cfg, &seg, Some(&NameGain))
        .unwrap();
    assert_ne!(a, b, "the second copy must not read the first one's entry");
    assert_eq!(cache.stats(), (2, 0));
    let p0 = cache.features(&ds.tracks[0], &cfg, &seg, None).unwrap();
    let p1 = cache.features(&ds.tracks[1], &cfg, &seg, None).unwrap();
    assert_eq!(p0, p1);
    assert_eq!(
        cache.stats(),
        (3, 1),
        "plain features of equal content share one entry"
    );
}

// ------------------------------------------------- real GTZAN development clips

fn gtzan_dev_dir() -> Option<PathBuf> {
    match std::env::var_os("GTZAN_DEV_DIR") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => {
            eprintln!("skipping: GTZAN_DEV_DIR is not set (point it at ../shared/data/gtzan-dev)");
            None
        }
    }
}

fn trainer_features(input: &Path, out: &Path, preset: &str) -> (Vec<usize>, Vec<f32>) {
    let status = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["features"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--config", preset])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "trainer features failed on {}",
        input.display()
    );
    trainer::base::npy::read_f32(out).unwrap()
}

#[test]
fn gtzan_dev_clips_load_and_cached_segments_match_trainer_features() {
    let Some(root) = gtzan_dev_dir() else { return };
    let ds = Dataset::discover(&root).unwrap();
    assert_eq!(ds.tracks.len(), 30);
    assert_eq!(ds.counts(), vec![3; 10]);
    assert!(ds.skipped.is_empty());
    let tmp = tempfile::tempdir().unwrap();
    let cache = FeatureCache::open(&tmp.path().join("cache")).unwrap();
    let cfg = FrontendConfig::DEFAULT;
    let seg = SegmentConfig::default();
    let set = cache.precompute(&ds.tracks, &cfg, &seg, None).unwrap();
    assert_eq!(set.n_tracks(), 30);
    assert_eq!(set.len(), 300, "ten 3 s segments per 30 s clip");
    for t in 0..30 {
        assert_eq!(set.entries().filter(|e| e.track == t).count(), 10);
    }

    // Like with like: for a few clips, cut segment k from the independently decoded
    // samples (hound), write it as a 16-bit WAV (lossless: the clips are 16-bit),
    // run `trainer features` on it, and compare with the cached segment k.
    for &(track, k) in &[(0usize, 0usize), (7, 4), (29, 9)] {
        let t = &ds.tracks[track];
        let x: Vec<i16> = hound::WavReader::open(&t.path)
            .unwrap()
            .into_samples::<i16>()
            .map(|s| s.unwrap())
            .collect();
        let seg_wav = tmp.path().join(format!("seg_{track}_{k}.wav"));
        write_i16(&seg_wav, 22050, &x[k * 66150..(k + 1) * 66150]);
        let (shape, npy) = trainer_features(&seg_wav, &tmp.path().join("seg.npy"), "default");
        assert_eq!(shape, vec![128, 130]);
        let entry = set
            .entries()
            .position(|e| e.track == track && e.segment == k)
            .unwrap();
        let cached = set.load(entry).unwrap();
        let max_diff = npy
            .iter()
            .zip(&cached)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            max_diff <= 1e-4,
            "{}: segment {k}: max |diff| {max_diff} dB",
            t.name
        );

        // And the whole file through `trainer features`: segment 0 starts at sample
        // 0, so its frames agree with the whole-file spectrogram except the last
        // two, whose windows reach past the segment's end (zero padding there).
        if k == 0 {
            let (wshape, whole) =
                trainer_features(&t.path, &tmp.path().join("whole.npy"), "default");
            let frames_whole = wshape[1];
            assert_eq!(wshape[0], 128);
            assert_eq!(frames_whole, 1 + x.len() / 512);
            let mut max_inner = 0.0f32;
            let mut max_edge = 0.0f32;
            for m in 0..128 {
                for f in 0..130 {
                    let d = (whole[m * frames_whole + f] - cached[m * 130 + f]).abs();
                    // frame f covers samples [f*512 - 1024, f*512 + 1024)
                    if f * 512 + 1024 <= 66150 {
                        max_inner = max_inner.max(d);
                    } else {
                        max_edge = max_edge.max(d);
                    }
                }
            }
            assert!(max_inner <= 1e-4, "inner frames differ by {max_inner} dB");
            assert!(
                max_edge > 0.01,
                "edge frames should differ (segment padded alone)"
            );
        }
    }
}
