"""nascent: neural architecture search in C++, driven from Python.

Strategies come from the library's registry by name (``strategy_names()``), with their options
as keyword arguments; evaluations are told back as a reward, a dict of metrics, or None::

    import nascent
    table = nascent.NB201Table.load()
    rea = nascent.strategy("rea", nascent.NB201Space(), population=10, seed=0)
    for _ in range(150):
        cell = rea.ask()
        rea.tell(cell, table.query(cell, "cifar10")["valid_acc@12"])

``run`` / ``run_protocol`` run the C++ search loop (budget = distinct architectures, repeats
answered from the run's history) with a table evaluator or any Python callable.
"""

from . import _nascent
from ._nascent import (  # noqa: F401
    GP,
    Generator,
    NB101Cell,
    NB101Evaluator,
    NB101RunResult,
    NB101Space,
    NB101Strategy,
    NB101Table,
    NB201Cell,
    NB201Evaluator,
    NB201LatencyTable,
    NB201Predictor,
    NB201RunResult,
    NB201Space,
    NB201Strategy,
    NB201Table,
    StrategyKind,
    derive_seed,
    pareto,
    run,
    run_protocol,
    strategy_info,
    strategy_names,
)

import sys as _sys

_sys.modules[__name__ + ".pareto"] = pareto  # `import nascent.pareto` works too

__all__ = [name for name in dir(_nascent) if not name.startswith("_")] + ["strategy"]

_STRATEGY_OF_SPACE = {NB201Space: NB201Strategy, NB101Space: NB101Strategy}


def strategy(name, space=None, *, seed=0, **options):
    """The registered strategy ``name`` on ``space`` (NB201Space() by default).

    ``options`` are the strategy's own (``strategy_info(name)["python_options"]``), e.g.
    ``population`` and ``sample`` for "rea", ``objectives`` for "nsga2"; anything else raises
    TypeError. ``seed`` seeds the generator ``ask()`` uses when it is given none.
    """
    space = NB201Space() if space is None else space
    try:
        cls = _STRATEGY_OF_SPACE[type(space)]
    except KeyError:
        raise TypeError(
            "space must be NB201Space or NB101Space, got " + type(space).__name__
        ) from None
    return cls(name, seed=seed, **options)
