"""NSGA-II on accuracy x latency (NAS-Bench-201 + HW-NAS-Bench's Pixel 3), driven by ask/tell from
Python; the found front is plotted over the exact front of the whole table.

    python3 examples/python/nsga2_latency.py [--budget 500] [--out front.png]
"""
import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import nascent
from nascent import pareto

parser = argparse.ArgumentParser()
parser.add_argument("--budget", type=int, default=500, help="distinct cells evaluated")
parser.add_argument("--device", default="pixel3")
parser.add_argument("--out", default="nsga2_front.png")
args = parser.parse_args()

table = nascent.NB201Table.load()
latency = nascent.NB201LatencyTable.load()
objectives = [("test_acc@200", "max"), (f"latency:{args.device}", "min")]
nsga2 = nascent.strategy("nsga2", objectives=objectives, population=50, seed=0)


def evaluate(cell):
    return {"test_acc@200": table.accuracy(cell, "cifar10", "test_acc@200"),
            f"latency:{args.device}": latency.latency(cell, args.device)}


seen = {}
while len(seen) < args.budget:
    cell = nsga2.ask()
    if cell not in seen:  # repeats are answered from the history, not charged
        seen[cell] = evaluate(cell)
    nsga2.tell(cell, seen[cell])

found = np.array([[m["test_acc@200"], m[f"latency:{args.device}"]] for m in seen.values()])
front = found[pareto.non_dominated(found, maximise=[True, False])]
# The exact front of all 15,625 cells, from the tables' columns (both by dense id).
everything = np.column_stack([table.rows("cifar10")[:, 3], latency.column(args.device)])
exact = everything[pareto.non_dominated(everything, maximise=[True, False])]
reference = [everything[:, 0].min(), everything[:, 1].max()]
hv = pareto.hypervolume(front, reference, maximise=[True, False])
hv_exact = pareto.hypervolume(exact, reference, maximise=[True, False])
igd = pareto.igd(front, exact, maximise=[True, False], normalise=True)
print(f"NSGA-II, {args.budget} cells: {len(front)} on the found front, hypervolume "
      f"{hv / hv_exact:.4f} of the exact front's ({len(exact)} cells), normalised IGD {igd:.4f}")

exact, front = exact[np.argsort(exact[:, 1])], front[np.argsort(front[:, 1])]
plt.figure(figsize=(6, 4))
plt.scatter(everything[:, 1], everything[:, 0], s=2, c="0.85", label="all cells")
plt.step(exact[:, 1], exact[:, 0], where="post", c="k", lw=1, label="exact front")
plt.plot(front[:, 1], front[:, 0], "o", c="tab:red", ms=4, label=f"NSGA-II, {args.budget} cells")
plt.xlabel(f"latency on {args.device} (ms)")
plt.ylabel("CIFAR-10 test accuracy (%), 200 epochs")
plt.ylim(max(everything[:, 0].min(), 80), everything[:, 0].max() + 0.5)
plt.legend(loc="lower right")
plt.tight_layout()
plt.savefig(args.out, dpi=120)
print(f"wrote {args.out}")
