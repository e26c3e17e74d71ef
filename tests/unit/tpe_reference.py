#!/usr/bin/python3
"""Reference values of tests/unit/tpe.cpp, from Optuna 3.1.0's own TPE functions (Debian
python3-optuna). Run: /usr/bin/python3 tests/unit/tpe_reference.py"""
import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_gamma, default_weights

print("optuna", optuna.__version__)
print("gamma", {n: default_gamma(n) for n in (9, 10, 11, 20, 30, 31, 250, 300)})
print("weights(26)[:2]", default_weights(26)[:2].tolist())
print("weights(30)[:6]", default_weights(30)[:6].tolist())
# TPESampler() defaults: consider_prior, prior_weight 1, magic clip, no endpoints.
uni = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, False)
five = {"x": CategoricalDistribution(list(range(5)))}
pe = _ParzenEstimator({"x": np.array([0.0, 0.0, 2.0])}, five, uni)
print("p(0,0,2)", np.exp(pe.log_pdf({"x": np.arange(5)})).tolist())
thirty = np.array([i % 5 for i in range(30)], dtype=float)
pe = _ParzenEstimator({"x": thirty}, five, uni)
print("p(30 obs)", np.exp(pe.log_pdf({"x": np.arange(5)})).tolist())
multi = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, True)
two = {"a": CategoricalDistribution(list(range(3))), "b": CategoricalDistribution(list(range(4)))}
pe = _ParzenEstimator({"a": np.array([0.0, 1.0]), "b": np.array([3.0, 3.0])}, two, multi)
print("log p (0,3) (1,3) (2,0)",
      pe.log_pdf({"a": np.array([0, 1, 2]), "b": np.array([3, 3, 0])}).tolist())
