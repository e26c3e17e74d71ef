"""Regularized evolution on the NAS-Bench-201 table: 100 runs of budget 150, from Python."""
import nascent

table = nascent.NB201Table.load()  # from $NASCENT_DATA or ../shared/data
rea = nascent.strategy("rea", population=10, sample=3)
runs = nascent.run_protocol(rea, table.evaluator("cifar10", "valid_acc@12"), budget=150, runs=100, seed=0)
print(f"REA, CIFAR-10: mean test accuracy {sum(r.best_report for r in runs) / len(runs):.2f} %")
