//! The one error type of infer-core: flat, `Copy`, and named by phase.

use core::fmt;

/// Everything that can go wrong in infer-core. Nothing in this crate panics;
/// every fallible call returns one of these.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    // ---- front-end configuration ----
    /// `n_fft` is not a power of two supported by the compiled FFT sizes.
    ConfigUnsupportedFftSize,
    /// `hop_length` is zero or larger than `n_fft`.
    ConfigBadHop,
    /// `n_mels` is zero or larger than the compiled maximum.
    ConfigBadMelCount,
    /// `f_min`/`f_max` are negative, not finite, out of order, or above the Nyquist frequency.
    ConfigBadFrequencyRange,
    /// The sample rate is zero.
    ConfigBadSampleRate,
    /// The dB parameters (reference, amin, top_db) are not finite and positive.
    ConfigBadDecibel,
    /// `power` is neither 1 nor 2.
    ConfigBadPower,
    // ---- front-end input ----
    /// The input holds no samples.
    InputEmpty,
    /// The input is shorter than the configuration needs (e.g. one frame without centring).
    InputTooShort,
    /// The input holds NaN or infinite samples.
    InputNotFinite,
    /// An output buffer is too small for the result.
    OutputTooSmall,
    /// A streaming call came in the wrong order (e.g. push after finish).
    StreamState,
    /// `top_db` needs the maximum of the whole output, which a stream does
    /// not know; the streaming front end rejects it (apply it afterwards).
    StreamTopDbUnsupported,
    // ---- model file ----
    /// The file ends before the structure it announces.
    ModelTruncated,
    /// The file does not start with the tinygenre magic bytes.
    ModelBadMagic,
    /// The file's format version is newer (or older) than this build reads.
    ModelVersionUnsupported,
    /// The payload's checksum does not match.
    ModelChecksumMismatch,
    /// The payload could not be decoded.
    ModelMalformed,
    /// The architecture is not one this build can run (also: a model of the other precision
    /// given to an executor or classifier).
    ModelArchitectureUnsupported,
    /// The file holds `layers` layers; this build runs exactly [`crate::model::N_BLOCKS`] conv
    /// blocks and one dense layer.
    ModelLayersUnsupported {
        /// Layers in the file (saturating).
        layers: u8,
    },
    /// Layer `index` (from 0) is not the kind this build runs there: a conv3x3-ReLU-maxpool
    /// block at 0..=4, the dense layer at 5.
    ModelLayerUnsupported {
        /// The layer's position in the file.
        index: u8,
    },
    /// Conv block `block` (1 to 5) has `channels` output channels; this build's buffers hold 1
    /// to [`crate::model::MAX_CHANNELS`]`[block - 1]`.
    ModelChannelsUnsupported {
        /// The block, from 1.
        block: u8,
        /// Its output channels in the file.
        channels: u16,
    },
    /// The model has `classes` classes; this build holds 1 to [`crate::format::MAX_CLASSES`].
    ModelClassesUnsupported {
        /// Classes in the file (saturating).
        classes: u8,
    },
    /// The dense layer would read `features` values (block 5's mels x frames x channels, set by
    /// the segment length and the widths); this build's buffer holds
    /// [`crate::model::MAX_FEATURES`].
    ModelFeaturesUnsupported {
        /// The dense layer's inputs the model needs (saturating).
        features: u16,
    },
    /// The model adds the sinusoidal positional encoding, which this build leaves out (infer-core
    /// feature `posenc-sinusoidal`).
    ModelPosEncUnsupported,
    /// A tensor's shape does not match the architecture or the compiled buffers.
    ShapeMismatch,
    /// A weight, scale or normalisation constant is NaN or infinite.
    ModelNotFinite,
    /// A quantisation parameter is out of range (scale ≤ 0, shift out of range, zero point out of range).
    ModelBadQuantisation,
    /// A layer's requantisation scale (`input_scale * weight_scale / output_scale`) is 0 or
    /// below `2^-32`: TFLite would flush it to a requantizer that maps every input to the
    /// output zero point.
    ModelScaleUnderflow,
    /// The model expects a front end other than the one supplied.
    FrontendMismatch,
    // ---- classifier configuration ----
    /// The hop is not one the classifier supports: continuous mode reports every `k * 2^5`
    /// frames (whole block-5 columns), `k` in `1..=frames[5]`.
    ClassifierUnsupportedHop,
    /// The model cannot run in continuous mode (its positional encoding depends on the frame's
    /// place in the segment).
    ClassifierModelCannotStream,
    /// The smoothing length is zero or longer than the compiled maximum.
    ClassifierBadSmoothing,
    /// The decision threshold is not a number in `0..=1`.
    ClassifierBadThreshold,
}

