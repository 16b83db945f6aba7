#!/usr/bin/env python3
"""Export EfficientAT's mn04 (AudioSet tagger) as a tinygenre teacher ONNX file.

The network and its front end are written here from the published facts (Schmid, Koutini,
Widmer 2023; MobileNetV3-Large's block table, Howard et al. 2019) so that the EfficientAT state
dict `mn04_as_mAP_432.pt` loads with strict=True. The STFT is a strided Conv1d with a fixed
windowed-DFT basis, so the ONNX graph has no STFT op (tract cannot analyse torch's STFT export).

Teacher contract (tinygenre.teacher = 1):
  input  `waveform`  float32 [1, 96000]  mono, [-1, 1], 32 kHz (3 s)
  output `logits`    float32 [1, 527]    pre-sigmoid AudioSet logits
  output `embedding` float32 [1, 384]    mean-pooled final feature map
  metadata_props: tinygenre.teacher, .name, .sample_rate, .window_samples, .class_names
  (newline-joined), .source_sha256 (sha256 of the .pt file).

Usage:
  python3 tools/teacher/mn04_export.py --weights ../shared/teachers/mn04_as_mAP_432.pt \
      --out ~/teachers/mn04.onnx [--reference ../shared/teachers/reference]
"""

import argparse
import csv
import hashlib
import math
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE = 32000
WINDOW_SAMPLES = 96000  # 3 s
N_FFT = 1024
WIN_LENGTH = 800
HOP = 320
N_MELS = 128
F_MIN = 0.0
F_MAX = 15000.0
PREEMPH = 0.97
BN_EPS = 1e-3
WIDTH = 0.4
NUM_CLASSES = 527
HEAD_HIDDEN = 512

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED_DEFAULT = os.path.join(os.path.dirname(REPO), "shared", "teachers")


# --------------------------------------------------------------------------------------------
# Front end
# --------------------------------------------------------------------------------------------

def kaldi_mel_matrix(n_mels, n_fft, sr, f_min, f_max):
    """Kaldi-style triangles on mel = 1127 ln(1 + f/700), no normalisation.

    Returns [n_mels, n_fft // 2 + 1] float64; the Nyquist bin gets weight 0 (Kaldi's banks cover
    only n_fft / 2 bins).
    """
    def mel(f):
        return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)

    n_bins = n_fft // 2
    lo, hi = mel(f_min), mel(f_max)
    delta = (hi - lo) / (n_mels + 1)
    b = np.arange(n_mels, dtype=np.float64)[:, None]
    left, centre, right = lo + b * delta, lo + (b + 1) * delta, lo + (b + 2) * delta
    m = mel(np.arange(n_bins, dtype=np.float64) * (sr / n_fft))[None, :]
    up = (m - left) / (centre - left)
    down = (right - m) / (right - centre)
    w = np.maximum(0.0, np.minimum(up, down))
    return np.concatenate([w, np.zeros((n_mels, 1))], axis=1)


def symmetric_hann(n):
    k = np.arange(n, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2.0 * math.pi * k / (n - 1))


