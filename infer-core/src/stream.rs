//! Streaming log-mel: push chunks of any size, get each frame as soon as its
//! last sample arrives.
//!
//! State is bounded: the [`LogMel`] core plus a ring of the last `n_fft`
//! (padded) samples. Every frame goes through the very same code as
//! [`LogMel::compute_f32`] with the very same f32 samples in the same order,
//! so the frames equal the whole-signal columns bit for bit, whatever the
//! chunking.
//!
//! `top_db` is rejected ([`Error::StreamTopDbUnsupported`]): librosa floors
//! at `max - top_db` with the maximum over the *whole* output, which a
//! stream cannot know until the end; a running-max floor would silently give
//! different values than the whole-signal form. Apply the floor yourself
//! after [`LogMelStream::finish`] if you need it.

use crate::Error;
use crate::config::{FrontendConfig, MAX_N_FFT};
use crate::frontend::{LogMel, Sample};
use crate::rfft;

/// Streaming form of [`LogMel`]. See the module docs.
#[derive(Clone)]
pub struct LogMelStream {
    core: LogMel,
    /// The last `n_fft` padded samples; `pos` is the oldest (next to overwrite).
    ring: [f32; MAX_N_FFT],
    pos: usize,
    /// Samples still to push before the next frame is complete.
    until_frame: usize,
    /// Real (unpadded) samples received.
    received: u64,
    finished: bool,
}

impl LogMelStream {
    /// A stream with the given configuration.
    ///
    /// # Errors
    /// Whatever [`FrontendConfig::validate`] reports, and
    /// [`Error::StreamTopDbUnsupported`] if `top_db` is set.
    pub fn new(cfg: &FrontendConfig) -> Result<LogMelStream, Error> {
        Self::build(cfg, None)
    }

    /// [`LogMelStream::new`] with the filterbank's band edges computed beforehand (see
    /// [`crate::filterbank::MelFilterbank::from_edges`]): bit-identical frames, without the mel
    /// scale's f64 `log`, `exp` and `pow` in the binary.
    ///
    /// # Errors
    /// As [`LogMelStream::new`]; [`Error::FrontendMismatch`] if `edges` holds fewer than
    /// `n_mels + 2` values.
    pub fn with_mel_edges(cfg: &FrontendConfig, edges: &[f64]) -> Result<LogMelStream, Error> {
        Self::build(cfg, Some(edges))
    }

    #[inline(always)]
    fn build(cfg: &FrontendConfig, edges: Option<&[f64]>) -> Result<LogMelStream, Error> {
        if cfg.top_db.is_some() {
            cfg.validate()?;
            return Err(Error::StreamTopDbUnsupported);
        }
        let core = match edges {
            Some(e) => LogMel::with_mel_edges(cfg, e)?,
            None => LogMel::new(cfg)?,
        };
        let mut s = LogMelStream {
            core,
            ring: [0.0; MAX_N_FFT],
            pos: 0,
            until_frame: 0,
            received: 0,
            finished: false,
        };
        s.reset();
        Ok(s)
    }

    /// Back to the start of a new signal (keeps the configuration).
    pub fn reset(&mut self) {
        let n_fft = self.core.config().n_fft as usize;
        self.ring.fill(0.0);
        // Centre padding: n_fft / 2 zeros are already "pushed".
        let pad = if self.core.config().center {
            n_fft / 2
        } else {
            0
        };
        self.pos = pad;
        self.until_frame = n_fft - pad;
        self.received = 0;
        self.finished = false;
    }

    /// The configuration.
    pub fn config(&self) -> &FrontendConfig {
        self.core.config()
    }

    /// Real samples pushed since the start (or the last reset).
    pub fn samples_received(&self) -> u64 {
        self.received
    }

    /// Pushes f32 samples; calls `on_frame` with the `n_mels` log-mel values
    /// of each frame completed by this chunk. Returns the number of frames.
    ///
    /// # Errors
    /// [`Error::InputNotFinite`] (nothing of the chunk is consumed),
    /// [`Error::StreamState`] after [`LogMelStream::finish`].
    pub fn push_f32(
        &mut self,
        chunk: &[f32],
        on_frame: impl FnMut(&[f32]),
    ) -> Result<usize, Error> {
        self.push(chunk, on_frame)
    }

