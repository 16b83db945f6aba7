//! Parity of infer-core's log-mel front end with librosa 0.11.
//!
//! Fixtures: `tests/fixtures/frontend` (made by
//! `tools/reference/frontend_fixtures.py`): synthetic int16 signals and
//! librosa's `power_to_db(melspectrogram(...))` for the DEFAULT, HTK1024 and RATE16K
//! configurations. Rule: `max |ours - librosa| <= 0.01 dB` over every bin
//! within 80 dB of that signal's maximum (for silence the maximum is the
//! `10 log10(amin)` floor itself, so every bin is compared).
//!
//! With `GTZAN_DEV_DIR` set, the same comparison runs on the real clips: the
//! test runs the script in `--gtzan` mode into a temporary directory (audio
//! and its features are never committed), or skips with the reason when
//! python3 + librosa are not importable.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use infer_core::config::FrontendConfig;
use infer_core::frontend::LogMel;
use infer_core::reference;
use infer_core::stream::LogMelStream;
use serde_json::Value;
use tinygenre_tests::{fixtures_dir, gtzan_dev_dir};

const TOL_DB: f64 = 0.01;
const RANGE_DB: f64 = 80.0;

fn config(name: &str) -> Result<FrontendConfig> {
    match name {
        "default" => Ok(FrontendConfig::DEFAULT),
        "htk1024" => Ok(FrontendConfig::HTK1024),
        "rate16k" => Ok(FrontendConfig::RATE16K),
        other => bail!("unknown config {other:?} in manifest"),
    }
}

fn read_i16(path: &Path) -> Result<Vec<i16>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ensure!(bytes.len() % 2 == 0, "{}: odd byte count", path.display());
    Ok(bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

fn read_f32(path: &Path) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ensure!(
        bytes.len() % 4 == 0,
        "{}: byte count not a multiple of 4",
        path.display()
    );
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// (max, mean) |ours - librosa| over the bins within 80 dB of librosa's maximum.
fn errors<T: Copy + Into<f64>>(ours: &[T], librosa: &[f32]) -> (f64, f64, usize) {
    let max = librosa.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let (mut worst, mut sum, mut n) = (0.0f64, 0.0f64, 0usize);
    for (&o, &r) in ours.iter().zip(librosa) {
        if r as f64 >= max - RANGE_DB {
            let e = (o.into() - r as f64).abs();
            worst = worst.max(e);
            sum += e;
            n += 1;
        }
    }
    (worst, sum / n.max(1) as f64, n)
}

fn manifest(dir: &Path) -> Result<Value> {
    let p = dir.join("manifest.json");
    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
}

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value> {
    v.get(key)
        .with_context(|| format!("manifest: missing {key:?}"))
}

fn as_usize(v: &Value, key: &str) -> Result<usize> {
    field(v, key)?
        .as_u64()
        .map(|x| x as usize)
        .with_context(|| format!("manifest: {key:?} is not an integer"))
}

fn as_str<'a>(v: &'a Value, key: &str) -> Result<&'a str> {
    field(v, key)?
        .as_str()
        .with_context(|| format!("manifest: {key:?} is not a string"))
}

/// Runs our front end on `pcm` for every output listed in `outputs` and
/// compares with librosa's file. Returns the worst error.
fn compare(label: &str, pcm: &[i16], outputs: &Value, dir: &Path, also_f32: bool) -> Result<f64> {
    let outputs = outputs
        .as_object()
        .context("manifest: outputs is not an object")?;
    let mut worst: f64 = 0.0;
    for (cname, o) in outputs {
        let cfg = config(cname)?;
        let (n_mels, frames) = (as_usize(o, "n_mels")?, as_usize(o, "frames")?);
        let want = read_f32(&dir.join(as_str(o, "file")?))?;
        ensure!(
            want.len() == n_mels * frames,
            "{label} {cname}: librosa file size"
        );
        ensure!(
            cfg.n_frames(pcm.len()) == frames,
            "{label} {cname}: frame count differs from librosa"
        );
        let mut lm = LogMel::new(&cfg)?;
        let mut ours = vec![0.0f32; n_mels * frames];
        ensure!(
            lm.compute_i16(pcm, &mut ours)? == frames,
            "{label} {cname}: frames"
        );
        let (max_e, mean_e, n) = errors(&ours, &want);
        println!(
            "{label:24} {cname:8} i16 path: max {max_e:.2e} dB, mean {mean_e:.2e} dB over {n} bins (of {})",
            want.len()
        );
        worst = worst.max(max_e);
        if also_f32 {
            let x: Vec<f32> = pcm.iter().map(|&s| s as f32 / 32768.0).collect();
            let mut ours32 = vec![0.0f32; n_mels * frames];
            lm.compute_f32(&x, &mut ours32)?;
            ensure!(
                ours32 == ours,
                "{label} {cname}: f32 path differs from i16 path"
            );
        }
    }
    Ok(worst)
}

