"""Pareto tools on numpy arrays, and the surrogates."""

import numpy as np
import pytest

import nascent
from nascent import pareto


def test_sort_hypervolume_igd():
    pts = np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [3.0, 3.0], [4.0, 4.0]])
    assert pareto.non_dominated_sort(pts).tolist() == [0, 0, 0, 1, 2]
    assert pareto.non_dominated(pts).tolist() == [0, 1, 2]
    # Boxes to (5, 5): 4x1 + 3x2 + ... exact value 11.
    assert pareto.hypervolume(pts, [5.0, 5.0]) == 11.0
    # Maximising both columns of the negated points is the same problem.
    assert pareto.hypervolume(-pts, [-5.0, -5.0], maximise=[True, True]) == 11.0
    assert pareto.non_dominated_sort(-pts, maximise=[True, True]).tolist() == [0, 0, 0, 1, 2]
    front = pts[:3]
    assert pareto.igd(front, front) == 0.0
    assert pareto.igd(pts[1:2], front) == pytest.approx((5 ** 0.5 + 0 + 5 ** 0.5) / 3)
    with pytest.raises(ValueError, match="mismatched dimensions|3 values"):
        pareto.hypervolume(pts, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        pareto.non_dominated_sort(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("kernel", ["rbf", "matern52", "hamming"])
def test_gp_fits_each_kernel(kernel):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(40, 4)).astype(float)
    y = x @ np.array([1.0, -2.0, 0.5, 0.0])
    gp = nascent.GP(kernel, noise_variance=1e-4, seed=1)
    gp.fit(x, y)
    mean, var = gp.predict(x)
    assert mean.shape == var.shape == (40,)
    assert np.corrcoef(mean, y)[0, 1] > 0.95 and (var >= 0).all()
    with pytest.raises(ValueError, match="unknown kernel"):
        nascent.GP("linear")
    with pytest.raises(ValueError, match="rows"):
        gp.fit(x, y[:3])


@pytest.mark.parametrize("name", ["gp", "wl-gp", "bananas", "gcn"])
def test_nb201_predictors_rank_cells(table, name):
    space = nascent.NB201Space()
    gen = nascent.Generator(0)
    cells = [space.sample(gen) for _ in range(80)]
    y = np.array([table.query(c)["valid_acc@12"] for c in cells])
    model = nascent.NB201Predictor(name, seed=0)
    model.fit(cells[:60], y[:60])
    mean, var = model.predict(cells[60:])
    assert mean.shape == (20,)
    assert np.corrcoef(mean, y[60:])[0, 1] > 0.3
