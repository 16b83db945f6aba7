//! Sound sources: white noise, subtractive-synth notes, piano partials, plucked strings
//! (Karplus-Strong) and drums (kick, noise hits, cymbals). Each `add_*` adds one event into a
//! buffer, starting at a time in seconds, and writes nothing outside the event's span.

use std::f32::consts::PI;

use rand::Rng;
use rand::rngs::Xoshiro256PlusPlus;

use super::SR;

/// Fast white noise in [-1, 1) (xorshift32), seeded from the clip's RNG.
pub(super) struct Noise(u32);

impl Noise {
    pub(super) fn new(rng: &mut Xoshiro256PlusPlus) -> Noise {
        Noise(rng.next_u32() | 1)
    }
    #[inline]
    pub(super) fn next(&mut self) -> f32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        (x as f32 / 2_147_483_648.0) - 1.0
    }
}

/// Frequency in Hz of MIDI note `note` (69 = A4 = 440 Hz).
pub(super) fn midi_hz(note: f32) -> f32 {
    440.0 * 2f32.powf((note - 69.0) / 12.0)
}

/// One-pole low-pass coefficient for cutoff `fc` Hz.
pub(super) fn lp_coef(fc: f32) -> f32 {
    1.0 - (-2.0 * PI * fc.min(SR * 0.49) / SR).exp()
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Wave {
    Sine,
    Saw,
    Square,
    Triangle,
}

/// A note of a simple subtractive synthesiser voice.
#[derive(Clone, Copy)]
pub(super) struct Voice {
    pub(super) wave: Wave,
    /// Attack in seconds.
    pub(super) attack: f32,
    /// Exponential decay time constant in seconds (large = sustained).
    pub(super) decay: f32,
    /// Level the decay falls towards (0..1).
    pub(super) sustain: f32,
    /// Release in seconds (linear fade at the end of the note).
    pub(super) release: f32,
    /// Low-pass cutoff in Hz.
    pub(super) cutoff: f32,
    /// Detuned second oscillator (cents; 0 = none).
    pub(super) detune: f32,
    /// Vibrato depth in semitones and rate in Hz.
    pub(super) vibrato: (f32, f32),
}

/// A synth note of `v` at MIDI pitch `note`: `dur` s at the envelope's level, then `v.release`
/// s of fade; `total = (dur + release) * SR` samples from `start`.
pub(super) fn add_note(buf: &mut [f32], start: f32, dur: f32, note: f32, amp: f32, v: &Voice) {
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
pub(super) fn add_piano(buf: &mut [f32], start: f32, dur: f32, note: f32, amp: f32, bright: f32) {
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
pub(super) fn add_pluck(
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

/// A kick drum: a sine swept from `f_hi` to `f_lo` Hz (25 ms), decaying with time constant
/// `decay` s, `5 * decay` s long.
pub(super) fn add_kick(buf: &mut [f32], start: f32, amp: f32, f_hi: f32, f_lo: f32, decay: f32) {
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
pub(super) fn add_noise_hit(
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
pub(super) fn add_cymbal(
    buf: &mut [f32],
    start: f32,
    amp: f32,
    decay: f32,
    base: f32,
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    const START: f32 = 0.1; // sample 2205

    fn voice(wave: Wave) -> Voice {
        Voice {
            wave,
            attack: 0.001,
            decay: 100.0,
            sustain: 1.0,
            release: 0.02,
            cutoff: 10_000.0,
            detune: 0.0,
            vibrato: (0.0, 0.0),
        }
    }

    /// Renders one event of each kind at [`START`] with amplitude `amp` into its own 1 s buffer;
    /// returns each buffer with the length of the event's span.
    fn events(amp: f32) -> Vec<(&'static str, Vec<f32>, usize)> {
        let mut noise = Noise(12345);
        let mut out = Vec::new();
        let buf = || vec![0.0f32; SR as usize];
        let mut b = buf();
        let v = Voice {
            detune: 7.0,
            vibrato: (0.3, 5.0),
            ..voice(Wave::Saw)
        };
        add_note(&mut b, START, 0.05, 60.0, amp, &v);
        out.push(("note", b, ((0.05 + 0.02) * SR) as usize));
        let mut b = buf();
        add_piano(&mut b, START, 0.05, 60.0, amp, 0.6);
        out.push(("piano", b, ((0.05 + 0.15) * SR) as usize));
        let mut b = buf();
        add_pluck(&mut b, START, 0.05, 60.0, amp, 0.5, &mut noise);
        out.push(("pluck", b, ((0.05 + 0.05) * SR) as usize));
        let mut b = buf();
        add_kick(&mut b, START, amp, 120.0, 50.0, 0.05);
        out.push(("kick", b, (0.05 * 5.0 * SR) as usize));
        let mut b = buf();
        add_noise_hit(&mut b, START, amp, 0.05, 0.6, 6000.0, 200.0, &mut noise);
        out.push(("snare", b, (0.05 * 5.0 * SR) as usize));
        let mut b = buf();
        add_cymbal(&mut b, START, amp, 0.05, 400.0, &mut noise);
        out.push(("cymbal", b, (0.05 * 4.0 * SR) as usize));
        out
    }

    #[test]
    fn each_event_writes_only_inside_its_span() {
        let s0 = (START * SR) as usize;
        assert_eq!(s0, 2205);
        for (name, b, len) in events(0.5) {
            let (before, span, after) = (&b[..s0], &b[s0..s0 + len], &b[s0 + len..]);
            assert!(before.iter().all(|&v| v == 0.0), "{name}: before its start");
            assert!(after.iter().all(|&v| v == 0.0), "{name}: past its end");
            assert!(span.iter().any(|&v| v != 0.0), "{name}: silent");
            assert!(b.iter().all(|v| v.is_finite()), "{name}");
        }
    }

    #[test]
    fn zero_amplitude_is_silence() {
        for (name, b, _) in events(0.0) {
            assert!(b.iter().all(|&v| v == 0.0), "{name}");
        }
    }

    #[test]
    fn events_outside_the_buffer_write_nothing_and_one_at_its_end_is_cut() {
        let mut noise = Noise(1);
        let v = voice(Wave::Square);
        let mut b = vec![0.0f32; 100];
        for start in [-0.5, 1.0] {
            add_note(&mut b, start, 0.1, 60.0, 1.0, &v);
            add_piano(&mut b, start, 0.1, 60.0, 1.0, 0.5);
            add_pluck(&mut b, start, 0.1, 60.0, 1.0, 0.5, &mut noise);
            add_kick(&mut b, start, 1.0, 100.0, 50.0, 0.1);
            add_noise_hit(&mut b, start, 1.0, 0.1, 0.5, 5000.0, 0.0, &mut noise);
            add_cymbal(&mut b, start, 1.0, 0.1, 400.0, &mut noise);
        }
        assert!(b.iter().all(|&v| v == 0.0));
        // starting at sample 90 of 100, a 0.1 s note fills samples 90..100 only
        add_note(&mut b, 90.5 / SR, 0.1, 60.0, 1.0, &v);
        assert!(b[..90].iter().all(|&v| v == 0.0) && b[91..].iter().all(|&v| v != 0.0));
    }

    #[test]
    fn a_sine_note_sounds_at_its_pitch() {
        assert_eq!(midi_hz(69.0), 440.0);
        assert!((midi_hz(81.0) - 880.0).abs() < 1e-3 && (midi_hz(57.0) - 220.0).abs() < 1e-3);
        let mut b = vec![0.0f32; SR as usize];
        add_note(&mut b, 0.0, 1.0, 69.0, 1.0, &voice(Wave::Sine));
        // rising zero crossings in the second half second: 440 Hz x 0.5 s = 220
        let half = &b[b.len() / 2..];
        let rising = half
            .windows(2)
            .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
            .count();
        assert!((219..=221).contains(&rising), "{rising}");
    }

    #[test]
    fn noise_is_xorshift32_in_minus_one_to_one() {
        let mut n = Noise(1);
        // 1 ^ (1 << 13) = 8193; ^ (8193 >> 17) = 8193; ^ (8193 << 5) = 8193 + 262176 = 270369
        assert_eq!(n.next(), 270_369.0 / 2_147_483_648.0 - 1.0);
        assert_eq!(n.0, 270_369);
        let mut n = Noise::new(&mut Xoshiro256PlusPlus::seed_from_u64(3));
        assert_eq!(n.0 & 1, 1, "the state is never zero");
        let xs: Vec<f32> = (0..100_000).map(|_| n.next()).collect();
        assert!(xs.iter().all(|x| (-1.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        assert!(mean.abs() < 0.01, "{mean}");
    }

    #[test]
    fn noisy_events_take_one_noise_value_per_sample_or_delay_cell() {
        let after = |k: usize| {
            let mut n = Noise(99);
            (0..k).for_each(|_| {
                n.next();
            });
            n.0
        };
        let mut b = vec![0.0f32; SR as usize];
        // pluck: one value per cell of the delay line, (22050 / 440) as usize = 50 cells
        let mut n = Noise(99);
        add_pluck(&mut b, 0.0, 0.5, 69.0, 1.0, 0.5, &mut n);
        assert_eq!(n.0, after(50));
        // a noise hit: one per sample of its span, here cut by the buffer's end at 1000
        let mut n = Noise(99);
        add_noise_hit(&mut b[..1000], 0.0, 1.0, 0.1, 0.5, 5000.0, 0.0, &mut n);
        assert_eq!(n.0, after(1000));
        let mut n = Noise(99);
        add_cymbal(&mut b, 0.0, 1.0, 0.01, 400.0, &mut n);
        assert_eq!(n.0, after((0.01 * 4.0 * SR) as usize));
    }

    #[test]
    fn the_low_pass_coefficient_grows_with_cutoff_and_stops_below_nyquist() {
        let a = [100.0, 1000.0, 5000.0, 10_000.0].map(lp_coef);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a[0] > 0.0 && a[3] < 1.0);
        assert_eq!(lp_coef(20_000.0), lp_coef(SR * 0.49));
    }
}
