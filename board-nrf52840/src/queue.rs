//! The chunk queue between the microphone and the classifier: a zero-copy channel of
//! `QUEUE_CHUNKS` fixed buffers of `CHUNK` samples. The sampler copies each finished PDM
//! half-buffer into a free slot, or counts an overrun when none is free (the chunk is lost,
//! never silently); the classifier task takes the slots in order.

use core::sync::atomic::{AtomicU32, Ordering};

use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::zerocopy_channel::{Channel, Receiver, Sender};
use static_cell::{ConstStaticCell, StaticCell};

/// Samples per PDM half-buffer: 64 ms at 16 kHz.
pub const CHUNK: usize = 1024;

/// Chunks the queue holds (2 KiB each): 512 ms of audio, enough to ride out the CNN's work
/// when a hop's dense layer and block-5 column land on one chunk.
pub const QUEUE_CHUNKS: usize = 8;

/// One half-buffer of 16-bit PCM.
pub type Chunk = [i16; CHUNK];

/// The sampler's end.
pub type ChunkSender = Sender<'static, CriticalSectionRawMutex, Chunk>;
/// The classifier's end.
pub type ChunkReceiver = Receiver<'static, CriticalSectionRawMutex, Chunk>;

/// Chunks the PDM delivered.
pub static CHUNKS: AtomicU32 = AtomicU32::new(0);
/// Chunks lost because the queue was full.
pub static OVERRUNS: AtomicU32 = AtomicU32::new(0);

/// The queue's two ends (call once: a second call returns `None`).
pub fn split() -> Option<(ChunkSender, ChunkReceiver)> {
    // const-initialised: zeros in .bss, never built on the stack
    static BUFS: ConstStaticCell<[Chunk; QUEUE_CHUNKS]> =
        ConstStaticCell::new([[0; CHUNK]; QUEUE_CHUNKS]);
    static CHANNEL: StaticCell<Channel<'static, CriticalSectionRawMutex, Chunk>> =
        StaticCell::new();
    let bufs = BUFS.try_take()?;
    Some(CHANNEL.try_init(Channel::new(bufs))?.split())
}

/// The sampler's callback: copies `samples` into the next free slot, or counts an overrun.
/// Never runs the network.
pub fn offer(tx: &mut ChunkSender, samples: &Chunk) {
    CHUNKS.fetch_add(1, Ordering::Relaxed);
    match tx.try_send() {
        Some(slot) => {
            slot.copy_from_slice(samples);
            tx.send_done();
        }
        None => {
            OVERRUNS.fetch_add(1, Ordering::Relaxed);
        }
    }
}
