//! The tinygenre model file: a fixed 20-byte header followed by a postcard payload.
//!
//! Specified in `docs/model-format.md`; this module is its one implementation. Decoding is
//! zero-copy and allocation-free: names are `&'a str` and tensors `&'a [u8]` borrowed from the
//! file bytes (on a device they stay in flash), read on access as little-endian values.
//!
//! ```text
//! offset size field
//!  0     8    MAGIC = b"TGMODEL\0"
//!  8     2    format version, u16 little-endian (FORMAT_VERSION)
//! 10     2    flags, u16 little-endian, must be 0
//! 12     4    payload length in bytes, u32 little-endian
//! 16     4    CRC-32/ISO-HDLC (zlib's crc32) of the payload, u32 little-endian
//! 20     n    payload: postcard encoding of [`ModelFile`]
//! ```

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::config::FrontendConfig;
use crate::quant::QParams;

/// The first eight bytes of every model file.
pub const MAGIC: [u8; 8] = *b"TGMODEL\0";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the fixed header before the payload.
pub const HEADER_LEN: usize = 20;
/// Most classes a model may have.
pub const MAX_CLASSES: usize = 16;
/// Most layers a model file may list.
pub const MAX_LAYERS: usize = 8;

/// The CRC used over the payload (CRC-32/ISO-HDLC, as zlib's `crc32`).
pub const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Positional encoding applied to the normalised input (see the trainer's `models::posenc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PosEnc {
    /// None: one input channel.
    None,
    /// Two extra input channels: mel index and frame index mapped linearly to `[-1, 1]`.
    Coord,
    /// A fixed sinusoidal plane added to the input.
    Sinusoidal,
}

impl PosEnc {
    /// Input channels of the first convolution.
    pub fn in_channels(self) -> usize {
        match self {
            PosEnc::Coord => 3,
            PosEnc::None | PosEnc::Sinusoidal => 1,
        }
    }
}

/// What the network sees: segment length, log-mel shape, normalisation and input quantisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Audio samples per segment (66150 = 3 s at 22050 Hz).
    pub segment_samples: u32,
    /// Mel bands (must equal the front end's `n_mels`).
    pub n_mels: u16,
    /// Frames per segment (must equal `frontend.n_frames(segment_samples)`).
    pub frames: u16,
    /// Normalisation `(x - mean) / std` of the log-mel (dB).
    pub mean: f32,
    /// See `mean`; finite and > 0.
    pub std: f32,
    /// Positional encoding after normalisation.
    pub posenc: PosEnc,
    /// int8 models: quantisation of the normalised (and encoded) input; `None` for f32 models.
    pub quant: Option<QParams>,
}

/// The parameters of one layer, f32 or int8. All multi-byte values are little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Params<'a> {
    /// Float weights and biases.
    F32 {
        /// f32 weights (layout per layer kind, see [`Layer`]).
        weights: &'a [u8],
        /// f32 bias, one per output channel.
        bias: &'a [u8],
    },
    /// TFLite-style int8: symmetric weights, int32 bias, requantisation to int8 output.
    Int8 {
        /// i8 weights (layout per layer kind).
        weights: &'a [u8],
        /// f32 weight scales: one per output channel (conv) or one per tensor (dense).
        weight_scales: &'a [u8],
        /// i32 bias, one per output channel, scale `input_scale * weight_scale[c]`.
        bias: &'a [u8],
        /// i32 Q31 requantisation multipliers, one per weight scale.
        multipliers: &'a [u8],
        /// i8 requantisation shifts, one per weight scale.
        shifts: &'a [u8],
        /// Quantisation of the layer's output (after ReLU and pooling for conv blocks).
        output: QParams,
    },
}

