//! A validated, ready-to-run model borrowed from the bytes of a model file.
//!
//! [`Model::from_bytes`] checks everything the kernels rely on, so inference cannot index out of
//! bounds or meet a NaN weight: magic, version, checksum, the architecture (five
//! `conv3x3-ReLU-maxpool2` blocks then one dense layer), every tensor length, that every shape
//! fits the executor's compile-time buffers, finiteness of every float, and the quantisation
//! parameters.

use crate::Error;
use crate::config::{FrontendConfig, MAX_N_MELS};
use crate::conv::{Conv3x3, ConvParams};
use crate::dense::{Dense, DenseParams};
use crate::format::{InputSpec, Layer, MAX_CLASSES, ModelFile, Params, f32s, i32s};
use crate::quant::{QParams, Requantizer};

/// Number of convolution blocks of the baseline.
pub const N_BLOCKS: usize = 5;
/// The largest channel count compiled in for each block's output (the baseline's).
pub const MAX_CHANNELS: [usize; N_BLOCKS] = [128, 64, 32, 16, 8];
/// Most input channels (log-mel plus two coordinate channels).
pub const MAX_IN_CHANNELS: usize = 3;
/// Most input features of the dense layer (8 channels x 4 mels x 4 frames).
pub const MAX_FEATURES: usize = 128;

/// Numeric precision of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f32 weights and activations.
    F32,
    /// int8 weights and activations (TFLite conventions).
    Int8,
}

/// Tensor sizes through the network; index 0 is the input, `b` the pooled output of block `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Mel bands.
    pub mels: [usize; N_BLOCKS + 1],
    /// Frames.
    pub frames: [usize; N_BLOCKS + 1],
    /// Channels.
    pub channels: [usize; N_BLOCKS + 1],
}

impl Dims {
    /// `(mels, frames, channels)` of tensor `b` (0: the input, `b`: block `b`'s pooled output);
    /// `None` past the last block.
    #[inline]
    pub fn at(&self, b: usize) -> Option<(usize, usize, usize)> {
        Some((
            *self.mels.get(b)?,
            *self.frames.get(b)?,
            *self.channels.get(b)?,
        ))
    }

    /// Features entering the dense layer (`channels * mels * frames` after the last block).
    pub fn features(&self) -> usize {
        self.mels[N_BLOCKS] * self.frames[N_BLOCKS] * self.channels[N_BLOCKS]
    }
}

/// A validated model.
#[derive(Debug, Clone)]
pub struct Model<'a> {
    file: ModelFile<'a>,
    precision: Precision,
    dims: Dims,
    convs: [Conv3x3<'a>; N_BLOCKS],
    dense: Dense<'a>,
}

fn finite_f32s(bytes: &[u8]) -> bool {
    let (chunks, rest) = bytes.as_chunks::<4>();
    rest.is_empty() && chunks.iter().all(|c| f32::from_le_bytes(*c).is_finite())
}

fn positive_f32s(bytes: &[u8]) -> bool {
    let (chunks, rest) = bytes.as_chunks::<4>();
    rest.is_empty()
        && chunks.iter().all(|c| {
            let v = f32::from_le_bytes(*c);
            v.is_finite() && v > 0.0
        })
}

/// Checks that stored requantizers are valid ([`Requantizer::new`]) and represent
/// `input_scale * weight_scale[c] / output_scale` (relative error 1e-6, far above Q31 rounding
/// and far below any real mismatch); returns the first.
fn check_requant(
    multipliers: &[u8],
    shifts: &[u8],
    weight_scales: &[u8],
    input_scale: f32,
    output_scale: f32,
    n: usize,
) -> Result<Requantizer, Error> {
    if multipliers.len() != 4 * n || shifts.len() != n || weight_scales.len() != 4 * n {
        return Err(Error::ShapeMismatch);
    }
    if !positive_f32s(weight_scales) {
        return Err(Error::ModelBadQuantisation);
    }
    let mut first = Err(Error::ShapeMismatch);
    for ((m, &s), ws) in i32s(multipliers).zip(shifts).zip(f32s(weight_scales)) {
        let want = f64::from(input_scale) * f64::from(ws) / f64::from(output_scale);
        // the requantizer the exporter would have written: its error says why a stored one
        // cannot be right (a scale too small for Q31, or out of range)
        Requantizer::from_scale(want)?;
        let r = Requantizer::new(m, s as i8)?;
        let got = r.to_f64();
        let tol = want * 1e-6 + crate::quant::pow2(-31);
        let close = (got - want).abs() <= tol;
        if !close {
            return Err(Error::ModelBadQuantisation);
        }
        if first.is_err() {
            first = Ok(r);
        }
    }
    first
}