    /// As [`LogMelStream::push_f32`] for 16-bit PCM (scaled by `1 / 32768`).
    ///
    /// # Errors
    /// [`Error::StreamState`] after [`LogMelStream::finish`].
    pub fn push_i16(
        &mut self,
        chunk: &[i16],
        on_frame: impl FnMut(&[f32]),
    ) -> Result<usize, Error> {
        self.push(chunk, on_frame)
    }

    /// Generic push.
    ///
    /// # Errors
    /// As [`LogMelStream::push_f32`].
    pub fn push<S: Sample>(
        &mut self,
        chunk: &[S],
        mut on_frame: impl FnMut(&[f32]),
    ) -> Result<usize, Error> {
        self.push_lending(chunk, |frame, _| on_frame(frame))
    }

    /// [`LogMelStream::push`] that also lends `on_frame` the front end's FFT buffer
    /// ([`crate::limits::MAX_N_FFT`] values, contents dead between frames: any may be written)
    /// as working memory, such as [`crate::executor::Executor::push_frame_in`]'s.
    ///
    /// # Errors
    /// As [`LogMelStream::push_f32`].
    pub fn push_lending<S: Sample>(
        &mut self,
        chunk: &[S],
        mut on_frame: impl FnMut(&[f32], &mut [f32]),
    ) -> Result<usize, Error> {
        if self.finished {
            return Err(Error::StreamState);
        }
        if !chunk.iter().all(|s| s.is_finite()) {
            return Err(Error::InputNotFinite);
        }
        self.received = self.received.saturating_add(chunk.len() as u64);
        self.feed(Some(chunk), chunk.len(), &mut on_frame)
    }

    /// Ends the signal: pushes the end padding (`n_fft / 2` zeros when
    /// centred) and emits the remaining frames. Afterwards the total number
    /// of frames equals `config.n_frames(samples_received())`. Call
    /// [`LogMelStream::reset`] to start again.
    ///
    /// # Errors
    /// [`Error::StreamState`] if already finished, [`Error::InputEmpty`] if
    /// no sample was pushed, [`Error::InputTooShort`] if (without centring)
    /// fewer than `n_fft` samples were pushed.
    pub fn finish(&mut self, mut on_frame: impl FnMut(&[f32])) -> Result<usize, Error> {
        self.finish_lending(|frame, _| on_frame(frame))
    }

    /// [`LogMelStream::finish`] lending the FFT buffer as [`LogMelStream::push_lending`] does.
    ///
    /// # Errors
    /// As [`LogMelStream::finish`].
    pub fn finish_lending(
        &mut self,
        mut on_frame: impl FnMut(&[f32], &mut [f32]),
    ) -> Result<usize, Error> {
        if self.finished {
            return Err(Error::StreamState);
        }
        if self.received == 0 {
            return Err(Error::InputEmpty);
        }
        let cfg = self.core.config();
        let n_fft = cfg.n_fft as usize;
        if !cfg.center && self.received < n_fft as u64 {
            return Err(Error::InputTooShort);
        }
        let pad = if cfg.center { n_fft / 2 } else { 0 };
        let frames = self.feed(None::<&[f32]>, pad, &mut on_frame)?;
        self.finished = true;
        Ok(frames)
    }

