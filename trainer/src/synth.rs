//! A synthetic stand-in for GTZAN: procedurally generated music in ten classes
//! named after the GTZAN genres, written in the GTZAN layout
//! (`genres/<genre>/<genre>.000NN.wav`, 22050 Hz, 16-bit mono).
//!
//! The classes differ the way genres do: tempo, rhythm pattern (four-on-the-floor,
//! one-drop, back-beat, double kick, jazz ride), swing, drum timbres, bass style
//! (walking, boom-chick, octave, 808 sub, syncopated), harmony (dominant 7ths,
//! extended chords, power chords, triads) and its instrument (strings, piano,
//! plucked guitar, distorted guitar, organ skank), distortion, dynamics and
//! recording bandwidth/noise. They overlap where genres overlap: rock and metal
//! share distorted power chords and back-beats, blues and jazz share swing and
//! walking bass, disco and pop share four-on-the-floor and synth pads. Every clip
//! draws its key, tempo, instrument choices, mix levels, tone, noise floor and
//! level at random, so a classifier must generalise over pitch and noise.
//!
//! Generation is deterministic: each clip's RNG is seeded from
//! `(seed, genre, index)`, and clips are rendered in parallel with rayon.

use std::f32::consts::PI;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use rayon::prelude::*;

use crate::dataset::GTZAN_GENRES;

/// Sample rate of the generated files (GTZAN's).
pub const SAMPLE_RATE: u32 = 22050;

/// Size of the default synthetic set built by [`ensure_default`]: clips per genre.
///
/// 4 clips x 10 genres x 30 s = 40 tracks, 400 three-second segments (30 tracks
/// train, 10 test with the study's per-genre 70/30 split). It is sized for the
/// README's main job, `trainer run --model baseline --synthetic` (10 epochs), to
/// finish in under 10 minutes on 2 cores: see the README for the measured time.
/// `trainer synth --per-genre 100` makes a GTZAN-size set.
pub const DEFAULT_PER_GENRE: usize = 4;
/// Clip length of the default synthetic set, in seconds (GTZAN's).
pub const DEFAULT_SECONDS: f32 = 30.0;
/// Seed of the default synthetic set.
pub const DEFAULT_SEED: u64 = 2020;

/// Errors of the generator; each names the file or folder concerned.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Bad parameters.
    #[error("synth: {0}")]
    BadParameters(String),
    /// A file or folder could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// hound failed to encode a WAV file.
    #[error("{path}: WAV encoding failed: {reason}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// hound's explanation.
        reason: String,
    },
}

/// Writes `per_genre` clips of `seconds` s for each of the ten genres under
/// `out_dir/genres/<genre>/<genre>.000NN.wav`. Deterministic for a `seed`.
pub fn generate(
    out_dir: &Path,
    per_genre: usize,
    seconds: f32,
    seed: u64,
) -> Result<(), SynthError> {
    if per_genre == 0 || !(seconds.is_finite() && (0.5..=600.0).contains(&seconds)) {
        return Err(SynthError::BadParameters(format!(
            "need per_genre >= 1 and 0.5 <= seconds <= 600 (got {per_genre}, {seconds})"
        )));
    }
    for g in GTZAN_GENRES {
        let dir = out_dir.join("genres").join(g);
        std::fs::create_dir_all(&dir).map_err(|source| SynthError::Io { path: dir, source })?;
    }
    let jobs: Vec<(usize, usize)> = (0..GTZAN_GENRES.len())
        .flat_map(|g| (0..per_genre).map(move |i| (g, i)))
        .collect();
    jobs.par_iter().try_for_each(|&(g, i)| {
        let samples = render_clip(g, seconds, clip_seed(seed, g, i));
        let name = GTZAN_GENRES[g];
        let path = out_dir
            .join("genres")
            .join(name)
            .join(format!("{name}.{i:05}.wav"));
        write_wav_i16(&path, &samples)
    })
}

/// Builds, once, the default synthetic set under `cache_root/synthetic-<params>`
/// and returns its root (usable with `Dataset::discover`). The set is generated
/// into a temporary folder beside it and renamed into place, so an interrupted
/// build leaves nothing half-made under the final name.
pub fn ensure_default(cache_root: &Path) -> Result<PathBuf, SynthError> {
    ensure(cache_root, DEFAULT_PER_GENRE, DEFAULT_SECONDS, DEFAULT_SEED)
}

/// [`ensure_default`] with explicit size and seed.
pub fn ensure(
    cache_root: &Path,
    per_genre: usize,
    seconds: f32,
    seed: u64,
) -> Result<PathBuf, SynthError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Io { path, source }
    };
    let name = format!("synthetic-v{GENERATOR_VERSION}-{per_genre}x{seconds}s-seed{seed}");
    let dest = cache_root.join(name);
    if dest.join("genres").is_dir() {
        return Ok(dest);
    }
    std::fs::create_dir_all(cache_root).map_err(io(cache_root))?;
    let tmp = tempfile::Builder::new()
        .prefix(".synthetic-tmp-")
        .tempdir_in(cache_root)
        .map_err(io(cache_root))?;
    eprintln!(
        "synth: generating {per_genre} x {seconds} s clips per genre (seed {seed}) into {}",
        dest.display()
    );
    generate(tmp.path(), per_genre, seconds, seed)?;
    let tmp_path = tmp.keep();
    match std::fs::rename(&tmp_path, &dest) {
        Ok(()) => Ok(dest),
        // Another process finished first: keep theirs.
        Err(_) if dest.join("genres").is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp_path);
            Ok(dest)
        }
        Err(e) => Err(io(&dest)(e)),
    }
}

/// Bumped whenever the generator's output changes, so cached sets are rebuilt.
pub const GENERATOR_VERSION: u32 = 1;

/// The per-clip seed: blake3 of `(seed, genre, index)`.
fn clip_seed(seed: u64, genre: usize, index: usize) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(b"tinygenre synth clip");
    h.update(&seed.to_le_bytes());
    h.update(&(genre as u64).to_le_bytes());
    h.update(&(index as u64).to_le_bytes());
    let b = h.finalize();
    let mut s = [0u8; 8];
    s.copy_from_slice(&b.as_bytes()[..8]);
    u64::from_le_bytes(s)
}

fn write_wav_i16(path: &Path, samples: &[f32]) -> Result<(), SynthError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let wav_err = |e: hound::Error| SynthError::Wav {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut buf = Cursor::new(Vec::with_capacity(44 + 2 * samples.len()));
    {
        let mut w = hound::WavWriter::new(&mut buf, spec).map_err(wav_err)?;
        let mut w16 = w.get_i16_writer(samples.len() as u32);
        for &x in samples {
            w16.write_sample((x.clamp(-1.0, 1.0) * 32767.0).round() as i16);
        }
        w16.flush().map_err(wav_err)?;
        w.finalize().map_err(wav_err)?;
    }
    crate::fsio::write_atomic(path, buf.get_ref()).map_err(|e| SynthError::Io {
        path: e.path,
        source: e.source,
    })
}

// ---------------------------------------------------------------------------
// Sound sources
// ---------------------------------------------------------------------------

const SR: f32 = SAMPLE_RATE as f32;

/// Fast white noise in [-1, 1) (xorshift32), seeded from the clip's RNG.
struct Noise(u32);

