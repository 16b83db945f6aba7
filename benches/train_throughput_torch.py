#!/usr/bin/env python3
"""PyTorch CPU peer of benches/benches/train_throughput.rs: the baseline CNN, one Adam step on a
batch of 32 [1, 128, 130] segments with soft-target cross-entropy, timed over N steps after a
warm-up. Prints segments/s. Usage: train_throughput_torch.py [threads] [steps]"""

import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
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


model = Baseline().train()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(32, 1, 128, 130) * 2 - 1
y = F.one_hot(torch.arange(32) % 10, 10).float()


def step():
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)  # soft targets
    loss.backward()
    opt.step()


for _ in range(2):
    step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
dt = (time.perf_counter() - t0) / steps
print(f"torch {torch.__version__} threads={threads}: {dt * 1000:.1f} ms/step, {32 / dt:.1f} segments/s")
