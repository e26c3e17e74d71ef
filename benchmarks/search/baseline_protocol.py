#!/usr/bin/python3
"""Plain-Python baseline of the `nascent compare` search protocol on NAS-Bench-201.

Standard library only (no numpy): this is the reference point the C++ library
is compared against, so it does the same work as `nascent compare`:

* load ``<data>/nb201/nb201.csv`` and build, per dataset, a table from the
  architecture (6 op ids, encoded as a base-5 integer 0..15624) to
  (reward, test), where reward is the 12-epoch validation accuracy and test
  the 200-epoch test accuracy;
* for each dataset (cifar10, cifar100, imagenet16-120) and each strategy
  (random, rea, ls) run ``--runs`` independent searches of ``--budget``
  charged queries each.  The budget counts DISTINCT architectures: a
  repeated architecture is answered from the run's cache, is not charged,
  and is still told to the strategy.  A run stops early after 10,000
  consecutive repeats.

Usage::

    python3 baseline_protocol.py [--data DIR] [--runs 500] [--budget 150]
                                 [--seed 0] [--json FILE]

DIR defaults to $NASCENT_DATA, else ``<repo>/../shared/data``.
"""

import argparse
import collections
import csv
import json
import math
import os
import random
import statistics
import sys
import time

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
OP_ID = {name: i for i, name in enumerate(OPS)}
N_EDGES = 6
N_OPS = len(OPS)
N_ARCHS = N_OPS ** N_EDGES  # 15625
POW5 = tuple(N_OPS ** e for e in range(N_EDGES))  # edge e <-> digit e

# (name, reward column, test column)
DATASETS = (
    ("cifar10", "c10_valid_12", "c10_test_200"),
    ("cifar100", "c100_valid_12", "c100_test_200"),
    ("imagenet16-120", "in16_valid_12", "in16_test_200"),
)
STRATEGIES = ("random", "rea", "ls")

MAX_CONSECUTIVE_REPEATS = 10_000
REA_POPULATION = 10
REA_SAMPLE = 3

MASK64 = (1 << 64) - 1


# --------------------------------------------------------------------------
# architecture encoding


def parse_arch(s):
    """'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' -> tuple of 6 op ids (string order)."""
    ops = []
    for node in s.strip().strip("|").split("|+|"):
        for tok in node.strip("|").split("|"):
            name, _, _src = tok.partition("~")
            ops.append(OP_ID[name])
    if len(ops) != N_EDGES:
        raise ValueError("expected 6 edges in %r" % s)
    return tuple(ops)


def encode(ops):
    """tuple of 6 op ids -> int in 0..15624 (edge e is base-5 digit e)."""
    code = 0
    for e in range(N_EDGES - 1, -1, -1):
        code = code * N_OPS + ops[e]
    return code


# --------------------------------------------------------------------------
# loading


def _num(cell):
    return float(cell) if cell != "" else None


def load_nb201(path):
    """Return {dataset: list indexed by arch code of (reward, test)}.

    Missing reward -> -inf (never preferred); missing test -> nan.
    """
    tables = {name: [None] * N_ARCHS for name, _, _ in DATASETS}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: i for i, name in enumerate(header)}
        try:
            arch_i = col["arch"]
            cols = [(name, col[rc], col[tc]) for name, rc, tc in DATASETS]
        except KeyError as exc:
            raise ValueError("missing column %s" % exc) from None
        rows = 0
        for row in reader:
            if not row:
                continue
            rows += 1
            code = encode(parse_arch(row[arch_i]))
            for name, ri, ti in cols:
                r = _num(row[ri])
                t = _num(row[ti])
                tables[name][code] = (
                    r if r is not None else -math.inf,
                    t if t is not None else math.nan,
                )
    if rows != N_ARCHS:
        raise ValueError("expected %d rows, found %d" % (N_ARCHS, rows))
    for name, table in tables.items():
        if any(v is None for v in table):
            raise ValueError("%s: some architectures are missing" % name)
    return tables


# --------------------------------------------------------------------------
# strategies (ask / tell)


