//! The model file format (docs/model-format.md): round trips of f32 and int8 models exported by
//! the trainer, and typed errors for every kind of bad input.

use infer_core::Error;
use infer_core::format::owned::{OwnedLayer, OwnedModel, OwnedParams};
use infer_core::format::{FORMAT_VERSION, HEADER_LEN, MAGIC, ModelFile, PosEnc, bytes};
use infer_core::model::{Model, Precision};
use infer_core::quant::QParams;
use tinygenre_tests::{random_logmels, random_plain_baseline};
use trainer::models::PosEnc as TrainPosEnc;
use trainer::ship::export;

const SMALL: [usize; 5] = [8, 8, 6, 4, 4];

fn classes(n: usize) -> Vec<String> {
    (0..n).map(|c| format!("genre{c}")).collect()
}

/// A small f32 model (32 x 40 input) and its int8 quantisation, through the trainer's exporter.
fn models(posenc: TrainPosEnc) -> (OwnedModel, OwnedModel) {
    let plain = random_plain_baseline(11, 32, 40, SMALL, 5, posenc);
    let f = export::to_f32(&plain, "small", &classes(5)).unwrap();
    let segs = random_logmels(3, 8, 32, 40);
    let refs: Vec<&[f32]> = segs.iter().map(Vec::as_slice).collect();
    let ranges = export::calibrate(&f, &refs).unwrap();
    let q = export::quantize(&f, &ranges).unwrap();
    (f, q)
}

/// Recomputes the header of `body` (a valid CRC), with `version` and `flags`.
fn with_header(body: &[u8], version: u16, flags: u16) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&infer_core::format::CRC.checksum(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn round_trip_f32_and_int8_for_every_posenc() {
    for posenc in [
        TrainPosEnc::None,
        TrainPosEnc::Coord,
        TrainPosEnc::Sinusoidal,
    ] {
        let (f, q) = models(posenc);
        for (owned, precision) in [(&f, Precision::F32), (&q, Precision::Int8)] {
            let bytes = owned.encode().unwrap();
            let decoded = ModelFile::decode(&bytes).unwrap();
            assert_eq!(decoded, owned.to_file().unwrap(), "{posenc}");
            // decode -> encode reproduces the file byte for byte
            assert_eq!(decoded.encode().unwrap(), bytes);
            // zero-copy: tensors point into the file
            let range = bytes.as_ptr_range();
            for layer in &decoded.layers {
                let (infer_core::format::Layer::Conv3x3ReluMaxPool2 { params, .. }
                | infer_core::format::Layer::Dense { params, .. }) = layer;
                let w = match params {
                    infer_core::format::Params::F32 { weights, .. }
                    | infer_core::format::Params::Int8 { weights, .. } => weights,
                };
                assert!(range.contains(&w.as_ptr()));
            }
            let model = Model::from_bytes(&bytes).unwrap();
            assert_eq!(model.precision(), precision);
            assert_eq!(model.classes().len(), 5);
            assert_eq!(model.input().posenc.in_channels(), posenc.in_channels());
            assert_eq!(model.dims().features(), 4); // 4 channels x 1 x 1
            // the header as specified
            assert_eq!(&bytes[..8], b"TGMODEL\0");
            assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 1);
            assert_eq!(
                u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize,
                bytes.len() - HEADER_LEN
            );
        }
    }
}

#[test]
fn truncation_at_every_length_is_model_truncated() {
    let bytes = models(TrainPosEnc::None).1.encode().unwrap();
    for len in 0..bytes.len() {
        assert_eq!(
            Model::from_bytes(&bytes[..len]).err(),
            Some(Error::ModelTruncated),
            "length {len}"
        );
    }
    // a consistent header over a cut payload: the payload itself is short
    let body = &bytes[HEADER_LEN..];
    for cut in [1, 10, body.len() / 2, body.len() - 1] {
        let file = with_header(&body[..body.len() - cut], FORMAT_VERSION, 0);
        let err = Model::from_bytes(&file).err();
        assert!(
            matches!(err, Some(Error::ModelTruncated | Error::ModelMalformed)),
            "cut {cut}: {err:?}"
        );
    }
}

