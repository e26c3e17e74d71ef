#!/usr/bin/python3
"""Rank correlations of SPOS supernet scores (spos_ranking --out FILE) with stand-alone training of
the same cells (`nascent build-table --archs` CSV) and with the NB201 CIFAR-10 table.

    /usr/bin/python3 benchmarks/oneshot/ranking.py CELLS.jsonl [STANDALONE.csv]
"""
import csv
import json
import sys

from scipy.stats import kendalltau, spearmanr


def main():
    cells = [json.loads(line) for line in open(sys.argv[1])]
    sup = {c["arch"]: c["supernet_acc"] for c in cells}
    table = {c["arch"]: c["cifar10_test_acc@200"] for c in cells}
    pairs = [("NB201 CIFAR-10 test_acc@200", table)]
    if len(sys.argv) > 2:
        rows = list(csv.DictReader(open(sys.argv[2])))
        pairs.append(("stand-alone valid_acc (Fashion-MNIST)", {r["arch"]: float(r["valid_acc"]) for r in rows}))
    for name, ref in pairs:
        archs = [a for a in sup if a in ref]
        x = [sup[a] for a in archs]
        y = [ref[a] for a in archs]
        print(f"supernet vs {name}: n = {len(archs)}, Kendall tau {kendalltau(x, y)[0]:.3f}, "
              f"Spearman rho {spearmanr(x, y)[0]:.3f}")
    if len(sys.argv) > 2:
        archs = [a for a in table if a in pairs[1][1]]
        x = [pairs[1][1][a] for a in archs]
        y = [table[a] for a in archs]
        print(f"stand-alone vs NB201 CIFAR-10 test_acc@200: n = {len(archs)}, Kendall tau "
              f"{kendalltau(x, y)[0]:.3f}, Spearman rho {spearmanr(x, y)[0]:.3f}")


if __name__ == "__main__":
    main()
