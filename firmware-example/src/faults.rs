//! What the segment and live firmwares share besides I/O: the fault handlers (a hard fault or an
//! unexpected exception prints where it happened and exits QEMU with a code the host reads) and
//! the decimal parser of their request files.

use cortex_m_rt::{ExceptionFrame, exception};

use crate::text::eprint;

/// An unsigned decimal of at most `max_digits` digits; `None` for anything else.
pub fn parse_decimal(s: &[u8], max_digits: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_digits {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    eprint(|l| {
        l.s("error: hard fault at pc=0x").hex8(ef.pc());
    });
    semihosting::process::exit(6)
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    eprint(|l| {
        l.s("error: unexpected exception ").i(irqn.into());
    });
    semihosting::process::exit(7)
}
