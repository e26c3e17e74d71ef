#!/usr/bin/python3
"""Anytime plot from `nascent run --json FILE` outputs.

Usage::

    python3 tools/plot_anytime.py OUT.png RUN1.json [RUN2.json ...] [--title TEXT]
                                  [--band {std,iqr}] [--ylim LO HI]

For every input file one curve is drawn: the mean over runs of the 200-epoch
test accuracy of the best-so-far architecture (second element of each
trajectory point) against the number of charged queries (1..longest
trajectory).  Runs shorter than the longest trajectory carry their last value
forward.  The shaded band is mean ± one (population) standard deviation by
default, or the 25-75 % percentile range with ``--band iqr``.
"""

import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


class InputError(Exception):
    pass


def load_run_file(path):
    """Return (label, matrix runs x queries of best-so-far test accuracy)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise InputError("%s: no such file" % path) from None
    except OSError as exc:
        raise InputError("%s: cannot read: %s" % (path, exc.strerror or exc)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("%s: not valid JSON: %s" % (path, exc)) from None

    if not isinstance(doc, dict):
        raise InputError("%s: top level is not a JSON object" % path)
    runs = doc.get("runs")
    if not isinstance(runs, list) or not runs:
        raise InputError("%s: missing or empty \"runs\" array" % path)

    curves = []
    for i, run in enumerate(runs):
        traj = run.get("trajectory") if isinstance(run, dict) else None
        if not isinstance(traj, list) or not traj:
            raise InputError("%s: runs[%d] has no non-empty \"trajectory\"" % (path, i))
        vals = []
        for j, pt in enumerate(traj):
            if (not isinstance(pt, list) or len(pt) < 2
                    or not isinstance(pt[1], (int, float)) or isinstance(pt[1], bool)):
                raise InputError("%s: runs[%d].trajectory[%d] is not "
                                 "[best_reward, test_acc]" % (path, i, j))
            vals.append(float(pt[1]))
        curves.append(vals)

    length = max(len(c) for c in curves)
    mat = np.empty((len(curves), length), dtype=float)
    for r, c in enumerate(curves):
        mat[r, :len(c)] = c
        mat[r, len(c):] = c[-1]  # carry the last value forward

    strategy = str(doc.get("strategy", "?"))
    dataset = str(doc.get("dataset", "?"))
    label = "%s / %s (%d runs)" % (strategy, dataset, len(curves))
    return label, mat, doc.get("budget")


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Anytime plot (best-so-far test accuracy vs queries) "
                    "from nascent run --json outputs.")
    ap.add_argument("out", metavar="OUT.png")
    ap.add_argument("inputs", metavar="RUN.json", nargs="+")
    ap.add_argument("--title", default=None)
    ap.add_argument("--band", choices=("std", "iqr"), default="std",
                    help="shaded band: mean ± std (default) or 25-75 %% percentiles")
    ap.add_argument("--ylim", nargs=2, type=float, metavar=("LO", "HI"),
                    help="y-axis range (default: automatic)")
    args = ap.parse_args(argv)

    series = []
    for path in args.inputs:
        try:
            series.append(load_run_file(path))
        except InputError as exc:
            print("error: %s" % exc, file=sys.stderr)
            return 2

    fig, ax = plt.subplots(figsize=(8, 5))
    xmax = 1
    for label, mat, _budget in series:
        x = np.arange(1, mat.shape[1] + 1)
        xmax = max(xmax, mat.shape[1])
        mean = mat.mean(axis=0)
        if args.band == "std":
            sd = mat.std(axis=0)  # population std (ddof=0)
            lo, hi = mean - sd, mean + sd
        else:
            lo, hi = np.percentile(mat, [25, 75], axis=0)
        (line,) = ax.plot(x, mean, linewidth=1.6, label=label)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)

    band_text = "mean ± std" if args.band == "std" else "mean, band 25–75 %"
    ax.set_xlabel("queries (distinct architectures evaluated)")
    ax.set_ylabel("test accuracy of best-so-far (%)")
    ax.set_xlim(1, xmax)
    ax.grid(True, alpha=0.4)
    ax.legend(title="strategy / dataset — " + band_text, fontsize="small",
              title_fontsize="small", loc="lower right")
    if args.ylim:
        ax.set_ylim(*args.ylim)
    if args.title:
        ax.set_title(args.title)
    fig.tight_layout()
    try:
        fig.savefig(args.out, dpi=120)
    except (OSError, ValueError) as exc:
        print("error: cannot write %s: %s" % (args.out, exc), file=sys.stderr)
        return 2
    finally:
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
