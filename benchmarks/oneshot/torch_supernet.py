"""The reduced NB201 supernet of benchmarks/oneshot/throughput.cpp in PyTorch, timed the same way.

C = 8, one cell per stage, 1 x 32 x 32 inputs, 10 classes; candidate ops ReLU-conv-BN (no affine,
running statistics), identity, avg_pool 3x3 without count_include_pad, none (skipped: it adds
nothing, as in nascent); residual reduction blocks; weight-training steps (forward,
cross-entropy, backward, SGD momentum 0.9, weight decay 3e-4) at batch 64, in weighted mode
(softmax(alpha) over every op, alpha receives its gradient) or single mode (the cell of id
(step * 4001) mod 15625, base 5 with edge 0 lowest). Prints images/s and peak RSS.

    python3 torch_supernet.py --mode weighted|single [--threads 1] [--steps 30] [--warmup 3]
"""
import argparse
import resource
import time

import torch
from torch import nn
import torch.nn.functional as F

EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride, pad, affine):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, pad, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x)))


class Pool(nn.Module):
    def forward(self, x):
        return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)


class MixedOp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ops = nn.ModuleList([nn.Identity(), ReLUConvBN(c, c, 1, 1, 0, False),
                                  ReLUConvBN(c, c, 3, 1, 1, False), Pool()])

    def forward(self, x, weights=None, op=None):
        if weights is not None:  # op k + 1 of the five (0 is none)
            return sum(weights[k + 1] * m(x) for k, m in enumerate(self.ops))
        if op == 0:
            return x * 0.0
        return self.ops[op - 1](x)


class SuperCell(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.edges = nn.ModuleList([MixedOp(c) for _ in EDGES])

    def forward(self, x, weights=None, cell=None):
        nodes = [x, None, None, None]
        for e, (i, j) in enumerate(EDGES):
            y = self.edges[e](nodes[i], None if weights is None else weights[e],
                              None if cell is None else cell[e])
            nodes[j] = y if nodes[j] is None else nodes[j] + y
        return nodes[3]


class Reduction(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.a = ReLUConvBN(c_in, c_out, 3, 2, 1, True)
        self.b = ReLUConvBN(c_out, c_out, 3, 1, 1, True)
        self.down = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x):
        return self.b(self.a(x)) + self.down(F.avg_pool2d(x, 2, 2))


class SuperNet(nn.Module):
    def __init__(self, c=8, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        self.cells = nn.ModuleList([SuperCell(c), SuperCell(2 * c), SuperCell(4 * c)])
        self.reductions = nn.ModuleList([Reduction(c, 2 * c), Reduction(2 * c, 4 * c)])
        self.head_bn = nn.BatchNorm2d(4 * c)
        self.fc = nn.Linear(4 * c, classes)
        self.alpha = nn.Parameter(1e-3 * torch.randn(6, 5))

    def forward(self, x, mode, cell=None):
        weights = F.softmax(self.alpha, dim=-1) if mode == "weighted" else None
        x = self.stem(x)
        for s in range(3):
            if s > 0:
                x = self.reductions[s - 1](x)
            x = self.cells[s](x, weights, cell)
        x = F.relu(self.head_bn(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def cell_of_step(step):
    i = (step * 4001) % 15625
    cell = []
    for _ in range(6):
        cell.append(i % 5)
        i //= 5
    return cell


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["weighted", "single"], default="weighted")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = SuperNet()
    weights = [q for n, q in net.named_parameters() if n != "alpha"]
    opt = torch.optim.SGD(weights, lr=0.025, momentum=0.9, weight_decay=3e-4)
    x = torch.randn(a.batch, 1, 32, 32)
    y = torch.randint(0, 10, (a.batch,))

    def step(i):
        opt.zero_grad()
        net.alpha.grad = None
        loss = F.cross_entropy(net(x, a.mode, cell_of_step(i) if a.mode == "single" else None), y)
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(a.warmup):
        step(i)
    start = time.perf_counter()
    last = 0.0
    for i in range(a.steps):
        last = step(a.warmup + i)
    s = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"pytorch {a.mode} threads {a.threads} batch {a.batch} steps {a.steps}: "
          f"{a.steps * a.batch / s:.1f} images/s, peak RSS {rss:.1f} MiB (last loss {last:.3f})")


if __name__ == "__main__":
    main()
