#!/usr/bin/env python3
"""PyTorch CPU peer of benches/benches/train_throughput.rs: the baseline CNN, one Adam step on a
batch of 32 [1, 128, 130] segments with soft-target cross-entropy, timed over N steps after a
warm-up. Prints segments/s. Usage: train_throughput_torch.py [threads] [steps] [device]
(device: cpu, the default, or cuda for benches/gpu.sh)"""

import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
device = sys.argv[3] if len(sys.argv) > 3 else "cpu"
if device == "cuda" and not torch.cuda.is_available():
    sys.exit("train_throughput_torch.py: CUDA requested but torch.cuda.is_available() is False")
torch.set_num_threads(threads)
torch.manual_seed(0)


class Baseline(nn.Module):
    def __init__(self):
        super().__init__()
        ch = [1, 128, 64, 32, 16, 8]
        self.convs = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 3, padding=1) for i in range(5))
        self.dense = nn.Linear(128, 10)

    def forward(self, x):
        for c in self.convs:
            x = F.dropout(F.max_pool2d(F.relu(c(x)), 2), 0.5, self.training)
        return self.dense(torch.flatten(x, 1))


model = Baseline().train().to(device)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = (torch.rand(32, 1, 128, 130) * 2 - 1).to(device)
y = F.one_hot(torch.arange(32) % 10, 10).float().to(device)


def sync():
    if device == "cuda":
        torch.cuda.synchronize()


def step():
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)  # soft targets
    loss.backward()
    opt.step()


for _ in range(3 if device == "cuda" else 2):
    step()
sync()
t0 = time.perf_counter()
for _ in range(steps):
    step()
sync()
dt = (time.perf_counter() - t0) / steps
where = torch.cuda.get_device_name() if device == "cuda" else f"threads={threads}"
print(f"torch {torch.__version__} {device} {where}: {dt * 1000:.1f} ms/step, {32 / dt:.1f} segments/s")
