//! `trainer augment`: the written file is what the model trains on.

mod augment_common;

use std::process::Command;

use augment_common::{estimate_frequency, log_mel, mean_abs_db, pitch_fixtures, read_wav};

fn trainer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
}

/// `--aug pitch:steps=2` on the committed clip agrees with librosa's shift of
/// the same clip (log-mel mean |delta| <= 0.5 dB, top_db 80), as 16-bit and
/// as float WAV, and the file is mono 22050 Hz of the input's length.
#[test]
fn pitch_steps_2_matches_librosa() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, _) = read_wav(&pitch_fixtures().join("music_shift_2.wav"));
    for float in [false, true] {
        let out = dir.path().join(format!("out_{float}.wav"));
        let mut cmd = trainer();
        cmd.arg("augment")
            .arg(pitch_fixtures().join("music.wav"))
            .args(["--aug", "pitch:steps=2", "--seed", "5", "--out"])
            .arg(&out);
        if float {
            cmd.arg("--float");
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let spec = hound::WavReader::open(&out).unwrap().spec();
        assert_eq!((spec.channels, spec.sample_rate), (1, 22050));
        assert_eq!(spec.bits_per_sample, if float { 32 } else { 16 });
        let (y, _) = read_wav(&out);
        assert_eq!(y.len(), reference.len());
        let d = mean_abs_db(&log_mel(&y, Some(80.0)), &log_mel(&reference, Some(80.0)));
        println!(
            "trainer augment pitch:steps=2 (float {float}): mean |delta| {d:.3} dB vs librosa"
        );
        assert!(d <= 0.5, "{d} dB");
    }
    // Only the output file is left in the directory (the temporary was renamed).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// A 44.1 kHz stereo input comes out mono at 22050 Hz with its frequency and
/// duration kept (no waveform stage: `--aug mixup` is reported, not applied).
#[test]
fn resamples_and_downmixes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tone.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&input, spec).unwrap();
    for i in 0..(44100 * 3) {
        let v = (0.4 * (2.0 * std::f64::consts::PI * 523.25 * i as f64 / 44100.0).sin() * 32767.0)
            as i16;
        w.write_sample(v).unwrap();
        w.write_sample(v / 2).unwrap();
    }
    w.finalize().unwrap();
    let out = dir.path().join("out.wav");
    let o = trainer()
        .arg("augment")
        .arg(&input)
        .args(["--aug", "mixup", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not on audio"));
    let (y, sr) = read_wav(&out);
    assert_eq!(sr, 22050);
    assert_eq!(y.len(), 22050 * 3);
    let f = estimate_frequency(&y, 22050.0, 11025);
    assert!((f - 523.25).abs() / 523.25 < 1e-4, "{f} Hz");
    let peak = y[1000..60000].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((peak - 0.3).abs() < 0.01, "downmix average: peak {peak}");
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wav");
    let o = trainer()
        .args([
            "augment",
            "/nonexistent/clip.wav",
            "--aug",
            "noise",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("/nonexistent/clip.wav") && e.contains("cannot read WAV"),
        "{e}"
    );

    let not_wav = dir.path().join("notes.wav");
    std::fs::write(&not_wav, b"not a wav file at all").unwrap();
    let o = trainer()
        .arg("augment")
        .arg(&not_wav)
        .args(["--aug", "noise", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("notes.wav"));

    let o = trainer()
        .arg("augment")
        .arg(pitch_fixtures().join("music.wav"))
        .args(["--aug", "chorus", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("unknown augmentation `chorus`") && e.contains("pitch"),
        "{e}"
    );
    assert!(!out.exists(), "nothing written on error");
}

/// Writes a Sun `.au` file: 16-bit big-endian PCM, `channels` interleaved.
fn write_au(path: &std::path::Path, rate: u32, channels: u32, interleaved: &[i16]) {
    let mut b = Vec::new();
    b.extend_from_slice(b".snd");
    for v in [24u32, (interleaved.len() * 2) as u32, 3, rate, channels] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    for s in interleaved {
        b.extend_from_slice(&s.to_be_bytes());
    }
    std::fs::write(path, b).unwrap();
}

/// `trainer augment` writes exactly what a training copy contains: a 44.1 kHz stereo `.au` track
/// goes through the same decoding, resampler and waveform stages as training, so the log-mel
/// segments of its float output equal, bit for bit, the feature cache's entry for the same
/// offline copy of the same track.
#[test]
fn output_equals_the_cached_training_copy() {
    use trainer::augment::AugSpec;
    use trainer::base::dataset::Dataset;
    use trainer::data::cache::{self, FeatureCache};
    use trainer::models::ModelKind;
    use trainer::run::loader::input_spec;

    let dir = tempfile::tempdir().unwrap();
    let genre_dir = dir.path().join("data/genres/blues");
    std::fs::create_dir_all(&genre_dir).unwrap();
    let input = genre_dir.join("blues.00000.au");
    // 7 s of two detuned tones and a click track, stereo at 44.1 kHz
    let n = 44100 * 7;
    let mut pcm = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = i as f64 / 44100.0;
        let click = if i % 11025 < 40 { 0.3 } else { 0.0 };
        let l = 0.3 * (2.0 * std::f64::consts::PI * 220.0 * t).sin() + click;
        let r = 0.2 * (2.0 * std::f64::consts::PI * 331.0 * t).sin() + click;
        pcm.push((l * 32767.0) as i16);
        pcm.push((r * 32767.0) as i16);
    }
    write_au(&input, 44100, 2, &pcm);

    let spec_text = "noise:sigma=0.01,pitch:range=4,timeshift";
    let (seed, copy) = (7u64, 2usize);
    let out = dir.path().join("copy.wav");
    let o = trainer()
        .arg("augment")
        .arg(&input)
        .args(["--aug", spec_text, "--seed", &seed.to_string()])
        .args(["--copy", &copy.to_string(), "--float", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The training side: the cached features of offline copy `copy` under `seed`.
    let ds = Dataset::discover(&dir.path().join("data")).unwrap();
    assert_eq!(ds.tracks.len(), 1);
    let spec: AugSpec = spec_text.parse().unwrap();
    let transform = spec.waveform_transform(copy, seed).unwrap();
    let (fe, seg, _) = input_spec(ModelKind::Baseline, 22050);
    let cache = FeatureCache::open(&dir.path().join("cache")).unwrap();
    let cached = cache
        .features(&ds.tracks[0], &fe, &seg, Some(&transform))
        .unwrap();

    // The `trainer augment` side: its float output through the same segmentation and front end.
    let y = trainer::base::audio::load_mono(&out, fe.sample_rate).unwrap();
    let cut = seg.cut(&y, fe.sample_rate).unwrap();
    assert_eq!(cut.segments.len(), cached.segments.len());
    assert_eq!(cut.segments.len(), 2, "7 s give two 3 s segments");
    for (i, (s, want)) in cut.segments.iter().zip(&cached.segments).enumerate() {
        let (_, _, got) = cache::log_mel(&fe, s).unwrap();
        let differ = got
            .iter()
            .zip(want)
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        assert_eq!(got.len(), want.len());
        assert_eq!(differ, 0, "segment {i}: {differ} log-mel values differ");
    }
}
