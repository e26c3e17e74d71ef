#!/usr/bin/python3
"""Optuna's TPE (Debian python3-optuna, 3.1) on the NAS-Bench-201 protocol of `nascent run`.

The protocol is baseline_protocol.py's: reward = 12-epoch validation accuracy, reported = the
200-epoch test accuracy of the architecture with the best reward, budget = DISTINCT
architectures; a repeat is answered from the run's cache, is not charged, and is still told
(here: a completed trial with the cached value). A run stops early after 10,000 consecutive
repeats. Each of the 6 edges is one categorical parameter over the 5 operations, so TPESampler()
(all defaults: 10 startup trials, gamma min(ceil(0.1 n), 25), 24 candidates, prior weight 1,
univariate) models exactly what nascent's `tpe` models.

Prints mean +- std (population) of the reported accuracy per dataset and the sampler's overhead
in ms per trial (wall and process CPU time of ask + suggest + tell, the table lookup included but
negligible; CPU time is the fair figure on a loaded machine).

Usage::

    python3 benchmarks/search/optuna_tpe.py [--data DIR] [--runs 20] [--budget 150]
        [--datasets cifar10,cifar100,imagenet16-120] [--sampler tpe|random] [--json FILE]
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baseline_protocol as bp  # noqa: E402  (the same CSV loader and seeds)

import optuna  # noqa: E402


def one_run(table, budget, seed, sampler_name):
    sampler = (optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe"
               else optuna.samplers.RandomSampler(seed=seed))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    seen = {}
    charged = repeats = trials = 0
    best_reward, best_test = -math.inf, math.nan
    trajectory = []
    start = time.perf_counter()
    cpu_start = time.process_time()
    while charged < budget:
        trial = study.ask()
        ops = tuple(trial.suggest_categorical("e%d" % e, list(range(bp.N_OPS)))
                    for e in range(bp.N_EDGES))
        arch = bp.encode(ops)
        trials += 1
        ev = seen.get(arch)
        if ev is None:
            ev = table[arch]
            seen[arch] = ev
            charged += 1
            repeats = 0
            if ev[0] > best_reward:
                best_reward, best_test = ev[0], ev[1]
            trajectory.append([best_reward, best_test])
        else:
            repeats += 1
        study.tell(trial, ev[0])
        if repeats >= bp.MAX_CONSECUTIVE_REPEATS:
            break
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {"best_reward": best_reward, "best_test": best_test, "queries": charged,
            "trials": trials, "seconds": seconds, "cpu_seconds": cpu, "trajectory": trajectory}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--budget", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--datasets", default="cifar10,cifar100,imagenet16-120")
    ap.add_argument("--sampler", choices=("tpe", "random"), default="tpe")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data_dir = args.data if args.data is not None else bp.default_data_dir()
    tables = bp.load_nb201(os.path.join(data_dir, "nb201", "nb201.csv"))
    names = [d for d, _, _ in bp.DATASETS]
    out = {"sampler": args.sampler, "optuna": optuna.__version__, "budget": args.budget,
           "runs": args.runs, "seed": args.seed, "datasets": {}}
    print("optuna %s %s, budget %d distinct archs, %d runs per dataset"
          % (optuna.__version__, args.sampler, args.budget, args.runs))
    for dataset in args.datasets.split(","):
        d = names.index(dataset)
        runs = [one_run(tables[dataset], args.budget, bp.run_seed(args.seed, d, 99, r) % 2**32,
                        args.sampler) for r in range(args.runs)]
        tests = [r["best_test"] for r in runs]
        trials = sum(r["trials"] for r in runs)
        ms = 1e3 * sum(r["seconds"] for r in runs) / trials
        cpu_ms = 1e3 * sum(r["cpu_seconds"] for r in runs) / trials
        print("%-16s %8.2f +- %.2f   %.2f ms per trial wall, %.2f ms CPU (%.1f trials per run)"
              % (dataset, statistics.fmean(tests), statistics.pstdev(tests), ms, cpu_ms,
                 statistics.fmean(r["trials"] for r in runs)))
        sys.stdout.flush()
        out["datasets"][dataset] = {"test_mean": statistics.fmean(tests),
                                    "test_std": statistics.pstdev(tests),
                                    "ms_per_trial": ms, "cpu_ms_per_trial": cpu_ms,
                                    "runs": runs}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
