//! tinygenre on an nRF52840: the PDM microphone, 16 kHz mono, classified by infer-core's
//! continuous `Classifier` with a label every hop, logged over defmt (RTT).
//!
//! Two executors: the sampler runs on an interrupt executor (EGU0_SWI0, above thread mode) so
//! the PDM's double-buffer swap is never held up by the network; it only copies each finished
//! half-buffer into the chunk queue (`queue.rs`). The classifier task runs in thread mode and
//! takes the chunks in order (`listen.rs`). No heap: the model is `include_bytes!`, the front
//! end, the executor and the queue are statics.

#![no_std]
#![no_main]

mod board;
mod listen;
mod model;
mod queue;

use defmt_rtt as _;
use panic_probe as _;

use embassy_executor::{InterruptExecutor, Spawner};
use embassy_nrf::interrupt;
use embassy_nrf::interrupt::{InterruptExt, Priority};
use embassy_nrf::pdm::{self, Pdm, SamplerState};
use embassy_nrf::{bind_interrupts, peripherals};
use infer_core::classifier::{Classifier, ClassifierConfig};
use infer_core::executor::Executor;
use infer_core::model::Model;
use infer_core::stream::LogMelStream;
use static_cell::StaticCell;

use crate::board::Mic;
use crate::queue::{CHUNK, ChunkSender};

bind_interrupts!(struct Irqs {
    PDM => pdm::InterruptHandler<peripherals::PDM>;
});

defmt::timestamp!("{=u64:us}", embassy_time::Instant::now().as_micros());

/// The sampler's executor, preempting the classifier in thread mode.
static SAMPLER_EXECUTOR: InterruptExecutor = InterruptExecutor::new();

#[interrupt]
unsafe fn EGU0_SWI0() {
    // SAFETY: the interrupt the executor was started on (`start` below), and nothing else.
    unsafe { SAMPLER_EXECUTOR.on_interrupt() }
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let mut config = embassy_nrf::config::Config::default();
    // every nRF52840 board carries the 32 MHz crystal (the radio needs it); the PDM clock is
    // divided from it, so the sample rate is as exact as the crystal
    config.hfclk_source = embassy_nrf::config::HfclkSource::ExternalXtal;
    let p = embassy_nrf::init(config);

    if let Some(mut cp) = cortex_m::Peripherals::take() {
        cp.DCB.enable_trace();
        cp.DWT.enable_cycle_counter();
    } else {
        defmt::warn!("core peripherals taken: cycle counts will read 0");
    }

    defmt::info!(
        "tinygenre board-nrf52840: model {=str}, PDM {=u32} Hz mono ({=str}), chunks of {=usize}",
        model::MODEL_NAME,
        board::SAMPLE_RATE,
        board::PINS,
        CHUNK
    );
    let clf = match classifier() {
        Ok(c) => c,
        Err(()) => halt(),
    };
    let m = clf.model();
    defmt::info!(
        "model {=str}: {=usize} genres, {=u32} mels, hop {=u32} samples",
        m.name(),
        m.classes().len(),
        m.frontend().n_mels,
        m.frontend().hop_length
    );
    let Some((tx, rx)) = queue::split() else {
        defmt::error!("chunk queue already taken");
        halt()
    };

    let mic = Mic::take(p);
    // kept for the program's life: dropping it would switch the microphone off
    let power = Mic::power_on(mic.power);
    let pdm = Pdm::new(mic.pdm, Irqs, mic.clk, mic.din, board::pdm_config());

    interrupt::EGU0_SWI0.set_priority(Priority::P6);
    let sampler = SAMPLER_EXECUTOR.start(interrupt::EGU0_SWI0);
    sampler.spawn(defmt::unwrap!(sample(pdm, tx, power)));
    spawner.spawn(defmt::unwrap!(listen::listen(clf, rx)));
}

/// Loads and checks the model, builds the front end and the executor in statics, and the
/// continuous classifier on them; logs what went wrong otherwise.
fn classifier() -> Result<listen::BoardClassifier, ()> {
    static MODEL: StaticCell<Model<'static>> = StaticCell::new();
    static STREAM: StaticCell<LogMelStream> = StaticCell::new();
    static EXECUTOR: StaticCell<Executor<i8>> = StaticCell::new();

    let model = model::load().map_err(model::report)?;
    let model: &'static Model<'static> = MODEL.init(model);
    let stream = LogMelStream::with_mel_edges(model.frontend(), &model::MEL_EDGES)
        .map_err(|e| defmt::error!("front end: {=str}", e.message()))?;
    let stream = STREAM.init(stream);
    let exec = EXECUTOR.init(Executor::new());
    Classifier::with_parts(model, ClassifierConfig::CONTINUOUS, stream, exec)
        .map_err(|e| defmt::error!("classifier: {=str}", e.message()))
}

/// The sampler: PDM double-buffered into two DMA buffers; each finished one goes to the queue.
#[embassy_executor::task]
async fn sample(
    mut pdm: Pdm<'static>,
    mut tx: ChunkSender,
    _power: embassy_nrf::gpio::Output<'static>,
) {
    static BUFS: static_cell::ConstStaticCell<[[i16; CHUNK]; 2]> =
        static_cell::ConstStaticCell::new([[0; CHUNK]; 2]);
    let bufs = BUFS.take();
    let result = pdm
        .run_task_sampler(bufs, |samples| {
            queue::offer(&mut tx, samples);
            SamplerState::Sampled
        })
        .await;
    if let Err(e) = result {
        defmt::error!("PDM: {}", e);
    }
}

/// Stops here for good: the reason is logged; the core sleeps until reset.
fn halt() -> ! {
    defmt::error!("halted");
    loop {
        cortex_m::asm::wfi();
    }
}
