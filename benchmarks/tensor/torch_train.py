"""The training `nascent train --space nb201` runs (eval/training.hpp), in PyTorch (CPU).

The same network (torch_timing.nb201_network: C channels, N cells per stage, one grey input
channel, 10 classes), the same data and the same optimiser:
  data       the first --train-subset images of Fashion-MNIST's training set (the first 50,000
             of the training files; the last 10,000 are nascent's validation split), gzipped IDX
             as Debian's dataset-fashion-mnist installs them; (x / 255 - 0.2860) / 0.3530,
             zero-padded (in pixels, before normalising) from 28x28 to 32x32, centred
  batches    of --batch (256), reshuffled every epoch, the last partial batch dropped;
             steps = max(1, round(epochs * (n // batch)))
  optimiser  SGD, Nesterov momentum 0.9, weight decay 5e-4 (coupled, on every parameter),
             learning rate 0.1 on a cosine schedule to 0 over the steps, set before each step
The timed part is what nascent's train_seconds covers: the training loop (shuffles, batch
conversion, forward, loss, backward, step, accuracy count), not loading the data, building the
network or evaluating it. The initial weights and the shuffles differ from nascent's (another
generator), so losses and accuracies agree only roughly.

Prints, in `nascent train`'s format: params, steps, train_acc, train_loss (over the last epoch,
as the network was while training on it), train_seconds (wall), train_cpu_seconds (process CPU
time of the same part, all threads).

Usage: torch_train.py [--threads T] [--train-subset 2000] [--epochs 1] [--channels 8] [--cells 1]
                      [--arch ARCH] [--batch 256] [--lr 0.1] [--momentum 0.9]
                      [--weight-decay 5e-4] [--seed 0] [--fmnist DIR]
"""

import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_timing import ARCH, nb201_network  # noqa: E402

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training-set mean and standard deviation
TRAIN_SIZE = 50_000  # the rest of the training files is the validation split


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != magic:
        raise ValueError(f"{path}: not an IDX file of magic {magic:#010x}")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def load_train(directory, n):
    images = read_idx(os.path.join(directory, "train-images-idx3-ubyte.gz"), 0x803)
    labels = read_idx(os.path.join(directory, "train-labels-idx1-ubyte.gz"), 0x801)
    if not 0 < n <= TRAIN_SIZE:
        raise ValueError(f"--train-subset {n} must be in 1..{TRAIN_SIZE}")
    padded = np.zeros((n, 32, 32), np.uint8)
    padded[:, 2:30, 2:30] = images[:n]
    return torch.from_numpy(padded), torch.from_numpy(labels[:n].astype(np.int64))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train-subset", type=int, default=2000)
    p.add_argument("--epochs", type=float, default=1)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--arch", default=ARCH)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fmnist", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    images, labels = load_train(a.fmnist, a.train_subset)
    n = len(labels)
    batch = min(a.batch, n)
    steps = max(1, round(a.epochs * (n // batch)))
    net = nb201_network(a.channels, a.cells, classes=10, in_channels=1, arch=a.arch).train()
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum,
                          weight_decay=a.weight_decay, nesterov=True)
    generator = torch.Generator().manual_seed(a.seed)

    order, following = None, n  # start with a shuffle
    epoch_loss, epoch_correct, epoch_seen = 0.0, 0, 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    for step in range(steps):
        if following + batch > n:
            order = torch.randperm(n, generator=generator)
            following = 0
            epoch_loss, epoch_correct, epoch_seen = 0.0, 0, 0
        idx = order[following:following + batch]
        following += batch
        x = images[idx].unsqueeze(1).float().div_(255).sub_(MEAN).div_(STD)
        y = labels[idx]
        for group in opt.param_groups:
            group["lr"] = a.lr * (1 + math.cos(math.pi * step / steps)) / 2
        opt.zero_grad(set_to_none=True)
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        value = loss.item()
        if not math.isfinite(value):
            print("status         non-finite loss")
            return 1
        loss.backward()
        opt.step()
        epoch_loss += value * batch
        epoch_correct += int((logits.detach().argmax(1) == y).sum())
        epoch_seen += batch
    train_seconds = time.perf_counter() - t0
    train_cpu = time.process_time() - c0

    params = sum(q.numel() for q in net.parameters() if q.requires_grad)
    for name, value in [("params", params), ("steps", steps),
                        ("train_acc", f"{100 * epoch_correct / epoch_seen:.4f}"),
                        ("train_loss", f"{epoch_loss / epoch_seen:.6f}"),
                        ("train_seconds", f"{train_seconds:.3f}"),
                        ("train_cpu_seconds", f"{train_cpu:.3f}")]:
        print(f"{name:14} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