impl<'a> Model<'a> {
    /// Decodes and validates a model file.
    ///
    /// # Errors
    /// [`Error::ModelBadMagic`], [`Error::ModelTruncated`], [`Error::ModelVersionUnsupported`],
    /// [`Error::ModelChecksumMismatch`], [`Error::ModelMalformed`],
    /// [`Error::ModelLayersUnsupported`], [`Error::ModelLayerUnsupported`],
    /// [`Error::ModelChannelsUnsupported`], [`Error::ModelClassesUnsupported`],
    /// [`Error::ModelFeaturesUnsupported`], [`Error::ModelPosEncUnsupported`] (each names what
    /// this build cannot run), [`Error::ShapeMismatch`] (the file contradicts itself),
    /// [`Error::ModelNotFinite`], [`Error::ModelBadQuantisation`], and the front-end config's
    /// `Config*` errors.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Model<'a>, Error> {
        Self::from_file(ModelFile::decode(bytes)?)
    }

    /// Validates an already decoded model file.
    ///
    /// # Errors
    /// As [`Model::from_bytes`] after decoding.
    pub fn from_file(file: ModelFile<'a>) -> Result<Model<'a>, Error> {
        file.frontend.validate()?;
        let input = file.input;
        if !input.mean.is_finite() || !input.std.is_finite() {
            return Err(Error::ModelNotFinite);
        }
        if input.std <= 0.0 {
            return Err(Error::ModelBadQuantisation);
        }
        let n_mels = usize::from(input.n_mels);
        if n_mels == 0 || n_mels > MAX_N_MELS || n_mels != file.frontend.n_mels as usize {
            return Err(Error::ShapeMismatch);
        }
        let frames = usize::from(input.frames);
        if input.segment_samples == 0
            || frames != file.frontend.n_frames(input.segment_samples as usize)
        {
            return Err(Error::ShapeMismatch);
        }
        let n_classes = file.classes.len();
        if n_classes == 0 || n_classes > MAX_CLASSES {
            return Err(Error::ModelClassesUnsupported {
                classes: u8::try_from(n_classes).unwrap_or(u8::MAX),
            });
        }
        if file.layers.len() != N_BLOCKS + 1 {
            return Err(Error::ModelLayersUnsupported {
                layers: u8::try_from(file.layers.len()).unwrap_or(u8::MAX),
            });
        }

        let precision = match input.quant {
            None => Precision::F32,
            Some(q) => {
                q.validate()?;
                Precision::Int8
            }
        };

        if !crate::posenc::supported(input.posenc) {
            return Err(Error::ModelPosEncUnsupported);
        }
        // each block halves mels and frames (max-pool 2x2, floor)
        let halved = |n0: usize| core::array::from_fn(|b| n0 >> b);
        let mut dims = Dims {
            mels: halved(n_mels),
            frames: halved(frames),
            channels: [0; N_BLOCKS + 1],
        };
        if dims.mels.contains(&0) || dims.frames.contains(&0) {
            return Err(Error::ShapeMismatch);
        }
        let mut ci = input.posenc.in_channels();
        dims.channels = [ci; N_BLOCKS + 1];

        let empty = Conv3x3 {
            in_ch: 0,
            out_ch: 0,
            params: ConvParams::F32 {
                weights: &[],
                bias: &[],
            },
        };
        let mut convs = [empty; N_BLOCKS];
        let mut act_q = input.quant;
        let blocks = file.layers.iter().zip(convs.iter_mut());
        let blocks = blocks.zip(MAX_CHANNELS.iter().zip(dims.channels.iter_mut().skip(1)));
        for (b, ((layer, conv), (&max_out, out_channels))) in blocks.enumerate() {
            let Layer::Conv3x3ReluMaxPool2 {
                in_ch,
                out_ch,
                params,
            } = *layer
            else {
                return Err(Error::ModelLayerUnsupported { index: b as u8 });
            };
            let co = usize::from(out_ch);
            if co == 0 || co > max_out {
                return Err(Error::ModelChannelsUnsupported {
                    block: b as u8 + 1,
                    channels: out_ch,
                });
            }
            if usize::from(in_ch) != ci {
                return Err(Error::ShapeMismatch);
            }
            *out_channels = co;
            let n_w = co * 9 * ci;
            let (p, out_q) = validate_params(params, precision, n_w, co, act_q, false)?;
            act_q = out_q;
            *conv = Conv3x3 {
                in_ch: ci,
                out_ch: co,
                params: match p {
                    Validated::F32 { weights, bias } => ConvParams::F32 { weights, bias },
                    Validated::Int8 {
                        weights,
                        bias,
                        multipliers,
                        shifts,
                        input_zp,
                        output_zp,
                        requant: _,
                    } => ConvParams::Int8 {
                        weights,
                        bias,
                        multipliers,
                        shifts,
                        input_zero_point: input_zp,
                        output_zero_point: output_zp,
                        act_min: output_zp.max(-128),
                    },
                },
            };
            ci = co;
        }

        let Some(&Layer::Dense {
            in_features,
            out_features,
            params,
        }) = file.layers.get(N_BLOCKS)
        else {
            return Err(Error::ModelLayerUnsupported {
                index: N_BLOCKS as u8,
            });
        };
        let (n_in, n_out) = (usize::from(in_features), usize::from(out_features));
        let features = dims.features();
        if features > MAX_FEATURES {
            return Err(Error::ModelFeaturesUnsupported {
                features: u16::try_from(features).unwrap_or(u16::MAX),
            });
        }
        if n_in != features || n_out != n_classes {
            return Err(Error::ShapeMismatch);
        }
        let (p, _) = validate_params(params, precision, n_in * n_out, n_out, act_q, true)?;
        let dense = Dense {
            in_features: n_in,
            out_features: n_out,
            params: match p {
                Validated::F32 { weights, bias } => DenseParams::F32 { weights, bias },
                Validated::Int8 {
                    weights,
                    bias,
                    input_zp,
                    output_zp,
                    requant,
                    ..
                } => DenseParams::Int8 {
                    weights,
                    bias,
                    requant,
                    input_zero_point: input_zp,
                    output_zero_point: output_zp,
                },
            },
        };
        Ok(Model {
            file,
            precision,
            dims,
            convs,
            dense,
        })
    }

    /// The decoded file (names, input spec, front end, raw layers).
    pub fn file(&self) -> &ModelFile<'a> {
        &self.file
    }
    /// The model name.
    pub fn name(&self) -> &'a str {
        self.file.name
    }
    /// Class names in logit order.
    pub fn classes(&self) -> &[&'a str] {
        &self.file.classes
    }
    /// The front end the model expects.
    pub fn frontend(&self) -> &FrontendConfig {
        &self.file.frontend
    }
    /// Input description.
    pub fn input(&self) -> &InputSpec {
        &self.file.input
    }
    /// f32 or int8.
    pub fn precision(&self) -> Precision {
        self.precision
    }
    /// Tensor sizes through the network.
    pub fn dims(&self) -> &Dims {
        &self.dims
    }
    /// Convolution block `b` (0-based).
    pub fn conv(&self, b: usize) -> Option<&Conv3x3<'a>> {
        self.convs.get(b)
    }
    /// The dense layer.
    pub fn dense(&self) -> &Dense<'a> {
        &self.dense
    }
    /// Quantisation of the dense layer's output (int8 models).
    pub fn logits_quant(&self) -> Option<QParams> {
        match self.file.layers.get(N_BLOCKS) {
            Some(Layer::Dense {
                params: Params::Int8 { output, .. },
                ..
            }) => Some(*output),
            _ => None,
        }
    }
    /// Quantisation of block `b`'s output (int8 models; `b` in `1..=5`), or of the input (`b = 0`).
    pub fn activation_quant(&self, b: usize) -> Option<QParams> {
        if b == 0 {
            return self.file.input.quant;
        }
        match self.file.layers.get(b - 1) {
            Some(Layer::Conv3x3ReluMaxPool2 {
                params: Params::Int8 { output, .. },
                ..
            }) => Some(*output),
            _ => None,
        }
    }
}