impl Noise {
    fn new(rng: &mut Xoshiro256PlusPlus) -> Noise {
        Noise(rng.next_u32() | 1)
    }
    #[inline]
    fn next(&mut self) -> f32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        (x as f32 / 2_147_483_648.0) - 1.0
    }
}

fn midi_hz(note: f32) -> f32 {
    440.0 * 2f32.powf((note - 69.0) / 12.0)
}

/// One-pole low-pass coefficient for cutoff `fc` Hz.
fn lp_coef(fc: f32) -> f32 {
    1.0 - (-2.0 * PI * fc.min(SR * 0.49) / SR).exp()
}

#[derive(Clone, Copy, PartialEq)]
enum Wave {
    Sine,
    Saw,
    Square,
    Triangle,
}

/// A note of a simple subtractive synthesiser voice.
#[derive(Clone, Copy)]
struct Voice {
    wave: Wave,
    /// Attack in seconds.
    attack: f32,
    /// Exponential decay time constant in seconds (large = sustained).
    decay: f32,
    /// Level the decay falls towards (0..1).
    sustain: f32,
    /// Release in seconds (linear fade at the end of the note).
    release: f32,
    /// Low-pass cutoff in Hz.
    cutoff: f32,
    /// Detuned second oscillator (cents; 0 = none).
    detune: f32,
    /// Vibrato depth in semitones and rate in Hz.
    vibrato: (f32, f32),
}

fn add_note(buf: &mut [f32], start: f32, dur: f32, note: f32, amp: f32, v: &Voice) {
    let s0 = (start * SR) as isize;
    let total = ((dur + v.release) * SR) as usize;
    if s0 < 0 || total == 0 {
        return;
    }
    let s0 = s0 as usize;
    if s0 >= buf.len() {
        return;
    }
    let n = total.min(buf.len() - s0);
    let f = midi_hz(note);
    let inc1 = f / SR;
    let inc2 = f * 2f32.powf(v.detune / 1200.0) / SR;
    let mut ph1 = 0.0f32;
    let mut ph2 = 0.37f32;
    let a = lp_coef(v.cutoff);
    let mut y = 0.0f32;
    let att = (v.attack * SR).max(1.0);
    let dk = (-1.0 / (v.decay.max(1e-3) * SR)).exp();
    let mut d = 1.0f32;
    let note_len = (dur * SR) as usize;
    let rel = (v.release * SR).max(1.0);
    let vib_inc = v.vibrato.1 / SR;
    let mut vib_ph = 0.0f32;
    let two = v.detune != 0.0;
    let osc = |ph: f32| match v.wave {
        Wave::Sine => (2.0 * PI * ph).sin(),
        Wave::Saw => 2.0 * ph - 1.0,
        Wave::Square => {
            if ph < 0.5 {
                1.0
            } else {
                -1.0
            }
        }
        Wave::Triangle => 1.0 - 4.0 * (ph - 0.5).abs(),
    };
    for (i, out) in buf[s0..s0 + n].iter_mut().enumerate() {
        let vib = if v.vibrato.0 > 0.0 {
            vib_ph += vib_inc;
            if vib_ph >= 1.0 {
                vib_ph -= 1.0;
            }
            1.0 + 0.0578 * v.vibrato.0 * (2.0 * PI * vib_ph).sin()
        } else {
            1.0
        };
        ph1 += inc1 * vib;
        if ph1 >= 1.0 {
            ph1 -= 1.0;
        }
        let mut x = osc(ph1);
        if two {
            ph2 += inc2 * vib;
            if ph2 >= 1.0 {
                ph2 -= 1.0;
            }
            x = 0.5 * (x + osc(ph2));
        }
        y += a * (x - y);
        let fi = i as f32;
        let mut env = (fi / att).min(1.0) * (v.sustain + (1.0 - v.sustain) * d);
        d *= dk;
        if i >= note_len {
            env *= (1.0 - (i - note_len) as f32 / rel).max(0.0);
        }
        *out += amp * env * y;
    }
}

/// A piano / electric-piano tone: a few decaying partials (sine recurrences).
fn add_piano(buf: &mut [f32], start: f32, dur: f32, note: f32, amp: f32, bright: f32) {
    let s0 = (start * SR) as isize;
    if s0 < 0 {
        return;
    }
    let s0 = s0 as usize;
    if s0 >= buf.len() {
        return;
    }
    let n = (((dur + 0.15) * SR) as usize).min(buf.len() - s0);
    let f = midi_hz(note);
    let note_len = (dur * SR) as usize;
    for k in 1..=5u32 {
        let fk = f * k as f32 * (1.0 + 0.0004 * (k * k) as f32);
        if fk >= SR * 0.45 {
            break;
        }
        let w = f64::from(2.0 * PI * fk / SR);
        let c = 2.0 * w.cos();
        let (mut y1, mut y2) = ((-w).sin(), (-2.0 * w).sin());
        let ak = amp * bright.powi(k as i32 - 1) / k as f32;
        let dk = (-1.0 / ((1.2 / k as f32 + 0.1) * SR)).exp();
        let mut d = ak;
        for (i, out) in buf[s0..s0 + n].iter_mut().enumerate() {
            let y = c * y1 - y2;
            y2 = y1;
            y1 = y;
            let mut e = d;
            if i >= note_len {
                e *= (1.0 - (i - note_len) as f32 / (0.15 * SR)).max(0.0);
            }
            *out += e * y as f32;
            d *= dk;
        }
    }
}

/// A plucked string (Karplus-Strong).
fn add_pluck(
    buf: &mut [f32],
    start: f32,
    dur: f32,
    note: f32,
    amp: f32,
    bright: f32,
    noise: &mut Noise,
) {
    let s0 = (start * SR) as isize;
    if s0 < 0 {
        return;
    }
    let s0 = s0 as usize;
    if s0 >= buf.len() {
        return;
    }
    let n = (((dur + 0.05) * SR) as usize).min(buf.len() - s0);
    let period = (SR / midi_hz(note)).max(2.0) as usize;
    let mut line = vec![0.0f32; period];
    let a = bright.clamp(0.05, 1.0);
    let mut y = 0.0;
    for v in line.iter_mut() {
        y += a * (noise.next() - y);
        *v = y;
    }
    let decay = 0.996f32;
    let note_len = (dur * SR) as usize;
    let mut idx = 0;
    for (i, out) in buf[s0..s0 + n].iter_mut().enumerate() {
        let next = if idx + 1 == period { 0 } else { idx + 1 };
        let x = line[idx];
        line[idx] = decay * 0.5 * (x + line[next]);
        idx = next;
        let mut e = amp;
        if i >= note_len {
            e *= (1.0 - (i - note_len) as f32 / (0.05 * SR)).max(0.0);
        }
        *out += e * x;
    }
}

