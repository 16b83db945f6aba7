//! Text output without `core::fmt`: its integer formatting, padding and 64-bit division cost
//! about 4 KiB of flash, so lines are assembled byte by byte in a fixed buffer, and the panic
//! handler and error messages use the same.

use semihosting::io::Write;

/// Longest line (bytes); a longer one is an error ([`Line::bytes`] gives `None`).
pub const MAX_LINE: usize = 512;

/// One line of text being assembled.
pub struct Line {
    buf: [u8; MAX_LINE],
    len: usize,
    overflow: bool,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Line {
        Line {
            buf: [0; MAX_LINE],
            len: 0,
            overflow: false,
        }
    }

    /// Empties the line.
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }

    /// Appends bytes.
    #[inline(never)]
    pub fn b(&mut self, s: &[u8]) -> &mut Self {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s);
                self.len = end;
            }
            None => self.overflow = true,
        }
        self
    }

    /// Appends text.
    pub fn s(&mut self, s: &str) -> &mut Self {
        self.b(s.as_bytes())
    }

    /// Appends `v` in decimal.
    #[inline(never)]
    pub fn u(&mut self, mut v: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut n = 0;
        loop {
            let (q, r) = divmod10(v);
            if let Some(d) = digits.get_mut(n) {
                *d = b'0' + r as u8;
            }
            n += 1;
            v = q;
            if v == 0 {
                break;
            }
        }
        for i in (0..n).rev() {
            let d = digits.get(i).copied().unwrap_or(b'?');
            self.b(&[d]);
        }
        self
    }

    /// Appends `v` in decimal.
    #[inline(never)]
    pub fn i(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.b(b"-");
        }
        self.u(v.unsigned_abs())
    }

    /// Appends `v` as eight lowercase hex digits.
    #[inline(never)]
    pub fn hex8(&mut self, v: u32) -> &mut Self {
        for k in (0..8).rev() {
            let d = ((v >> (4 * k)) & 0xf) as u8;
            self.b(&[if d < 10 { b'0' + d } else { b'a' + d - 10 }]);
        }
        self
    }

    /// The text so far, `None` if it overflowed the buffer.
    pub fn bytes(&self) -> Option<&[u8]> {
        if self.overflow {
            return None;
        }
        self.buf.get(..self.len)
    }
}

/// `(v / 10, v % 10)` from 32-bit divisions by a constant (long division in base 2^16 below
/// the high word): no 64-bit division routine in the firmware.
fn divmod10(v: u64) -> (u64, u32) {
    let (hi, lo) = ((v >> 32) as u32, v as u32);
    let (qh, r) = (hi / 10, hi % 10);
    let t = (r << 16) | (lo >> 16);
    let (q1, r1) = (t / 10, t % 10);
    let t2 = (r1 << 16) | (lo & 0xffff);
    let (q2, r2) = (t2 / 10, t2 % 10);
    ((u64::from(qh) << 32) | u64::from((q1 << 16) | q2), r2)
}

/// Writes all of `data` (the `Write::write_all` of the semihosting crate slices with a range
/// whose failure path pulls in `core::fmt`'s integer formatting, about 0.7 KiB of flash).
/// `Err(())` when a write fails or makes no progress.
#[inline(never)]
pub fn write_all(w: &mut impl Write, mut data: &[u8]) -> Result<(), ()> {
    while !data.is_empty() {
        match w.write(data) {
            Ok(n) if n > 0 => data = data.get(n..).ok_or(())?,
            _ => return Err(()),
        }
    }
    Ok(())
}

/// Writes one line to the host's stderr (best effort).
#[inline(never)]
pub fn eprint(f: impl FnOnce(&mut Line)) {
    let mut line = Line::new();
    f(&mut line);
    line.b(b"\n");
    if let (Ok(mut err), Some(b)) = (semihosting::io::stderr(), line.bytes()) {
        let _ = write_all(&mut err, b);
    }
}

/// Panics (none are expected: infer-core never panics) print where they happened and exit
/// with status 101.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    eprint(|l| {
        l.s("panic");
        if let Some(loc) = info.location() {
            l.s(" at ").s(loc.file()).s(":").u(u64::from(loc.line()));
        }
    });
    semihosting::process::exit(101)
}
