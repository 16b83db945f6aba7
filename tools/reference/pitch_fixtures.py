#!/usr/bin/env python3
"""Reference fixtures for tinygenre's pitch shift (trainer/src/augment/pitch.rs).

librosa 0.11's `librosa.effects.pitch_shift` is the reference. Subcommands:

  generate [OUT_DIR]   (default tests/fixtures/pitch) writes
      music.wav                 a deterministic 3 s multi-instrument clip (int16, 22050 Hz)
      music_shift_{n}.wav       librosa.effects.pitch_shift(music, sr=22050, n_steps=n), int16,
                                for n in N_STEPS
      music_logmel.f32          librosa's log-mel of music.wav (float32 LE, [128, frames]),
                                melspectrogram defaults + power_to_db(ref=1, amin=1e-10, top_db=None),
                                to check the tests' own log-mel
      meta.json                 shapes, versions, and librosa's own pure-tone errors
  tones                 prints the pure-tone check on librosa's output (f0 * 2^(n/12), n in -4..4)
  shift OUT_DIR IN.wav:N [IN.wav:N ...]
      writes OUT_DIR/<stem>_shift_<N>.wav (float32) = pitch_shift(load(IN, sr=22050), n_steps=N);
      used at test time for the real GTZAN clips, which are never committed.

Only numpy, scipy and librosa are needed. Run from the repository root:
  python3 tools/reference/pitch_fixtures.py generate
"""

import json
import os
import sys

import numpy as np
import scipy.io.wavfile
import librosa

SR = 22050
SECONDS = 3.0
N_STEPS = [-4, -1, 2, 4]
TONES = [261.63, 440.0, 1000.0]


def music_clip():
    """A 3 s clip: bass, chord pad, lead with vibrato, kick and hi-hat."""
    n = int(SR * SECONDS)
    t = np.arange(n) / SR
    y = np.zeros(n)
    beat = 0.375  # 160 bpm

    # Bass: eight quarter notes, 6 harmonics at 1/h, exponential decay.
    bass = [55.0, 55.0, 65.41, 73.42, 82.41, 82.41, 98.0, 110.0]
    for i, f in enumerate(bass):
        tau = t - i * beat
        on = (tau >= 0) & (tau < beat)
        for h in range(1, 7):
            y[on] += 0.25 / h * np.sin(2 * np.pi * h * f * tau[on]) * np.exp(-3 * tau[on])

    # Pad: A minor then F major triads, 2 harmonics, soft attack.
    chords = [[220.0, 261.63, 329.63], [174.61, 220.0, 261.63]]
    for i, chord in enumerate(chords):
        tau = t - i * 1.5
        on = (tau >= 0) & (tau < 1.5)
        env = 1 - np.exp(-10 * tau[on])
        for f in chord:
            y[on] += 0.07 * env * (np.sin(2 * np.pi * f * tau[on]) + 0.3 * np.sin(4 * np.pi * f * tau[on]))

    # Lead: sixteen eighth notes from A minor pentatonic, odd harmonics, vibrato.
    lead = [440.0, 523.25, 587.33, 659.26, 783.99, 659.26, 587.33, 523.25,
            440.0, 392.0, 440.0, 523.25, 659.26, 880.0, 783.99, 659.26]
    for i, f in enumerate(lead):
        tau = t - i * beat / 2
        on = (tau >= 0) & (tau < beat / 2)
        phase = 2 * np.pi * f * (tau[on] + 0.003 / (2 * np.pi * 5) * np.sin(2 * np.pi * 5 * tau[on]))
        env = np.minimum(tau[on] / 0.01, 1.0) * np.exp(-6 * tau[on])
        for h in (1, 3, 5):
            y[on] += 0.12 / h**2 * env * np.sin(h * phase)

    # Kick on every beat: a falling sine sweep.
    for i in range(8):
        tau = t - i * beat
        on = (tau >= 0) & (tau < beat)
        ph = 2 * np.pi * (50 * tau[on] + 100 / 30 * (1 - np.exp(-30 * tau[on])))
        y[on] += 0.5 * np.sin(ph) * np.exp(-8 * tau[on])

    # Hi-hat on the off-beats: seeded white noise, first-differenced (high-passed).
    rng = np.random.default_rng(20260101)
    noise = np.diff(rng.standard_normal(n + 1))
    for i in range(8):
        tau = t - (i + 0.5) * beat
        on = (tau >= 0) & (tau < beat / 2)
        y[on] += 0.05 * noise[on] * np.exp(-40 * tau[on])

    return (0.9 * y / np.max(np.abs(y))).astype(np.float32)


