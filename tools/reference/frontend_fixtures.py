#!/usr/bin/env python3
"""Reference log-mel spectrograms from librosa for infer-core's front end.

Two modes:

  frontend_fixtures.py [--out tests/fixtures/frontend]
      Synthetic signals (formulas below, 22050 Hz, quantised to int16) and
      librosa's output for both front-end configurations. Written as raw
      little-endian files plus manifest.json; committed.

  frontend_fixtures.py --gtzan DIR --out OUTDIR
      The same for every *.wav under DIR (the real GTZAN dev clips), written
      to OUTDIR (a temporary directory: real audio and its features are never
      committed). The Rust parity test runs this itself when GTZAN_DEV_DIR is
      set and librosa is importable.

librosa call (0.11), for both configurations:
    S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop,
            n_mels=128, htk=htk, norm=norm, power=2.0, center=True,
            pad_mode='constant')
    librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=None)
with y = int16 / 32768 as float32 (what librosa.load returns for 16-bit PCM).
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

SR = 22050
SECONDS = 3.0
N = int(SR * SECONDS)  # 66150 samples -> 130 frames

CONFIGS = {
    "default": dict(n_fft=2048, hop_length=512, n_mels=128, htk=False, norm="slaney"),
    "htk1024": dict(n_fft=1024, hop_length=512, n_mels=128, htk=True, norm=None),
    # FrontendConfig::RATE16K: the same int16 signals read as 16 kHz audio (synthetic mode only;
    # the real clips are 22050 Hz)
    "rate16k": dict(sr=16000, n_fft=1024, hop_length=372, n_mels=128, htk=False, norm="slaney"),
}


def to_i16(x):
    """Float in [-1, 1] -> int16 (round half to even, saturate)."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype("<i2")


def signals():
    """name -> (int16 samples, formula). Deterministic (seeded numpy PCG64)."""
    t = np.arange(N, dtype=np.float64) / SR
    out = {}
    # Exponential sine sweep 50 Hz -> 10 kHz over 3 s, amplitude 0.5.
    f0, f1 = 50.0, 10000.0
    k = np.log(f1 / f0) / SECONDS
    out["sweep"] = (to_i16(0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)),
                    "0.5*sin(2*pi*50*(exp(k*t)-1)/k), k=ln(10000/50)/3")
    rng = np.random.default_rng(20240611)
    out["noise"] = (to_i16(rng.normal(0.0, 0.1, N)),
                    "normal(0, 0.1), numpy default_rng(20240611)")
    imp = np.zeros(N)
    imp[1000::5512] = 0.9
    imp[3700::11025] = -0.6
    out["impulses"] = (to_i16(imp), "0.9 at n=1000+5512j, -0.6 at n=3700+11025j")
    out["silence"] = (to_i16(np.zeros(N)), "zeros")
    chord = sum(0.15 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63, 440.0))
    out["chord"] = (to_i16(chord * np.exp(-0.5 * t)),
                    "0.15*sum(sin(2*pi*f*t), f in 220,277.18,329.63,440)*exp(-t/2)")
    clip = 2.0 * np.sin(2 * np.pi * 150.0 * t) + 0.5 * np.sin(2 * np.pi * 2000.0 * t)
    out["clipped"] = (to_i16(np.clip(clip, -1.0, 1.0)),
                      "clip(2*sin(2*pi*150*t)+0.5*sin(2*pi*2000*t), -1, 1)")
    out["quiet_tone"] = (to_i16(0.002 * np.sin(2 * np.pi * 1000.0 * t)),
                         "0.002*sin(2*pi*1000*t) (about -54 dBFS, 66 int16 steps)")
    ts = t[:1500]
    out["short"] = (to_i16(0.7 * np.sin(2 * np.pi * (300.0 + 2000.0 * ts) * ts)),
                    "1500 samples of 0.7*sin(2*pi*(300+2000*t)*t)")
    return out


