"""Failures are data; bad arguments raise Python exceptions with the library's message."""

import pytest

import nascent


def test_exception_in_evaluator_is_a_failed_evaluation(evaluator):
    calls = []

    def flaky(cell):
        calls.append(cell)
        if len(calls) % 3 == 0:
            raise RuntimeError(f"diverged on {cell}")
        return evaluator(cell)

    r = nascent.run(nascent.strategy("rea"), flaky, budget=30, seed=0)
    assert r.queries == 30 and r.failures == 10 and len(r.errors) == 10
    arch, message = r.errors[0]
    assert message == f"RuntimeError: diverged on {arch}"
    assert r.best is not None and r.best not in [nascent.NB201Cell(a) for a, _ in r.errors]


def test_none_is_failed_and_bad_return_raises(evaluator):
    r = nascent.run(nascent.strategy("random"), lambda c: None, budget=5, seed=0)
    assert r.failures == 5 and r.best is None
    with pytest.raises(TypeError, match="a number, a dict of metrics or None"):
        nascent.run(nascent.strategy("random"), lambda c: "high", budget=5)
    with pytest.raises(ValueError, match="needs a 'reward' entry"):
        nascent.run(nascent.strategy("random"), lambda c: {"acc": 1.0}, budget=5)


def test_keyboard_interrupt_stops_the_run():
    def stop(cell):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        nascent.run(nascent.strategy("random"), stop, budget=5)


def test_bad_options():
    with pytest.raises(TypeError, match=r"unexpected option 'popsize' \(its options: population, sample\)"):
        nascent.strategy("rea", popsize=10)
    with pytest.raises(TypeError, match="its options: none"):
        nascent.strategy("random", population=10)
    with pytest.raises(TypeError, match="population must be an int"):
        nascent.strategy("rea", population="ten")
    with pytest.raises(ValueError, match="population must be >= 1, got 0"):
        nascent.strategy("rea", population=0)
    with pytest.raises(ValueError, match=r"unknown strategy 'reaa' \(valid: random, rea"):
        nascent.strategy("reaa")
    with pytest.raises(ValueError, match="needs objectives"):
        nascent.strategy("nsga2")
    with pytest.raises(ValueError, match="needs a direction"):
        nascent.strategy("nsga2", objectives=["test_acc@200"])
    with pytest.raises(TypeError, match="multi-fidelity: give its fidelity levels"):
        nascent.strategy("hyperband")
    with pytest.raises(TypeError, match="unexpected option 'fidelities'"):
        nascent.strategy("rea", fidelities=[12, 200])
    with pytest.raises(ValueError, match="multi-fidelity: drive it with ask"):
        nascent.run(nascent.strategy("sh", fidelities=[12, 200]), lambda c: 1.0, budget=3)
    with pytest.raises(ValueError, match="needs surrogates"):
        nascent.strategy("bananas", nascent.NB101Space())
    with pytest.raises(TypeError, match="space must be"):
        nascent.strategy("rea", space="nb201")


def test_bad_arguments(table):
    with pytest.raises(ValueError, match="unknown dataset 'cifar11'"):
        table.evaluator("cifar11")
    with pytest.raises(ValueError, match="is not in the NAS-Bench-201 table for cifar100"):
        table.evaluator("cifar100", "valid_acc@200")
    with pytest.raises(IndexError, match="out of range"):
        table.query(15625)
    with pytest.raises(ValueError):
        nascent.NB201Cell("|conv~0|")
    with pytest.raises(ValueError, match="budget must be >= 1"):
        nascent.run(nascent.strategy("rea"), table.evaluator(), budget=0)
    with pytest.raises(ValueError, match="unknown encoding"):
        nascent.NB201Space().encode(table.cell_at(0), "graph")
    with pytest.raises(TypeError):
        nascent.run(nascent.strategy("rea"), 42, budget=3)
    with pytest.raises(ValueError, match="benchmark data directory not found"):
        nascent.NB201Table.load("/nonexistent")
