#!/usr/bin/python3
"""Architecture weights per edge over epochs, from a `nascent oneshot --json` trace.

    /usr/bin/python3 tools/plot_alpha.py out.png trace.json [title]

One panel per NB201 edge, one line per op: the softmax of alpha (DARTS, GDAS) or the Dirichlet
mean (DrNAS) after every epoch, as the trace records them.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = ["0→1", "0→2", "1→2", "0→3", "1→3", "2→3"]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: plot_alpha.py out.png trace.json [title]")
    d = json.load(open(sys.argv[2]))
    trace = d["trace"]
    if not trace or not trace[0]["probabilities"]:
        sys.exit("plot_alpha.py: the trace has no architecture weights (spos?)")
    epochs = [r["epoch"] for r in trace]
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.5), sharex=True, sharey=True)
    for e, ax in enumerate(axes.flat):
        for k, name in enumerate(OPS):
            ax.plot(epochs, [r["probabilities"][e][k] for r in trace], marker="o", ms=3, label=name)
        ax.set_title(f"edge {EDGES[e]}")
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("weight")
    axes[0, 0].legend(fontsize=7)
    title = sys.argv[3] if len(sys.argv) > 3 else (
        f"{d['method']} seed {d['seed']}: {d.get('cell', d['status'])}")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(sys.argv[1], dpi=110)


if __name__ == "__main__":
    main()