class MelFrontEnd(nn.Module):
    """waveform [B, W] -> log-mel [B, 1, 128, T], T = 1 + (W - 1) // HOP.

    Pre-emphasis (W - 1 samples), then frames of a centred, reflect-padded STFT. Only the 800
    windowed samples of each 1024-sample frame matter (the Hann window sits at offset 112), so
    the basis is 800 taps wide and the reflect padding is trimmed to exactly what those taps
    reach: frame t reads padded[t*HOP + 112 : t*HOP + 912] of the 512/512-padded signal.
    Bins whose mel weights are all zero (above 15 kHz, Nyquist) are dropped from the basis.
    """

    def __init__(self, window_samples=WINDOW_SAMPLES):
        super().__init__()
        n = window_samples - 1  # after pre-emphasis
        self.n_frames = 1 + n // HOP
        offset = (N_FFT - WIN_LENGTH) // 2
        self.pad_left = N_FFT // 2 - offset
        needed = (self.n_frames - 1) * HOP + WIN_LENGTH
        self.pad_right = needed - self.pad_left - n
        assert 0 <= self.pad_left < n and 0 <= self.pad_right < n, (self.pad_left, self.pad_right)

        mel = kaldi_mel_matrix(N_MELS, N_FFT, SAMPLE_RATE, F_MIN, F_MAX)
        used = np.nonzero(mel.any(axis=0))[0]
        n_bins = int(used.max()) + 1
        self.n_bins = n_bins
        win = symmetric_hann(WIN_LENGTH)
        t = np.arange(WIN_LENGTH, dtype=np.float64) + offset  # position in the 1024 frame
        k = np.arange(n_bins, dtype=np.float64)[:, None]
        ang = 2.0 * math.pi * k * t[None, :] / N_FFT
        basis = np.concatenate([np.cos(ang) * win, -np.sin(ang) * win], axis=0)  # [2K, 800]
        self.register_buffer("preemph", torch.tensor([[[-PREEMPH, 1.0]]], dtype=torch.float32))
        self.register_buffer("dft", torch.from_numpy(basis[:, None, :].astype(np.float32)))
        self.register_buffer("mel", torch.from_numpy(mel[:, :n_bins].astype(np.float32)))

    def forward(self, wave):
        x = wave.unsqueeze(1)  # [B, 1, W]
        x = F.conv1d(x, self.preemph)  # [B, 1, W-1]
        x = F.pad(x, (self.pad_left, self.pad_right), mode="reflect")
        spec = F.conv1d(x, self.dft, stride=HOP)  # [B, 2K, T]
        re, im = spec[:, : self.n_bins], spec[:, self.n_bins:]
        power = re * re + im * im  # [B, K, T]
        mel = torch.matmul(self.mel, power)  # [B, 128, T]
        mel = (torch.log(mel + 1e-5) + 4.5) / 5.0
        return mel.unsqueeze(1)


# --------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------

def round_channels(v, divisor=8):
    """Width-scaled channel count, rounded to a multiple of 8, never below 90 % of v."""
    r = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if r < 0.9 * v:
        r += divisor
    return r


# MobileNetV3-Large: kernel, expanded, out, SE, activation, stride (the first conv is 16, HS, s2).
LARGE_TABLE = [
    (3, 16, 16, False, "RE", 1),
    (3, 64, 24, False, "RE", 2),
    (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2),
    (5, 120, 40, True, "RE", 1),
    (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2),
    (3, 200, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 480, 112, True, "HS", 1),
    (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2),
    (5, 960, 160, True, "HS", 1),
    (5, 960, 160, True, "HS", 1),
]
FIRST_CHANNELS = 16
LAST_CHANNELS = 960  # the final 1x1 conv, before width scaling


def act(name):
    return nn.Hardswish() if name == "HS" else nn.ReLU()


class ConvBN(nn.Sequential):
    """Keys .0 (conv, no bias) and .1 (BatchNorm); an optional activation at .2 (no params)."""

    def __init__(self, cin, cout, k, stride=1, groups=1, activation=None):
        layers = [
            nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout, eps=BN_EPS),
        ]
        if activation is not None:
            layers.append(act(activation))
        super().__init__(*layers)


class ChannelSE(nn.Module):
    """Squeeze-and-excitation over channels: mean over (F, T) -> fc1 -> ReLU -> fc2 -> sigmoid."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.fc1 = nn.Linear(channels, squeeze)
        self.fc2 = nn.Linear(squeeze, channels)

    def forward(self, x):
        s = x.mean(dim=(2, 3))
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s.unsqueeze(-1).unsqueeze(-1)


class SEHolder(nn.Module):
    """Holds the SE as `conc_se_layers.0` (EfficientAT's name); with one SE it is just that SE."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.conc_se_layers = nn.ModuleList([ChannelSE(channels, squeeze)])

    def forward(self, x):
        return self.conc_se_layers[0](x)


class InvertedResidual(nn.Module):
    def __init__(self, cin, k, exp, cout, se, activation, stride):
        super().__init__()
        layers = []
        if exp != cin:
            layers.append(ConvBN(cin, exp, 1, activation=activation))
        layers.append(ConvBN(exp, exp, k, stride=stride, groups=exp, activation=activation))
        if se:
            layers.append(SEHolder(exp, round_channels(exp // 4)))
        layers.append(ConvBN(exp, cout, 1))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.block(x)
        return x + y if self.residual else y


class MN(nn.Module):
    """mel [B, 1, 128, T] -> (logits [B, 527], feature [B, 384])."""

    def __init__(self, width=WIDTH, num_classes=NUM_CLASSES):
        super().__init__()
        c = round_channels(FIRST_CHANNELS * width)
        layers = [ConvBN(1, c, 3, stride=2, activation="HS")]
        for k, exp, out, se, a, s in LARGE_TABLE:
            e, o = round_channels(exp * width), round_channels(out * width)
            layers.append(InvertedResidual(c, k, e, o, se, a, s))
            c = o
        last = round_channels(LAST_CHANNELS * width)
        layers.append(ConvBN(c, last, 1, activation="HS"))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(1),
            nn.Linear(last, HEAD_HIDDEN),
            nn.Hardswish(),
            nn.Dropout(0.2),
            nn.Linear(HEAD_HIDDEN, num_classes),
        )

    def forward(self, mel):
        x = self.features(mel)
        feat = self.classifier[1](self.classifier[0](x))
        return self.classifier[2:](feat), feat


class Teacher(nn.Module):
    """The exported graph: waveform -> (logits, embedding)."""

    def __init__(self, window_samples=WINDOW_SAMPLES):
        super().__init__()
        self.front = MelFrontEnd(window_samples)
        self.net = MN()

    def forward(self, waveform):
        return self.net(self.front(waveform))


# --------------------------------------------------------------------------------------------

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def class_names(csv_path):
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: int(r["index"]))
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))
    names = [r["display_name"] for r in rows]
    for n in names:
        assert "\n" not in n
    return names


