//! Host file I/O over semihosting: the clip list, raw PCM clips read in
//! DMA-sized chunks, and line-oriented output files.
//!
//! QEMU resolves relative paths against its own working directory; the host
//! runs it from the directory that holds `clips.txt`.

use core::ffi::CStr;

use semihosting::fs::File;
use semihosting::io::Read;

use crate::error::FwError;
use crate::text::Line;

/// Longest path accepted in the clip list (bytes).
pub const MAX_PATH: usize = 255;

/// A NUL-terminated copy of a path for semihosting calls.
pub struct CPath {
    buf: [u8; MAX_PATH + 1],
    len: usize,
}

impl CPath {
    /// Copies `path`; errors when it is too long or holds a NUL byte.
    pub fn new(path: &[u8]) -> Result<CPath, FwError> {
        if path.is_empty() || path.len() > MAX_PATH || path.contains(&0) {
            return Err(FwError::BadPath);
        }
        let mut buf = [0u8; MAX_PATH + 1];
        buf.get_mut(..path.len())
            .ok_or(FwError::BadPath)?
            .copy_from_slice(path);
        Ok(CPath {
            buf,
            len: path.len(),
        })
    }

    /// The path as a C string.
    pub fn as_cstr(&self) -> Result<&CStr, FwError> {
        let with_nul = self.buf.get(..=self.len).ok_or(FwError::BadPath)?;
        CStr::from_bytes_with_nul(with_nul).map_err(|_| FwError::BadPath)
    }

    /// The path's bytes (printed as they are).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Longest line accepted in the clip list (bytes, newline excluded).
pub const MAX_LINE: usize = MAX_PATH + 32;

/// The clip list, read line by line through a small buffer (no whole-file
/// buffer: the list may name any number of clips).
pub struct LineReader {
    file: File,
    buf: [u8; MAX_LINE + 1],
    start: usize,
    end: usize,
    eof: bool,
}

impl LineReader {
    /// Opens the list at `path`.
    pub fn open(path: &CStr) -> Result<LineReader, FwError> {
        let file = File::open(path).map_err(|_| FwError::ListOpen)?;
        Ok(LineReader {
            file,
            buf: [0; MAX_LINE + 1],
            start: 0,
            end: 0,
            eof: false,
        })
    }

    /// The next line without its newline, or `None` at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, FwError> {
        loop {
            let pending = self.buf.get(self.start..self.end).unwrap_or(&[]);
            if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let line = self.start..self.start + pos;
                self.start += pos + 1;
                return Ok(self.buf.get(line));
            }
            if self.eof {
                if self.start < self.end {
                    let line = self.start..self.end;
                    self.start = self.end;
                    return Ok(self.buf.get(line));
                }
                return Ok(None);
            }
            // Move the partial line to the front and read more after it, in pieces that do not
            // overlap (plain copies: no `memmove` in the firmware, 1.5 KiB of flash).
            let (len, gap) = (self.end - self.start, self.start);
            let mut done = 0;
            while done < len && gap > 0 {
                let n = gap.min(len - done);
                if let Some((head, tail)) = self.buf.split_at_mut_checked(gap + done)
                    && let (Some(d), Some(s)) = (head.get_mut(done..done + n), tail.get(..n))
                {
                    d.copy_from_slice(s);
                }
                done += n;
            }
            self.end -= self.start;
            self.start = 0;
            let free = self.buf.get_mut(self.end..).unwrap_or(&mut []);
            if free.is_empty() {
                return Err(FwError::ListTooLong);
            }
            let n = self.file.read(free).map_err(|_| FwError::ListRead)?;
            if n == 0 {
                self.eof = true;
            } else {
                self.end += n;
            }
        }
    }
}

/// A raw 16-bit little-endian mono PCM clip, read in chunks.
pub struct PcmClip {
    file: File,
    left: usize,
}

impl PcmClip {
    /// Opens the clip and checks its length against `n_samples` and `max_samples`.
    pub fn open(path: &CStr, n_samples: usize, max_samples: usize) -> Result<PcmClip, FwError> {
        if n_samples > max_samples {
            return Err(FwError::ClipTooLong {
                samples: n_samples,
                max: max_samples,
            });
        }
        let file = File::open(path).map_err(|_| FwError::ClipOpen)?;
        let bytes = file.metadata().map_err(|_| FwError::ClipRead)?.len();
        if bytes % 2 != 0 {
            return Err(FwError::ClipOddBytes { bytes });
        }
        let expected = 2 * n_samples as u64;
        if bytes < expected {
            return Err(FwError::ClipShort { bytes, expected });
        }
        if bytes > expected {
            return Err(FwError::ClipLong { bytes, expected });
        }
        Ok(PcmClip {
            file,
            left: n_samples,
        })
    }

    /// Fills `out` with the next samples (all of it unless the clip ends);
    /// returns how many were read. `bytes` is scratch of at least `2 * out.len()`.
    pub fn read(&mut self, out: &mut [i16], bytes: &mut [u8]) -> Result<usize, FwError> {
        let n = out.len().min(self.left);
        let raw = bytes.get_mut(..2 * n).ok_or(FwError::ClipRead)?;
        // A file that shrinks under us ends the read with an error: no hang. (Not `read_exact`:
        // its range slicing brings `core::fmt` into the firmware, as `text::write_all` says.)
        let mut todo: &mut [u8] = raw;
        while !todo.is_empty() {
            match self.file.read(todo) {
                Ok(got) if got > 0 => todo = todo.get_mut(got..).ok_or(FwError::ClipRead)?,
                _ => return Err(FwError::ClipRead),
            }
        }
        for (s, b) in out.iter_mut().zip(raw.chunks_exact(2)) {
            if let [lo, hi] = *b {
                *s = i16::from_le_bytes([lo, hi]);
            }
        }
        self.left -= n;
        Ok(n)
    }
}

/// A host file written line by line; lines are assembled in a [`Line`] and written with one
/// semihosting call each.
pub struct LineWriter {
    file: File,
    line: Line,
}

impl LineWriter {
    /// Creates (truncates) the file at `path`.
    pub fn create(path: &CStr) -> Result<LineWriter, FwError> {
        let file = File::create(path).map_err(|_| FwError::OutCreate)?;
        Ok(LineWriter {
            file,
            line: Line::new(),
        })
    }

    /// Writes one line, assembled by `f` (a newline is appended).
    pub fn line(&mut self, f: impl FnOnce(&mut Line)) -> Result<(), FwError> {
        self.line.clear();
        f(&mut self.line);
        self.line.b(b"\n");
        let data = self.line.bytes().ok_or(FwError::OutWrite)?;
        crate::text::write_all(&mut self.file, data).map_err(|()| FwError::OutWrite)
    }
}
