#!/usr/bin/env python3
"""PyTorch reference logits for tinygenre's four networks (trainer/src/models/).

Each architecture is written here independently in PyTorch, with parameter names equal to the
Burn module paths (BatchNorm gamma/beta = torch weight/bias; Burn stores Linear weights
[in, out], torch [out, in]). Weights, BatchNorm statistics and the input are not stored: they are
drawn from a tiny counter-based generator that trainer/tests/torch_parity.rs implements
identically (splitmix64 seeded by FNV-1a of the parameter's torch name), so even ResNet-18's 11 M
weights need no fixture. The fixture holds, per network, the input shape, the torch logits (eval
mode) and the sum / sum of squares of all generated values as a check that both sides generated
the same weights.

Usage: python3 tools/reference/torch_parity.py [tests/fixtures/torch/parity.json]
"""

import json
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MASK = (1 << 64) - 1
SEED = 0x5EED_2020


def fnv1a64(s: str) -> int:
    h = 0xCBF29CE484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001B3) & MASK
    return h


def uniforms(name: str, n: int) -> np.ndarray:
    """n values u in [0, 1), u = (splitmix64 output >> 40) / 2^24 (exact in f64)."""
    state = (SEED ^ fnv1a64(name)) & MASK
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        out[i] = (z >> 40) / 16777216.0
    return out


def generated(name: str, shape) -> np.ndarray:
    """The deterministic value of a parameter (torch name and layout); see the Rust twin."""
    n = int(np.prod(shape))
    u = uniforms(name, n)
    leaf = name.rsplit(".", 1)[-1]
    if name == "input":
        v = 2.0 * u - 1.0
    elif leaf == "running_mean":
        v = (2.0 * u - 1.0) * 0.1
    elif leaf == "running_var":
        v = 1.0 + 0.5 * u
    elif leaf == "weight" and len(shape) == 1:  # BatchNorm gamma
        v = 1.0 + (2.0 * u - 1.0) * 0.2
    elif leaf == "bias":
        v = (2.0 * u - 1.0) * 0.1
    elif leaf == "weight":  # conv [out, in, kh, kw] / linear [out, in]
        fan_in = int(np.prod(shape[1:]))
        v = (2.0 * u - 1.0) * math.sqrt(6.0 / fan_in)  # Kaiming-uniform bound: keeps the scale
    else:
        raise ValueError(name)
    return v.astype(np.float32).reshape(shape)


# ---------------------------------------------------------------- the networks


class Baseline(nn.Module):
    def __init__(self, n_classes, n_mels, frames, posenc):
        super().__init__()
        self.posenc = posenc
        chans = [3 if posenc == "coord" else 1, 128, 64, 32, 16, 8]
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1) for i in range(5))
        h, w = n_mels, frames
        for _ in range(5):
            h, w = h // 2, w // 2
        self.dense = nn.Linear(8 * h * w, n_classes)

    def forward(self, x):
        b, _, m, t = x.shape
        if self.posenc == "coord":
            mel = torch.linspace(-1, 1, m).view(1, 1, m, 1).expand(b, 1, m, t)
            frame = torch.linspace(-1, 1, t).view(1, 1, 1, t).expand(b, 1, m, t)
            x = torch.cat([x, mel, frame], 1)
        elif self.posenc == "sinusoidal":
            pe = np.zeros((m, t))
            pos = np.arange(t, dtype=np.float64)
            for i in range(m):
                ang = pos / 10000.0 ** ((2 * (i // 2)) / m)
                pe[i] = np.sin(ang) if i % 2 == 0 else np.cos(ang)
            x = x + torch.from_numpy(pe.astype(np.float32))
        for conv in self.convs:
            x = F.dropout(F.max_pool2d(F.relu(conv(x)), 2), 0.5, self.training)
        return self.dense(torch.flatten(x, 1))


class Arbitrary(nn.Module):
    POOLS = [(2, 3), (3, 4), (2, 5), (3, 3), (3, 4)]

    def __init__(self, n_classes):
        super().__init__()
        chans = [1, 16, 16, 32, 32, 64]
        self.input_bn = nn.BatchNorm2d(1)
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1) for i in range(5))
        self.bns = nn.ModuleList(nn.BatchNorm2d(chans[i + 1]) for i in range(5))
        self.dense1 = nn.Linear(64, 64)
        self.bn = nn.BatchNorm1d(64)
        self.dense2 = nn.Linear(64, n_classes)

    def forward(self, x):
        x = self.input_bn(x)
        for conv, bn, pool in zip(self.convs, self.bns, self.POOLS):
            x = F.dropout(F.max_pool2d(F.relu(bn(conv(x))), pool), 0.1, self.training)
        x = torch.amax(x, dim=(2, 3))
        x = F.relu(self.bn(self.dense1(x)))
        return self.dense2(F.dropout(x, 0.5, self.training))


class Downsample(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, stride, bias=False)
        self.bn = nn.BatchNorm2d(cout)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = Downsample(cin, cout, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        idn = x if self.downsample is None else self.downsample.bn(self.downsample.conv(x))
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + idn)


class ResNet18(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cfg = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
        for i, (cin, cout, s) in enumerate(cfg, 1):
            setattr(self, f"layer{i}", nn.ModuleList([BasicBlock(cin, cout, s), BasicBlock(cout, cout, 1)]))
        self.fc = nn.Linear(512, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            for block in layer:
                x = block(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


CASES = {
    # name: (constructor, input shape)
    "baseline": (lambda: Baseline(10, 128, 130, "none"), (2, 1, 128, 130)),
    "baseline_coord": (lambda: Baseline(10, 128, 130, "coord"), (2, 1, 128, 130)),
    "baseline_sinusoidal": (lambda: Baseline(10, 128, 130, "sinusoidal"), (2, 1, 128, 130)),
    "arbitrary": (lambda: Arbitrary(10), (2, 1, 128, 1249)),
    "resnet18": (lambda: ResNet18(10), (2, 1, 128, 130)),
}


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/torch/parity.json"
    torch.set_num_threads(2)
    fixture = {"seed": SEED, "torch": torch.__version__, "cases": {}}
    for name, (make, shape) in CASES.items():
        model = make().eval()
        total, total_sq = 0.0, 0.0
        state = {}
        for pname, t in model.state_dict().items():
            if pname.endswith("num_batches_tracked"):
                continue
            v = generated(pname, tuple(t.shape))
            total += float(v.astype(np.float64).sum())
            total_sq += float((v.astype(np.float64) ** 2).sum())
            state[pname] = torch.from_numpy(v)
        missing, unexpected = model.load_state_dict(state, strict=False)
        assert not unexpected and all(m.endswith("num_batches_tracked") for m in missing), (missing, unexpected)
        x = torch.from_numpy(generated("input", shape))
        with torch.no_grad():
            logits = model(x).double().numpy()
        fixture["cases"][name] = {
            "input_shape": list(shape),
            "logits": logits.tolist(),
            "param_sum": total,
            "param_sum_sq": total_sq,
            "n_tensors": len(state),
        }
        print(f"{name}: {len(state)} tensors, logits[0][:3] = {logits[0][:3]}")
    with open(out_path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