/// One layer of the network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Layer<'a> {
    /// `conv 3x3 (stride 1, zero padding 1) -> ReLU -> max-pool 2x2 (stride 2, floor)`.
    /// Weights `[out_ch][3 (mel offset -1..=1)][3 (frame offset -1..=1)][in_ch]` (TFLite OHWI).
    Conv3x3ReluMaxPool2 {
        /// Input channels.
        in_ch: u16,
        /// Output channels.
        out_ch: u16,
        /// Weights and bias.
        #[serde(borrow)]
        params: Params<'a>,
    },
    /// Fully connected, no activation. Weights `[out][in]`, the input flattened in
    /// (mel, frame, channel) order (TFLite's NHWC reshape).
    Dense {
        /// Input features.
        in_features: u16,
        /// Output features (= classes).
        out_features: u16,
        /// Weights and bias.
        #[serde(borrow)]
        params: Params<'a>,
    },
}

/// The decoded payload of a model file (borrowing from the file bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile<'a> {
    /// A free-form model name (e.g. the run name).
    pub name: &'a str,
    /// Class names, in logit order.
    #[serde(borrow)]
    pub classes: heapless::Vec<&'a str, MAX_CLASSES>,
    /// Input description.
    pub input: InputSpec,
    /// The layers, in order.
    #[serde(borrow)]
    pub layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
    /// The log-mel front end the model was trained on.
    pub frontend: FrontendConfig,
}

/// Splits and checks the header; returns the payload.
///
/// # Errors
/// [`Error::ModelBadMagic`], [`Error::ModelTruncated`], [`Error::ModelVersionUnsupported`],
/// [`Error::ModelMalformed`] (non-zero flags, trailing bytes), [`Error::ModelChecksumMismatch`].
pub fn payload(bytes: &[u8]) -> Result<&[u8], Error> {
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes.get(..magic_len) != MAGIC.get(..magic_len) {
        return Err(Error::ModelBadMagic);
    }
    let (header, rest) = bytes
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(Error::ModelTruncated)?;
    // the fixed header: magic (checked above), version, flags, length, CRC
    let (_magic, version, flags, len, crc) = split_header(header);
    if version != FORMAT_VERSION {
        return Err(Error::ModelVersionUnsupported);
    }
    if flags != 0 {
        return Err(Error::ModelMalformed);
    }
    let len = len as usize;
    if rest.len() < len {
        return Err(Error::ModelTruncated);
    }
    if rest.len() > len {
        return Err(Error::ModelMalformed);
    }
    if CRC.checksum(rest) != crc {
        return Err(Error::ModelChecksumMismatch);
    }
    Ok(rest)
}

/// The header's fields: magic, version, flags, payload length, CRC.
fn split_header(h: &[u8; HEADER_LEN]) -> ([u8; 8], u16, u16, u32, u32) {
    let [
        m0,
        m1,
        m2,
        m3,
        m4,
        m5,
        m6,
        m7,
        v0,
        v1,
        f0,
        f1,
        l0,
        l1,
        l2,
        l3,
        c0,
        c1,
        c2,
        c3,
    ] = *h;
    (
        [m0, m1, m2, m3, m4, m5, m6, m7],
        u16::from_le_bytes([v0, v1]),
        u16::from_le_bytes([f0, f1]),
        u32::from_le_bytes([l0, l1, l2, l3]),
        u32::from_le_bytes([c0, c1, c2, c3]),
    )
}

impl<'a> ModelFile<'a> {
    /// Decodes a model file (header checks, checksum, postcard payload) without validating the
    /// contents; [`crate::model::Model::from_bytes`] does both.
    ///
    /// # Errors
    /// Those of [`payload`], and [`Error::ModelMalformed`] when the payload does not decode.
    pub fn decode(bytes: &'a [u8]) -> Result<ModelFile<'a>, Error> {
        let body = payload(bytes)?;
        match postcard::take_from_bytes::<ModelFile<'a>>(body) {
            Ok((file, [])) => Ok(file),
            Ok(_) => Err(Error::ModelMalformed),
            Err(postcard::Error::DeserializeUnexpectedEnd) => Err(Error::ModelTruncated),
            Err(_) => Err(Error::ModelMalformed),
        }
    }

