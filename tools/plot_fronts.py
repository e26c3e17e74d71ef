#!/usr/bin/python3
"""Pareto-front plot from `nascent run --objectives ACC,latency:DEVICE --json FILE` outputs.

Usage::

    python3 tools/plot_fronts.py OUT.png RUN.json [RUN2.json ...]
                                 [--true-front-from-data DIR | --no-true-front]
                                 [--title TEXT] [--acc-min Y]

Latency (ms) on x, accuracy (%) on y. For every input file (one strategy), in its own colour:

* light dots: every point of every run's found front (the union of the fronts);
* a band: the 10 %- to 90 %-attainment surfaces over the runs, and a line: the 50 %-attainment
  (median) surface. The k %-attainment surface is the staircase reached by at least k % of the
  runs: at latency x, the accuracy y such that k % of the runs found a cell with latency <= x and
  accuracy >= y.

Under them, in black, the exact front of the whole table: all 15,625 NAS-Bench-201 cells of
``nb201/nb201.csv`` joined by index with ``nb201/nb201_latency.csv`` (the data directory is
``--true-front-from-data DIR``, else $NASCENT_DATA, else ``../shared/data`` beside the source tree),
for the dataset, accuracy metric and device named in the JSON. All input files must share them.

The accuracy axis starts a little below the exact front's knee (``--acc-min`` sets it); front cells
below it, such as NAS-Bench-201's degenerate cells (10 % at a few microseconds), are counted in a
note on the plot rather than squeezing the axis.

Bad input gives one line on stderr and exit code 2.
"""

import argparse
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


class InputError(Exception):
    pass


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        print("error: %s (usage: plot_fronts.py OUT.png RUN.json [RUN2.json ...] "
              "[--true-front-from-data DIR] [--title T])" % message, file=sys.stderr)
        sys.exit(2)


# nascent objective names -> nb201.csv column suffixes; dataset -> column prefix.
ACCURACY_COLUMNS = {
    "test_acc": "test_200", "test_acc@200": "test_200", "test_acc@12": "test_12",
    "valid_acc": "valid_12", "valid_acc@12": "valid_12", "valid_acc@200": "valid_200",
}
DATASET_PREFIX = {"cifar10": "c10", "cifar100": "c100", "imagenet16-120": "in16"}


def canonical(name):
    return {"test_acc": "test_acc@200", "valid_acc": "valid_acc@12"}.get(name, name)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_objectives(path, text):
    """(accuracy metric, device) from the JSON's "objectives" string."""
    if not isinstance(text, str) or not text:
        raise InputError("%s: missing \"objectives\" (not a `nascent run --objectives` output?)" % path)
    names = text.split(",")
    acc = [n for n in names if n in ACCURACY_COLUMNS]
    lat = [n for n in names if n.startswith("latency:") and len(n) > len("latency:")]
    if len(names) != 2 or len(acc) != 1 or len(lat) != 1:
        raise InputError("%s: objectives '%s' are not one accuracy and one latency:<device>"
                         % (path, text))
    return canonical(acc[0]), lat[0]


def load_run_file(path):
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
    acc, lat = parse_objectives(path, doc.get("objectives"))
    dataset = doc.get("dataset")
    if dataset not in DATASET_PREFIX:
        raise InputError("%s: unknown or missing \"dataset\" %r" % (path, dataset))
    runs = doc.get("runs")
    if not isinstance(runs, list) or not runs:
        raise InputError("%s: missing or empty \"runs\" array" % path)
    fronts = []
    for i, run in enumerate(runs):
        front = run.get("front") if isinstance(run, dict) else None
        if not isinstance(front, list):
            raise InputError("%s: runs[%d] has no \"front\" array" % (path, i))
        pts = []
        for j, p in enumerate(front):
            if not isinstance(p, dict) or not is_number(p.get(acc)) or not is_number(p.get(lat)):
                raise InputError("%s: runs[%d].front[%d] lacks numeric \"%s\" and \"%s\"" % (path, i, j, acc, lat))
            pts.append((float(p[lat]), float(p[acc])))
        fronts.append(np.array(pts, dtype=float).reshape(-1, 2))
    summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
    return {
        "path": path, "strategy": str(doc.get("strategy", "?")), "dataset": dataset,
        "accuracy": acc, "latency": lat, "budget": doc.get("budget"), "fronts": fronts,
        "hv_ratio": (summary.get("hv_ratio_mean"), summary.get("hv_ratio_std")),
    }


def default_data_dir():
    env = os.environ.get("NASCENT_DATA")
    if env:
        return env, "NASCENT_DATA"
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "shared", "data")), "default"


