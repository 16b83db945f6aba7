//! The audio path into training: a GTZAN-layout set through discovery, the split, the front end
//! and the feature cache into examples, with offline and online waveform augmentation.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use trainer::augment::AugMode;
use trainer::base::dataset::Dataset;
use trainer::base::segment::SegmentConfig;
use trainer::data::cache::{FeatureCache, FrontendConfig};
use trainer::models::ModelKind;
use trainer::run::config::{self, DataSource, RunConfig};
use trainer::run::loader;

/// `TINYGENRE_CACHE` is process-wide: tests that set it run one at a time.
static ENV: Mutex<()> = Mutex::new(());

fn tiny_set(root: &Path, per_genre: usize, seconds: f32) {
    trainer::data::synth::generate(root, per_genre, seconds, 7).unwrap();
}

fn config(root: &Path, aug: &str) -> RunConfig {
    RunConfig {
        data: DataSource::Path {
            path: root.to_path_buf(),
        },
        aug: aug.into(),
        ..RunConfig::default()
    }
}

#[test]
fn segments_split_by_track_and_match_the_cache() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    tiny_set(&root, 4, 7.0); // 40 tracks of 7 s: two 3 s segments each, the tail dropped
    unsafe { std::env::set_var("TINYGENRE_CACHE", dir.path().join("cache")) };
    let cfg = config(&root, "none");
    let (p, src) = loader::prepare_audio(&cfg).unwrap();
    assert_eq!(p.genres.len(), 10);
    assert_eq!(p.input_frames, 130);
    assert_eq!(p.train.n_mels, 128);
    // 4 tracks per genre: round(0.3 * 4) = 1 test track per genre, 3 for training, of whose 30
    // a tenth (3 tracks) validate
    assert_eq!(p.test.len(), 10 * 2);
    assert_eq!(p.valid.len(), 3 * 2);
    assert_eq!(p.train.len(), 27 * 2);
    let train_tracks: HashSet<usize> = p.train.tracks.iter().copied().collect();
    let test_tracks: HashSet<usize> = p.test.tracks.iter().copied().collect();
    assert!(
        train_tracks.is_disjoint(&test_tracks),
        "a track in both partitions"
    );
    // every example is a 128 x 130 segment equal to the cache's features of its track
    let ds = src.dataset();
    let cache = FeatureCache::open(&dir.path().join("cache").join("features")).unwrap();
    for i in [0, 1, p.test.len() - 1] {
        let x = p.test.get(i).unwrap();
        assert_eq!(x.len(), 128 * 130);
        assert_eq!(p.test.frames(i), 130);
        let t = &ds.tracks[p.test.tracks[i]];
        assert_eq!(p.test.labels[i], t.genre);
        let f = cache
            .features(t, &FrontendConfig::DEFAULT, &SegmentConfig::default(), None)
            .unwrap();
        assert!(f.segments.iter().any(|s| s.as_slice() == &*x));
    }
    let lists = p.split_lists.unwrap();
    assert_eq!(lists[0].len(), 27);
    assert_eq!(lists[1].len(), 3);
    assert_eq!(lists[2].len(), 10);
    unsafe { std::env::remove_var("TINYGENRE_CACHE") };
}

