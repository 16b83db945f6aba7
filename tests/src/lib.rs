//! Shared helpers for tinygenre's cross-crate tests.

use std::path::PathBuf;

/// The directory of committed reference fixtures (`tests/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The real GTZAN development clips, when `GTZAN_DEV_DIR` is set; `None`
/// (after printing why) otherwise.
pub fn gtzan_dev_dir() -> Option<PathBuf> {
    match std::env::var_os("GTZAN_DEV_DIR") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => {
            eprintln!("skipping: GTZAN_DEV_DIR is not set (point it at ../shared/data/gtzan-dev)");
            None
        }
    }
}

/// A baseline with seeded random weights as plain arrays (He-like scale), for export tests that
/// do not need Burn. `channels` are the five blocks' output channels.
pub fn random_plain_baseline(
    seed: u64,
    n_mels: usize,
    frames: usize,
    channels: [usize; 5],
    n_classes: usize,
    posenc: trainer::models::PosEnc,
) -> trainer::models::plain::PlainBaseline {
    use rand::{RngExt, SeedableRng};
    use trainer::models::plain::{PlainBaseline, PlainConv, PlainDense};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut convs = Vec::new();
    let mut ci = posenc.in_channels();
    for co in channels {
        let a = (6.0 / (9.0 * ci as f32)).sqrt();
        convs.push(PlainConv {
            out_channels: co,
            in_channels: ci,
            weight: (0..co * ci * 9).map(|_| rng.random_range(-a..a)).collect(),
            bias: (0..co).map(|_| rng.random_range(-0.1..0.1)).collect(),
        });
        ci = co;
    }
    let nf = ci * (n_mels >> 5) * (frames >> 5);
    let a = (3.0 / nf as f32).sqrt();
    PlainBaseline {
        convs,
        dense: PlainDense {
            out_features: n_classes,
            in_features: nf,
            weight: (0..nf * n_classes)
                .map(|_| rng.random_range(-a..a))
                .collect(),
            bias: (0..n_classes)
                .map(|_| rng.random_range(-0.1..0.1))
                .collect(),
        },
        posenc,
        n_mels,
        frames,
        input_mean: -40.0,
        input_std: 15.0,
        sample_rate: 22050,
    }
}

/// Seeded random log-mel segments `[n_mels, frames]` in dB: a smooth spectral envelope plus
/// noise, roughly the statistics of real music (mean about -40 dB).
pub fn random_logmels(seed: u64, n: usize, n_mels: usize, frames: usize) -> Vec<Vec<f32>> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let tilt: f32 = rng.random_range(-40.0..-10.0);
            let level: f32 = rng.random_range(-30.0..0.0);
            let mut out = vec![0f32; n_mels * frames];
            for m in 0..n_mels {
                let env = level + tilt * m as f32 / n_mels as f32;
                for t in 0..frames {
                    out[m * frames + t] = env + rng.random_range(-12.0..12.0);
                }
            }
            out
        })
        .collect()
}
