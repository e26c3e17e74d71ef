"""A search driven from Python gives the C++ runner's results, byte for byte."""

import json
import math
import os
import subprocess

import numpy as np
import pytest

import nascent

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def same_runs(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.seed == y.seed
        assert x.best == y.best
        assert x.best_reward == y.best_reward
        assert x.best_report == y.best_report
        assert (x.queries, x.repeats, x.failures) == (y.queries, y.repeats, y.failures)
        assert np.array_equal(x.trajectory, y.trajectory)


@pytest.mark.parametrize("name", ["random", "rea", "ls"])
def test_callable_evaluator_equals_table_evaluator(evaluator, name):
    s = nascent.strategy(name)
    cpp = nascent.run_protocol(s, evaluator, budget=150, runs=20, seed=3, threads=2)
    py = nascent.run_protocol(s, lambda cell: evaluator(cell), budget=150, runs=20, seed=3)
    same_runs(cpp, py)
    # A plain float is the reward alone: same search, no report metric.
    floats = nascent.run_protocol(
        s, lambda cell: evaluator(cell)["valid_acc@12"], budget=150, runs=20, seed=3
    )
    for x, y in zip(cpp, floats):
        assert x.best == y.best and math.isnan(y.best_report)


def test_model_based_from_python_equals_cpp(evaluator):
    s = nascent.strategy("bananas")
    cpp = nascent.run_protocol(s, evaluator, budget=20, runs=1, seed=0)
    py = nascent.run_protocol(s, lambda cell: evaluator(cell), budget=20, runs=1, seed=0)
    same_runs(cpp, py)


def test_ask_tell_loop_equals_run(evaluator):
    """The runner's protocol written in Python over ask/tell: the same run."""
    s = nascent.strategy("rea", population=10, sample=3)
    want = nascent.run(s.copy(), evaluator, budget=150, seed=7)
    gen = nascent.Generator(nascent.derive_seed(7, 0))
    seen, best, best_report, trajectory = {}, -math.inf, math.nan, []
    while len(seen) < 150:
        cell = s.ask(gen)
        if cell in seen:
            s.tell(cell, seen[cell])
            continue
        e = seen[cell] = evaluator(cell)
        if e["status"] == "ok" and (best == -math.inf or e["reward"] > best):
            best, best_cell, best_report = e["reward"], cell, e["test_acc@200"]
        trajectory.append((best, best_report))
        s.tell(cell, e)
    assert want.best == best_cell and want.best_reward == best
    assert np.array_equal(want.trajectory, np.array(trajectory))


@pytest.mark.skipif(not os.environ.get("NASCENT_CLI"), reason="the CLI is not built")
@pytest.mark.parametrize("name", ["rea", "ls", "bananas"])
def test_python_run_equals_cli(tmp_path, evaluator, name):
    out = tmp_path / "run.json"
    runs = 2 if name == "bananas" else 10
    budget = 30 if name == "bananas" else 150
    subprocess.run(
        [os.environ["NASCENT_CLI"], "run", "--benchmark", "nb201", "--dataset", "cifar10",
         "--strategy", name, "--runs", str(runs), "--budget", str(budget), "--seed", "11",
         "--threads", "1", "--json", str(out)],
        check=True, capture_output=True,
    )
    cli = json.loads(out.read_text())["runs"]
    py = nascent.run_protocol(nascent.strategy(name), lambda c: evaluator(c),
                              budget=budget, runs=runs, seed=11)
    for c, p in zip(cli, py):
        assert c["seed"] == p.seed
        assert c["best_arch"] == str(p.best)
        assert c["best_reward"] == p.best_reward and c["best_test"] == p.best_report
        assert c["queries"] == p.queries and c["repeats"] == p.repeats
        assert np.array_equal(np.array(c["trajectory"], dtype=float), p.trajectory)


def test_table_numbers(table):
    assert table.query(ARCH)["test_acc@200"] == 94.3733
    assert table.optimum("cifar10", "test_acc@200")[1] == 94.3733
    i = table.index_of(ARCH)
    assert table.query(i) == table.query(nascent.NB201Cell(ARCH))
    assert str(table.cell_at(i)) == ARCH
    col = table.column("test_acc@200", "cifar10")
    assert col[i] == 94.3733 and col.shape == (15625,)
    rows = table.rows("cifar10")  # the table's storage: no copy
    assert np.shares_memory(rows, table.rows("cifar10")) and not rows.flags.writeable
    assert rows[nascent.NB201Space.id(nascent.NB201Cell(ARCH)), 3] == 94.3733
    assert table.accuracy(ARCH, "cifar100", "valid_acc@200") is None


@pytest.mark.parametrize("name", ["sh", "hyperband", "bohb"])
def test_multi_fidelity_ask_tell(evaluator, name):
    """Multi-fidelity strategies ask for (cell, fidelity) and are told at that fidelity."""
    s = nascent.strategy(name, fidelities=[12, 200], seed=0)
    assert s.multi_fidelity and not nascent.strategy("rea").multi_fidelity
    asked = []
    for _ in range(300):
        cell, fidelity = s.ask()
        asked.append(fidelity)
        s.tell(cell, evaluator.evaluate(cell, fidelity), fidelity)
    assert set(asked) == {12.0, 200.0} and asked.count(12.0) > asked.count(200.0)
    with pytest.raises(ValueError, match="tell\\(cell, value, fidelity\\)"):
        s.tell(cell, 1.0)
    with pytest.raises(ValueError, match="tell it no fidelity"):
        nascent.strategy("rea").tell(cell, 1.0, 12.0)
