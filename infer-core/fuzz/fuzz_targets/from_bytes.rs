//! `Model::from_bytes` on arbitrary bytes must return (never panic), and a model that loads must
//! run a segment without panicking. Seed the corpus with committed model files, e.g.
//! `tests/fixtures/tflite/*.postcard`; `-- -max_total_time=300` runs five minutes.
#![no_main]

use infer_core::executor::{Executor, run_logmel};
use infer_core::format::{CRC, HEADER_LEN};
use infer_core::model::{Model, Precision};
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8]) {
    let Ok(m) = Model::from_bytes(data) else {
        return;
    };
    let d = *m.dims();
    if d.frames[0] > 256 {
        return; // keep executions fast; the frame count does not change the code paths
    }
    let mel: Vec<f32> = (0..d.mels[0] * d.frames[0])
        .map(|i| -60.0 + (i % 97) as f32 * 0.7)
        .collect();
    match m.precision() {
        Precision::F32 => {
            let mut e = Box::new(Executor::<f32>::new());
            let _ = run_logmel(&m, &mut e, &mel, &mut (), &mut [0f32; 16]);
        }
        Precision::Int8 => {
            let mut e = Box::new(Executor::<i8>::new());
            let _ = run_logmel(&m, &mut e, &mel, &mut (), &mut [0i8; 16]);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    // the same bytes with a correct length and CRC, so mutations reach the payload decoder
    if data.len() >= HEADER_LEN {
        let mut sealed = data.to_vec();
        let len = (sealed.len() - HEADER_LEN) as u32;
        sealed[12..16].copy_from_slice(&len.to_le_bytes());
        let crc = CRC.checksum(&sealed[HEADER_LEN..]);
        sealed[16..20].copy_from_slice(&crc.to_le_bytes());
        check(&sealed);
    }
});