def to_int16(y):
    return np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)


def from_int16(q):
    return (q.astype(np.float32) / 32768.0).astype(np.float32)


def estimate_frequency(y, sr, start=0.5, length=32768, pad=131072):
    """FFT peak of a Hann-windowed stretch, parabolic interpolation on log magnitude."""
    s = int(start * sr)
    seg = y[s : s + length].astype(np.float64)
    w = np.hanning(len(seg))
    spec = np.abs(np.fft.rfft(seg * w, n=pad))
    k = int(np.argmax(spec[1:-1])) + 1
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-300)
    delta = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + delta) * sr / pad


def tone_check():
    """Max relative error (%) of librosa's shifted tones against f0 * 2^(n/12)."""
    worst = 0.0
    n = int(SR * SECONDS)
    t = np.arange(n) / SR
    for f0 in TONES:
        tone = (0.5 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)
        for steps in range(-4, 5):
            out = librosa.effects.pitch_shift(tone, sr=SR, n_steps=steps)
            got = estimate_frequency(out, SR)
            want = f0 * 2 ** (steps / 12)
            err = abs(got - want) / want * 100
            worst = max(worst, err)
            print(f"librosa tone {f0:8.2f} Hz {steps:+d}: {got:9.3f} Hz, want {want:9.3f} ({err:.4f}%)")
    print(f"librosa max tone error: {worst:.4f}%")
    return worst


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    clip = to_int16(music_clip())
    scipy.io.wavfile.write(os.path.join(out_dir, "music.wav"), SR, clip)
    y = from_int16(clip)
    for n in N_STEPS:
        shifted = librosa.effects.pitch_shift(y, sr=SR, n_steps=n)
        scipy.io.wavfile.write(os.path.join(out_dir, f"music_shift_{n}.wav"), SR, to_int16(shifted))
    mel = librosa.feature.melspectrogram(y=y, sr=SR)
    logmel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).astype("<f4")
    logmel.tofile(os.path.join(out_dir, "music_logmel.f32"))
    meta = {
        "librosa": librosa.__version__,
        "numpy": np.__version__,
        "sample_rate": SR,
        "samples": int(len(clip)),
        "n_steps": N_STEPS,
        "logmel_shape": list(logmel.shape),
        "librosa_tone_max_error_pct": tone_check(),
        "tones_hz": TONES,
    }
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote fixtures to {out_dir}")


def shift(out_dir, items):
    os.makedirs(out_dir, exist_ok=True)
    for item in items:
        path, n = item.rsplit(":", 1)
        y, _ = librosa.load(path, sr=SR, mono=True)
        out = librosa.effects.pitch_shift(y, sr=SR, n_steps=float(n))
        stem = os.path.splitext(os.path.basename(path))[0]
        scipy.io.wavfile.write(os.path.join(out_dir, f"{stem}_shift_{n}.wav"), SR, out.astype(np.float32))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "generate"
    if cmd == "generate":
        generate(argv[2] if len(argv) > 2 else "tests/fixtures/pitch")
    elif cmd == "tones":
        tone_check()
    elif cmd == "shift" and len(argv) > 3:
        shift(argv[2], argv[3:])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