fn add_kick(buf: &mut [f32], start: f32, amp: f32, f_hi: f32, f_lo: f32, decay: f32) {
    let s0 = (start * SR) as isize;
    if s0 < 0 {
        return;
    }
    let s0 = s0 as usize;
    if s0 >= buf.len() {
        return;
    }
    let n = ((decay * 5.0 * SR) as usize).min(buf.len() - s0);
    let mut ph = 0.0f32;
    let sweep = (-1.0 / (0.025 * SR)).exp();
    let dk = (-1.0 / (decay * SR)).exp();
    let mut s = 1.0f32;
    let mut d = amp;
    for out in buf[s0..s0 + n].iter_mut() {
        let f = f_lo + (f_hi - f_lo) * s;
        s *= sweep;
        ph += f / SR;
        if ph >= 1.0 {
            ph -= 1.0;
        }
        *out += d * (2.0 * PI * ph).sin();
        d *= dk;
    }
}

/// Noise drum: snare (`tone` > 0 adds a body), hat, brush; `hp` in 0..1 is how
/// much low end is removed, `lp` a low-pass cutoff.
#[allow(clippy::too_many_arguments)]
fn add_noise_hit(
    buf: &mut [f32],
    start: f32,
    amp: f32,
    decay: f32,
    hp: f32,
    lp: f32,
    tone: f32,
    noise: &mut Noise,
) {
    let s0 = (start * SR) as isize;
    if s0 < 0 {
        return;
    }
    let s0 = s0 as usize;
    if s0 >= buf.len() {
        return;
    }
    let n = ((decay * 5.0 * SR) as usize).min(buf.len() - s0);
    let dk = (-1.0 / (decay * SR)).exp();
    let a = lp_coef(lp);
    let mut d = amp;
    let mut prev = 0.0f32;
    let mut y = 0.0f32;
    let mut ph = 0.0f32;
    let tk = (-1.0 / (0.04 * SR)).exp();
    let mut td = if tone > 0.0 { amp * 0.8 } else { 0.0 };
    for out in buf[s0..s0 + n].iter_mut() {
        let x = noise.next();
        let h = x - hp * prev;
        prev = x;
        y += a * (h - y);
        let mut v = d * y;
        if td > 1e-5 {
            ph += tone / SR;
            if ph >= 1.0 {
                ph -= 1.0;
            }
            v += td * (2.0 * PI * ph).sin();
            td *= tk;
        }
        *out += v;
        d *= dk;
    }
}

/// A metallic cymbal (ride / crash): six square waves at inharmonic ratios plus
/// noise, high-passed, exponentially decaying.
fn add_cymbal(buf: &mut [f32], start: f32, amp: f32, decay: f32, base: f32, noise: &mut Noise) {
    let s0 = (start * SR) as isize;
    if s0 < 0 {
        return;
    }
    let s0 = s0 as usize;
    if s0 >= buf.len() {
        return;
    }
    let n = ((decay * 4.0 * SR) as usize).min(buf.len() - s0);
    const RATIOS: [f32; 6] = [1.0, 1.4826, 1.8006, 2.5462, 2.6304, 3.8963];
    let incs: Vec<f32> = RATIOS.iter().map(|r| base * r / SR).collect();
    let mut phs = [0.0f32; 6];
    let dk = (-1.0 / (decay * SR)).exp();
    let mut d = amp;
    let (mut p1, mut p2) = (0.0f32, 0.0f32);
    for out in buf[s0..s0 + n].iter_mut() {
        let mut x = 0.0;
        for (ph, inc) in phs.iter_mut().zip(&incs) {
            *ph += inc;
            if *ph >= 1.0 {
                *ph -= 1.0;
            }
            x += if *ph < 0.5 { 1.0 } else { -1.0 };
        }
        x = x * 0.12 + 0.5 * noise.next();
        // Second-order difference: a crude high-pass.
        let h = x - 2.0 * p1 + p2;
        p2 = p1;
        p1 = x;
        *out += d * h * 0.25;
        d *= dk;
    }
}

// ---------------------------------------------------------------------------
// Styles
// ---------------------------------------------------------------------------

const MAJOR: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];
const DORIAN: [i32; 7] = [0, 2, 3, 5, 7, 9, 10];
const MIXOLYDIAN: [i32; 7] = [0, 2, 4, 5, 7, 9, 10];
const PHRYGIAN: [i32; 7] = [0, 1, 3, 5, 7, 8, 10];
const BLUES_SCALE: [i32; 6] = [0, 3, 5, 6, 7, 10];
const PENT_MAJOR: [i32; 5] = [0, 2, 4, 7, 9];
const PENT_MINOR: [i32; 5] = [0, 3, 5, 7, 10];

/// A chord: root (semitones above the key) and intervals above the root.
#[derive(Clone)]
struct Chord {
    root: i32,
    tones: Vec<i32>,
}

fn chord(root: i32, tones: &[i32]) -> Chord {
    Chord {
        root,
        tones: tones.to_vec(),
    }
}

const MAJ: [i32; 3] = [0, 4, 7];
const MIN: [i32; 3] = [0, 3, 7];
const DOM7: [i32; 4] = [0, 4, 7, 10];
const MIN7: [i32; 4] = [0, 3, 7, 10];
const MAJ7: [i32; 4] = [0, 4, 7, 11];
const DOM9: [i32; 5] = [0, 4, 7, 10, 14];
const MIN9: [i32; 5] = [0, 3, 7, 10, 14];
const POWER: [i32; 3] = [0, 7, 12];

#[derive(Clone, Copy, PartialEq)]
enum Bass {
    None,
    Eighths,
    RootFifth,
    Walking,
    Octave,
    Sub808,
    OneDrop,
    Sustained,
    Boogie,
}

#[derive(Clone, Copy, PartialEq)]
enum Harmony {
    Strings,
    Piano,
    Strum,
    PowerChords,
    Skank,
    Stabs,
    Pad,
    ShufflePluck,
}

#[derive(Clone, Copy, PartialEq)]
enum Lead {
    None,
    Violin,
    Sax,
    Vocal,
    PianoMelody,
    GuitarLick,
    Distorted,
    Fiddle,
    Organ,
}

/// A genre: the ranges each clip's parameters are drawn from.
struct Style {
    tempo: (f32, f32),
    swing: (f32, f32),
    /// Per-16th-step probabilities (one bar).
    kick: [f32; 16],
    snare: [f32; 16],
    hat: [f32; 16],
    /// Ride cymbal pattern instead of hats.
    ride: bool,
    /// Probability of a crash on the first beat of a bar.
    crash: f32,
    /// Kick (start Hz, end Hz, decay s).
    kick_tone: (f32, f32, f32),
    /// Snare (decay s, body Hz, low-pass Hz); brush when the decay is long.
    snare_tone: (f32, f32, f32),
    hat_decay: (f32, f32),
    drum_level: f32,
    basses: &'static [Bass],
    bass_wave: Wave,
    bass_cutoff: (f32, f32),
    harmonies: &'static [Harmony],
    leads: &'static [Lead],
    lead_prob: f32,
    /// Distortion gain range of the harmony bus (1 = clean).
    dist: (f32, f32),
    /// Master compression drive range.
    drive: (f32, f32),
    /// Recording bandwidth (low-pass Hz) range.
    bandwidth: (f32, f32),
    /// Noise floor (relative amplitude) range.
    noise: (f32, f32),
    /// Slow dynamics depth (0 = none).
    dynamics: f32,
    /// Peak level range.
    level: (f32, f32),
}

const fn steps(on: [u8; 16], p: f32) -> [f32; 16] {
    let mut out = [0.0f32; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = on[i] as f32 * p;
        i += 1;
    }
    out
}

