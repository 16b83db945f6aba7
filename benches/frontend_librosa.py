"""librosa peer of benches/benches/frontend.rs: melspectrogram + power_to_db on the same 30 s
clip, single-threaded, both configurations. Prints the median of N runs in ms.
Usage: OMP_NUM_THREADS=1 python3 benches/frontend_librosa.py [N]"""
import os
import sys
import time

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import numpy as np  # noqa: E402
import librosa  # noqa: E402

SR = 22050


def clip():
    # the same signal as frontend.rs: harmonic partials with vibrato, plus xorshift noise
    n = SR * 30
    t = np.arange(n, dtype=np.float64) / SR
    f0 = 220.0 * (1.0 + 0.01 * np.sin(2 * np.pi * 5.0 * t))
    # frontend.rs evaluates sin(2 pi f0(t) k t) pointwise, so do the same
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    state = 0x2545F4914F6CDD1D
    mask = (1 << 64) - 1
    noise = np.empty(n)
    for i in range(n):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        noise[i] = (state >> 40) / float(1 << 24) - 0.5
    return (0.3 * tone + 0.05 * noise).astype(np.float32)


def median_ms(f, reps):
    """Median wall time of `reps` calls of `f` in ms, after one warm-up call (FFT plans,
    filterbank and resampler caches)."""
    f()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    y = clip()
    configs = {
        "default_2048_slaney": dict(n_fft=2048, hop_length=512, n_mels=128),
        "htk1024": dict(n_fft=1024, hop_length=512, n_mels=128, htk=True, norm=None),
    }
    for name, kw in configs.items():
        f = lambda: librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, **kw), ref=1.0)
        print(f"librosa {name}: median {median_ms(f, reps):.2f} ms over {reps} runs")


if __name__ == "__main__":
    main()
