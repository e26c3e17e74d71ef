#!/usr/bin/env bash
# GP benchmark: nascent::surrogate::gp against scikit-learn's GaussianProcessRegressor on the same
# NAS-Bench-201 data (written by gp_timing, read by the Python side), in the same run.
#
# Both sides: 30-dim one-hot cells, CIFAR-10 valid_acc@12 targets standardised, kernel
# C * RBF + White with (1, 1, 0.1) as the start and [1e-5, 1e5] bounds, one L-BFGS start
# (n_restarts_optimizer=0), SciPy's default stopping rules. sklearn's optimiser is its default,
# wrapped only to count evaluations; alpha=0 so that the models are identical (the white kernel is
# the noise). Fit times include the hyper-parameter search; the two optimisers may need different
# numbers of log-marginal-likelihood evaluations, so the time of one evaluation (value and
# gradient at the fitted hyper-parameters) is compared too. Each time is the fastest of several
# repeats (7 up to n = 200, 3 at 500, 2 at 1000, 1 at 2000; 5 for one evaluation and for
# prediction), the least disturbed by other work on a shared machine, on both sides alike. scikit-learn runs on OpenBLAS with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for its command (they slow a current OpenBLAS; see
# the environment notes), with OpenBLAS's default threads (2 here); the C++ side runs once on one
# thread and once on all cores (oneTBB), and the ratios are given for both.
#
# Usage: benchmarks/surrogate/gp_vs_sklearn.sh [--sizes 50,100,200,500,1000,2000] [--data DIR]
#                                             [--json FILE]   (all measurements, for the record)
# Env: CXX (g++), CXXFLAGS (-O3 -march=native: Eigen picks its SIMD kernels at compile time,
# OpenBLAS at run time, so both use the machine's vector units).
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=50,100,200,500,1000,2000
data=()
json_out=
while [[ $# -gt 0 ]]; do
    case $1 in
        --sizes) sizes=$2; shift 2 ;;
        --data) data=(--data "$2"); shift 2 ;;
        --json) json_out=$(realpath -m "$2"); shift 2 ;;
        *) echo "gp_vs_sklearn.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
bash scripts/setup.sh # compiler, Eigen
# The Python peers this benchmark needs (not all of setup.sh --python, which also brings torch).
missing=()
for p in python3-sklearn python3-threadpoolctl libopenblas0-pthread; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"${CXX:-g++}" -std=c++20 ${CXXFLAGS:--O3 -march=native -DNDEBUG} -Iinclude -I/usr/include/eigen3 \
    benchmarks/surrogate/gp_timing.cpp -ltbb -o "$tmp/gp_timing"
echo "== nascent (C++, Eigen), 1 thread"
"$tmp/gp_timing" --out "$tmp" --sizes "$sizes" --threads 1 --json cpp1.json "${data[@]}"
echo "== nascent (C++, Eigen), $(nproc) threads"
"$tmp/gp_timing" --out "$tmp" --sizes "$sizes" --json cpp.json "${data[@]}"

echo "== scikit-learn"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 - "$tmp" "$sizes" "$json_out" <<'PY'
import json, sys, time, warnings
import numpy as np, scipy, scipy.optimize, sklearn, threadpoolctl
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, RBF, WhiteKernel
from sklearn.exceptions import ConvergenceWarning
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # the noise sits at its lower bound