const X: u8 = 1;
const O: u8 = 0;
const EIGHTHS: [u8; 16] = [X, O, X, O, X, O, X, O, X, O, X, O, X, O, X, O];
const BACKBEAT: [u8; 16] = [O, O, O, O, X, O, O, O, O, O, O, O, X, O, O, O];
const FOUR: [u8; 16] = [X, O, O, O, X, O, O, O, X, O, O, O, X, O, O, O];

fn style(genre: usize) -> Style {
    let none16 = [0.0f32; 16];
    match genre {
        // blues
        0 => Style {
            tempo: (70.0, 118.0),
            swing: (0.2, 0.33),
            kick: steps([X, O, O, O, O, O, O, O, X, O, O, O, O, O, O, O], 0.8),
            snare: steps(BACKBEAT, 0.85),
            hat: steps(EIGHTHS, 0.7),
            ride: false,
            crash: 0.1,
            kick_tone: (110.0, 55.0, 0.12),
            snare_tone: (0.10, 190.0, 5000.0),
            hat_decay: (0.03, 0.08),
            drum_level: 0.6,
            basses: &[Bass::Walking, Bass::Boogie],
            bass_wave: Wave::Triangle,
            bass_cutoff: (500.0, 1200.0),
            harmonies: &[Harmony::ShufflePluck, Harmony::Piano, Harmony::ShufflePluck],
            leads: &[Lead::GuitarLick, Lead::Sax, Lead::Vocal],
            lead_prob: 0.8,
            dist: (1.0, 4.0),
            drive: (1.0, 2.0),
            bandwidth: (3000.0, 9000.0),
            noise: (0.003, 0.03),
            dynamics: 0.2,
            level: (0.4, 0.9),
        },
        // classical
        1 => Style {
            tempo: (55.0, 120.0),
            swing: (0.0, 0.0),
            kick: none16,
            snare: none16,
            hat: none16,
            ride: false,
            crash: 0.0,
            kick_tone: (100.0, 50.0, 0.1),
            snare_tone: (0.1, 180.0, 4000.0),
            hat_decay: (0.03, 0.05),
            drum_level: 0.0,
            basses: &[Bass::Sustained, Bass::None, Bass::Sustained],
            bass_wave: Wave::Saw,
            bass_cutoff: (300.0, 900.0),
            harmonies: &[Harmony::Strings, Harmony::Piano, Harmony::Strings],
            leads: &[Lead::Violin, Lead::PianoMelody, Lead::Violin],
            lead_prob: 0.8,
            dist: (1.0, 1.0),
            drive: (1.0, 1.0),
            bandwidth: (4000.0, 10000.0),
            noise: (0.0005, 0.01),
            dynamics: 0.7,
            level: (0.2, 0.8),
        },
        // country
        2 => Style {
            tempo: (88.0, 145.0),
            swing: (0.0, 0.12),
            kick: steps([X, O, O, O, O, O, O, O, X, O, O, O, O, O, O, O], 0.9),
            snare: steps(BACKBEAT, 0.9),
            hat: steps(EIGHTHS, 0.8),
            ride: false,
            crash: 0.1,
            kick_tone: (120.0, 60.0, 0.1),
            snare_tone: (0.06, 220.0, 6000.0),
            hat_decay: (0.02, 0.05),
            drum_level: 0.5,
            basses: &[Bass::RootFifth],
            bass_wave: Wave::Triangle,
            bass_cutoff: (600.0, 1500.0),
            harmonies: &[Harmony::Strum, Harmony::Strum, Harmony::Piano],
            leads: &[Lead::Fiddle, Lead::Vocal, Lead::GuitarLick],
            lead_prob: 0.75,
            dist: (1.0, 1.5),
            drive: (1.0, 2.0),
            bandwidth: (5000.0, 10500.0),
            noise: (0.001, 0.015),
            dynamics: 0.15,
            level: (0.4, 0.9),
        },
        // disco
        3 => Style {
            tempo: (108.0, 132.0),
            swing: (0.0, 0.05),
            kick: steps(FOUR, 1.0),
            snare: steps(BACKBEAT, 1.0),
            hat: steps([O, X, X, X, O, X, X, X, O, X, X, X, O, X, X, X], 0.7),
            ride: false,
            crash: 0.15,
            kick_tone: (130.0, 55.0, 0.14),
            snare_tone: (0.12, 200.0, 7000.0),
            hat_decay: (0.05, 0.16),
            drum_level: 0.8,
            basses: &[Bass::Octave],
            bass_wave: Wave::Saw,
            bass_cutoff: (700.0, 2000.0),
            harmonies: &[Harmony::Strings, Harmony::Stabs, Harmony::Pad],
            leads: &[Lead::Vocal, Lead::Violin, Lead::Organ],
            lead_prob: 0.8,
            dist: (1.0, 1.3),
            drive: (1.5, 3.0),
            bandwidth: (6000.0, 10500.0),
            noise: (0.001, 0.012),
            dynamics: 0.1,
            level: (0.6, 0.95),
        },
        // hiphop
        4 => Style {
            tempo: (78.0, 102.0),
            swing: (0.08, 0.25),
            kick: [
                1.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.5, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.3,
            ],
            snare: steps(BACKBEAT, 1.0),
            hat: [
                0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3,
            ],
            ride: false,
            crash: 0.0,
            kick_tone: (90.0, 45.0, 0.25),
            snare_tone: (0.14, 180.0, 6000.0),
            hat_decay: (0.02, 0.05),
            drum_level: 1.0,
            basses: &[Bass::Sub808],
            bass_wave: Wave::Sine,
            bass_cutoff: (200.0, 500.0),
            harmonies: &[Harmony::Piano, Harmony::Pad, Harmony::Stabs],
            leads: &[Lead::Vocal, Lead::None],
            lead_prob: 0.6,
            dist: (1.0, 1.5),
            drive: (2.0, 4.0),
            bandwidth: (4000.0, 9000.0),
            noise: (0.002, 0.02),
            dynamics: 0.05,
            level: (0.6, 0.95),
        },
        // jazz
        5 => Style {
            tempo: (95.0, 210.0),
            swing: (0.22, 0.33),
            kick: [
                0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0,
            ],
            snare: [
                0.0, 0.0, 0.15, 0.0, 0.2, 0.0, 0.1, 0.15, 0.0, 0.0, 0.2, 0.0, 0.2, 0.0, 0.15, 0.1,
            ],
            hat: steps([X, O, O, O, X, O, X, O, X, O, O, O, X, O, X, O], 0.95),
            ride: true,
            crash: 0.05,
            kick_tone: (90.0, 55.0, 0.1),
            snare_tone: (0.18, 0.0, 3500.0),
            hat_decay: (0.25, 0.6),
            drum_level: 0.45,
            basses: &[Bass::Walking],
            bass_wave: Wave::Triangle,
            bass_cutoff: (400.0, 900.0),
            harmonies: &[Harmony::Piano, Harmony::Piano, Harmony::ShufflePluck],
            leads: &[Lead::Sax, Lead::PianoMelody, Lead::Sax],
            lead_prob: 0.8,
            dist: (1.0, 1.0),
            drive: (1.0, 1.5),
            bandwidth: (3500.0, 10000.0),
            noise: (0.002, 0.025),
            dynamics: 0.3,
            level: (0.3, 0.85),
        },
        // metal
        6 => Style {
            tempo: (100.0, 200.0),
            swing: (0.0, 0.0),
            kick: [
                1.0, 0.5, 0.9, 0.5, 0.6, 0.5, 0.9, 0.5, 1.0, 0.5, 0.9, 0.5, 0.6, 0.5, 0.9, 0.5,
            ],
            snare: steps(BACKBEAT, 1.0),
            hat: steps(EIGHTHS, 0.9),
            ride: false,
            crash: 0.6,
            kick_tone: (140.0, 60.0, 0.07),
            snare_tone: (0.1, 210.0, 8000.0),
            hat_decay: (0.03, 0.1),
            drum_level: 0.8,
            basses: &[Bass::Eighths],
            bass_wave: Wave::Saw,
            bass_cutoff: (500.0, 1500.0),
            harmonies: &[Harmony::PowerChords],
            leads: &[Lead::Distorted, Lead::None],
            lead_prob: 0.4,
            dist: (8.0, 40.0),
            drive: (2.5, 5.0),
            bandwidth: (6000.0, 10500.0),
            noise: (0.002, 0.02),
            dynamics: 0.05,
            level: (0.7, 0.95),
        },
        // pop
        7 => Style {
            tempo: (90.0, 128.0),
            swing: (0.0, 0.08),
            kick: [
                1.0, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.2, 1.0, 0.0, 0.5, 0.0, 0.3, 0.0, 0.0, 0.0,
            ],
            snare: steps(BACKBEAT, 1.0),
            hat: steps(EIGHTHS, 0.85),
            ride: false,
            crash: 0.2,
            kick_tone: (120.0, 50.0, 0.15),
            snare_tone: (0.12, 200.0, 7500.0),
            hat_decay: (0.03, 0.09),
            drum_level: 0.7,
            basses: &[Bass::Eighths, Bass::Octave],
            bass_wave: Wave::Sine,
            bass_cutoff: (400.0, 1200.0),
            harmonies: &[Harmony::Pad, Harmony::Piano, Harmony::Stabs, Harmony::Strum],
            leads: &[Lead::Vocal],
            lead_prob: 0.9,
            dist: (1.0, 1.5),
            drive: (1.5, 3.0),
            bandwidth: (7000.0, 10500.0),
            noise: (0.0005, 0.008),
            dynamics: 0.1,
            level: (0.6, 0.95),
        },
        // reggae
        8 => Style {
            tempo: (62.0, 95.0),
            swing: (0.05, 0.18),
            kick: steps([O, O, O, O, O, O, O, O, X, O, O, O, O, O, O, O], 1.0),
            snare: [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0,
            ],
            hat: steps(EIGHTHS, 0.8),
            ride: false,
            crash: 0.0,
            kick_tone: (100.0, 50.0, 0.16),
            snare_tone: (0.06, 330.0, 6000.0),
            hat_decay: (0.02, 0.06),
            drum_level: 0.6,
            basses: &[Bass::OneDrop],
            bass_wave: Wave::Sine,
            bass_cutoff: (250.0, 600.0),
            harmonies: &[Harmony::Skank],
            leads: &[Lead::Organ, Lead::Vocal],
            lead_prob: 0.6,
            dist: (1.0, 1.5),
            drive: (1.0, 2.5),
            bandwidth: (4000.0, 9500.0),
            noise: (0.002, 0.02),
            dynamics: 0.1,
            level: (0.45, 0.9),
        },
        // rock
        _ => Style {
            tempo: (95.0, 160.0),
            swing: (0.0, 0.05),
            kick: [
                1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 1.0, 0.0, 0.6, 0.0, 0.0, 0.0, 0.0, 0.0,
            ],
            snare: steps(BACKBEAT, 1.0),
            hat: steps(EIGHTHS, 0.9),
            ride: false,
            crash: 0.35,
            kick_tone: (120.0, 55.0, 0.11),
            snare_tone: (0.12, 200.0, 7000.0),
            hat_decay: (0.03, 0.12),
            drum_level: 0.75,
            basses: &[Bass::Eighths],
            bass_wave: Wave::Saw,
            bass_cutoff: (500.0, 1400.0),
            harmonies: &[Harmony::PowerChords, Harmony::PowerChords, Harmony::Strum],
            leads: &[Lead::Distorted, Lead::Vocal, Lead::GuitarLick],
            lead_prob: 0.6,
            dist: (2.5, 14.0),
            drive: (1.5, 3.5),
            bandwidth: (5000.0, 10500.0),
            noise: (0.002, 0.02),
            dynamics: 0.1,
            level: (0.6, 0.95),
        },
    }
}

