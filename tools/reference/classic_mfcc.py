#!/usr/bin/env python3
"""librosa reference MFCCs for trainer/src/classic (issue 16's classic baseline).

Two modes:

  classic_mfcc.py fixture OUT_DIR
      Writes the committed fixture: MFCCs of a deterministic synthetic signal
      (formula below, also written out in trainer/tests/classic.rs), as float32
      .npy, shape [20, frames]:
        mfcc_top80.npy  librosa.feature.mfcc(y=y, sr=22050, n_mfcc=20)
                        (librosa's default: power_to_db(top_db=80))
        mfcc_nofloor.npy the same with power_to_db(top_db=None)

  classic_mfcc.py clips OUT_DIR WAV...
      For each WAV (loaded with librosa.load(sr=22050), mono), writes
      OUT_DIR/<index>.npy = librosa.feature.mfcc(y=y, sr=22050, n_mfcc=20).

The synthetic signal, n = 0 .. 11024 at 22050 Hz, t = n / 22050, in float64 and
then cast to float32:
    env(t)  = 0.5 + 0.5 * sin(2 pi 3 t)
    x(t)    = env(t) * (0.5 sin(2 pi 440 t) + 0.25 sin(2 pi 1234.5 t + 0.3))
              + 0.1 sin(2 pi (200 t + 1500 t^2))
    x(t)    = 0 for n >= 8000 (silence, so the top_db floor engages)
"""

import os
import sys

import numpy as np
import librosa

SR = 22050
N_MFCC = 20


def synthetic():
    n = np.arange(11025, dtype=np.float64)
    t = n / SR
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    x = env * (0.5 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 1234.5 * t + 0.3))
    x = x + 0.1 * np.sin(2 * np.pi * (200 * t + 1500 * t * t))
    x[8000:] = 0.0
    return x.astype(np.float32)


def main():
    mode, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if mode == "fixture":
        y = synthetic()
        m80 = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=N_MFCC)
        mel = librosa.feature.melspectrogram(y=y, sr=SR)
        m_none = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=N_MFCC)
        np.save(os.path.join(out, "mfcc_top80.npy"), m80.astype(np.float32))
        np.save(os.path.join(out, "mfcc_nofloor.npy"), m_none.astype(np.float32))
        print("librosa", librosa.__version__, "shape", m80.shape)
    elif mode == "clips":
        for i, path in enumerate(sys.argv[3:]):
            y, _ = librosa.load(path, sr=SR, mono=True)
            m = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=N_MFCC)
            np.save(os.path.join(out, f"{i}.npy"), m.astype(np.float32))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
