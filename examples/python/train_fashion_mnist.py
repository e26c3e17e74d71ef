"""A search whose evaluator trains each candidate with PyTorch: NAS-Bench-201 cells as small
networks on a Fashion-MNIST subset (Debian's dataset-fashion-mnist), searched by nascent's REA.
The evaluator is an ordinary Python function; nascent's runner calls it once per distinct cell.

    python3 examples/python/train_fashion_mnist.py [--candidates 8] [--train 2000] [--epochs 1]
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
from torch import nn

import nascent

parser = argparse.ArgumentParser()
parser.add_argument("--candidates", type=int, default=8, help="distinct cells trained")
parser.add_argument("--train", type=int, default=2000, help="training images")
parser.add_argument("--test", type=int, default=1000, help="validation images")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--channels", type=int, default=8)
parser.add_argument("--data", default=os.environ.get("FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
args = parser.parse_args()
torch.manual_seed(0)
torch.set_num_threads(1)


def idx(name, offset, count, shape):
    with gzip.open(os.path.join(args.data, name)) as f:
        data = np.frombuffer(f.read(), np.uint8, offset=offset)
    return data[: count * int(np.prod(shape))].reshape(count, *shape)


def load(prefix, count):
    x = idx(f"{prefix}-images-idx3-ubyte.gz", 16, count, (1, 28, 28)).astype(np.float32) / 255.0
    y = idx(f"{prefix}-labels-idx1-ubyte.gz", 8, count, ()).astype(np.int64)
    return torch.from_numpy((x - 0.286) / 0.353), torch.from_numpy(y)


train_x, train_y = load("train", args.train)
test_x, test_y = load("t10k", args.test)


def op(name, c):
    if name == "none":
        return None
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    k = 1 if name == "nor_conv_1x1" else 3
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, padding=k // 2, bias=False), nn.BatchNorm2d(c, track_running_stats=False))


EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]  # the arch string's edge order


class Cell(nn.Module):
    def __init__(self, cell, c):
        super().__init__()
        names = nascent.NB201Space.op_names
        self.ops = nn.ModuleList(op(names[o], c) or nn.Identity() for o in cell.ops)
        self.live = [o != 0 for o in cell.ops]

    def forward(self, x):
        nodes = [x]
        for j in (1, 2, 3):
            terms = [self.ops[e](nodes[i]) for e, (i, k) in enumerate(EDGES) if k == j and self.live[e]]
            nodes.append(sum(terms) if terms else torch.zeros_like(x))
        return nodes[3]


def network(cell):
    c = args.channels
    return nn.Sequential(nn.Conv2d(1, c, 3, padding=1, bias=False), nn.BatchNorm2d(c, track_running_stats=False), Cell(cell, c),
                         nn.MaxPool2d(2), Cell(cell, c), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(c, 10))


def train_and_score(cell):
    """The evaluator: validation accuracy (%) after `epochs` of Adam, plus the training time."""
    start = time.perf_counter()
    net = network(cell)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(args.epochs):
        for i in range(0, len(train_x), 64):
            opt.zero_grad()
            nn.functional.cross_entropy(net(train_x[i:i + 64]), train_y[i:i + 64]).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        acc = (net(test_x).argmax(1) == test_y).float().mean().item() * 100
    seconds = time.perf_counter() - start
    print(f"  {acc:5.1f} %  {seconds:5.2f} s  {cell}")
    return {"reward": acc, "valid_acc": acc, "train_seconds": seconds}


rea = nascent.strategy("rea", population=4, sample=2)
result = nascent.run(rea, train_and_score, budget=args.candidates, seed=0, report="valid_acc")
print(f"best of {result.queries} trained cells: {result.best_reward:.1f} %  {result.best}")
