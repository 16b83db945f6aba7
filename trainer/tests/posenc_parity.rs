//! What trains is what ships, for the positional encodings: the input the Burn baseline's first
//! convolution sees (`Baseline::encode` of the trainer's normalised batch) equals, bit for bit,
//! the input infer-core's executor builds from the exported model for the same log-mel segment.

use burn::prelude::*;
use infer_core::executor::encode_segment;
use infer_core::model::Model;
use trainer::models::PosEnc;
use trainer::models::baseline::Baseline;
use trainer::models::plain::PlainBaseline;
use trainer::ship::export;

/// The study's input: 128 mel bands x 130 frames.
const M: usize = 128;
const T: usize = 130;

#[test]
fn burn_and_infer_core_encode_the_input_identically() {
    let d = Device::flex();
    let (mean, std) = (-31.5f32, 13.25f32);
    // a deterministic log-mel-like segment, dB
    let mel: Vec<f32> = (0..M * T)
        .map(|i| -60.0 + 50.0 * (((i * 7919) % 1009) as f32 / 1009.0))
        .collect();
    for posenc in [PosEnc::None, PosEnc::Coord, PosEnc::Sinusoidal] {
        d.seed(1);
        let model = Baseline::new(
            10,
            M,
            T,
            posenc,
            trainer::models::baseline::DROPOUT,
            Default::default(),
            &d,
        );
        // Burn: the trainer's normalisation, then the model's encoding
        let x: Vec<f32> = mel.iter().map(|v| (v - mean) / std).collect();
        let enc = model.encode(Tensor::from_data(TensorData::new(x, [1, 1, M, T]), &d));
        let ch = enc.dims()[1];
        let burn: Vec<f32> = enc.into_data().try_into_vec::<f32>().unwrap(); // [1, ch, M, T]

        // infer-core: the exported f32 model encodes frame by frame, HWC
        let plain = PlainBaseline::from_model(&model, M, T, mean, std, 22050).unwrap();
        let file = export::to_f32(
            &plain,
            "posenc",
            &(0..10).map(|c| c.to_string()).collect::<Vec<_>>(),
        )
        .unwrap()
        .encode()
        .unwrap();
        let fm = Model::from_bytes(&file).unwrap();
        let ours = encode_segment::<f32>(&fm, &mel).unwrap(); // [M, T, ch]
        assert_eq!(ours.len(), burn.len(), "{posenc}");
        let mut differ = 0;
        for c in 0..ch {
            for m in 0..M {
                for t in 0..T {
                    let (a, b) = (burn[(c * M + m) * T + t], ours[(m * T + t) * ch + c]);
                    differ += usize::from(a.to_bits() != b.to_bits());
                }
            }
        }
        assert_eq!(
            differ, 0,
            "{posenc}: {differ} input values differ in their bits"
        );
    }
}