    /// Feeds `len` samples into the ring (`samples`, or zeros for `None`), emitting frames as
    /// they complete. Slice to slice: an iterator here cost 26 instructions per sample on the
    /// M4F, this about 5.
    fn feed<S: Sample>(
        &mut self,
        samples: Option<&[S]>,
        len: usize,
        on_frame: &mut impl FnMut(&[f32], &mut [f32]),
    ) -> Result<usize, Error> {
        let n_fft = self.core.config().n_fft as usize;
        let hop = self.core.config().hop_length as usize;
        let mut left = len;
        let mut frames = 0;
        while left > 0 {
            // Copy up to the ring's end, the next frame, or the chunk's end.
            let take = left.min(self.until_frame).min(n_fft - self.pos);
            let Some(dst) = self.ring.get_mut(self.pos..self.pos + take) else {
                return Err(Error::StreamState);
            };
            let done = len - left;
            match samples.and_then(|s| s.get(done..done + take)) {
                Some(src) => {
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d = s.to_f32();
                    }
                }
                None => dst.fill(0.0),
            }
            left -= take;
            self.pos += take;
            if self.pos == n_fft {
                self.pos = 0;
            }
            self.until_frame -= take;
            if self.until_frame == 0 {
                self.emit_frame()?;
                let (frame, buffer) = self.core.last_frame_and_buffer();
                on_frame(frame, buffer);
                frames += 1;
                self.until_frame = hop;
            }
        }
        Ok(frames)
    }

    /// Unrolls the ring (oldest first) into the core's frame buffer and runs it.
    fn emit_frame(&mut self) -> Result<(), Error> {
        let n_fft = self.core.config().n_fft as usize;
        // window, permutation and the FFT's first stage straight from the ring (no frame copy)
        if n_fft == rfft::N
            && rfft::load_ring_windowed_first_stage(&self.ring, self.pos, self.core.buf_2048())
        {
            let buf = self.core.buf_2048();
            rfft::cfft1024_dit_after_first_stage(buf);
            rfft::split_power_folded(buf);
            return self.core.finish_folded();
        }
        let (Some(old), Some(new)) = (self.ring.get(self.pos..n_fft), self.ring.get(..self.pos))
        else {
            return Err(Error::StreamState);
        };
        let frame = self.core.frame_buffer();
        // two plain copies (a chained iterator costs several instructions per sample)
        let (head, tail) = frame.split_at_mut(old.len().min(frame.len()));
        head.copy_from_slice(old.get(..head.len()).unwrap_or(&[]));
        let n = tail.len().min(new.len());
        if let (Some(d), Some(s)) = (tail.get_mut(..n), new.get(..n)) {
            d.copy_from_slice(s);
        }
        self.core.finish_frame()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn whole(cfg: &FrontendConfig, x: &[f32]) -> (usize, Vec<f32>) {
        let frames = cfg.n_frames(x.len());
        let mut out = vec![0.0; cfg.n_mels as usize * frames];
        let f = LogMel::new(cfg).unwrap().compute_f32(x, &mut out).unwrap();
        (f, out)
    }

    /// Streams `x` in random chunks (including empty and 1-sample ones) and
    /// returns the frames in mel-major layout.
    fn streamed(
        cfg: &FrontendConfig,
        x: &[f32],
        rng: &mut StdRng,
        max_chunk: usize,
    ) -> (usize, Vec<f32>) {
        let mut s = LogMelStream::new(cfg).unwrap();
        let mut cols: Vec<Vec<f32>> = Vec::new();
        let mut i = 0;
        while i < x.len() {
            let len = match rng.random_range(0..4) {
                0 => 0,
                1 => 1,
                _ => rng.random_range(0..=max_chunk),
            }
            .min(x.len() - i);
            let n = s
                .push_f32(&x[i..i + len], |f| cols.push(f.to_vec()))
                .unwrap();
            assert!(n <= len / cfg.hop_length as usize + 1);
            i += len;
        }
        s.finish(|f| cols.push(f.to_vec())).unwrap();
        let frames = cols.len();
        let n_mels = cfg.n_mels as usize;
        let mut out = vec![0.0; n_mels * frames];
        for (t, c) in cols.iter().enumerate() {
            assert_eq!(c.len(), n_mels);
            for m in 0..n_mels {
                out[m * frames + t] = c[m];
            }
        }
        (frames, out)
    }

    #[test]
    fn with_mel_edges_takes_the_precomputed_edges() {
        let cfg = FrontendConfig::DEFAULT;
        let edges: Vec<f64> = (0..cfg.n_mels as usize + 2)
            .map(|i| crate::filterbank::mel_edge_hz(&cfg, i))
            .collect();
        let a = LogMelStream::new(&cfg).unwrap();
        let b = LogMelStream::with_mel_edges(&cfg, &edges).unwrap();
        for m in 0..cfg.n_mels as usize {
            for k in 0..cfg.n_bins() {
                let (x, y) = (
                    a.core.filterbank().weight(m, k),
                    b.core.filterbank().weight(m, k),
                );
                assert_eq!(x.to_bits(), y.to_bits());
            }
        }
        assert!(matches!(
            LogMelStream::with_mel_edges(&cfg, &edges[..10]),
            Err(Error::FrontendMismatch)
        ));
    }

    #[test]
    fn stream_equals_whole_signal_bit_for_bit() {
        let mut rng = StdRng::seed_from_u64(3);
        for base in [FrontendConfig::DEFAULT, FrontendConfig::HTK1024] {
            for center in [true, false] {
                let cfg = FrontendConfig { center, ..base };
                for len in [1usize, 100, 1023, 1024, 2048, 5000, 22050] {
                    if !center && len < cfg.n_fft as usize {
                        continue;
                    }
                    let x: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect();
                    let (fw, w) = whole(&cfg, &x);
                    for max_chunk in [1usize, 7, 600, 5000] {
                        let (fs, s) = streamed(&cfg, &x, &mut rng, max_chunk);
                        assert_eq!(fs, fw, "len {len} center {center}");
                        assert_eq!(fs, cfg.n_frames(len));
                        let same = w.iter().zip(&s).all(|(a, b)| a.to_bits() == b.to_bits());
                        assert!(same, "len {len} center {center} chunk {max_chunk}");
                    }
                }
            }
        }
    }

    #[test]
    fn stream_i16_equals_whole_i16() {
        let cfg = FrontendConfig::DEFAULT;
        let pcm: Vec<i16> = (0..9000)
            .map(|i| ((i * 7919 + 13) % 65536 - 32768) as i16)
            .collect();
        let frames = cfg.n_frames(pcm.len());
        let mut w = vec![0.0; 128 * frames];
        LogMel::new(&cfg)
            .unwrap()
            .compute_i16(&pcm, &mut w)
            .unwrap();
        let mut s = LogMelStream::new(&cfg).unwrap();
        let mut cols = Vec::new();
        for c in pcm.chunks(333) {
            s.push_i16(c, |f| cols.push(f.to_vec())).unwrap();
        }
        s.finish(|f| cols.push(f.to_vec())).unwrap();
        assert_eq!(cols.len(), frames);
        for (t, c) in cols.iter().enumerate() {
            for m in 0..128 {
                assert_eq!(c[m].to_bits(), w[m * frames + t].to_bits());
            }
        }
    }

    #[test]
    fn stream_state_errors() {
        let cfg = FrontendConfig::DEFAULT;
        let mut s = LogMelStream::new(&cfg).unwrap();
        assert_eq!(s.finish(|_| {}), Err(Error::InputEmpty));
        assert_eq!(
            s.push_f32(&[0.0, f32::NAN], |_| {}),
            Err(Error::InputNotFinite)
        );
        assert_eq!(s.samples_received(), 0, "rejected chunk not consumed");
        assert_eq!(s.push_f32(&[0.0; 100], |_| {}), Ok(0));
        assert_eq!(s.finish(|_| {}), Ok(1));
        assert_eq!(s.push_f32(&[0.0], |_| {}), Err(Error::StreamState));
        assert_eq!(s.finish(|_| {}), Err(Error::StreamState));
        s.reset();
        assert_eq!(s.push_f32(&[0.0; 1024], |_| {}), Ok(1));

        let nc = FrontendConfig {
            center: false,
            ..cfg
        };
        let mut s = LogMelStream::new(&nc).unwrap();
        s.push_f32(&[0.1; 2000], |_| {}).unwrap();
        assert_eq!(s.finish(|_| {}), Err(Error::InputTooShort));

        let td = FrontendConfig {
            top_db: Some(80.0),
            ..cfg
        };
        assert!(matches!(
            LogMelStream::new(&td),
            Err(Error::StreamTopDbUnsupported)
        ));
        let bad = FrontendConfig {
            n_mels: 0,
            top_db: Some(80.0),
            ..cfg
        };
        assert!(matches!(
            LogMelStream::new(&bad),
            Err(Error::ConfigBadMelCount)
        ));
    }
}
