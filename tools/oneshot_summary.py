#!/usr/bin/python3
"""Summary of `nascent oneshot --json` runs: per method, the discretised cells' NB201 test
accuracies (200 epochs) as mean +- sample std over seeds, and how many of the cells' 6 edges are
parameter-free (none, skip_connect, avg_pool_3x3), as a markdown table.

    /usr/bin/python3 tools/oneshot_summary.py RUN.json...
"""
import json
import statistics
import sys
from collections import defaultdict

DATASETS = ["cifar10", "cifar100", "imagenet16-120"]
FREE = ("none", "skip_connect", "avg_pool_3x3")


def fmt(xs):
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    return f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}"


def main():
    runs = defaultdict(list)
    for path in sys.argv[1:]:
        d = json.load(open(path))
        runs[d["method"]].append(d)
    print("| method | runs (ok) | CIFAR-10 | CIFAR-100 | ImageNet16-120 | parameter-free edges | "
          "`none` edges | search s |")
    print("|---|---|---|---|---|---|---|---|")
    for method, ds in runs.items():
        ok = [d for d in ds if d["status"] == "ok" and "cell" in d]
        accs = {k: [d["test_acc@200"][k] for d in ok] for k in DATASETS}
        ops = [[item.split("~")[0] for item in d["cell"].strip("|").replace("|+|", "|").split("|")]
               for d in ok]
        free = [sum(o in FREE for o in c) for c in ops]
        none = [c.count("none") for c in ops]
        secs = [d["search_seconds"] for d in ds]
        print(f"| {method} | {len(ds)} ({len(ok)}) | {fmt(accs['cifar10'])} | "
              f"{fmt(accs['cifar100'])} | {fmt(accs['imagenet16-120'])} | "
              f"{statistics.mean(free):.1f} / 6 | {statistics.mean(none):.1f} / 6 | "
              f"{statistics.mean(secs):.0f} |")


if __name__ == "__main__":
    main()
