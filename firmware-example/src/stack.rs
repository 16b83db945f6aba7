//! Peak stack use by stack painting: at boot every word of the unused stack
//! region is filled with a pattern; at exit the lowest word that no longer
//! holds it marks the high-water mark.

use core::ptr;

/// The paint pattern.
const PAINT: u32 = 0x5EED_C0DE;
/// Bytes under the painting function's stack pointer left untouched.
const MARGIN: usize = 64;

unsafe extern "C" {
    /// Lowest stack address (end of `.bss`/`.uninit`), from cortex-m-rt's `link.x`.
    static _stack_end: u32;
    /// Initial stack pointer (top of RAM), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
}

fn bottom() -> usize {
    ptr::addr_of!(_stack_end) as usize
}

/// Top of the stack (initial stack pointer).
pub fn top() -> usize {
    ptr::addr_of!(_stack_start) as usize
}

/// Size of the stack region in bytes (RAM left after the static data).
pub fn size() -> usize {
    top() - bottom()
}

/// Fills the stack region below the current stack pointer with the pattern.
/// Call first thing in `main`, before any interrupt is enabled.
#[inline(never)]
pub fn paint() {
    let sp = cortex_m::register::msp::read() as usize;
    let limit = sp.saturating_sub(MARGIN) & !3;
    let mut p = bottom();
    while p < limit {
        // SAFETY: `p` is word-aligned and lies between the end of the static
        // data and the live part of the stack (below this frame, with no
        // interrupt enabled yet), so nothing reads or owns it.
        unsafe { ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// Peak stack use in bytes since [`paint`]: from the top of the stack down to
/// the lowest word that lost the pattern.
pub fn peak() -> usize {
    let mut p = bottom();
    let top = top();
    while p < top {
        // SAFETY: `p` is word-aligned and inside the stack region.
        let w = unsafe { ptr::read_volatile(p as *const u32) };
        if w != PAINT {
            break;
        }
        p += 4;
    }
    top - p
}