#[test]
fn train_and_test_hops_overlap_their_own_partitions_only() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    tiny_set(&root, 4, 7.0); // 7 s tracks: starts 0..=4 s
    unsafe { std::env::set_var("TINYGENRE_CACHE", dir.path().join("cache")) };
    let cfg = RunConfig {
        train_hop: Some(1.0),
        test_hop: Some(2.0),
        split: "random:0.34".into(),
        ..config(&root, "none")
    };
    cfg.validate().unwrap();
    let (p, src) = loader::prepare_audio(&cfg).unwrap();
    // starts 0, 1, 2, 3, 4 s for training; 0, 2, 4 s for validation and test
    let per_track = |tracks: &[usize]| {
        let mut n = std::collections::HashMap::<usize, usize>::new();
        for &t in tracks {
            *n.entry(t).or_default() += 1;
        }
        n.into_values().collect::<HashSet<usize>>()
    };
    assert_eq!(per_track(&p.train.tracks), HashSet::from([5]));
    assert_eq!(per_track(&p.valid.tracks), HashSet::from([3]));
    assert_eq!(per_track(&p.test.tracks), HashSet::from([3]));
    // each test example is the front end on its own 3 s window at a 2 s hop, in order
    let ds = src.dataset();
    let cache = FeatureCache::open(&dir.path().join("cache").join("features")).unwrap();
    let t = &ds.tracks[p.test.tracks[0]];
    let seg = SegmentConfig {
        hop_seconds: 2.0,
        ..SegmentConfig::default()
    };
    let f = cache
        .features(t, &FrontendConfig::DEFAULT, &seg, None)
        .unwrap();
    let samples =
        trainer::base::audio::load_mono(&t.path, FrontendConfig::DEFAULT.sample_rate).unwrap();
    let window = &samples[2 * 22050..2 * 22050 + 3 * 22050];
    let (_, _, direct) = trainer::data::cache::log_mel(&FrontendConfig::DEFAULT, window).unwrap();
    assert_eq!(
        f.segments[1], direct,
        "second test segment = log-mel of 2 s .. 5 s"
    );
    for k in 0..3 {
        assert_eq!(&*p.test.get(k).unwrap(), f.segments[k].as_slice());
    }
    // the arbitrary model has no segments to hop
    let bad = RunConfig {
        model: ModelKind::Arbitrary,
        test_hop: Some(1.5),
        ..config(&root, "none")
    };
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("--test-hop")
    );
    assert!(
        RunConfig {
            train_hop: Some(0.0),
            ..config(&root, "none")
        }
        .validate()
        .is_err()
    );
    unsafe { std::env::remove_var("TINYGENRE_CACHE") };
}

#[test]
fn arbitrary_reads_whole_tracks_through_its_own_front_end() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    tiny_set(&root, 2, 4.0);
    unsafe { std::env::set_var("TINYGENRE_CACHE", dir.path().join("cache")) };
    let cfg = RunConfig {
        model: ModelKind::Arbitrary,
        ..config(&root, "none")
    };
    let (p, _) = loader::prepare_audio(&cfg).unwrap();
    // 29 s at hop 512 from n_fft 1024's front end: 1 + 639450 / 512 = 1249 frames
    assert_eq!(p.input_frames, 1249);
    // one example per track, the whole 4 s track: 1 + 88200 / 512 = 173 frames
    assert_eq!(p.train.len() + p.test.len(), 20);
    assert_eq!(p.train.frames(0), 1 + 88200 / 512);
    let cfg_htk = FrontendConfig::HTK1024;
    let ds = Dataset::discover(&root).unwrap();
    let t = &ds.tracks[p.train.tracks[0]];
    let x = trainer::base::audio::load_mono(&t.path, 22050).unwrap();
    let (_, _, expect) = trainer::data::cache::log_mel(&cfg_htk, &x).unwrap();
    assert_eq!(&*p.train.get(0).unwrap(), expect.as_slice());
    unsafe { std::env::remove_var("TINYGENRE_CACHE") };
}

