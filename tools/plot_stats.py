#!/usr/bin/python3
"""Plots a `nascent stats --json` report: the anytime regret curves with their 95 % bands (one
panel per dataset) and the critical-difference diagram of the strategies' mean ranks (Nemenyi,
alpha 0.05; Demsar, JMLR 2006).

Usage: python3 tools/plot_stats.py report.json regret.png cd.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def regret(report, path):
    datasets = report["datasets"]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    for ax, d in zip(axes[0], datasets):
        for s in d["strategies"]:
            r = s["regret"]
            x = range(1, len(r["mean"]) + 1)
            ax.plot(x, r["mean"], label=s["strategy"])
            ax.fill_between(x, r["lower"], r["upper"], alpha=0.2)
        ax.set_title(f"{d['dataset']} (optimum {d['optimum']:.2f})")
        ax.set_xlabel("distinct architectures evaluated")
        ax.set_ylabel("regret of the incumbent (pp)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def critical_difference(report, path):
    names, ranks = report["strategies"], report["mean_ranks"]
    cd = report.get("critical_difference")
    k = len(names)
    order = sorted(range(k), key=lambda i: ranks[i])
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.35 * k))
    ax.set_xlim(0.5, k + 0.5)
    ax.set_ylim(-k - 1, 2)
    ax.axhline(0, color="black", lw=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.15], color="black", lw=1)
        ax.text(r, 0.3, str(r), ha="center")
    for row, i in enumerate(order):
        y = -row - 0.7
        ax.plot([ranks[i], ranks[i]], [0, y], color="gray", lw=0.8)
        ax.text(ranks[i], y - 0.1, f"{names[i]} ({ranks[i]:.2f})", ha="center", va="top")
    if cd is not None:
        ax.plot([1, 1 + cd], [1.2, 1.2], color="red", lw=2)
        ax.text(1 + cd / 2, 1.4, f"CD {cd:.2f}", ha="center", color="red")
        # Bars join groups whose mean ranks differ by less than CD (not significantly different).
        y = -0.35
        for a in range(k):
            b = a
            while b + 1 < k and ranks[order[b + 1]] - ranks[order[a]] < cd:
                b += 1
            if b > a:
                ax.plot([ranks[order[a]], ranks[order[b]]], [y, y], color="black", lw=3)
                y -= 0.15
    fr = report.get("friedman")
    if fr:
        ax.set_title(f"Friedman chi2 {fr['statistic']:.2f}, p {fr['p_value']:.3g}", fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        report = json.load(f)
    regret(report, sys.argv[2])
    critical_difference(report, sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
