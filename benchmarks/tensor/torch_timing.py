"""Forward+backward timings of PyTorch (CPU) at batch 64: the same cases as tensor_timing.cpp.

One line per case: "<case> <median wall ms> <median process CPU ms> <reps>". The NAS-Bench-201 network is written here from
the paper's code (ReLU-Conv-BN ops, avg_pool_3x3 with count_include_pad=False, ResNet reduction
blocks with an avgpool + 1x1 conv shortcut, BN + ReLU + global pool + linear head), the same
architecture as nascent::eval::make_nb201_network.

Usage: torch_timing.py --threads T [--reps R] [--cases a,b,...]
"""

import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
BATCH = 64


def parse_arch(s):
    """[(to_node, [(op, from_node), ...]), ...] for nodes 1..3."""
    nodes = []
    for j, part in enumerate(s.split("+"), start=1):
        edges = [tok.split("~") for tok in part.strip("|").split("|")]
        nodes.append((j, [(op, int(i)) for op, i in edges]))
    return nodes


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c_in, c_out, k, stride, pad, bias=False),
                                nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


def make_op(name, c):
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1)
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity()
    return None  # none


class Cell(nn.Module):
    def __init__(self, arch, c):
        super().__init__()
        self.nodes = parse_arch(arch)
        self.ops = nn.ModuleList()
        self.wiring = []
        for j, edges in self.nodes:
            for op, i in edges:
                m = make_op(op, c)
                if m is not None:
                    self.wiring.append((i, j, len(self.ops)))
                    self.ops.append(m)

    def forward(self, x):
        nodes = [x, None, None, None]
        for i, j, k in self.wiring:
            if nodes[i] is None:
                continue
            y = self.ops[k](nodes[i])
            nodes[j] = y if nodes[j] is None else nodes[j] + y
        return nodes[3] if nodes[3] is not None else x * 0.0


class Reduction(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2, 0),
                                        nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False))

    def forward(self, x):
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


def nb201_network(c, n, classes=10, in_channels=3, arch=ARCH):
    layers = [nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)]
    for stage in range(3):
        if stage > 0:
            layers.append(Reduction(c, 2 * c))
            c *= 2
        layers += [Cell(arch, c) for _ in range(n)]
    layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(c, classes)]
    return nn.Sequential(*layers)


def time_ms(reps, step):
    """Medians of wall and process CPU time (ms) over reps runs after two warm-up runs."""
    step()
    step()
    wall, cpu = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        wall.append(1e3 * (time.perf_counter() - t0))
        cpu.append(1e3 * (time.process_time() - c0))
    return statistics.median(wall), statistics.median(cpu)


def time_network(c, n, reps):
    torch.manual_seed(0)
    net = nb201_network(c, n).train()
    x = torch.randn(BATCH, 3, 32, 32, requires_grad=True)
    labels = torch.arange(BATCH) % 10

    def step():
        net.zero_grad(set_to_none=True)
        x.grad = None
        F.cross_entropy(net(x), labels).backward()

    return time_ms(reps, step)


def time_conv(c, hw, reps):
    torch.manual_seed(0)
    x = torch.randn(BATCH, c, hw, hw, requires_grad=True)
    w = torch.randn(c, c, 3, 3, requires_grad=True)
    seed = torch.randn(BATCH, c, hw, hw)

    def step():
        x.grad = None
        w.grad = None
        F.conv2d(x, w, padding=1).backward(seed)

    return time_ms(reps, step)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--cases", default="conv16_32,conv64_8,nb201_c8_n1,nb201_c16_n5")
    p.add_argument("--info", action="store_true", help="print torch's build configuration")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.info:
        # What runs the convolutions: oneDNN (MKL-DNN) when the build has it.
        show = torch.__config__.show().splitlines()
        keep = ("MKL-DNN", "oneDNN", "CPU capability", "OpenMP")
        print(f"torch {torch.__version__}, oneDNN available: {torch.backends.mkldnn.is_available()}, enabled: {torch.backends.mkldnn.enabled}")
        for line in show:
            if any(k in line for k in keep):
                print(line.strip(" -"))
        blas = [f for f in ",".join(show).split(",") if "BLAS_INFO" in f or "USE_MKLDNN" in f]
        print(", ".join(b.replace("- Build settings:", "").strip() for b in blas))
        return
    cases = a.cases.split(",")

    def report(name, t, n):
        print(f"{name} {t[0]:.4f} {t[1]:.4f} {n}", flush=True)

    big_reps = max(3, a.reps // 3)
    if "conv16_32" in cases:
        report("conv16_32", time_conv(16, 32, a.reps), a.reps)
    if "conv64_8" in cases:
        report("conv64_8", time_conv(64, 8, a.reps), a.reps)
    if "nb201_c8_n1" in cases:
        report("nb201_c8_n1", time_network(8, 1, a.reps), a.reps)
    if "nb201_c16_n5" in cases:
        report("nb201_c16_n5", time_network(16, 5, big_reps), big_reps)


if __name__ == "__main__":
    main()