#[test]
fn frontend_matches_librosa_on_synthetic_fixtures() -> Result<()> {
    let dir = fixtures_dir().join("frontend");
    let m = manifest(&dir)?;
    let signals = field(&m, "signals")?
        .as_array()
        .context("manifest: signals is not a list")?;
    ensure!(signals.len() >= 6, "expected at least 6 synthetic signals");
    let mut failures = Vec::new();
    for s in signals {
        let name = as_str(s, "name")?;
        let pcm = read_i16(&dir.join(as_str(s, "input")?))?;
        ensure!(
            pcm.len() == as_usize(s, "n_samples")?,
            "{name}: sample count"
        );
        let worst = compare(name, &pcm, field(s, "outputs")?, &dir, true)?;
        if worst > TOL_DB {
            failures.push(format!("{name}: {worst:.4} dB"));
        }
    }
    ensure!(failures.is_empty(), "over {TOL_DB} dB: {failures:?}");
    Ok(())
}

/// Silence gives exactly `10 * log10(amin)` (-100 dB for amin = 1e-10,
/// correctly rounded to f32) in every bin. librosa's float32 `np.log10`
/// lands one ulp lower (-100.00001, 7.6e-6 dB away), so librosa is held to
/// the tolerance and ours to the exact value.
#[test]
fn silence_is_exactly_the_amin_floor() -> Result<()> {
    let dir = fixtures_dir().join("frontend");
    for cname in ["default", "htk1024"] {
        let cfg = config(cname)?;
        let exact = (10.0 * (cfg.amin as f64).log10()) as f32;
        ensure!(exact == -100.0, "10 log10(1e-10f32) rounds to -100");
        let want = read_f32(&dir.join(format!("silence.{cname}.f32.bin")))?;
        ensure!(
            want.iter().all(|&v| ((v - exact) as f64).abs() <= TOL_DB),
            "librosa silence"
        );
        let mut ours = vec![0.0f32; want.len()];
        LogMel::new(&cfg)?.compute_i16(&vec![0i16; 66150], &mut ours)?;
        println!(
            "silence {cname}: librosa {} dB, ours {} dB, exact {exact} dB",
            want[0], ours[0]
        );
        ensure!(
            ours.iter().all(|&v| v == exact),
            "silence {cname}: ours {} vs {exact}",
            ours[0]
        );
    }
    Ok(())
}

/// The f64 scalar reference meets librosa too (on a subset: it is O(N^2)).
#[test]
fn scalar_reference_matches_librosa() -> Result<()> {
    let dir = fixtures_dir().join("frontend");
    for (name, cname) in [
        ("sweep", "default"),
        ("impulses", "htk1024"),
        ("short", "default"),
        ("chord", "htk1024"),
    ] {
        let pcm = read_i16(&dir.join(format!("{name}.i16.bin")))?;
        let want = read_f32(&dir.join(format!("{name}.{cname}.f32.bin")))?;
        let cfg = config(cname)?;
        // 40 frames are plenty for the O(N^2) DFT; compare the first ones.
        let n = pcm.len().min(40 * 512);
        let frames = cfg.n_frames(n);
        let mut refr = vec![0.0f64; 128 * frames];
        reference::log_mel(&cfg, &pcm[..n], &mut refr)?;
        // Frames of the truncated signal equal librosa's frames of the whole
        // one while their window ends inside the truncated part.
        let all_frames = want.len() / 128;
        let (hop, half) = (cfg.hop_length as usize, cfg.n_fft as usize / 2);
        let keep = if n == pcm.len() {
            frames
        } else {
            (0..frames).filter(|t| t * hop + half <= n).count()
        };
        ensure!(
            keep >= 3 && all_frames >= frames,
            "{name}: too few frames to compare"
        );
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for m in 0..128 {
            for t in 0..keep {
                ours.push(refr[m * frames + t]);
                theirs.push(want[m * all_frames + t]);
            }
        }
        let (max_e, mean_e, _) = errors(&ours, &theirs);
        println!("reference {name:10} {cname:8}: max {max_e:.2e} dB, mean {mean_e:.2e} dB");
        ensure!(max_e <= TOL_DB, "reference {name} {cname}: {max_e} dB");
    }
    Ok(())
}