/// Chord progression (one chord per bar) for a genre, in semitones above the key.
fn progression(genre: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<Chord> {
    let pick = |rng: &mut Xoshiro256PlusPlus, n: usize| rng.random_range(0..n);
    match genre {
        0 => {
            // 12-bar blues with dominant sevenths.
            [0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]
                .iter()
                .map(|&r| chord(r, &DOM7))
                .collect()
        }
        1 => match pick(rng, 3) {
            0 => vec![
                chord(0, &MAJ),
                chord(5, &MAJ),
                chord(7, &DOM7),
                chord(0, &MAJ),
            ],
            1 => vec![
                chord(0, &MAJ),
                chord(9, &MIN),
                chord(2, &MIN),
                chord(7, &DOM7),
            ],
            _ => vec![
                chord(0, &MIN),
                chord(5, &MIN),
                chord(7, &DOM7),
                chord(0, &MIN),
            ],
        },
        2 => match pick(rng, 2) {
            0 => vec![
                chord(0, &MAJ),
                chord(5, &MAJ),
                chord(7, &MAJ),
                chord(0, &MAJ),
            ],
            _ => vec![
                chord(0, &MAJ),
                chord(0, &MAJ),
                chord(5, &MAJ),
                chord(7, &DOM7),
            ],
        },
        3 => match pick(rng, 2) {
            0 => vec![chord(0, &MIN7), chord(5, &MIN7)],
            _ => vec![
                chord(2, &MIN7),
                chord(7, &DOM7),
                chord(0, &MAJ7),
                chord(9, &MIN7),
            ],
        },
        4 => match pick(rng, 2) {
            0 => vec![chord(0, &MIN7), chord(8, &MAJ7)],
            _ => vec![
                chord(0, &MIN),
                chord(3, &MAJ),
                chord(8, &MAJ),
                chord(7, &MIN),
            ],
        },
        5 => match pick(rng, 2) {
            0 => vec![
                chord(2, &MIN9),
                chord(7, &DOM9),
                chord(0, &MAJ7),
                chord(0, &MAJ7),
            ],
            _ => vec![
                chord(0, &MAJ7),
                chord(9, &DOM7),
                chord(2, &MIN7),
                chord(7, &DOM9),
            ],
        },
        6 => vec![chord(0, &POWER); 4],
        7 => match pick(rng, 2) {
            0 => vec![
                chord(0, &MAJ),
                chord(7, &MAJ),
                chord(9, &MIN),
                chord(5, &MAJ),
            ],
            _ => vec![
                chord(9, &MIN),
                chord(5, &MAJ),
                chord(0, &MAJ),
                chord(7, &MAJ),
            ],
        },
        8 => match pick(rng, 2) {
            0 => vec![chord(0, &MIN), chord(5, &MIN)],
            _ => vec![
                chord(0, &MAJ),
                chord(5, &MAJ),
                chord(7, &MAJ),
                chord(5, &MAJ),
            ],
        },
        _ => match pick(rng, 3) {
            0 => vec![
                chord(0, &POWER),
                chord(5, &POWER),
                chord(7, &POWER),
                chord(5, &POWER),
            ],
            1 => vec![
                chord(0, &POWER),
                chord(10, &POWER),
                chord(5, &POWER),
                chord(0, &POWER),
            ],
            _ => vec![
                chord(0, &MAJ),
                chord(7, &MAJ),
                chord(5, &MAJ),
                chord(0, &MAJ),
            ],
        },
    }
}

fn scale_for(genre: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<i32> {
    match genre {
        0 => BLUES_SCALE.to_vec(),
        1 => {
            if rng.random_bool(0.5) {
                MAJOR.to_vec()
            } else {
                MINOR.to_vec()
            }
        }
        2 | 7 => PENT_MAJOR.to_vec(),
        3 => DORIAN.to_vec(),
        4 | 8 => PENT_MINOR.to_vec(),
        5 => MIXOLYDIAN.to_vec(),
        6 => PHRYGIAN.to_vec(),
        _ => PENT_MINOR.to_vec(),
    }
}

fn uniform(rng: &mut Xoshiro256PlusPlus, (lo, hi): (f32, f32)) -> f32 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..hi)
    }
}

