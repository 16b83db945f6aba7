//! The corpus crate's own WAV reader against hound's on the real GTZAN development clips: the
//! same samples, bit for bit. Skips with a printed reason when `GTZAN_DEV_DIR` is unset.

use std::path::{Path, PathBuf};

use tinygenre_corpus::audio::{self, Limits};

fn wavs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            wavs(&p, out);
        } else if p.extension().is_some_and(|x| x == "wav") {
            out.push(p);
        }
    }
}

/// Mono samples as the old hound-based reader produced them.
fn hound_mono(path: &Path) -> (Vec<f32>, u32) {
    let r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let ch = usize::from(spec.channels);
    let x: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.into_samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f64;
            r.into_samples::<i32>()
                .map(|s| (f64::from(s.unwrap()) * scale) as f32)
                .collect()
        }
    };
    let y = if ch == 1 {
        x
    } else {
        x.chunks_exact(ch)
            .map(|f| (f.iter().map(|&v| f64::from(v)).sum::<f64>() / ch as f64) as f32)
            .collect()
    };
    (y, spec.sample_rate)
}

#[test]
fn decoder_matches_hound_on_the_gtzan_dev_clips() {
    let Some(dir) = std::env::var_os("GTZAN_DEV_DIR") else {
        eprintln!("skipped: GTZAN_DEV_DIR is not set");
        return;
    };
    let mut files = Vec::new();
    wavs(Path::new(&dir), &mut files);
    assert!(!files.is_empty(), "no .wav under {dir:?}");
    for f in &files {
        let d = audio::decode(f, &Limits::default()).unwrap();
        assert!(d.warnings.is_empty(), "{}: {:?}", f.display(), d.warnings);
        let (want, rate) = hound_mono(f);
        assert_eq!(d.sample_rate, rate, "{}", f.display());
        assert!(
            d.samples == want,
            "{}: samples differ from hound's",
            f.display()
        );
    }
    eprintln!("{} clips decode as hound decodes them", files.len());
}
