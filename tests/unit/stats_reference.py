#!/usr/bin/python3
"""Reference values of tests/unit/stats.cpp, from SciPy (Debian python3-scipy, 1.10).
Run: /usr/bin/python3 tests/unit/stats_reference.py"""
import numpy as np
import scipy
from scipy import stats

print("scipy", scipy.__version__)
samples = {
    "exact 5 vs 6": ([93.1, 94.2, 92.7, 93.9, 94.0], [92.5, 93.0, 92.2, 93.3, 92.9, 91.8]),
    "exact 3 vs 12": ([1.5, 7.25, 3.0], [0.5, 2.0, 4.0, 5.0, 6.0, 8.0, 9.0, 10.0, 11.0, 12.0,
                                         13.0, 14.0]),
    "normal 10 vs 10": ([0.11, 0.52, 0.33, 0.94, 0.25, 0.76, 0.47, 0.68, 0.89, 0.1],
                        [0.3, 0.61, 0.42, 0.83, 0.14, 0.95, 0.56, 0.77, 0.28, 0.99]),
    "ties 12 vs 12": ([94.37, 94.37, 94.18, 93.76, 94.37, 94.02, 93.51, 94.18, 94.37, 93.9,
                       94.02, 94.37],
                      [94.18, 93.76, 93.76, 94.02, 93.51, 93.09, 94.37, 93.76, 92.8, 94.18,
                       93.51, 93.9]),
    "ties 4 vs 5": ([1.0, 2.0, 2.0, 3.0], [2.0, 3.0, 3.0, 4.0, 5.0]),
}
for name, (x, y) in samples.items():
    r = stats.mannwhitneyu(x, y)
    print(f"{name}: U1 {r.statistic!r} p {r.pvalue!r} A {r.statistic / (len(x) * len(y))!r}")

p = [0.01, 0.04, 0.03, 0.005, 0.2]
# Holm by its definition (statsmodels' multipletests(method='holm') is the same)
order = np.argsort(p)
m = len(p)
adj = np.empty(m)
running = 0.0
for i, j in enumerate(order):
    running = max(running, min(1.0, (m - i) * p[j]))
    adj[j] = running
print("holm", adj.tolist())

blocks = [[94.1, 93.9, 94.3], [72.5, 72.5, 73.0], [46.0, 45.8, 46.4], [80.1, 80.3, 80.2]]
r = stats.friedmanchisquare(*np.array(blocks).T)
print("friedman 4x3", repr(r.statistic), repr(r.pvalue))
blocks5 = [[94.2, 93.9, 94.3, 93.7, 94.25], [72.5, 71.0, 73.0, 70.2, 72.8],
           [46.0, 45.8, 46.4, 45.1, 46.3]]
r = stats.friedmanchisquare(*np.array(blocks5).T)
print("friedman 3x5", repr(r.statistic), repr(r.pvalue))
print("chi2.sf", [repr(stats.chi2.sf(x, k)) for x, k in ((0.5, 1), (3.2, 2), (7.9, 4), (40.0, 19))])
print("t.ppf 0.975", [repr(stats.t.ppf(0.975, df)) for df in (1, 4, 19, 99)])
print("t.cdf", [repr(stats.t.cdf(t, df)) for t, df in ((-1.3, 3), (0.4, 10), (2.5, 99))])
print("norm.sf", [repr(stats.norm.sf(z)) for z in (-1.0, 0.3, 2.7, 6.0)])