def read_columns(path, wanted):
    """{index: tuple of floats} for the named columns of a table of the data directory."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise InputError("%s: empty file" % path)
            missing = [c for c in ["index"] + wanted if c not in header]
            if missing:
                raise InputError("%s: no column '%s'" % (path, missing[0]))
            at = [header.index(c) for c in wanted]
            ix = header.index("index")
            out = {}
            for line, row in enumerate(reader, start=2):
                try:
                    out[int(row[ix])] = tuple(float(row[k]) if row[k] != "" else math.nan for k in at)
                except (ValueError, IndexError):
                    raise InputError("%s:%d: malformed row" % (path, line)) from None
            return out
    except FileNotFoundError:
        raise InputError("%s: no such file (set --true-front-from-data DIR)" % path) from None
    except OSError as exc:
        raise InputError("%s: cannot read: %s" % (path, exc.strerror or exc)) from None


def exact_front(data_dir, dataset, accuracy, latency):
    """The non-dominated (latency, accuracy) points of the whole table, latency ascending."""
    acc_col = "%s_%s" % (DATASET_PREFIX[dataset], ACCURACY_COLUMNS[accuracy])
    device = latency[len("latency:"):]
    accs = read_columns(os.path.join(data_dir, "nb201", "nb201.csv"), [acc_col])
    lats = read_columns(os.path.join(data_dir, "nb201", "nb201_latency.csv"), [device])
    if set(accs) != set(lats):
        raise InputError("%s: the accuracy and latency tables list different indices" % data_dir)
    pts = np.array([(lats[i][0], accs[i][0]) for i in accs], dtype=float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        raise InputError("%s: no cell has both %s and %s" % (data_dir, acc_col, device))
    # Sort by latency ascending, accuracy descending; keep strict accuracy improvements.
    pts = pts[np.lexsort((-pts[:, 1], pts[:, 0]))]
    keep, best = [], -math.inf
    for k, (_, a) in enumerate(pts):
        if a > best:
            keep.append(k)
            best = a
    return pts[keep]


def staircase(front):
    """Best accuracy at latency <= x as a step function: (x, y) for plt.step(where='post')."""
    if len(front) == 0:
        return np.empty(0), np.empty(0)
    pts = front[np.lexsort((-front[:, 1], front[:, 0]))]
    xs, ys, best = [], [], -math.inf
    for x, y in pts:
        if y > best:
            xs.append(x)
            ys.append(y)
            best = y
    return np.array(xs), np.array(ys)


def attainment(fronts, levels, grid):
    """k-attainment surfaces on a latency grid: rows aligned with `levels` (fractions)."""
    best = np.full((len(fronts), len(grid)), -np.inf)
    for r, front in enumerate(fronts):
        xs, ys = staircase(front)
        if len(xs) == 0:
            continue
        pos = np.searchsorted(xs, grid, side="right") - 1  # last step at or left of x
        ok = pos >= 0
        best[r, ok] = ys[pos[ok]]
    best = -np.sort(-best, axis=0)  # descending over runs
    out = []
    for level in levels:
        k = max(1, int(math.ceil(level * len(fronts) - 1e-9)))
        out.append(best[k - 1])
    return np.array(out)


def main(argv=None):
    ap = OneLineParser(description="Pareto-front plot (accuracy vs latency) from "
                                   "nascent run --objectives ... --json outputs.")
    ap.add_argument("out", metavar="OUT.png")
    ap.add_argument("inputs", metavar="RUN.json", nargs="+")
    ap.add_argument("--true-front-from-data", metavar="DIR", default=None,
                    help="data directory with nb201/nb201.csv and nb201/nb201_latency.csv "
                         "(default: $NASCENT_DATA, else ../shared/data beside the source tree)")
    ap.add_argument("--no-true-front", action="store_true", help="do not draw the exact front")
    ap.add_argument("--title", default=None)
    ap.add_argument("--acc-min", type=float, default=None, metavar="Y",
                    help="lower end of the accuracy axis (default: below the exact front's knee)")
    args = ap.parse_args(argv)
    if args.no_true_front and args.true_front_from_data:
        ap.error("--no-true-front and --true-front-from-data exclude each other")

    try:
        series = [load_run_file(p) for p in args.inputs]
        first = series[0]
        for s in series[1:]:
            for key in ("dataset", "accuracy", "latency"):
                if s[key] != first[key]:
                    raise InputError("%s: %s '%s' differs from %s's '%s'"
                                     % (s["path"], key, s[key], first["path"], first[key]))
        truth = None
        if not args.no_true_front:
            if args.true_front_from_data:
                data_dir = args.true_front_from_data
                origin = "--true-front-from-data"
            else:
                data_dir, origin = default_data_dir()
            if not os.path.isdir(data_dir):
                raise InputError("data directory not found: '%s' (from %s; set "
                                 "--true-front-from-data DIR or NASCENT_DATA)" % (data_dir, origin))
            truth = exact_front(data_dir, first["dataset"], first["accuracy"], first["latency"])
    except InputError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2

    # Accuracy axis: from a little below the knee of the exact front (or of all found points),
    # leaving out far outliers such as degenerate cells.
    ref = truth if truth is not None else np.vstack([f for s in series for f in s["fronts"]] +
                                                      [np.empty((0, 2))])
    if args.acc_min is not None:
        acc_min = args.acc_min
    elif len(ref):
        top, med = ref[:, 1].max(), np.median(ref[:, 1])
        floor = med - 4.0 * max(top - med, 0.5)
        above = ref[ref[:, 1] >= floor, 1]
        acc_min = above.min() - 0.08 * (top - above.min() + 1e-9)
    else:
        acc_min = None

    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, ax = plt.subplots(figsize=(9, 6))
    all_x = [truth[:, 0]] if truth is not None else []
    hidden_found = 0
    for n, s in enumerate(series):
        colour = colours[n % len(colours)]
        union = np.vstack(s["fronts"] + [np.empty((0, 2))])
        all_x.append(union[:, 0])
        if acc_min is not None:
            hidden_found += int((union[:, 1] < acc_min).sum())
        ax.scatter(union[:, 0], union[:, 1], s=9, color=colour, alpha=0.12, linewidths=0, zorder=1)
        grid = np.unique(union[:, 0])
        if len(grid) == 0:
            continue
        hi = max(grid.max(), truth[:, 0].max() if truth is not None else grid.max())
        grid = np.append(grid, hi * 1.02)
        att90, mid, att10 = attainment(s["fronts"], [0.9, 0.5, 0.1], grid)
        # Where fewer than k % of the runs found any point at or left of x, the k % surface is -inf:
        # the band then reaches down out of the axis, and the lines start at their first finite x.
        att90 = np.where(np.isfinite(att90), att90, union[:, 1].min() - 100.0)
        mask = np.isfinite(att10)
        ax.fill_between(grid[mask], att90[mask], att10[mask], step="post", color=colour, alpha=0.22,
                        linewidth=0, zorder=2)
        fin = np.isfinite(mid)
        ratio_mean, ratio_std = s["hv_ratio"]
        hv_text = (", HV ratio %.3f ± %.3f" % (ratio_mean, ratio_std)
                   if is_number(ratio_mean) and is_number(ratio_std) else "")
        budget = ", budget %s" % s["budget"] if s["budget"] is not None else ""
        ax.step(grid[fin], mid[fin], where="post", color=colour, linewidth=2.0, zorder=3,
                label="%s: %d runs%s%s" % (s["strategy"], len(s["fronts"]), budget, hv_text))

    if truth is not None:
        tx, ty = staircase(truth)
        tx_end = np.append(tx, max(np.concatenate(all_x).max(), tx.max()) * 1.02)
        ax.step(tx_end, np.append(ty, ty[-1]), where="post", color="black", linewidth=1.2, zorder=4,
                label="exact front of all 15,625 cells (%d distinct points)" % len(tx))
        ax.scatter(tx, ty, s=16, color="black", zorder=5)

    # Legend entries for the drawing conventions.
    ax.fill_between([], [], [], color="grey", alpha=0.22, linewidth=0, label="band: 10 %–90 % attainment")
    ax.scatter([], [], s=9, color="grey", alpha=0.4, label="dots: union of the runs' fronts")
    ax.plot([], [], color="grey", linewidth=2.0, label="line: median (50 %) attainment")

    ax.set_xlabel("%s latency (ms)" % first["latency"][len("latency:"):])
    ax.set_ylabel("%s accuracy, %s (%%)" % (first["dataset"], first["accuracy"]))
    xs = np.concatenate(all_x) if all_x else np.empty(0)
    xmax = max(xs.max(), 1e-9) * 1.02 if len(xs) else 1.0
    ax.set_xlim(0, xmax)
    if acc_min is not None:
        top = max([ref[:, 1].max()] + [f[:, 1].max() for s in series for f in s["fronts"] if len(f)])
        ax.set_ylim(acc_min, top + 0.04 * (top - acc_min))
        hidden_true = int((truth[:, 1] < acc_min).sum()) if truth is not None else 0
        if hidden_true or hidden_found:
            notes = []
            if hidden_true:
                low = truth[truth[:, 1] < acc_min]
                notes.append("%d exact-front point%s below the axis (lowest: %.4g %% at %.4g ms)"
                             % (hidden_true, "s" if hidden_true > 1 else "", low[:, 1].min(),
                                low[low[:, 1].argmin(), 0]))
            if hidden_found:
                notes.append("%d found point%s below the axis" % (hidden_found, "s" if hidden_found > 1 else ""))
            ax.text(0.99, 0.015, "not shown: " + "; ".join(notes), transform=ax.transAxes,
                    ha="right", va="bottom", fontsize="x-small", color="dimgrey")
    ax.grid(True, alpha=0.35)
    ax.legend(loc="lower right", fontsize="small", bbox_to_anchor=(1.0, 0.05))
    ax.set_title(args.title or "NAS-Bench-201 %s: %s vs %s" % (first["dataset"], first["accuracy"], first["latency"]))
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
