//! Host-only reference path: whole-segment encoding and the layer-by-layer forward pass with the
//! plain kernels, which the streaming executor is tested against.

use super::{Act, encode_frame};
use crate::Error;
use crate::model::{Model, N_BLOCKS};
use crate::pool;

/// Encodes a whole log-mel segment `[n_mels][frames]` (mel-major) into the network input
/// `[n_mels][frames][in_ch]` (HWC), as the executor does frame by frame (host only).
///
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::InputNotFinite`].
pub fn encode_segment<A: Act>(model: &Model<'_>, mel: &[f32]) -> Result<std::vec::Vec<A>, Error> {
    let d = model.dims();
    let (n_mels, frames, ch) = d.at(0).ok_or(Error::ShapeMismatch)?;
    if mel.len() != n_mels * frames {
        return Err(Error::ShapeMismatch);
    }
    let mut out = std::vec![A::default(); n_mels * frames * ch];
    let mut col = std::vec![0.0f32; n_mels];
    let mut row = std::vec![A::default(); n_mels * ch];
    let (ch, frames) = (ch.max(1), frames.max(1));
    for t in 0..frames {
        // [n_mels]: column t of the mel-major segment
        for (c, &v) in col.iter_mut().zip(mel.iter().skip(t).step_by(frames)) {
            *c = v;
        }
        // [n_mels][ch] into [n_mels][frames][ch] at frame t
        encode_frame(model, t, &col, &mut row)?;
        let dst = out.chunks_exact_mut(ch).skip(t).step_by(frames);
        for (dst, src) in dst.zip(row.chunks_exact(ch)) {
            dst.copy_from_slice(src);
        }
    }
    Ok(out)
}

/// Reference forward pass, layer by layer on whole tensors with the plain kernels (host only).
///
/// `input`: `[n_mels][frames][in_ch]` (HWC, encoded). Returns the pooled output of each block
/// (`[mels_b][frames_b][ch_b]`, HWC) followed by the logits.
///
/// # Errors
/// Buffer or precision mismatches.
pub fn reference_forward<A: Act>(
    model: &Model<'_>,
    input: &[A],
) -> Result<std::vec::Vec<std::vec::Vec<A>>, Error> {
    if model.precision() != A::PRECISION {
        return Err(Error::ModelArchitectureUnsupported);
    }
    let d = *model.dims();
    let mut outs = std::vec::Vec::new();
    let mut x = input.to_vec();
    for b in 0..N_BLOCKS {
        let layer = model.conv(b).ok_or(Error::ModelArchitectureUnsupported)?;
        let (m, t, _) = d.at(b).ok_or(Error::ShapeMismatch)?;
        let (pm, pt, c) = d.at(b + 1).ok_or(Error::ShapeMismatch)?;
        let mut y = std::vec![A::default(); m * t * c];
        A::conv_ref(layer, &x, m, t, &mut y)?;
        let mut p = std::vec![A::default(); pm * pt * c];
        pool::maxpool2x2_ref(&y, m, t, c, &mut p)?;
        outs.push(p.clone());
        x = p;
    }
    let mut logits = std::vec![A::default(); model.classes().len()];
    A::dense(model.dense(), &x, &mut logits);
    outs.push(logits);
    Ok(outs)
}
