"""librosa peer of benches/benches/pitch.rs: librosa.effects.pitch_shift (default res_type
soxr_hq) on the same 30 s clip, by +2 and -4 semitones, single-threaded, in process.
Prints the median of N runs in ms.
Usage: OMP_NUM_THREADS=1 python3 benches/pitch_librosa.py [N]"""
import os
import sys

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(v, "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import librosa  # noqa: E402

from frontend_librosa import SR, clip, median_ms  # noqa: E402


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    y = clip()
    for steps in (2.0, -4.0):
        f = lambda: librosa.effects.pitch_shift(y, sr=SR, n_steps=steps)
        print(f"librosa steps_{steps}: median {median_ms(f, reps):.2f} ms over {reps} runs")


if __name__ == "__main__":
    main()
