//! Log-mel parity with librosa on the real clips, as `tests/tests/frontend_parity.rs` measures
//! it (max |ours - librosa| over the bins within 80 dB of each clip's maximum), without the
//! trainer's build; also checks the stream against the whole-signal form bit for bit and prints
//! each clip's first-3-s `mel_fnv` as the firmware computes it (for the device comparison).
//!
//! Usage: `parity_gtzan FIXTURE_DIR GTZAN_DIR`, where FIXTURE_DIR holds the output of
//! `tools/reference/frontend_fixtures.py --gtzan GTZAN_DIR --out FIXTURE_DIR` and a `list.txt`
//! of `<wav> <config> <file>` lines made from its `manifest.json` (see
//! `firmware-example/README.md`).
use infer_core::config::FrontendConfig;
use infer_core::frontend::LogMel;
use infer_core::stream::LogMelStream;

fn wav_i16(p: &std::path::Path) -> Vec<i16> {
    let b = std::fs::read(p).unwrap();
    let mut i = 12;
    loop {
        let id = &b[i..i + 4];
        let n = u32::from_le_bytes(b[i + 4..i + 8].try_into().unwrap()) as usize;
        if id == b"data" {
            return b[i + 8..i + 8 + n]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
        }
        i += 8 + n + (n & 1);
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&a[1]);
    let root = std::path::Path::new(&a[2]);
    // list.txt: "<wav> <config> <file>" per line (from manifest.json)
    let list = std::fs::read_to_string(dir.join("list.txt")).unwrap();
    let mut worst_all = [0.0f64; 2];
    let mut stream_same = true;
    for line in list.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let pcm = wav_i16(&root.join(f[0]));
        {
            let (ci, name, cfg) = if f[1] == "default" {
                (0, "default", FrontendConfig::DEFAULT)
            } else {
                (1, "htk1024", FrontendConfig::HTK1024)
            };
            let want: Vec<f32> = std::fs::read(dir.join(f[2]))
                .unwrap()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            let frames = cfg.n_frames(pcm.len());
            let mut ours = vec![0.0f32; 128 * frames];
            LogMel::new(&cfg)
                .unwrap()
                .compute_i16(&pcm, &mut ours)
                .unwrap();
            let max = want.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let w = ours
                .iter()
                .zip(&want)
                .filter(|(_, r)| **r as f64 >= max - 80.0)
                .map(|(o, r)| (*o as f64 - *r as f64).abs())
                .fold(0.0, f64::max);
            worst_all[ci] = worst_all[ci].max(w);
            if ci == 0 {
                // the firmware's per-segment mel_fnv of each whole 3 s segment (FNV-1a over the
                // frames' f32 little-endian bytes, 1024-sample chunks, then finish)
                let mut s3 = LogMelStream::new(&cfg).unwrap();
                for (seg, samples) in pcm.chunks_exact(66150).enumerate() {
                    let mut h = 0x811c_9dc5u32;
                    let mut fnv = |f: &[f32]| {
                        for v in f {
                            for b in v.to_le_bytes() {
                                h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
                            }
                        }
                    };
                    s3.reset();
                    for ch in samples.chunks(1024) {
                        s3.push_i16(ch, &mut fnv).unwrap();
                    }
                    s3.finish(&mut fnv).unwrap();
                    println!("melfnv {} {seg} {h:08x}", f[0]);
                }
                let mut s = LogMelStream::new(&cfg).unwrap();
                let mut cols: Vec<Vec<f32>> = vec![];
                for ch in pcm.chunks(1024) {
                    s.push_i16(ch, |f| cols.push(f.to_vec())).unwrap();
                }
                s.finish(|f| cols.push(f.to_vec())).unwrap();
                for (t, col) in cols.iter().enumerate() {
                    for (mm, v) in col.iter().enumerate() {
                        if v.to_bits() != ours[mm * frames + t].to_bits() {
                            stream_same = false;
                        }
                    }
                }
            }
            println!("{} {name}: max |ours - librosa| = {w:.5} dB", f[0]);
        }
    }
    println!(
        "worst default {:.5} dB, htk1024 {:.5} dB, stream == whole bits: {stream_same}",
        worst_all[0], worst_all[1]
    );
}