    /// Encodes the file: header + postcard payload + CRC (host only).
    ///
    /// # Errors
    /// [`Error::ModelMalformed`] if postcard cannot serialise the payload or it exceeds 4 GiB.
    #[cfg(any(test, feature = "std"))]
    pub fn encode(&self) -> Result<std::vec::Vec<u8>, Error> {
        let body = postcard::to_allocvec(self).map_err(|_| Error::ModelMalformed)?;
        let len = u32::try_from(body.len()).map_err(|_| Error::ModelMalformed)?;
        let mut out = std::vec::Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&CRC.checksum(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }
}

/// Little-endian byte helpers for building tensors on the host.
#[cfg(any(test, feature = "std"))]
pub mod bytes {
    use std::vec::Vec;

    /// f32 values as little-endian bytes.
    pub fn f32_le(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    /// i32 values as little-endian bytes.
    pub fn i32_le(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    /// i8 values as bytes.
    pub fn i8_bytes(v: &[i8]) -> Vec<u8> {
        v.iter().map(|&x| x as u8).collect()
    }
}

/// The `i`-th little-endian f32 of a byte tensor; `None` past its end.
#[inline]
pub fn f32_at(bytes: &[u8], i: usize) -> Option<f32> {
    bytes
        .as_chunks::<4>()
        .0
        .get(i)
        .map(|b| f32::from_le_bytes(*b))
}

/// The `i`-th little-endian i32 of a byte tensor; `None` past its end.
#[inline]
pub fn i32_at(bytes: &[u8], i: usize) -> Option<i32> {
    bytes
        .as_chunks::<4>()
        .0
        .get(i)
        .map(|b| i32::from_le_bytes(*b))
}

/// A byte tensor's little-endian i32 values, in order (a trailing partial value is not one).
#[inline]
pub fn i32s(bytes: &[u8]) -> impl Iterator<Item = i32> + '_ {
    bytes
        .as_chunks::<4>()
        .0
        .iter()
        .map(|b| i32::from_le_bytes(*b))
}

/// A byte tensor's little-endian f32 values, in order (a trailing partial value is not one).
#[inline]
pub fn f32s(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes
        .as_chunks::<4>()
        .0
        .iter()
        .map(|b| f32::from_le_bytes(*b))
}

/// Owned (host-side) versions of the file types, for building and encoding models.
#[cfg(any(test, feature = "std"))]
pub mod owned {
    use std::string::String;
    use std::vec::Vec;

    use super::{InputSpec, Layer, MAX_CLASSES, MAX_LAYERS, ModelFile, Params};
    use crate::Error;
    use crate::config::FrontendConfig;
    use crate::quant::QParams;

    /// Owned layer parameters (byte tensors as in [`Params`]).
    #[derive(Debug, Clone, PartialEq)]
    pub enum OwnedParams {
        /// See [`Params::F32`].
        F32 {
            /// f32 LE.
            weights: Vec<u8>,
            /// f32 LE.
            bias: Vec<u8>,
        },
        /// See [`Params::Int8`].
        Int8 {
            /// i8.
            weights: Vec<u8>,
            /// f32 LE.
            weight_scales: Vec<u8>,
            /// i32 LE.
            bias: Vec<u8>,
            /// i32 LE.
            multipliers: Vec<u8>,
            /// i8.
            shifts: Vec<u8>,
            /// Output quantisation.
            output: QParams,
        },
    }

    /// Owned layer kinds.
    #[derive(Debug, Clone, PartialEq)]
    pub enum OwnedLayer {
        /// See [`Layer::Conv3x3ReluMaxPool2`].
        Conv {
            /// Input channels.
            in_ch: u16,
            /// Output channels.
            out_ch: u16,
            /// Parameters.
            params: OwnedParams,
        },
        /// See [`Layer::Dense`].
        Dense {
            /// Input features.
            in_features: u16,
            /// Output features.
            out_features: u16,
            /// Parameters.
            params: OwnedParams,
        },
    }