/// Streaming a fixture in uneven chunks gives librosa's columns too.
#[test]
fn stream_matches_librosa_on_a_fixture() -> Result<()> {
    let dir = fixtures_dir().join("frontend");
    let pcm = read_i16(&dir.join("chord.i16.bin"))?;
    let want = read_f32(&dir.join("chord.default.f32.bin"))?;
    let mut s = LogMelStream::new(&FrontendConfig::DEFAULT)?;
    let mut cols: Vec<Vec<f32>> = Vec::new();
    let mut i = 0;
    let mut step = 0;
    while i < pcm.len() {
        let len = [0usize, 1, 777, 4096, 3][step % 5].min(pcm.len() - i);
        s.push_i16(&pcm[i..i + len], |f| cols.push(f.to_vec()))?;
        i += len;
        step += 1;
    }
    s.finish(|f| cols.push(f.to_vec()))?;
    let frames = want.len() / 128;
    ensure!(
        cols.len() == frames,
        "stream gave {} frames, librosa {frames}",
        cols.len()
    );
    let mut ours = vec![0.0f32; want.len()];
    for (t, c) in cols.iter().enumerate() {
        for (m, v) in c.iter().enumerate() {
            ours[m * frames + t] = *v;
        }
    }
    let (max_e, mean_e, _) = errors(&ours, &want);
    println!("stream chord default: max {max_e:.2e} dB, mean {mean_e:.2e} dB");
    ensure!(max_e <= TOL_DB);
    Ok(())
}

fn librosa_available() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import librosa"])
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "python3 cannot import librosa: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run python3: {e}")),
    }
}

fn read_wav_i16(path: &Path) -> Result<Vec<i16>> {
    let mut r =
        hound::WavReader::open(path).with_context(|| format!("opening {}", path.display()))?;
    let spec = r.spec();
    ensure!(
        spec.channels == 1
            && spec.sample_rate == 22050
            && spec.bits_per_sample == 16
            && spec.sample_format == hound::SampleFormat::Int,
        "{}: expected mono 16-bit PCM at 22050 Hz, got {spec:?}",
        path.display()
    );
    r.samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))
}

#[test]
fn frontend_matches_librosa_on_gtzan_dev_clips() -> Result<()> {
    let Some(root) = gtzan_dev_dir() else {
        return Ok(());
    };
    if let Err(why) = librosa_available() {
        eprintln!("skipping the GTZAN parity check: {why}");
        return Ok(());
    }
    let tmp = tempfile::tempdir()?;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/reference/frontend_fixtures.py");
    let st = Command::new("python3")
        .arg(&script)
        .arg("--gtzan")
        .arg(&root)
        .arg("--out")
        .arg(tmp.path())
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    ensure!(st.success(), "{} failed: {st}", script.display());
    let m = manifest(tmp.path())?;
    let clips = field(&m, "clips")?
        .as_array()
        .context("manifest: clips is not a list")?;
    ensure!(!clips.is_empty(), "no clips under {}", root.display());
    let mut failures = Vec::new();
    for c in clips {
        let wav = as_str(c, "wav")?;
        let pcm = read_wav_i16(&root.join(wav))?;
        ensure!(
            pcm.len() == as_usize(c, "n_samples")?,
            "{wav}: sample count differs from librosa.load"
        );
        let worst = compare(wav, &pcm, field(c, "outputs")?, tmp.path(), false)?;
        if worst > TOL_DB {
            failures.push(format!("{wav}: {worst:.4} dB"));
        }
    }
    ensure!(failures.is_empty(), "over {TOL_DB} dB: {failures:?}");
    Ok(())
}