def log_mel(y, cfg):
    import librosa

    s = librosa.feature.melspectrogram(
        y=y, sr=cfg.get("sr", SR), n_fft=cfg["n_fft"], hop_length=cfg["hop_length"], n_mels=cfg["n_mels"],
        htk=cfg["htk"], norm=cfg["norm"], power=2.0, center=True, pad_mode="constant")
    return librosa.power_to_db(s, ref=1.0, amin=1e-10, top_db=None)


def write_atomic(path: Path, data: bytes):
    """Write to a temporary file in the same directory, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def within_80db_max_diff(a, b):
    keep = b >= b.max() - 80.0
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64))[keep].max())


def synthetic(out: Path):
    import librosa

    manifest = {
        "librosa_version": librosa.__version__,
        "numpy_version": np.__version__,
        "sample_rate": SR,
        "configs": {k: {kk: vv for kk, vv in v.items()} for k, v in CONFIGS.items()},
        "note": "inputs: int16 little-endian mono; outputs: float32 little-endian, "
                "mel-major [n_mels, frames]; y = int16 / 32768 as float32",
        "signals": [],
    }
    for name, (pcm, formula) in signals().items():
        write_atomic(out / f"{name}.i16.bin", pcm.tobytes())
        y = (pcm.astype(np.float32) / np.float32(32768.0)).astype(np.float32)
        entry = {"name": name, "formula": formula, "input": f"{name}.i16.bin",
                 "n_samples": int(len(pcm)), "outputs": {}}
        for cname, cfg in CONFIGS.items():
            db = log_mel(y, cfg).astype("<f4")
            # For information: how far float32 librosa is from float64 librosa.
            db64 = log_mel(y.astype(np.float64), cfg)
            fname = f"{name}.{cname}.f32.bin"
            write_atomic(out / fname, db.tobytes())
            entry["outputs"][cname] = {
                "file": fname, "n_mels": int(db.shape[0]), "frames": int(db.shape[1]),
                "max_db": float(db.max()),
                "f32_vs_f64_librosa_max_abs_db_within_80db": within_80db_max_diff(db, db64),
            }
            print(f"{name:11s} {cname:8s} {db.shape} max {db.max():8.3f} dB, "
                  f"librosa f32 vs f64: {entry['outputs'][cname]['f32_vs_f64_librosa_max_abs_db_within_80db']:.2e} dB")
        manifest["signals"].append(entry)
    write_atomic(out / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())


def gtzan(root: Path, out: Path):
    import librosa

    wavs = sorted(p for p in root.rglob("*.wav"))
    if not wavs:
        sys.exit(f"error: no .wav files under {root}")
    manifest = {"librosa_version": librosa.__version__, "sample_rate": SR,
                "configs": {k: v for k, v in CONFIGS.items() if v.get("sr", SR) == SR},
                "clips": []}
    for p in wavs:
        y, sr = librosa.load(p, sr=None, mono=True)
        if sr != SR:
            sys.exit(f"error: {p}: sample rate {sr}, expected {SR}")
        entry = {"wav": str(p.relative_to(root)), "n_samples": int(len(y)), "outputs": {}}
        for cname, cfg in CONFIGS.items():
            if cfg.get("sr", SR) != SR:
                continue
            db = log_mel(y, cfg).astype("<f4")
            fname = f"{p.stem}.{cname}.f32.bin"
            write_atomic(out / fname, db.tobytes())
            entry["outputs"][cname] = {"file": fname, "n_mels": int(db.shape[0]),
                                       "frames": int(db.shape[1])}
        manifest["clips"].append(entry)
    write_atomic(out / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())
    print(f"wrote librosa log-mels of {len(wavs)} clips to {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "tests/fixtures/frontend")
    ap.add_argument("--gtzan", type=Path, help="directory of real clips (*.wav, searched recursively)")
    a = ap.parse_args()
    if a.gtzan:
        gtzan(a.gtzan, a.out)
    else:
        synthetic(a.out)


if __name__ == "__main__":
    main()