/// Random gain in dB (uniform in +-`db`) as a factor.
fn jitter_db(rng: &mut Xoshiro256PlusPlus, db: f32) -> f32 {
    10f32.powf(rng.random_range(-db..db) / 20.0)
}

fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
}

fn normalise_rms(x: &mut [f32]) {
    let r = rms(x);
    if r > 1e-9 {
        x.iter_mut().for_each(|v| *v /= r);
    }
}

/// Renders one clip of `genre` (0..9), `seconds` long, from `seed`.
pub fn render_clip(genre: usize, seconds: f32, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut noise = Noise::new(&mut rng);
    let st = style(genre);
    let n = (seconds * SR) as usize;
    let dur = seconds;

    let tempo = uniform(&mut rng, st.tempo);
    let beat = 60.0 / tempo;
    let step = beat / 4.0;
    let bar = beat * 4.0;
    let swing = uniform(&mut rng, st.swing);
    let key = rng.random_range(0..12) as f32;
    let prog = progression(genre, &mut rng);
    let scale = scale_for(genre, &mut rng);
    let bass_style = st.basses[rng.random_range(0..st.basses.len())];
    let harmony = st.harmonies[rng.random_range(0..st.harmonies.len())];
    let lead = if rng.random_bool(f64::from(st.lead_prob)) {
        st.leads[rng.random_range(0..st.leads.len())]
    } else {
        Lead::None
    };
    // Time of 16th step `k` of bar `b`, with swing on off-beat 8ths and 16ths and
    // a little human timing jitter.
    let offset = rng.random_range(0.0..bar);
    let time_of = |b: usize, k: usize, rng: &mut Xoshiro256PlusPlus| {
        let sw = if k % 4 == 2 {
            swing * 2.0 * step
        } else if k % 2 == 1 {
            swing * step
        } else {
            0.0
        };
        b as f32 * bar + k as f32 * step + sw - offset + rng.random_range(-0.006..0.006)
    };
    let n_bars = ((dur + offset) / bar).ceil() as usize + 1;
    let chord_at = |b: usize| &prog[b % prog.len()];

    // ---- drums ----
    let mut drums = vec![0.0f32; n];
    if st.drum_level > 0.0 {
        let kt = (
            st.kick_tone.0 * jitter_db(&mut rng, 2.0),
            st.kick_tone.1 * jitter_db(&mut rng, 2.0),
            st.kick_tone.2 * jitter_db(&mut rng, 3.0),
        );
        let hat_decay = uniform(&mut rng, st.hat_decay);
        let hat_lp = rng.random_range(6000.0..10500.0);
        let snare_lp = st.snare_tone.2 * jitter_db(&mut rng, 3.0);
        let ride_base = rng.random_range(300.0..480.0);
        let kick_gain = jitter_db(&mut rng, 4.0);
        let snare_gain = jitter_db(&mut rng, 4.0);
        let hat_gain = jitter_db(&mut rng, 6.0);
        // Half the metal clips play straight eighths on the kick instead of 16ths.
        let double = genre != 6 || rng.random_bool(0.6);
        for b in 0..n_bars {
            if st.crash > 0.0 && rng.random_bool(f64::from(st.crash)) {
                let t = time_of(b, 0, &mut rng);
                add_cymbal(
                    &mut drums,
                    t,
                    0.5 * hat_gain,
                    0.9,
                    ride_base * 1.3,
                    &mut noise,
                );
            }
            for k in 0..16 {
                let vel = rng.random_range(0.75..1.0);
                if (double || k % 2 == 0) && rng.random::<f32>() < st.kick[k] {
                    let t = time_of(b, k, &mut rng);
                    add_kick(&mut drums, t, 1.0 * vel * kick_gain, kt.0, kt.1, kt.2);
                }
                if rng.random::<f32>() < st.snare[k] {
                    let t = time_of(b, k, &mut rng);
                    let (decay, body, _) = st.snare_tone;
                    let amp = if body == 0.0 { 0.25 } else { 0.6 };
                    add_noise_hit(
                        &mut drums,
                        t,
                        amp * vel * snare_gain,
                        decay,
                        0.6,
                        snare_lp,
                        body,
                        &mut noise,
                    );
                }
                if rng.random::<f32>() < st.hat[k] {
                    let t = time_of(b, k, &mut rng);
                    if st.ride {
                        add_cymbal(
                            &mut drums,
                            t,
                            0.35 * vel * hat_gain,
                            hat_decay,
                            ride_base,
                            &mut noise,
                        );
                    } else {
                        add_noise_hit(
                            &mut drums,
                            t,
                            0.22 * vel * hat_gain,
                            hat_decay,
                            1.0,
                            hat_lp,
                            0.0,
                            &mut noise,
                        );
                    }
                }
            }
        }
    }

    // ---- bass ----
    let mut bass = vec![0.0f32; n];
    let bass_root = 28.0 + key; // E1 .. D#2
    let bass_voice = Voice {
        wave: st.bass_wave,
        attack: 0.005,
        decay: if bass_style == Bass::Sub808 {
            0.5
        } else {
            0.25
        },
        sustain: if bass_style == Bass::Sustained {
            0.8
        } else {
            0.3
        },
        release: 0.04,
        cutoff: uniform(&mut rng, st.bass_cutoff),
        detune: 0.0,
        vibrato: (0.0, 0.0),
    };
    for b in 0..n_bars {
        let c = chord_at(b);
        let r = bass_root + c.root as f32;
        let third = c.tones.get(1).copied().unwrap_or(7) as f32;
        let fifth = 7.0;
        let mut note = |k: usize, len_steps: f32, p: f32, rng: &mut Xoshiro256PlusPlus| {
            let t = time_of(b, k, rng);
            add_note(
                &mut bass,
                t,
                len_steps * step,
                p,
                rng.random_range(0.8..1.0),
                &bass_voice,
            );
        };
        match bass_style {
            Bass::None => {}
            Bass::Eighths => {
                for k in (0..16).step_by(2) {
                    note(k, 1.8, r, &mut rng);
                }
            }
            Bass::RootFifth => {
                for (i, k) in [0, 4, 8, 12].into_iter().enumerate() {
                    note(
                        k,
                        2.5,
                        if i % 2 == 0 { r } else { r + fifth - 12.0 },
                        &mut rng,
                    );
                }
            }
            Bass::Walking => {
                let walk = [
                    0.0,
                    third,
                    fifth,
                    if rng.random_bool(0.5) { 9.0 } else { 11.0 },
                ];
                for (i, k) in [0, 4, 8, 12].into_iter().enumerate() {
                    note(k, 3.6, r + walk[i], &mut rng);
                }
            }
            Bass::Boogie => {
                for (i, k) in [0, 2, 4, 6, 8, 10, 12, 14].into_iter().enumerate() {
                    let off = [0.0, 0.0, 4.0, 4.0, 7.0, 7.0, 9.0, 10.0][i];
                    note(k, 1.8, r + off, &mut rng);
                }
            }
            Bass::Octave => {
                for (i, k) in (0..16).step_by(2).enumerate() {
                    note(k, 1.5, r + if i % 2 == 1 { 12.0 } else { 0.0 }, &mut rng);
                }
            }
            Bass::Sub808 => {
                for k in [0, 6, 10] {
                    note(k, 5.0, r, &mut rng);
                }
            }
            Bass::OneDrop => {
                for (k, off) in [(0, 0.0), (3, 0.0), (6, 7.0), (10, 3.0), (11, 0.0)] {
                    if rng.random_bool(0.85) {
                        note(k, 2.0, r + off, &mut rng);
                    }
                }
            }
            Bass::Sustained => note(0, 16.0, r + 12.0, &mut rng),
        }
    }

    // ---- harmony ----
    let mut harm = vec![0.0f32; n];
    let chord_root = 48.0 + key; // C3 .. B3
    let pad = Voice {
        wave: Wave::Saw,
        attack: rng.random_range(0.05..0.5),
        decay: 2.0,
        sustain: 0.8,
        release: 0.3,
        cutoff: rng.random_range(1200.0..4500.0),
        detune: rng.random_range(4.0..14.0),
        vibrato: (0.0, 0.0),
    };
    let pluck_bright = rng.random_range(0.3..0.9);
    for b in 0..n_bars {
        let c = chord_at(b).clone();
        let notes: Vec<f32> = c
            .tones
            .iter()
            .map(|&t| chord_root + (c.root + t) as f32)
            .collect();
        match harmony {
            Harmony::Strings | Harmony::Pad => {
                let t = time_of(b, 0, &mut rng);
                let v = Voice {
                    wave: if harmony == Harmony::Strings {
                        Wave::Saw
                    } else {
                        Wave::Square
                    },
                    vibrato: if harmony == Harmony::Strings {
                        (0.08, 5.5)
                    } else {
                        (0.0, 0.0)
                    },
                    ..pad
                };
                for &p in &notes {
                    add_note(&mut harm, t, bar, p, 0.3, &v);
                }
            }
            Harmony::Piano => {
                // Comping: chords on random steps (denser for jazz), or arpeggios.
                if genre == 1 {
                    for (i, k) in (0..16).step_by(2).enumerate() {
                        let p = notes[i % notes.len()] + if i >= notes.len() { 12.0 } else { 0.0 };
                        let t = time_of(b, k, &mut rng);
                        add_piano(&mut harm, t, 2.0 * step, p, 0.5, 0.5);
                    }
                } else {
                    for k in 0..16 {
                        let p = if k == 0 {
                            0.8
                        } else if genre == 5 {
                            0.18
                        } else {
                            0.12
                        };
                        if rng.random::<f32>() < p {
                            let t = time_of(b, k, &mut rng);
                            for &q in &notes {
                                add_piano(&mut harm, t, 3.0 * step, q, 0.3, 0.6);
                            }
                        }
                    }
                }
            }
            Harmony::Strum => {
                for k in [0, 4, 6, 8, 12, 14] {
                    let t = time_of(b, k, &mut rng);
                    for (j, &p) in notes.iter().enumerate() {
                        add_pluck(
                            &mut harm,
                            t + 0.012 * j as f32,
                            2.0 * step,
                            p,
                            0.3,
                            pluck_bright,
                            &mut noise,
                        );
                    }
                }
            }
            Harmony::ShufflePluck => {
                for k in [0, 2, 4, 6, 8, 10, 12, 14] {
                    let t = time_of(b, k, &mut rng);
                    let six = if k % 4 == 2 { 9.0 } else { 7.0 };
                    for p in [notes[0], notes[0] + six] {
                        add_pluck(
                            &mut harm,
                            t,
                            1.8 * step,
                            p - 12.0,
                            0.4,
                            pluck_bright,
                            &mut noise,
                        );
                    }
                }
            }
            Harmony::PowerChords => {
                // Chugs on 8ths (16ths for metal), riff roots from the scale.
                let v = Voice {
                    wave: Wave::Saw,
                    attack: 0.003,
                    decay: 0.3,
                    sustain: 0.6,
                    release: 0.02,
                    cutoff: 3500.0,
                    detune: 8.0,
                    vibrato: (0.0, 0.0),
                };
                let stride = if genre == 6 { 1 } else { 2 };
                for k in (0..16).step_by(stride) {
                    if genre == 6 && rng.random_bool(0.25) {
                        continue;
                    }
                    let riff = if genre == 6 && k % 4 == 0 {
                        scale[rng.random_range(0..scale.len())] as f32
                    } else {
                        0.0
                    };
                    let t = time_of(b, k, &mut rng);
                    for &p in &notes {
                        add_note(
                            &mut harm,
                            t,
                            0.9 * stride as f32 * step,
                            p - 12.0 + riff,
                            0.35,
                            &v,
                        );
                    }
                }
            }
            Harmony::Skank => {
                let v = Voice {
                    wave: Wave::Square,
                    attack: 0.003,
                    decay: 0.05,
                    sustain: 0.0,
                    release: 0.02,
                    cutoff: 2500.0,
                    detune: 5.0,
                    vibrato: (0.0, 0.0),
                };
                for k in [4, 12] {
                    let t = time_of(b, k, &mut rng);
                    for &p in &notes {
                        add_note(&mut harm, t, 1.2 * step, p + 12.0, 0.4, &v);
                    }
                }
            }
            Harmony::Stabs => {
                let v = Voice {
                    wave: Wave::Square,
                    attack: 0.004,
                    decay: 0.12,
                    sustain: 0.1,
                    release: 0.05,
                    cutoff: rng.random_range(1500.0..5000.0),
                    detune: 7.0,
                    vibrato: (0.0, 0.0),
                };
                for k in [2, 6, 10, 14] {
                    if rng.random_bool(0.8) {
                        let t = time_of(b, k, &mut rng);
                        for &p in &notes {
                            add_note(&mut harm, t, 1.5 * step, p + 12.0, 0.3, &v);
                        }
                    }
                }
            }
        }
    }
    let gain = uniform(&mut rng, st.dist);
    if gain > 1.05 {
        normalise_rms(&mut harm);
        let norm = gain.tanh();
        let cab = lp_coef(rng.random_range(3000.0..6000.0));
        let mut y = 0.0;
        for v in harm.iter_mut() {
            y += cab * ((gain * *v * 0.5).tanh() / norm - y);
            *v = y;
        }
    }

    // ---- lead ----
    let mut lead_bus = vec![0.0f32; n];
    if lead != Lead::None {
        let lead_root = 60.0 + key;
        let (v, plucked, piano) = match lead {
            Lead::Violin | Lead::Fiddle => (
                Voice {
                    wave: Wave::Saw,
                    attack: if lead == Lead::Fiddle { 0.02 } else { 0.08 },
                    decay: 1.0,
                    sustain: 0.8,
                    release: 0.1,
                    cutoff: 3500.0,
                    detune: 0.0,
                    vibrato: (0.25, 5.5),
                },
                false,
                false,
            ),
            Lead::Sax => (
                Voice {
                    wave: Wave::Saw,
                    attack: 0.03,
                    decay: 0.8,
                    sustain: 0.7,
                    release: 0.06,
                    cutoff: 1800.0,
                    detune: 6.0,
                    vibrato: (0.15, 4.5),
                },
                false,
                false,
            ),
            Lead::Vocal => (
                Voice {
                    wave: Wave::Triangle,
                    attack: 0.04,
                    decay: 1.0,
                    sustain: 0.8,
                    release: 0.08,
                    cutoff: 2500.0,
                    detune: 3.0,
                    vibrato: (0.3, 5.0),
                },
                false,
                false,
            ),
            Lead::Organ => (
                Voice {
                    wave: Wave::Square,
                    attack: 0.01,
                    decay: 2.0,
                    sustain: 0.9,
                    release: 0.03,
                    cutoff: 2200.0,
                    detune: 4.0,
                    vibrato: (0.05, 6.0),
                },
                false,
                false,
            ),
            Lead::Distorted => (
                Voice {
                    wave: Wave::Square,
                    attack: 0.005,
                    decay: 1.0,
                    sustain: 0.8,
                    release: 0.05,
                    cutoff: 4500.0,
                    detune: 10.0,
                    vibrato: (0.3, 6.0),
                },
                false,
                false,
            ),
            Lead::GuitarLick => (pad, true, false),
            Lead::PianoMelody | Lead::None => (pad, false, true),
        };
        // A melody: a random walk on the scale; note lengths from the genre's feel.
        let mut deg: i32 = rng.random_range(0..scale.len() as i32);
        let note_steps: &[usize] = match genre {
            5 | 6 => &[1, 2, 2, 3],
            1 => &[2, 4, 4, 8],
            _ => &[2, 2, 4, 6],
        };
        let mut t_step = 0usize;
        let total_steps = n_bars * 16;
        while t_step < total_steps {
            let len = note_steps[rng.random_range(0..note_steps.len())];
            // Phrases with rests.
            if rng.random_bool(0.2) {
                t_step += len;
                continue;
            }
            deg += rng.random_range(-2..=2);
            deg = deg.clamp(-(scale.len() as i32), 2 * scale.len() as i32);
            let oct = deg.div_euclid(scale.len() as i32);
            let idx = deg.rem_euclid(scale.len() as i32) as usize;
            let p = lead_root + (scale[idx] + 12 * oct) as f32;
            let t = time_of(t_step / 16, t_step % 16, &mut rng);
            let d = len as f32 * step * 0.95;
            if plucked {
                add_pluck(&mut lead_bus, t, d, p, 0.6, 0.8, &mut noise);
            } else if piano {
                add_piano(&mut lead_bus, t, d, p + 12.0, 0.6, 0.5);
            } else {
                add_note(&mut lead_bus, t, d, p, 0.5, &v);
            }
            t_step += len;
        }
        if lead == Lead::Distorted {
            normalise_rms(&mut lead_bus);
            for v in lead_bus.iter_mut() {
                *v = (3.0 * *v).tanh();
            }
        }
    }

    // ---- mix ----
    normalise_rms(&mut drums);
    normalise_rms(&mut bass);
    normalise_rms(&mut harm);
    normalise_rms(&mut lead_bus);
    let g_drums = st.drum_level * jitter_db(&mut rng, 7.0);
    let g_bass = jitter_db(&mut rng, 7.0) * if genre == 8 || genre == 4 { 1.2 } else { 0.7 };
    let g_harm = jitter_db(&mut rng, 7.0);
    let g_lead = 0.7 * jitter_db(&mut rng, 7.0);
    let mut mix: Vec<f32> = (0..n)
        .map(|i| g_drums * drums[i] + g_bass * bass[i] + g_harm * harm[i] + g_lead * lead_bus[i])
        .collect();

    // Slow dynamics (classical swells, small elsewhere).
    if st.dynamics > 0.0 {
        let period = rng.random_range(6.0..20.0);
        let phase = rng.random_range(0.0..(2.0 * PI));
        for (i, v) in mix.iter_mut().enumerate() {
            let t = i as f32 / SR;
            let e = 1.0 - st.dynamics * (0.5 + 0.5 * (2.0 * PI * t / period + phase).sin());
            *v *= e;
        }
    }
    // Master compression.
    let drive = uniform(&mut rng, st.drive);
    normalise_rms(&mut mix);
    if drive > 1.05 {
        for v in mix.iter_mut() {
            *v = (*v * drive * 0.4).tanh();
        }
    }
    // Recording: bandwidth, tilt, noise floor, optional hum.
    let a = lp_coef(uniform(&mut rng, st.bandwidth));
    let mut y = 0.0;
    for v in mix.iter_mut() {
        y += a * (*v - y);
        *v = y;
    }
    // Mastering EQ: a random tilt around a random crossover (recordings differ).
    let xover = lp_coef(rng.random_range(250.0..3000.0));
    let low_gain = jitter_db(&mut rng, 6.0);
    let high_gain = jitter_db(&mut rng, 6.0);
    let mut lo = 0.0;
    for v in mix.iter_mut() {
        lo += xover * (*v - lo);
        *v = low_gain * lo + high_gain * (*v - lo);
    }
    normalise_rms(&mut mix);
    let noise_level = uniform(&mut rng, st.noise) * jitter_db(&mut rng, 6.0) * 4.0;
    let hum = if rng.random_bool(0.2) {
        noise_level * 2.0
    } else {
        0.0
    };
    let hum_f = if rng.random_bool(0.5) { 50.0 } else { 60.0 };
    let mut pink = 0.0f32;
    for (i, v) in mix.iter_mut().enumerate() {
        pink = 0.97 * pink + 0.03 * noise.next();
        let w = 0.5 * noise.next() + 3.0 * pink;
        *v += noise_level * w + hum * (2.0 * PI * hum_f * i as f32 / SR).sin();
    }
    let peak = mix.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-9);
    let level = uniform(&mut rng, st.level);
    mix.iter_mut().for_each(|v| *v *= level / peak);
    mix
}