impl fmt::Display for Error {
    /// [`Error::message`], then for the errors that carry them the values that are unsupported.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::format::MAX_CLASSES;
        use crate::model::{MAX_CHANNELS, MAX_FEATURES};
        f.write_str(self.message())?;
        match *self {
            Error::ModelLayersUnsupported { layers } => write!(f, " (the file has {layers})"),
            Error::ModelLayerUnsupported { index } => write!(f, " (layer {index})"),
            Error::ModelChannelsUnsupported { block, channels } => {
                let max = usize::from(block)
                    .checked_sub(1)
                    .and_then(|b| MAX_CHANNELS.get(b))
                    .copied()
                    .unwrap_or(0);
                write!(
                    f,
                    " (block {block}: {channels} output channels, this build holds 1 to {max})"
                )
            }
            Error::ModelClassesUnsupported { classes } => {
                write!(
                    f,
                    " ({classes} classes, this build holds 1 to {MAX_CLASSES})"
                )
            }
            Error::ModelFeaturesUnsupported { features } => {
                write!(f, " ({features} values, this build holds {MAX_FEATURES})")
            }
            _ => Ok(()),
        }
    }
}

impl Error {
    /// The error's one-line description (what `Display` prints).
    pub fn message(&self) -> &'static str {
        match self {
            Error::ConfigUnsupportedFftSize => {
                "front-end config: n_fft is not a supported power of two"
            }
            Error::ConfigBadHop => "front-end config: hop_length must be in 1..=n_fft",
            Error::ConfigBadMelCount => "front-end config: n_mels must be in 1..=MAX_N_MELS",
            Error::ConfigBadFrequencyRange => {
                "front-end config: need 0 <= f_min < f_max <= sample_rate / 2"
            }
            Error::ConfigBadSampleRate => "front-end config: sample rate must be positive",
            Error::ConfigBadDecibel => {
                "front-end config: dB reference, amin and top_db must be finite and positive"
            }
            Error::ConfigBadPower => "front-end config: power must be 1 or 2",
            Error::InputEmpty => "input: no samples",
            Error::InputTooShort => "input: shorter than one frame",
            Error::InputNotFinite => "input: NaN or infinite sample",
            Error::OutputTooSmall => "output buffer too small",
            Error::StreamState => "stream: call out of order",
            Error::StreamTopDbUnsupported => {
                "stream: top_db needs the whole output; unsupported when streaming"
            }
            Error::ModelTruncated => "model: file truncated",
            Error::ModelBadMagic => "model: bad magic bytes (not a tinygenre model)",
            Error::ModelVersionUnsupported => "model: unsupported format version",
            Error::ModelChecksumMismatch => "model: checksum mismatch (corrupt file)",
            Error::ModelMalformed => "model: malformed payload",
            Error::ModelArchitectureUnsupported => "model: unsupported architecture",
            Error::ModelLayersUnsupported { .. } => "model: unsupported layer count",
            Error::ModelLayerUnsupported { .. } => "model: unsupported layer kind here",
            Error::ModelChannelsUnsupported { .. } => "model: unsupported channel count",
            Error::ModelClassesUnsupported { .. } => "model: unsupported class count",
            Error::ModelFeaturesUnsupported { .. } => "model: dense input too large",
            Error::ModelPosEncUnsupported => "model: sinusoidal encoding not compiled in",
            Error::ShapeMismatch => "model: tensor shape does not fit the architecture or buffers",
            Error::ModelNotFinite => "model: NaN or infinite parameter",
            Error::ModelBadQuantisation => "model: invalid quantisation parameter",
            Error::ModelScaleUnderflow => {
                "model: requantisation scale below 2^-32 (the layer's output would be constant)"
            }
            Error::FrontendMismatch => "model: front-end configuration mismatch",
            Error::ClassifierUnsupportedHop => {
                "classifier: hop must be a whole number of block-5 columns (32 frames), at most the dense layer's window"
            }
            Error::ClassifierModelCannotStream => {
                "classifier: the model's positional encoding needs segments; it cannot stream"
            }
            Error::ClassifierBadSmoothing => {
                "classifier: smoothing length must be in 1..=MAX_SMOOTHING"
            }
            Error::ClassifierBadThreshold => "classifier: threshold must be in 0..=1",
        }
    }
}

impl core::error::Error for Error {}