def tidy_graph(m, pads):
    """Make the exported graph plainer for static engines such as tract.

    The TorchScript exporter computes Pad's `pads` input with a chain of ConstantOfShape / Concat
    / Slice / Transpose / Cast nodes; replace it by a constant initializer and drop the dead
    nodes. Pin the outputs' batch dimension to 1 (the exporter leaves it unknown after Flatten).
    """
    from onnx import numpy_helper

    g = m.graph
    pad_nodes = [n for n in g.node if n.op_type == "Pad"]
    assert len(pad_nodes) == 1, [n.op_type for n in pad_nodes]
    mode = [a.s for a in pad_nodes[0].attribute if a.name == "mode"]
    assert mode == [b"reflect"], mode
    g.initializer.append(numpy_helper.from_array(np.asarray(pads, dtype=np.int64),
                                                 "front.reflect_pads"))
    pad_nodes[0].input[1] = "front.reflect_pads"

    needed = {o.name for o in g.output}
    keep = []
    for n in reversed(list(g.node)):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed.update(i for i in n.input if i)
    keep.reverse()
    del g.node[:]
    g.node.extend(keep)
    used = {i for n in g.node for i in n.input}
    inits = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)

    for vi in list(g.input) + list(g.output):
        d0 = vi.type.tensor_type.shape.dim[0]
        d0.Clear()
        d0.dim_value = 1
    return m


