//! The embedded model (chosen by `build.rs`) and the checks it must pass before the microphone
//! starts: it loads, it is int8, and its front end runs at the PDM's rate.

use infer_core::model::{Model, Precision};

use crate::board;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}

pub use embedded::{MEL_EDGES, MODEL_NAME};

/// Why the board cannot classify with the embedded model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub enum ModelError {
    /// infer-core rejected the file (its message is logged).
    Load(#[defmt(Debug2Format)] infer_core::Error),
    /// A float model: the board runs int8 only.
    NotInt8,
    /// The model's front end expects another sample rate than the PDM's.
    SampleRate {
        /// The model's rate.
        model_hz: u32,
        /// The PDM's.
        pdm_hz: u32,
    },
}

/// Loads the embedded model and checks it against the board.
pub fn load() -> Result<Model<'static>, ModelError> {
    let model = Model::from_bytes(embedded::MODEL).map_err(ModelError::Load)?;
    if model.precision() != Precision::Int8 {
        return Err(ModelError::NotInt8);
    }
    let model_hz = model.frontend().sample_rate;
    if model_hz != board::SAMPLE_RATE {
        return Err(ModelError::SampleRate {
            model_hz,
            pdm_hz: board::SAMPLE_RATE,
        });
    }
    Ok(model)
}

/// Logs `e` as a defmt error, in words.
pub fn report(e: ModelError) {
    match e {
        ModelError::Load(e) => defmt::error!("model {=str}: {=str}", MODEL_NAME, e.message()),
        ModelError::NotInt8 => defmt::error!(
            "model {=str}: a float model; the board runs int8 models only",
            MODEL_NAME
        ),
        ModelError::SampleRate { model_hz, pdm_hz } => defmt::error!(
            "model {=str}: its front end expects {=u32} Hz audio but the PDM microphone delivers {=u32} Hz; \
             rebuild with TINYGENRE_BOARD_MODEL naming a {=u32} Hz model (default models/tiny16k-int8.postcard)",
            MODEL_NAME,
            model_hz,
            pdm_hz,
            pdm_hz
        ),
    }
}