def mutate(rng, arch):
    """Change one uniformly chosen edge to a uniformly chosen different op."""
    e = rng.randrange(N_EDGES)
    p = POW5[e]
    old = (arch // p) % N_OPS
    new = rng.randrange(N_OPS - 1)
    if new >= old:
        new += 1
    return arch + (new - old) * p


def neighbours(arch):
    """All 24 one-edge neighbours, in a fixed order."""
    out = []
    for e in range(N_EDGES):
        p = POW5[e]
        old = (arch // p) % N_OPS
        base = arch - old * p
        for op in range(N_OPS):
            if op != old:
                out.append(base + op * p)
    return out


class RandomSearch:
    __slots__ = ("rng",)

    def __init__(self, rng):
        self.rng = rng

    def ask(self):
        # uniform over 5^6 codes == 6 independent uniform ops
        return self.rng.randrange(N_ARCHS)

    def tell(self, arch, reward):
        pass


class RegularizedEvolution:
    """Aging evolution (Real et al. 2019): population 10, tournament 3."""

    __slots__ = ("rng", "pop")

    def __init__(self, rng):
        self.rng = rng
        self.pop = collections.deque(maxlen=REA_POPULATION)

    def ask(self):
        rng = self.rng
        pop = self.pop
        n = len(pop)
        if n < REA_POPULATION:
            return rng.randrange(N_ARCHS)
        # tournament: sample with replacement, highest reward wins (first on ties)
        best = pop[rng.randrange(n)]
        for _ in range(REA_SAMPLE - 1):
            c = pop[rng.randrange(n)]
            if c[1] > best[1]:
                best = c
        return mutate(rng, best[0])

    def tell(self, arch, reward):
        self.pop.append((arch, reward))  # maxlen drops the oldest


class LocalSearch:
    """Local search (White et al. 2021): evaluate all 24 neighbours in random
    order, move to the best if strictly better, else restart at random."""

    __slots__ = ("rng", "cur", "cur_reward", "queue", "pos",
                 "best_nb", "best_nb_reward", "pending_start")

    def __init__(self, rng):
        self.rng = rng
        self.cur = None
        self.cur_reward = -math.inf
        self.queue = []
        self.pos = 0
        self.best_nb = None
        self.best_nb_reward = -math.inf
        self.pending_start = True  # next ask is a fresh random start

    def _open(self, arch, reward):
        self.cur = arch
        self.cur_reward = reward
        q = neighbours(arch)
        self.rng.shuffle(q)
        self.queue = q
        self.pos = 0
        self.best_nb = None
        self.best_nb_reward = -math.inf

    def ask(self):
        if self.pending_start:
            return self.rng.randrange(N_ARCHS)
        return self.queue[self.pos]

    def tell(self, arch, reward):
        if self.pending_start:
            self.pending_start = False
            self._open(arch, reward)
            return
        self.pos += 1
        if self.best_nb is None or reward > self.best_nb_reward:
            self.best_nb = arch
            self.best_nb_reward = reward
        if self.pos == len(self.queue):
            if self.best_nb_reward > self.cur_reward:
                self._open(self.best_nb, self.best_nb_reward)
            else:
                self.pending_start = True


STRATEGY_CLASSES = {
    "random": RandomSearch,
    "rea": RegularizedEvolution,
    "ls": LocalSearch,
}


# --------------------------------------------------------------------------
# one run


def run_search(strategy, table, budget):
    """Returns (best_arch, best_reward, best_test, trajectory)."""
    seen = {}
    ask = strategy.ask
    tell = strategy.tell
    charged = 0
    repeats = 0
    best_arch = None
    best_reward = -math.inf
    best_test = math.nan
    trajectory = []
    while charged < budget:
        arch = ask()
        ev = seen.get(arch)
        if ev is None:
            ev = table[arch]  # charged query
            seen[arch] = ev
            charged += 1
            repeats = 0
            reward = ev[0]
            if best_arch is None or reward > best_reward:
                best_arch = arch
                best_reward = reward
                best_test = ev[1]
            trajectory.append((best_reward, best_test))
        else:
            repeats += 1
            if repeats >= MAX_CONSECUTIVE_REPEATS:
                break
        tell(arch, ev[0])
    return best_arch, best_reward, best_test, trajectory


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def run_seed(master, d, s, run):
    h = splitmix64(master & MASK64)
    for v in (d, s, run):
        h = splitmix64(h ^ v)
    return h


# --------------------------------------------------------------------------
# CLI


def default_data_dir():
    env = os.environ.get("NASCENT_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "data"))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Plain-Python baseline of the nascent compare protocol (NAS-Bench-201).")
    ap.add_argument("--data", help="data directory holding nb201/nb201.csv "
                    "(default: $NASCENT_DATA, else <repo>/../shared/data)")
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--budget", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.budget < 1:
        ap.error("--runs and --budget must be >= 1")

    data_dir = args.data if args.data is not None else default_data_dir()
    path = os.path.join(data_dir, "nb201", "nb201.csv")
    if not os.path.isfile(path):
        print("error: NAS-Bench-201 table not found: %s" % path, file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    try:
        tables = load_nb201(path)
    except (OSError, ValueError, KeyError, IndexError) as exc:
        print("error: cannot load %s: %s" % (path, exc), file=sys.stderr)
        return 2
    load_seconds = time.perf_counter() - t0

    cells = []
    t0 = time.perf_counter()
    for d, (dataset, _, _) in enumerate(DATASETS):
        table = tables[dataset]
        for s, strategy in enumerate(STRATEGIES):
            cls = STRATEGY_CLASSES[strategy]
            tests = []
            rewards = []
            for run in range(args.runs):
                rng = random.Random(run_seed(args.seed, d, s, run))
                _, best_reward, best_test, _traj = run_search(cls(rng), table, args.budget)
                tests.append(best_test)
                rewards.append(best_reward)
            cells.append({
                "dataset": dataset,
                "strategy": strategy,
                "test_mean": statistics.fmean(tests),
                "test_std": statistics.pstdev(tests),
                "reward_mean": statistics.fmean(rewards),
            })
    search_seconds = time.perf_counter() - t0

    print("baseline_protocol (plain Python): runs=%d budget=%d seed=%d"
          % (args.runs, args.budget, args.seed))
    print("%-15s %-7s %18s %12s" % ("dataset", "strategy", "test (mean ± std)", "reward mean"))
    for c in cells:
        print("%-15s %-7s %9.4f ± %6.4f %12.4f"
              % (c["dataset"], c["strategy"], c["test_mean"], c["test_std"], c["reward_mean"]))
    print("load_seconds   %.4f" % load_seconds)
    print("search_seconds %.4f" % search_seconds)

    if args.json:
        out = {"load_seconds": load_seconds, "search_seconds": search_seconds,
               "runs": args.runs, "budget": args.budget, "seed": args.seed,
               "cells": cells}
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(out, f, indent=2)
                f.write("\n")
        except OSError as exc:
            print("error: cannot write %s: %s" % (args.json, exc), file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