    impl OwnedParams {
        /// f32 weights and bias, stored little-endian.
        pub fn f32(weights: &[f32], bias: &[f32]) -> Self {
            OwnedParams::F32 {
                weights: super::bytes::f32_le(weights),
                bias: super::bytes::f32_le(bias),
            }
        }
    }

    impl OwnedLayer {
        /// A float conv block: `weights` OHWI `[out_ch][3][3][in_ch]`, one bias per output channel.
        pub fn conv_f32(in_ch: u16, out_ch: u16, weights: &[f32], bias: &[f32]) -> Self {
            OwnedLayer::Conv {
                in_ch,
                out_ch,
                params: OwnedParams::f32(weights, bias),
            }
        }

        /// A float dense layer: `weights` `[out_features][in_features]`, one bias per output.
        pub fn dense_f32(
            in_features: u16,
            out_features: u16,
            weights: &[f32],
            bias: &[f32],
        ) -> Self {
            OwnedLayer::Dense {
                in_features,
                out_features,
                params: OwnedParams::f32(weights, bias),
            }
        }
    }

    /// An owned model, convertible to a borrowed [`ModelFile`] and encodable.
    #[derive(Debug, Clone, PartialEq)]
    pub struct OwnedModel {
        /// Model name.
        pub name: String,
        /// Class names.
        pub classes: Vec<String>,
        /// Input description.
        pub input: InputSpec,
        /// Layers.
        pub layers: Vec<OwnedLayer>,
        /// Front end.
        pub frontend: FrontendConfig,
    }

    fn params(p: &OwnedParams) -> Params<'_> {
        match p {
            OwnedParams::F32 { weights, bias } => Params::F32 { weights, bias },
            OwnedParams::Int8 {
                weights,
                weight_scales,
                bias,
                multipliers,
                shifts,
                output,
            } => Params::Int8 {
                weights,
                weight_scales,
                bias,
                multipliers,
                shifts,
                output: *output,
            },
        }
    }

    impl OwnedModel {
        /// The borrowed view.
        ///
        /// # Errors
        /// [`Error::ModelClassesUnsupported`] / [`Error::ModelLayersUnsupported`] past the format's
        /// caps, [`MAX_CLASSES`] and [`MAX_LAYERS`] (a file beyond them does not decode).
        pub fn to_file(&self) -> Result<ModelFile<'_>, Error> {
            let n = |k: usize| u8::try_from(k).unwrap_or(u8::MAX);
            let over = Error::ModelClassesUnsupported {
                classes: n(self.classes.len()),
            };
            let mut classes = heapless::Vec::<&str, MAX_CLASSES>::new();
            for c in &self.classes {
                classes.push(c).map_err(|_| over)?;
            }
            let over = Error::ModelLayersUnsupported {
                layers: n(self.layers.len()),
            };
            let mut layers = heapless::Vec::<Layer<'_>, MAX_LAYERS>::new();
            for l in &self.layers {
                let layer = match l {
                    OwnedLayer::Conv {
                        in_ch,
                        out_ch,
                        params: p,
                    } => Layer::Conv3x3ReluMaxPool2 {
                        in_ch: *in_ch,
                        out_ch: *out_ch,
                        params: params(p),
                    },
                    OwnedLayer::Dense {
                        in_features,
                        out_features,
                        params: p,
                    } => Layer::Dense {
                        in_features: *in_features,
                        out_features: *out_features,
                        params: params(p),
                    },
                };
                layers.push(layer).map_err(|_| over)?;
            }
            Ok(ModelFile {
                name: &self.name,
                classes,
                input: self.input,
                layers,
                frontend: self.frontend,
            })
        }

        /// Encodes the model file.
        ///
        /// # Errors
        /// As [`OwnedModel::to_file`] and [`ModelFile::encode`].
        pub fn encode(&self) -> Result<Vec<u8>, Error> {
            self.to_file()?.encode()
        }
    }
}
