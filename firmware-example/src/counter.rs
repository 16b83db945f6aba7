//! Instruction counter: SysTick as a 24-bit down-counter clocked by the core
//! clock, with an exception handler that counts wraparounds.
//!
//! Under QEMU with `-icount shift=0` every guest instruction advances virtual
//! time by 1 ns, and the mps2-an386 core clock that drives SysTick runs at
//! 25 MHz, so one SysTick tick is 40 instructions. [`calibrate`] checks that
//! figure at boot against a loop of known length (the firmware reports it).
//! DWT's CYCCNT reads 0 under QEMU, hence SysTick.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};
use cortex_m_rt::exception;

/// SysTick reload value: the full 24-bit range.
const RELOAD: u32 = 0x00FF_FFFF;

/// Guest instructions per SysTick tick under `-icount shift=0` (1 GHz virtual
/// instruction clock / 25 MHz SysTick clock).
pub const INSNS_PER_TICK: u64 = 40;

/// Number of times the counter has wrapped from 0 to `RELOAD`.
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Starts SysTick on the core clock, full range, wrap interrupt enabled.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Ticks since [`start`], wraparounds included.
pub fn ticks() -> u64 {
    loop {
        let w1 = WRAPS.load(Ordering::Relaxed);
        let v = SYST::get_current();
        let pending = SCB::is_pendst_pending();
        let w2 = WRAPS.load(Ordering::Relaxed);
        if w1 != w2 {
            continue;
        }
        // A wrap whose exception has not run yet: the counter has just been
        // reloaded (high value) and the exception is pending.
        let extra = u64::from(pending && v > RELOAD / 2);
        return (u64::from(w1) + extra) * (u64::from(RELOAD) + 1) + u64::from(RELOAD - v);
    }
}

/// Runs a loop of exactly `2 * iterations` instructions (`subs` + `bne`) and
/// returns the SysTick ticks it took, to check [`INSNS_PER_TICK`].
pub fn calibrate(iterations: u32) -> u64 {
    let t0 = ticks();
    #[cfg(target_arch = "arm")]
    // SAFETY: a register-only countdown loop; touches no memory and no stack.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {n}, {n}, #1",
            "bne 2b",
            n = inout(reg) iterations => _,
            options(nomem, nostack),
        );
    }
    #[cfg(not(target_arch = "arm"))]
    let _ = iterations;
    ticks() - t0
}