enum Validated<'a> {
    F32 {
        weights: &'a [u8],
        bias: &'a [u8],
    },
    Int8 {
        weights: &'a [u8],
        bias: &'a [u8],
        multipliers: &'a [u8],
        shifts: &'a [u8],
        input_zp: i32,
        output_zp: i32,
        /// The first channel's requantizer (the dense layer's one).
        requant: Requantizer,
    },
}

/// Checks one layer's parameters; returns them and the layer's output quantisation.
fn validate_params<'a>(
    params: Params<'a>,
    precision: Precision,
    n_weights: usize,
    n_out: usize,
    input_q: Option<QParams>,
    per_tensor: bool,
) -> Result<(Validated<'a>, Option<QParams>), Error> {
    match (params, precision, input_q) {
        (Params::F32 { weights, bias }, Precision::F32, None) => {
            if weights.len() != 4 * n_weights || bias.len() != 4 * n_out {
                return Err(Error::ShapeMismatch);
            }
            if !finite_f32s(weights) || !finite_f32s(bias) {
                return Err(Error::ModelNotFinite);
            }
            Ok((Validated::F32 { weights, bias }, None))
        }
        (
            Params::Int8 {
                weights,
                weight_scales,
                bias,
                multipliers,
                shifts,
                output,
            },
            Precision::Int8,
            Some(inq),
        ) => {
            if weights.len() != n_weights || bias.len() != 4 * n_out {
                return Err(Error::ShapeMismatch);
            }
            if !finite_f32s(weight_scales) || !output.scale.is_finite() {
                return Err(Error::ModelNotFinite);
            }
            output.validate()?;
            let n_scales = if per_tensor { 1 } else { n_out };
            let requant = check_requant(
                multipliers,
                shifts,
                weight_scales,
                inq.scale,
                output.scale,
                n_scales,
            )?;
            Ok((
                Validated::Int8 {
                    weights,
                    bias,
                    multipliers,
                    shifts,
                    input_zp: i32::from(inq.zero_point),
                    output_zp: i32::from(output.zero_point),
                    requant,
                },
                Some(output),
            ))
        }
        _ => Err(Error::ModelBadQuantisation),
    }
}

#[cfg(test)]
mod tests;
