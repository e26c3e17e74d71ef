"""Spaces, the generator and NB101."""

import numpy as np
import pytest

import nascent


def test_generator_is_seeded():
    a, b = nascent.Generator(5), nascent.Generator(5)
    assert [a() for _ in range(3)] == [b() for _ in range(3)]
    c = a.copy()
    assert a() == c() and 0 <= a.uniform() < 1 and 0 <= a.index(7) < 7
    with pytest.raises(ValueError):
        a.index(0)


def test_nb201_space():
    space = nascent.NB201Space()
    gen = nascent.Generator(1)
    cells = [space.sample(gen) for _ in range(100)]
    again = nascent.Generator(1)
    assert cells == [space.sample(again) for _ in range(100)]
    c = cells[0]
    assert nascent.NB201Cell(str(c)) == c == space.parse(space.to_string(c))
    assert hash(c) == space.hash(c) and len(set(cells)) > 90
    n = space.neighbours(c)
    assert len(n) == 24 and all(sum(a != b for a, b in zip(x.ops, c.ops)) == 1 for x in n)
    child = space.mutate(c, gen)
    assert sum(a != b for a, b in zip(child.ops, c.ops)) == 1
    onehot = space.encode(c)
    assert onehot.shape == (30,) and onehot.sum() == 6
    assert all(onehot[e * 5 + op] == 1 for e, op in enumerate(c.ops))
    assert space.encode(c, "paths").shape == (84,)
    assert space.at(space.id(c)) == c and nascent.NB201Space.size == 15625
    assert nascent.NB201Cell([0, 1, 2, 3, 4, 0]).ops == [0, 1, 2, 3, 4, 0]


def test_nb101_space_and_table():
    table = nascent.NB101Table.load()
    space = nascent.NB101Space()
    h = table.hash_at(0)
    rows = table.rows()
    assert rows.shape == (len(table), 6) and np.shares_memory(rows, table.rows())
    gen = nascent.Generator(0)
    c = space.sample(gen)
    assert space.is_valid(c) and nascent.NB101Cell(str(c)) == c
    assert len(space.hash_hex(c)) == 32 and space.encode(c).shape == (36,)
    assert space.encode(c, "paths").shape == (364,)
    assert all(space.is_valid(x) for x in space.neighbours(c))
    assert space.hash(space.mutate(c, gen)) != space.hash(c)
    same = nascent.NB101Cell(c.matrix, c.ops)
    assert same == c
    assert table.find(h) == 0
    ev = table.evaluator("valid_acc@108")
    # The 1k table answers few random cells: most proposals are out of table (free).
    kw = dict(budget=20, runs=2, seed=0, report="valid_acc@36", max_free_streak=300)
    r = nascent.run_protocol(nascent.strategy("random", space), ev, **kw)
    assert all(x.out_of_table > 0 and (x.queries == 20 or x.stalled) for x in r)
    py = nascent.run_protocol(nascent.strategy("random", space), lambda c: ev(c), **kw)
    assert [(x.best, x.queries, x.out_of_table) for x in r] == [
        (x.best, x.queries, x.out_of_table) for x in py]


def test_strategy_registry_is_the_one_list():
    names = nascent.strategy_names()
    assert names[:3] == ["random", "rea", "ls"] and "nsga2" in names
    info = nascent.strategy_info("rea")
    assert info["python_options"] == "population, sample"
    assert info["kind"] == nascent.StrategyKind.single_objective
