"""Overhead per trial of ask/tell search driven from Python: nascent's strategies (through the
Python module) beside Optuna's TPE and random samplers, on the same NAS-Bench-201 protocol and in
the same run.

Protocol: CIFAR-10, reward valid_acc@12 from the table, a run ends after 150 distinct cells;
repeats are answered from the run's own cache (free, but each is still a trial: one ask and one
tell). Every method evaluates through the same Python dict (op tuple -> reward), so what differs
is the search machinery. Reported: ms per trial (one ask + one tell + the lookup), ms per
distinct cell, and the ratio of Optuna TPE's ms per trial to each method's.

    PYTHONPATH=build/python python3 benchmarks/python/ask_tell_overhead.py [--runs 20] [--optuna-runs 3]
"""
import argparse
import statistics
import time

import nascent

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=20, help="runs per nascent strategy")
parser.add_argument("--bananas-runs", type=int, default=2)
parser.add_argument("--optuna-runs", type=int, default=3, help="runs per Optuna sampler")
parser.add_argument("--budget", type=int, default=150)
args = parser.parse_args()

table = nascent.NB201Table.load()
space = nascent.NB201Space()
OPS = nascent.NB201Space.op_names
reward = {}
for i in range(nascent.NB201Table.size):
    cell = table.cell_at(i)
    reward[tuple(cell.ops)] = table.accuracy(i, "cifar10", "valid_acc@12")


def nascent_run(name, seed):
    s = nascent.strategy(name, seed=seed)
    seen, trials, best = {}, 0, float("-inf")
    start = time.perf_counter()
    while len(seen) < args.budget:
        cell = s.ask()
        key = tuple(cell.ops)
        value = seen.get(key)
        if value is None:
            value = seen[key] = reward[key]
            best = max(best, value)
        s.tell(cell, value)
        trials += 1
    return time.perf_counter() - start, trials, best


def optuna_run(sampler, seed):
    import optuna

    study = optuna.create_study(direction="maximize", sampler=sampler(seed))
    seen, trials, best = {}, 0, float("-inf")
    start = time.perf_counter()
    while len(seen) < args.budget:
        trial = study.ask()
        key = tuple(OPS.index(trial.suggest_categorical(f"edge{e}", OPS)) for e in range(6))
        value = seen.get(key)
        if value is None:
            value = seen[key] = reward[key]
            best = max(best, value)
        study.tell(trial, value)
        trials += 1
    return time.perf_counter() - start, trials, best


def measure(label, runs, one):
    seconds, trials, best = zip(*(one(seed) for seed in range(runs)))
    per_trial = 1e3 * sum(seconds) / sum(trials)
    per_cell = 1e3 * sum(seconds) / (runs * args.budget)
    return {"label": label, "runs": runs, "ms_trial": per_trial, "ms_cell": per_cell,
            "trials": sum(trials) / runs, "best": statistics.mean(best)}


rows = [measure(f"nascent {n}", args.bananas_runs if n == "bananas" else args.runs,
                lambda seed, n=n: nascent_run(n, seed))
        for n in ["random", "rea", "bananas"]]
try:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows.append(measure("Optuna TPE", args.optuna_runs,
                        lambda seed: optuna_run(lambda s: optuna.samplers.TPESampler(seed=s), seed)))
    rows.append(measure("Optuna random", args.optuna_runs,
                        lambda seed: optuna_run(lambda s: optuna.samplers.RandomSampler(seed=s), seed)))
    tpe = rows[-2]["ms_trial"]
    print(f"Optuna {optuna.__version__}")
except ImportError:
    tpe = None
    print("Optuna is not installed (python3-optuna): nascent only")

# The C++ runner alone, for scale: run_protocol with the table evaluator (no Python per step).
ev = table.evaluator("cifar10", "valid_acc@12")
start = time.perf_counter()
results = nascent.run_protocol(nascent.strategy("rea"), ev, budget=args.budget, runs=500, seed=0)
cpp = 1e3 * (time.perf_counter() - start) / sum(r.queries + r.repeats for r in results)

print(f"NAS-Bench-201 CIFAR-10, reward valid_acc@12, budget {args.budget} distinct cells")
print(f"{'method':<16}{'runs':>5}{'trials/run':>12}{'ms/trial':>11}{'ms/cell':>10}"
      f"{'TPE/this':>11}{'best reward':>13}")
for r in rows:
    ratio = "-" if not tpe else f"{tpe / r['ms_trial']:.{0 if tpe >= r['ms_trial'] else 2}f}x"
    print(f"{r['label']:<16}{r['runs']:>5}{r['trials']:>12.1f}{r['ms_trial']:>11.4f}"
          f"{r['ms_cell']:>10.4f}{ratio:>11}{r['best']:>13.2f}")
print(f"(C++ run_protocol, REA, no Python per step: {cpp:.5f} ms/trial)")
