//! Models that would reach a kernel's fallback are rejected when they are loaded, each with
//! its own error.

use super::*;
use crate::executor::{Executor, run_logmel};
use crate::format::PosEnc;
use crate::format::bytes::{f32_le, i32_le};
use crate::format::owned::{OwnedLayer, OwnedModel, OwnedParams};
use crate::testutil::{random_i8, random_logmel};
use std::vec::Vec;

fn small_i8() -> OwnedModel {
    random_i8(3, 32, 40, PosEnc::None)
}

fn load(m: &OwnedModel) -> Result<(), Error> {
    let bytes = m.encode()?;
    Model::from_bytes(&bytes).map(|_| ())
}

/// Layer `l`'s int8 `(weight_scales, multipliers, shifts)`.
fn requant_fields(m: &mut OwnedModel, l: usize) -> (&mut Vec<u8>, &mut Vec<u8>, &mut Vec<u8>) {
    let params = match &mut m.layers[l] {
        OwnedLayer::Conv { params, .. } | OwnedLayer::Dense { params, .. } => params,
    };
    let OwnedParams::Int8 {
        weight_scales,
        multipliers,
        shifts,
        ..
    } = params
    else {
        panic!("not int8");
    };
    (weight_scales, multipliers, shifts)
}

#[test]
fn the_random_model_loads() {
    assert_eq!(load(&small_i8()), Ok(()));
}

/// A channel whose requantisation scale is below 2^-32, stored as the all-zero requantizer
/// TFLite flushes it to (every output the zero point): once accepted, now rejected.
#[test]
fn a_requantizer_that_would_be_zero_is_rejected() {
    for layer in [0, 2, N_BLOCKS] {
        let mut m = small_i8();
        let (scales, mults, shifts) = requant_fields(&mut m, layer);
        scales[..4].copy_from_slice(&f32_le(&[1e-12]));
        mults[..4].copy_from_slice(&i32_le(&[0]));
        shifts[0] = 0;
        assert_eq!(load(&m), Err(Error::ModelScaleUnderflow), "layer {layer}");
    }
}

/// Stored requantizer fields that `Requantizer::new` rejects, even where they represent the
/// right scale (a significand below 2^30 with the shift raised to match).
#[test]
fn unnormalised_or_out_of_range_requantizers_are_rejected() {
    for layer in [1, N_BLOCKS] {
        let mut m = small_i8();
        let (_, mults, shifts) = requant_fields(&mut m, layer);
        let mult = i32::from_le_bytes(mults[..4].try_into().unwrap());
        mults[..4].copy_from_slice(&i32_le(&[mult >> 1]));
        shifts[0] = (shifts[0] as i8 + 1) as u8;
        assert_eq!(load(&m), Err(Error::ModelBadQuantisation), "layer {layer}");

        let mut m = small_i8();
        let (_, mults, _) = requant_fields(&mut m, layer);
        mults[..4].copy_from_slice(&i32_le(&[-(1 << 30)]));
        assert_eq!(load(&m), Err(Error::ModelBadQuantisation), "layer {layer}");
    }
}

/// Parameter tensors one value short (which the kernels would read past) are shape errors.
#[test]
fn short_tensors_are_rejected() {
    let mut m = small_i8();
    if let OwnedLayer::Conv {
        params: OwnedParams::Int8 { bias, .. },
        ..
    } = &mut m.layers[3]
    {
        bias.truncate(bias.len() - 4);
    }
    assert_eq!(load(&m), Err(Error::ShapeMismatch));
    let mut m = small_i8();
    let (_, _, shifts) = requant_fields(&mut m, 4);
    shifts.pop();
    assert_eq!(load(&m), Err(Error::ShapeMismatch));
}

/// A front end whose FFT size has no window or transform is rejected at load, not left
/// unwindowed.
#[test]
fn an_unsupported_fft_size_is_rejected() {
    let mut m = small_i8();
    m.frontend.n_fft = 1000;
    assert_eq!(load(&m), Err(Error::ConfigUnsupportedFftSize));
}

/// `run_logmel` checks both its input and its output length.
#[test]
fn run_logmel_checks_its_buffers() {
    let owned = small_i8();
    let bytes = owned.encode().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let (m, t, _) = model.dims().at(0).unwrap();
    let mel = random_logmel(1, m * t);
    let mut exec = std::boxed::Box::new(Executor::<i8>::new());
    let mut short = [0i8; 9];
    assert_eq!(
        run_logmel(&model, &mut exec, &mel, &mut (), &mut short),
        Err(Error::OutputTooSmall)
    );
    let mut out = [0i8; 10];
    assert_eq!(
        run_logmel(&model, &mut exec, &mel[1..], &mut (), &mut out),
        Err(Error::ShapeMismatch)
    );
    let mut wide = [0i8; 12];
    assert_eq!(
        run_logmel(&model, &mut exec, &mel, &mut (), &mut wide),
        Ok(())
    );
    assert_eq!(
        run_logmel(&model, &mut exec, &mel, &mut (), &mut out),
        Ok(())
    );
    assert_eq!(&wide[..10], &out[..]);
}
