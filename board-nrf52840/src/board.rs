//! The board: which pins the microphone is on, and how the PDM is clocked. The one place to
//! change for another nRF52840 board.
//!
//! The defaults are the Arduino Nano 33 BLE Sense (rev 1) wiring of its MP34DT05 microphone:
//! CLK on P0.26, DIN (data) on P0.25, and the microphone's supply switched by P0.17 (driven
//! high at start-up). For a PDM microphone breakout on an nRF52840 DK, wire CLK to P0.26 and
//! DIN to P0.25 (P0.25 is also the DK's button 4: do not press it) and leave P0.17 unconnected.

use embassy_nrf::gpio::{Level, Output, OutputDrive};
use embassy_nrf::pdm::{self, Edge, Frequency, OperationMode, Ratio};
use embassy_nrf::peripherals::{P0_17, P0_25, P0_26, PDM};
use embassy_nrf::{Peri, Peripherals};
use fixed::types::I7F1;

/// The core clock of every nRF52840 (the DWT cycle counter's rate).
pub const CORE_CLOCK_HZ: u32 = 64_000_000;

/// The PDM's output rate: PDM_CLK 1.280 MHz (32 MHz / 25) over ratio 80.
pub const SAMPLE_RATE: u32 = 16_000;

/// The microphone's pins as the board names them, for the start-up log and the README.
pub const PINS: &str = "CLK P0.26, DIN P0.25, mic power P0.17";

/// The PDM gain in half-dB steps (`-40..=40`: -20 dB to +20 dB): +10 dB. A MEMS microphone
/// such as the MP34DT05 gives -26 dBFS at 94 dB SPL; music in a room at 70-85 dB SPL then sits
/// around -35 to -50 dBFS, and +10 dB lifts it towards the recorded music the model was
/// trained on while leaving 16 dB of headroom above 94 dB SPL.
pub const GAIN_HALF_DB: i8 = 20;

/// The microphone's peripherals, taken from the HAL's singletons.
pub struct Mic {
    /// The PDM peripheral.
    pub pdm: Peri<'static, PDM>,
    /// Clock out to the microphone.
    pub clk: Peri<'static, P0_26>,
    /// Data in from the microphone.
    pub din: Peri<'static, P0_25>,
    /// The microphone's supply switch.
    pub power: Peri<'static, P0_17>,
}

impl Mic {
    /// Takes the microphone's peripherals out of the HAL's set (the rest stay for other uses).
    pub fn take(p: Peripherals) -> Mic {
        Mic {
            pdm: p.PDM,
            clk: p.P0_26,
            din: p.P0_25,
            power: p.P0_17,
        }
    }

    /// Powers the microphone; the returned pin must live as long as the microphone is used.
    pub fn power_on(power: Peri<'static, P0_17>) -> Output<'static> {
        Output::new(power, Level::High, OutputDrive::HighDrive)
    }
}

/// Mono, 16 kHz, with the gain above; the left channel (L/R pin low) latched on the falling
/// clock edge, as a single microphone is usually strapped.
pub fn pdm_config() -> pdm::Config {
    pdm::Config {
        operation_mode: OperationMode::Mono,
        edge: Edge::LeftFalling,
        frequency: Frequency::_1280k,
        ratio: Ratio::Ratio80,
        gain_left: I7F1::from_bits(GAIN_HALF_DB),
        gain_right: I7F1::from_bits(GAIN_HALF_DB),
    }
}
