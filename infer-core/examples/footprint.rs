//! Static RAM of the on-device pipeline and flash size of a model file, from `size_of` of the
//! state the firmware keeps (no heap exists on the device):
//!
//! ```text
//! cargo run -p infer-core --features std --example footprint -- [MODEL.postcard ...]
//! ```
//!
//! The streaming front end (`LogMelStream`) feeds frames into the depth-first executor
//! (`Executor<i8>` or `Executor<f32>`); the validated `Model` borrows its tensors from flash.
//! The one-frame buffer between them is `[f32; MAX_N_MELS]`.

use core::mem::size_of;

use infer_core::config::MAX_N_MELS;
use infer_core::executor::Executor;
use infer_core::model::Model;
use infer_core::stream::LogMelStream;

fn kib(n: usize) -> String {
    format!("{n} B ({:.1} KiB)", n as f64 / 1024.0)
}

fn main() {
    let stream = size_of::<LogMelStream>();
    let frame = size_of::<[f32; MAX_N_MELS]>();
    let model = size_of::<Model<'static>>();
    let e8 = size_of::<Executor<i8>>();
    let e32 = size_of::<Executor<f32>>();
    println!("LogMelStream (front end state)   {}", kib(stream));
    println!("frame buffer [f32; MAX_N_MELS]   {}", kib(frame));
    println!("Model (validated view)           {}", kib(model));
    println!("Executor<i8>                     {}", kib(e8));
    println!("Executor<f32>                    {}", kib(e32));
    println!(
        "total, int8 pipeline             {}",
        kib(stream + frame + model + e8)
    );
    println!(
        "total, f32 pipeline              {}",
        kib(stream + frame + model + e32)
    );
    for p in std::env::args().skip(1) {
        let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
        match Model::from_bytes(&b) {
            Ok(m) => println!(
                "{p}: {} flash, {:?}, {} classes",
                kib(b.len()),
                m.precision(),
                m.classes().len()
            ),
            Err(e) => println!("{p}: {e}"),
        }
    }
}
