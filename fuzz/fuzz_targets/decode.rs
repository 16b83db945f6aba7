//! What the `wav` and `au` targets check on every input (included by both).

use std::path::Path;

use tinygenre_corpus::audio::{self, AudioError, AudioKind, Limits};

/// Probes and decodes `data` as a `kind` file: both must agree, an error must name the file,
/// and what decodes is resampled to 22 050 Hz as `load_mono` does.
pub fn check(kind: AudioKind, data: &[u8]) {
    let path = Path::new(match kind {
        AudioKind::Wav => "fuzz-input.wav",
        AudioKind::Au => "fuzz-input.au",
    });
    let limits = Limits::default();
    let probed = audio::probe_bytes(kind, data, path, &limits);
    match audio::decode_bytes(kind, data, path, &limits) {
        Ok(d) => {
            let info = probed.expect("probe refused a file that decodes");
            assert_eq!(info.frames, d.samples.len() as u64);
            assert_eq!(info.sample_rate, d.sample_rate);
            assert!((limits.min_rate..=limits.max_rate).contains(&d.sample_rate));
            // Planning rubato's FFTs for a rate coprime with 22 050 Hz (a 190 kHz-point
            // Bluestein FFT) takes most of a run's time under ASan, so those rates are resampled
            // on 1 input in 16 only; every standard rate always is.
            if d.sample_rate / gcd(d.sample_rate, 22_050) <= 4096 || data.len().is_multiple_of(16) {
                let y = audio::resample(&d.samples, d.sample_rate, 22_050).expect("resampling");
                let want = (d.samples.len() as u64 * 22_050).div_ceil(u64::from(d.sample_rate));
                assert!(
                    y.len() as u64 <= want + 1,
                    "{} from {}",
                    y.len(),
                    d.samples.len()
                );
            }
        }
        // probe reads no sample data: only NaN or infinite samples pass it and fail to decode
        Err(e @ AudioError::NonFinite { .. }) => {
            assert!(
                e.to_string().starts_with(&path.display().to_string()),
                "{e}"
            );
        }
        Err(e) => {
            let p = probed.expect_err("probe accepted a file that does not decode");
            assert_eq!(p.to_string(), e.to_string());
            assert!(
                e.to_string().starts_with(&path.display().to_string()),
                "{e}"
            );
        }
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}