tmp, sizes, json_out = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
blas = [f"{i['internal_api']} {i['version']} {i.get('architecture', '')} threads={i['num_threads']}"
        for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, scipy {scipy.__version__}; BLAS: {'; '.join(blas)}")
if not any(b.startswith("openblas") for b in blas):
    sys.exit("numpy does not run on OpenBLAS here; the comparison is meant against OpenBLAS")
train = np.loadtxt(f"{tmp}/train.csv", delimiter=",")
x_test = np.loadtxt(f"{tmp}/test.csv", delimiter=",")
cpp = {r["n"]: r for r in json.load(open(f"{tmp}/cpp.json"))["sizes"]}
cpp1 = {r["n"]: r for r in json.load(open(f"{tmp}/cpp1.json"))["sizes"]}

def kernel():
    return (ConstantKernel(1.0, (1e-5, 1e5)) * RBF(1.0, (1e-5, 1e5))
            + WhiteKernel(0.1, (1e-5, 1e5)))

evaluations = [0]
def counting_lbfgs(obj_func, initial_theta, bounds):
    # sklearn's default optimiser ("fmin_l_bfgs_b"), counting the evaluations.
    def f(theta):
        evaluations[0] += 1
        return obj_func(theta, eval_gradient=True)
    res = scipy.optimize.minimize(f, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds)
    return res.x, res.fun

def ms(f):
    t = time.perf_counter(); f(); return (time.perf_counter() - t) * 1e3

results = []
for n in sizes:
    x, y = train[:n, :30], train[:n, 30]
    repeats = 7 if n <= 200 else 3 if n <= 500 else 2 if n <= 1000 else 1
    fits = []
    for _ in range(repeats):
        evaluations[0] = 0
        gpr = GaussianProcessRegressor(kernel(), alpha=0.0, normalize_y=True,
                                       optimizer=counting_lbfgs, n_restarts_optimizer=0)
        fits.append(ms(lambda: gpr.fit(x, y)))
    theta = gpr.kernel_.theta
    evals = [ms(lambda: gpr.log_marginal_likelihood(theta, eval_gradient=True)) for _ in range(5)]
    preds = [ms(lambda: gpr.predict(x_test, return_std=True)) for _ in range(5)]
    c = cpp[n]
    # Cross-check: sklearn's likelihood and predictions at the C++ hyper-parameters.
    lml_at_cpp = gpr.log_marginal_likelihood(np.array(c["theta"]))
    fixed = GaussianProcessRegressor(kernel().clone_with_theta(np.array(c["theta"])), alpha=0.0,
                                     normalize_y=True, optimizer=None).fit(x, y)
    mean, std = fixed.predict(x_test[:50], return_std=True)
    noise = np.exp(c["theta"][2]) * c["target_scale"] ** 2  # sklearn's std includes the white noise
    results.append(dict(n=n, fit_ms=min(fits), evaluations=evaluations[0],
                        eval_ms=min(evals), predict_ms=min(preds),
                        lml=float(gpr.log_marginal_likelihood_value_), theta=theta.tolist(),
                        d_lml=abs(lml_at_cpp - c["lml"]),
                        d_mean=float(np.max(np.abs(mean - np.array(c["pred_mean"])))),
                        d_var=float(np.max(np.abs(std**2 - (np.array(c["pred_var"]) + noise))))))
    r = results[-1]
    print(f"{n:7d} {r['fit_ms']:9.1f} ms fit, {r['evaluations']:3d} evals, {r['eval_ms']:8.2f} ms per eval, "
          f"{r['predict_ms']:8.1f} ms predict")
json.dump(results, open(f"{tmp}/sklearn.json", "w"))

print("\nratio = scikit-learn time / nascent time (same data, same model, same machine, this run);")
print("C++ on all cores (1 thread in brackets); scikit-learn on OpenBLAS's default threads")
print(f"{'n':>6} | {'fit ms C++':>10} {'sklearn':>9} {'ratio':>13} | {'evals':>7} | "
      f"{'1 eval ms C++':>13} {'sklearn':>8} {'ratio':>13} | {'predict ms C++':>14} {'sklearn':>8} {'ratio':>13} | "
      f"{'LML C++':>9} {'sklearn':>9} {'|dLML|':>8} {'|dmean|':>8} {'|dvar|':>8}")
for r in results:
    c, c1 = cpp[r["n"]], cpp1[r["n"]]
    def ratio(key):
        return f"{r[key] / c[key]:5.1f}x ({r[key] / c1[key]:4.1f}x)"
    print(f"{r['n']:6d} | {c['fit_ms']:10.1f} {r['fit_ms']:9.1f} {ratio('fit_ms')} | "
          f"{c['evaluations']:3d}/{r['evaluations']:<3d} | "
          f"{c['eval_ms']:13.2f} {r['eval_ms']:8.2f} {ratio('eval_ms')} | "
          f"{c['predict_ms']:14.2f} {r['predict_ms']:8.2f} {ratio('predict_ms')} | "
          f"{c['lml']:9.3f} {r['lml']:9.3f} {r['d_lml']:8.1e} {r['d_mean']:8.1e} {r['d_var']:8.1e}")
print("|dLML|, |dmean|, |dvar|: scikit-learn's log marginal likelihood and predictions (50 cells) at")
print("nascent's fitted hyper-parameters against nascent's own: the two compute the same model.")
if json_out:
    json.dump(dict(cpp=list(cpp.values()), cpp_1_thread=list(cpp1.values()), sklearn=results),
              open(json_out, "w"), indent=1)
    print(f"\nall results: {json_out}")
PY