def maxdiff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", default=os.path.join(SHARED_DEFAULT, "mn04_as_mAP_432.pt"))
    ap.add_argument("--labels", default=None,
                    help="audioset_class_labels_indices.csv (default: beside --weights)")
    ap.add_argument("--reference", default=None,
                    help="folder with mn04_*.npy reference arrays (default: reference/ beside "
                         "--weights; skipped if missing)")
    ap.add_argument("--out", default="teacher-mn04.onnx")
    ap.add_argument("--tol", type=float, default=1e-4,
                    help="fail if logits/embedding differ from the reference by more")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    wdir = os.path.dirname(os.path.abspath(args.weights))
    labels = args.labels or os.path.join(wdir, "audioset_class_labels_indices.csv")
    refdir = args.reference or os.path.join(wdir, "reference")

    out = os.path.abspath(os.path.expanduser(args.out))
    if out.startswith(REPO + os.sep):
        sys.exit(f"refusing to write {out}: never put teacher weights inside the repository")

    names = class_names(labels)
    assert len(names) == NUM_CLASSES, len(names)
    digest = sha256_file(args.weights)
    print(f"weights {args.weights} sha256 {digest}")

    model = Teacher(WINDOW_SAMPLES)
    state = torch.load(args.weights, map_location="cpu", weights_only=True)
    model.net.load_state_dict(state, strict=True)
    model.eval()
    n_params = sum(p.numel() for p in model.net.parameters())
    print(f"parameters {n_params} (front end: {model.front.n_bins} DFT bins, "
          f"pad {model.front.pad_left}/{model.front.pad_right}, {model.front.n_frames} frames)")

    wave = None
    have_ref = os.path.isfile(os.path.join(refdir, "mn04_wave_32k_1x96000.npy"))
    if have_ref:
        ld = lambda n: np.load(os.path.join(refdir, n)).astype(np.float32)
        wave = ld("mn04_wave_32k_1x96000.npy").reshape(1, WINDOW_SAMPLES)
        ref_mel, ref_logits, ref_feat = (ld("mn04_mel_1x1x128x300.npy"), ld("mn04_logits_1x527.npy"),
                                         ld("mn04_feat_1x384.npy"))
        with torch.no_grad():
            mel = model.front(torch.from_numpy(wave)).numpy()
            lg_m, ft_m = (t.numpy() for t in model.net(torch.from_numpy(ref_mel)))
            lg_w, ft_w = (t.numpy() for t in model(torch.from_numpy(wave)))
        print("PyTorch vs reference (max abs diff):")
        print(f"  mel from wave          {maxdiff(mel, ref_mel):.3e}")
        print(f"  logits from ref mel    {maxdiff(lg_m, ref_logits):.3e}")
        print(f"  feature from ref mel   {maxdiff(ft_m, ref_feat):.3e}")
        print(f"  logits from wave       {maxdiff(lg_w, ref_logits):.3e}")
        print(f"  feature from wave      {maxdiff(ft_w, ref_feat):.3e}")
        worst = max(maxdiff(lg_w, ref_logits), maxdiff(ft_w, ref_feat))
        if worst > args.tol:
            sys.exit(f"PyTorch parity {worst:.3e} > tol {args.tol:.1e}")
    else:
        print(f"no reference arrays in {refdir}: parity check skipped")

    import onnx

    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    dummy = torch.zeros(1, WINDOW_SAMPLES)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript-exporter deprecation and tracer notes
        torch.onnx.export(model, (dummy,), out, input_names=["waveform"],
                          output_names=["logits", "embedding"], opset_version=17,
                          do_constant_folding=True, dynamo=False)
    m = tidy_graph(onnx.load(out), [0, 0, model.front.pad_left, 0, 0, model.front.pad_right])
    meta = {
        "tinygenre.teacher": "1",
        "tinygenre.name": "efficientat-mn04",
        "tinygenre.sample_rate": str(SAMPLE_RATE),
        "tinygenre.window_samples": str(WINDOW_SAMPLES),
        "tinygenre.class_names": "\n".join(names),
        "tinygenre.source_sha256": digest,
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.producer_name = "tinygenre tools/teacher/mn04_export.py"
    m.doc_string = ("EfficientAT mn04_as (Schmid, Koutini, Widmer; MIT licence), AudioSet tagger, "
                    "front end included; tinygenre teacher contract 1")
    onnx.checker.check_model(m)
    onnx.save(m, out)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"wrote {out} ({os.path.getsize(out)} bytes, sha256 {sha256_file(out)})")
    print(f"ops: {', '.join(ops)}")
    for vi in list(m.graph.input) + list(m.graph.output):
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        print(f"  {vi.name}: {dims}")

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"])
    x = wave if wave is not None else np.zeros((1, WINDOW_SAMPLES), np.float32)
    lg, ft = sess.run(["logits", "embedding"], {"waveform": x})
    t0 = time.perf_counter()
    reps = 5
    for _ in range(reps):
        sess.run(None, {"waveform": x})
    ms = (time.perf_counter() - t0) / reps * 1e3
    print(f"onnxruntime ({args.threads} thread, optimisations off): {ms:.1f} ms per run")
    if wave is not None:
        dl, df = maxdiff(lg, ref_logits), maxdiff(ft, ref_feat)
        print(f"onnxruntime vs reference: logits {dl:.3e}, embedding {df:.3e}")
        print(f"onnxruntime vs PyTorch:   logits {maxdiff(lg, lg_w):.3e}, "
              f"embedding {maxdiff(ft, ft_w):.3e}")
        top = np.argsort(-lg[0])[:5]
        print("top-5:", ", ".join(f"{names[i]} ({lg[0, i]:.2f})" for i in top))
        if max(dl, df) > args.tol:
            sys.exit(f"onnxruntime parity {max(dl, df):.3e} > tol {args.tol:.1e}")


if __name__ == "__main__":
    main()