#[test]
fn offline_copies_grow_the_training_set_once_and_are_cached_once() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    tiny_set(&root, 2, 3.5);
    let cache_dir = dir.path().join("cache");
    unsafe { std::env::set_var("TINYGENRE_CACHE", &cache_dir) };
    let entries = || {
        walk(&cache_dir.join("features"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "feat"))
            .count()
    };
    let plain = loader::prepare_audio(&config(&root, "none")).unwrap().0;
    let n_tracks = 20;
    assert_eq!(entries(), n_tracks);
    for copies in [1usize, 2] {
        let cfg = RunConfig {
            aug_copies: copies,
            ..config(&root, "noise:sigma=0.01")
        };
        let p = loader::prepare_audio(&cfg).unwrap().0;
        assert_eq!(
            p.train.len(),
            plain.train.len() * (1 + copies),
            "x(1 + {copies})"
        );
        assert_eq!(
            p.test.len(),
            plain.test.len(),
            "test data is never augmented"
        );
        // every augmented copy differs from the original segment
        let n = plain.train.len();
        for i in 0..n {
            assert_ne!(p.train.get(i).unwrap(), p.train.get(n + i).unwrap());
        }
    }
    // copies 1 and 2 of the 14 training tracks (copy 1 shared by both runs), once each
    let train_tracks = plain.train.len(); // one segment per 3.5 s track
    assert_eq!(entries(), n_tracks + 2 * train_tracks);
    // a second identical run computes nothing new
    let cfg = RunConfig {
        aug_copies: 2,
        ..config(&root, "noise:sigma=0.01")
    };
    loader::prepare_audio(&cfg).unwrap();
    assert_eq!(entries(), n_tracks + 2 * train_tracks);
    unsafe { std::env::remove_var("TINYGENRE_CACHE") };
}

#[test]
fn online_mode_draws_afresh_each_epoch_with_the_same_size() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    tiny_set(&root, 2, 3.5);
    unsafe { std::env::set_var("TINYGENRE_CACHE", dir.path().join("cache")) };
    let cfg = RunConfig {
        aug_mode: AugMode::Online,
        ..config(&root, "noise:sigma=0.01")
    };
    let (p, src) = loader::prepare_audio(&cfg).unwrap();
    let spec = config::aug_spec(&cfg).unwrap();
    let shared = FeatureCache::open(&dir.path().join("cache").join("features")).unwrap();
    let count = |d: &Path| std::fs::read_dir(d).map(|r| r.count()).unwrap_or(0);
    let shared_before = count(shared.dir());
    let online = dir.path().join("run").join("online-features");
    let e0 = loader::epoch_train(&src, &spec, 0, cfg.seed, &online)
        .unwrap()
        .unwrap();
    let e1 = loader::epoch_train(&src, &spec, 1, cfg.seed, &online)
        .unwrap()
        .unwrap();
    assert_eq!(
        count(shared.dir()),
        shared_before,
        "online draws stay out of the shared cache"
    );
    assert!(count(&online) > 0);
    let (x0, x1) = (e0.get(0).unwrap().to_vec(), e1.get(0).unwrap().to_vec());
    loader::clear_online_dir(&online).unwrap();
    assert!(!online.exists());
    loader::clear_online_dir(&online).unwrap(); // nothing there: fine
    let e0b = loader::epoch_train(&src, &spec, 0, cfg.seed, &online)
        .unwrap()
        .unwrap();
    assert_eq!(
        e0.len(),
        p.train.len(),
        "online keeps the training set's size"
    );
    assert_eq!(e1.len(), p.train.len());
    assert_ne!(x0, x1, "a fresh draw per epoch");
    assert_ne!(x0.as_slice(), &*p.train.get(0).unwrap());
    assert_eq!(
        x0.as_slice(),
        &*e0b.get(0).unwrap(),
        "an epoch's draw is reproducible"
    );
    unsafe { std::env::remove_var("TINYGENRE_CACHE") };
}

#[test]
fn bad_data_and_split_names_are_clear_errors() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let e = loader::prepare_audio(&config(&missing, "none")).unwrap_err();
    assert!(format!("{e:#}").contains("nope"), "{e:#}");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = loader::prepare_audio(&config(&empty, "none")).unwrap_err();
    assert!(format!("{e:#}").contains("empty"), "{e:#}");
    assert!(config::parse_split("random").is_ok());
    assert!(config::parse_split("kfold:5:2").is_ok());
    let e = config::parse_split("stratified").unwrap_err();
    assert!(e.to_string().contains("unknown split"), "{e}");
    let e = config::aug_spec(&config(&empty, "reverb")).unwrap_err();
    assert!(format!("{e:#}").contains("reverb"), "{e:#}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