#[test]
fn every_single_bit_flip_is_rejected_with_the_right_error() {
    let bytes = models(TrainPosEnc::Coord).1.encode().unwrap();
    let mut flipped = bytes.clone();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            flipped[i] ^= 1 << bit;
            let err = Model::from_bytes(&flipped).err();
            let want: &[Error] = match i {
                0..8 => &[Error::ModelBadMagic],
                8..10 => &[Error::ModelVersionUnsupported],
                10..12 => &[Error::ModelMalformed],
                // a longer announced payload is truncation, a shorter one trailing bytes
                12..16 => &[Error::ModelTruncated, Error::ModelMalformed],
                _ => &[Error::ModelChecksumMismatch],
            };
            assert!(
                err.is_some_and(|e| want.contains(&e)),
                "byte {i} bit {bit}: {err:?}, want {want:?}"
            );
            flipped[i] ^= 1 << bit;
        }
    }
}

#[test]
fn header_errors() {
    let bytes = models(TrainPosEnc::None).0.encode().unwrap();
    let body = &bytes[HEADER_LEN..];
    let mut bad = bytes.clone();
    bad[..8].copy_from_slice(b"TFL3\0\0\0\0");
    assert_eq!(Model::from_bytes(&bad).err(), Some(Error::ModelBadMagic));
    assert_eq!(
        Model::from_bytes(b"RIFF....WAVEfmt ").err(),
        Some(Error::ModelBadMagic)
    );
    for v in [0, 2, u16::MAX] {
        assert_eq!(
            Model::from_bytes(&with_header(body, v, 0)).err(),
            Some(Error::ModelVersionUnsupported),
            "version {v}"
        );
    }
    assert_eq!(
        Model::from_bytes(&with_header(body, FORMAT_VERSION, 1)).err(),
        Some(Error::ModelMalformed)
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(
        Model::from_bytes(&trailing).err(),
        Some(Error::ModelMalformed)
    );
    // trailing bytes inside a payload with a valid CRC
    let mut long = body.to_vec();
    long.push(0);
    assert_eq!(
        Model::from_bytes(&with_header(&long, FORMAT_VERSION, 0)).err(),
        Some(Error::ModelMalformed)
    );
    // the reference file is fine
    assert!(Model::from_bytes(&bytes).is_ok());
}

fn layer_params(m: &mut OwnedModel, i: usize) -> &mut OwnedParams {
    match &mut m.layers[i] {
        OwnedLayer::Conv { params, .. } | OwnedLayer::Dense { params, .. } => params,
    }
}

fn load(m: &OwnedModel) -> Result<(), Error> {
    Model::from_bytes(&m.encode()?).map(|_| ())
}

/// A model this build cannot run is refused with an error naming what (and, in its text, the
/// values); a file that contradicts itself is `ShapeMismatch`.
#[test]
fn shapes_that_do_not_fit_are_typed_errors() {
    let (f, _) = models(TrainPosEnc::None);
    // more output channels in block 1 than the compiled buffers hold (128)
    let big = random_plain_baseline(1, 32, 40, [129, 8, 8, 8, 8], 5, TrainPosEnc::None);
    assert!(export::to_f32(&big, "big", &classes(5)).is_err());
    let mut m = f.clone();
    if let OwnedLayer::Conv { out_ch, params, .. } = &mut m.layers[4] {
        *out_ch = 9; // block 5 holds at most 8
        *params = OwnedParams::F32 {
            weights: bytes::f32_le(&vec![0.1; 9 * 9 * 4]),
            bias: bytes::f32_le(&[0.0; 9]),
        };
    }
    let err = load(&m).unwrap_err();
    assert_eq!(
        err,
        Error::ModelChannelsUnsupported {
            block: 5,
            channels: 9
        }
    );
    assert!(
        err.to_string()
            .ends_with("(block 5: 9 output channels, this build holds 1 to 8)"),
        "{err}"
    );
    // no output channels at all
    let mut m = f.clone();
    if let OwnedLayer::Conv { out_ch, .. } = &mut m.layers[1] {
        *out_ch = 0;
    }
    assert_eq!(
        load(&m),
        Err(Error::ModelChannelsUnsupported {
            block: 2,
            channels: 0
        })
    );
    // dense features above the compiled 128: 8 ch x 2 mels x 9 frames
    let wide = random_plain_baseline(2, 64, 300, [8, 8, 8, 8, 8], 5, TrainPosEnc::None);
    let err = export::to_f32(&wide, "wide", &classes(5)).unwrap_err();
    assert!(
        format!("{err:#}").contains("(144 values, this build holds 128)"),
        "{err:#}"
    );
    // a tensor one value short
    let mut m = f.clone();
    if let OwnedParams::F32 { weights, .. } = layer_params(&mut m, 2) {
        weights.truncate(weights.len() - 4);
    }
    assert_eq!(load(&m), Err(Error::ShapeMismatch));
    // in_ch not matching the previous layer
    let mut m = f.clone();
    if let OwnedLayer::Conv { in_ch, .. } = &mut m.layers[3] {
        *in_ch += 1;
    }
    assert_eq!(load(&m), Err(Error::ShapeMismatch));
    // frames inconsistent with the front end and the segment length
    let mut m = f.clone();
    m.input.frames += 1;
    assert_eq!(load(&m), Err(Error::ShapeMismatch));
    // more mel bands than the compiled 128 (the front end rejects them first)
    let mut m = f.clone();
    m.input.n_mels = 256;
    m.frontend.n_mels = 256;
    assert_eq!(load(&m), Err(Error::ConfigBadMelCount));
    // classes: 17 do not fit, and the dense layer must produce one logit per class
    let mut m = f.clone();
    m.classes = classes(17);
    assert_eq!(
        m.encode().err(),
        Some(Error::ModelClassesUnsupported { classes: 17 })
    );
    let mut m = f.clone();
    m.classes.pop();
    assert_eq!(load(&m), Err(Error::ShapeMismatch));
    // architecture: a layer missing, a dense layer where a conv belongs, a conv where the dense
    // layer belongs
    let mut m = f.clone();
    m.layers.remove(2);
    assert_eq!(load(&m), Err(Error::ModelLayersUnsupported { layers: 5 }));
    let mut m = f.clone();
    m.layers.swap(0, 5);
    let err = load(&m).unwrap_err();
    assert_eq!(err, Error::ModelLayerUnsupported { index: 0 });
    assert!(err.to_string().ends_with("(layer 0)"), "{err}");
    let mut m = f.clone();
    m.layers[5] = m.layers[4].clone();
    assert_eq!(load(&m), Err(Error::ModelLayerUnsupported { index: 5 }));
}

#[test]
fn non_finite_and_bad_quantisation_are_typed_errors() {
    let (f, q) = models(TrainPosEnc::None);
    let nan = f32::NAN.to_le_bytes();
    let mut m = f.clone();
    if let OwnedParams::F32 { weights, .. } = layer_params(&mut m, 1) {
        weights[40..44].copy_from_slice(&nan);
    }
    assert_eq!(load(&m), Err(Error::ModelNotFinite));
    let mut m = f.clone();
    if let OwnedParams::F32 { bias, .. } = layer_params(&mut m, 5) {
        bias[..4].copy_from_slice(&f32::INFINITY.to_le_bytes());
    }
    assert_eq!(load(&m), Err(Error::ModelNotFinite));
    let mut m = f.clone();
    m.input.mean = f32::NAN;
    assert_eq!(load(&m), Err(Error::ModelNotFinite));
    let mut m = f.clone();
    m.input.std = 0.0;
    assert_eq!(load(&m), Err(Error::ModelBadQuantisation));

    // int8: NaN weight scale, zero output scale, a requantizer inconsistent with the scales,
    // an out-of-range shift, an f32 layer in an int8 model, input quantisation on an f32 model
    let mut m = q.clone();
    if let OwnedParams::Int8 { weight_scales, .. } = layer_params(&mut m, 0) {
        weight_scales[..4].copy_from_slice(&nan);
    }
    assert_eq!(load(&m), Err(Error::ModelNotFinite));
    let mut m = q.clone();
    if let OwnedParams::Int8 { output, .. } = layer_params(&mut m, 1) {
        output.scale = 0.0;
    }
    assert_eq!(load(&m), Err(Error::ModelBadQuantisation));
    let mut m = q.clone();
    // (the loader tolerates 1e-6 relative; 100 000 / 2^30 is about 1e-4)
    if let OwnedParams::Int8 { multipliers, .. } = layer_params(&mut m, 2) {
        let v = i32::from_le_bytes(multipliers[..4].try_into().unwrap());
        multipliers[..4].copy_from_slice(&(v - 100_000).to_le_bytes());
    }
    assert_eq!(load(&m), Err(Error::ModelBadQuantisation));
    let mut m = q.clone();
    if let OwnedParams::Int8 { shifts, .. } = layer_params(&mut m, 3) {
        shifts[0] = 40;
    }
    assert_eq!(load(&m), Err(Error::ModelBadQuantisation));
    let mut m = q.clone();
    m.layers[5] = f.layers[5].clone();
    assert_eq!(load(&m), Err(Error::ModelBadQuantisation));
    let mut m = f.clone();
    m.input.quant = Some(QParams {
        scale: 0.1,
        zero_point: 0,
    });
    assert_eq!(load(&m), Err(Error::ModelBadQuantisation));
    // an unknown positional-encoding tag does not decode
    let mut m = f.clone();
    m.input.posenc = PosEnc::Coord; // 3 input channels, conv 0 has 1
    assert_eq!(load(&m), Err(Error::ShapeMismatch));
}

#[test]
fn logits_range_is_calibrated_on_each_segments_top_two() {
    let plain = random_plain_baseline(11, 32, 40, SMALL, 5, TrainPosEnc::None);
    let f = export::to_f32(&plain, "small", &classes(5)).unwrap();
    let segs = random_logmels(6, 8, 32, 40);
    let refs: Vec<&[f32]> = segs.iter().map(Vec::as_slice).collect();
    let full = export::calibrate(&f, &refs).unwrap();
    let ranges = full.clone().for_argmax();
    let bytes = f.encode().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let (mut lo, mut hi, mut all_lo) = (f32::INFINITY, f32::NEG_INFINITY, f32::INFINITY);
    for s in &segs {
        let mut l = trainer::evaluate::inference::logits(&model, s).unwrap();
        all_lo = l.iter().copied().fold(all_lo, f32::min);
        l.sort_by(|a, b| b.total_cmp(a));
        lo = lo.min(l[1] - export::LOGIT_SLACK);
        hi = hi.max(l[0]);
    }
    let last = ranges.min.len() - 1;
    assert!(
        (ranges.min[last] - lo).abs() < 1e-4,
        "{} vs {lo}",
        ranges.min[last]
    );
    assert!(
        (ranges.max[last] - hi).abs() < 1e-4,
        "{} vs {hi}",
        ranges.max[last]
    );
    // the lowest logits lie below the narrowed range (they saturate), so the test means something
    assert!(all_lo < lo, "lowest logit {all_lo}, range from {lo}");
    // without narrowing, the logits' range is min/max of every logit, like every other tensor
    assert!(
        (full.min[last] - all_lo).abs() < 1e-4,
        "{} vs {all_lo}",
        full.min[last]
    );
    assert_eq!(full.min[..last], ranges.min[..last]);
}
