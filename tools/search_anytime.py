#!/usr/bin/env python3
"""The anytime curve of a `nascent search --json FILE` summary as a Markdown table.

    python3 tools/search_anytime.py summary.json [--every N]

One row per N-th evaluation (and the last): evaluations done, wall-clock time since the search
started, the evaluation's validation accuracy, and the best so far. Standard library only.
"""
import argparse
import json


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary")
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args()
    with open(args.summary) as f:
        d = json.load(f)
    evals = d["evaluations"]
    print("| evaluations | time (s) | valid_acc (%) | best so far (%) | architecture |")
    print("|---:|---:|---:|---:|---|")
    for i, e in enumerate(evals):
        if (i + 1) % args.every != 0 and i + 1 != len(evals):
            continue
        t = e.get("elapsed_seconds")
        t = "%.0f" % t if t is not None else "(replayed)"
        arch = e["arch"].replace("|", "\\|")
        print("| %d | %s | %s | %s | `%s` |" % (e["index"], t, e["valid_acc"],
                                                 e["best_valid_acc"], arch))
    best = d.get("best")
    if best:
        print()
        print("best: `%s`, %s" % (best["arch"].replace("|", "\\|"),
                                   ", ".join("%s %s" % kv for kv in sorted(best["metrics"].items()))))


if __name__ == "__main__":
    main()
