//! infer-core's int8 inference is bit-identical to tflite-micro's reference kernels.
//!
//! Fixtures in `tests/fixtures/tflite/` were made by `tools/reference/tflite_parity.py`, which
//! converts each int8 model file to a `.tflite` flatbuffer (CONV_2D per-channel + fused ReLU,
//! MAX_POOL_2D, RESHAPE, FULLY_CONNECTED) and runs it with the tflite-micro interpreter:
//! - `small`: an int8 toy baseline (32 x 32 input, 4 classes) trained and exported by the trainer;
//! - `baseline`: the study's full-size baseline (128 x 130 input, 10 classes, 128..8 channels)
//!   exported by the trainer.
//!
//! Each holds int8 inputs (NHWC), TFLM's pooled outputs of every block and its logits. The test
//! runs the streaming executor (frame by frame, every reported activation checked) and the
//! whole-tensor reference forward on the same inputs.

use std::collections::HashMap;

use infer_core::executor::{Executor, Observer, reference_forward};
use infer_core::model::{Model, N_BLOCKS};
use tinygenre_tests::fixtures_dir;

struct Fixture {
    model: Vec<u8>,
    inputs: Vec<i8>,
    outputs: Vec<i8>,
    blocks: Vec<i8>,
    n: usize,
}

fn i8s(b: Vec<u8>) -> Vec<i8> {
    b.into_iter().map(|x| x as i8).collect()
}

fn load(name: &str) -> Fixture {
    let dir = fixtures_dir().join("tflite");
    let read = |ext: &str| {
        let p = dir.join(format!("{name}.{ext}"));
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let meta: serde_json::Value = serde_json::from_slice(&read("json")).unwrap();
    Fixture {
        model: read("postcard"),
        inputs: i8s(read("inputs.i8")),
        outputs: i8s(read("outputs.i8")),
        blocks: i8s(read("blocks.i8")),
        n: meta["inputs"].as_u64().unwrap() as usize,
    }
}

#[derive(Default)]
struct Seen(HashMap<(usize, usize, usize), Vec<i8>>);

impl Observer<i8> for Seen {
    fn activation(&mut self, block: usize, frame: usize, mel: usize, ch: &[i8]) {
        self.0.insert((block, frame, mel), ch.to_vec());
    }
}

fn check(name: &str) {
    let fx = load(name);
    let model = Model::from_bytes(&fx.model).unwrap();
    let d = *model.dims();
    let (m, t, c) = (d.mels[0], d.frames[0], d.channels[0]);
    let n_in = m * t * c;
    let classes = model.classes().len();
    let block_len: Vec<usize> = (1..=N_BLOCKS)
        .map(|b| d.mels[b] * d.frames[b] * d.channels[b])
        .collect();
    let per_input: usize = block_len.iter().sum();
    assert_eq!(fx.inputs.len(), fx.n * n_in, "{name}: inputs");
    assert_eq!(fx.outputs.len(), fx.n * classes, "{name}: outputs");
    assert_eq!(fx.blocks.len(), fx.n * per_input, "{name}: blocks");
    let mut exec = Box::new(Executor::<i8>::new());
    let mut distinct_logits = std::collections::HashSet::new();
    for k in 0..fx.n {
        let x = &fx.inputs[k * n_in..(k + 1) * n_in];
        let want_logits = &fx.outputs[k * classes..(k + 1) * classes];
        distinct_logits.insert(want_logits.to_vec());
        // whole-tensor reference: every block bit-exact
        let outs = reference_forward::<i8>(&model, x).unwrap();
        let mut off = k * per_input;
        for b in 0..N_BLOCKS {
            let want = &fx.blocks[off..off + block_len[b]];
            let diff = outs[b].iter().zip(want).filter(|(a, w)| a != w).count();
            assert_eq!(
                diff,
                0,
                "{name} input {k}: block {} differs in {diff} values",
                b + 1
            );
            off += block_len[b];
        }
        assert_eq!(
            outs[N_BLOCKS], want_logits,
            "{name} input {k}: reference logits"
        );
        // streaming executor, fed frame by frame
        exec.reset();
        let mut seen = Seen::default();
        let mut row = vec![0i8; m * c];
        for f in 0..t {
            for mm in 0..m {
                let src = (mm * t + f) * c;
                row[mm * c..(mm + 1) * c].copy_from_slice(&x[src..src + c]);
            }
            exec.push_encoded(&model, &row, &mut seen).unwrap();
        }
        assert_eq!(
            exec.logits(&model).unwrap(),
            want_logits,
            "{name} input {k}: streamed logits"
        );
        let mut off = k * per_input;
        let mut checked = 0;
        for b in 1..=N_BLOCKS {
            let (mb, tb, cb) = (d.mels[b], d.frames[b], d.channels[b]);
            for f in 0..tb {
                for mm in 0..mb {
                    if let Some(got) = seen.0.get(&(b, f, mm)) {
                        let at = off + (mm * tb + f) * cb;
                        assert_eq!(
                            got.as_slice(),
                            &fx.blocks[at..at + cb],
                            "{name} {k} block {b}"
                        );
                        checked += 1;
                    }
                }
            }
            off += block_len[b - 1];
        }
        assert!(checked > 0);
    }
    // the fixtures are informative: the logits differ between inputs
    assert!(distinct_logits.len() > 1, "{name}: all logits equal");
}

#[test]
fn small_int8_model_is_bit_exact_with_tflite_micro() {
    check("small");
}

#[test]
fn full_baseline_int8_is_bit_exact_with_tflite_micro() {
    check("baseline");
}
