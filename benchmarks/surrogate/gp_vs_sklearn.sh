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
# prediction), the least disturbed by other work on a shared machine, on both sides alike.
#
# The C++ side is measured as three builds of gp_timing.cpp, in the same run:
#   default  -O3 -DNDEBUG: what a user's build and the project's own get (no -m flags; Eigen then
#            compiles its kernels for SSE2 only: it picks its SIMD at compile time);
#   blas     -O3 -DNDEBUG -DEIGEN_USE_BLAS, linked with -lopenblas: what the CMake option
#            NASCENT_USE_BLAS=ON gives (Eigen's products and triangular solves on OpenBLAS, which
#            picks its kernels at run time; the kernel matrices and the rest stay Eigen's, SSE2);
#   native   -O3 -DNDEBUG -march=native: Eigen's own kernels for this CPU (AVX-512 here).
# (--blas-coretype NAME adds a fourth row, the blas binary run with OPENBLAS_CORETYPE=NAME: what
# the option gives where OpenBLAS recognises the CPU; Debian's 0.3.21 falls back to its Prescott
# (SSE3) kernels on CPUs newer than it, and scikit-learn's numpy then runs those too.)
# Each build runs once on one thread and once on all cores. Threads: the 1-thread run caps oneTBB
# at 1 and sets OPENBLAS_NUM_THREADS=1, so that the blas build's figure is truly one thread; the
# all-cores run leaves oneTBB at all cores and OpenBLAS at its default (all cores: 2 here), as a
# user gets it (the GP's own two tasks may then each call a 2-thread OpenBLAS). scikit-learn runs
# once, on OpenBLAS's default threads (2 here), with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
# for its command (they slow a current OpenBLAS; see the environment notes); the blas build's runs
# unset them too, so that both sides run the same OpenBLAS kernels (each prints which). Ratios are
# scikit-learn's time over each build's, all cores and (in brackets) 1 thread.
#
# Usage: benchmarks/surrogate/gp_vs_sklearn.sh [--sizes 50,100,200,500,1000,2000] [--data DIR]
#                                             [--json FILE]   (all measurements, for the record)
#                                             [--blas-coretype NAME]   (e.g. SkylakeX, see above)
# Env: CXX (g++); CXXFLAGS, extra flags added to all three builds (none by default).
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=50,100,200,500,1000,2000
data=()
json_out=
blas_coretype=
while [[ $# -gt 0 ]]; do
    case $1 in
        --sizes) sizes=$2; shift 2 ;;
        --data) data=(--data "$2"); shift 2 ;;
        --json) json_out=$(realpath -m "$2"); shift 2 ;;
        --blas-coretype) blas_coretype=$2; shift 2 ;;
        *) echo "gp_vs_sklearn.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
bash scripts/setup.sh # compiler, Eigen
# The Python peers this benchmark needs (not all of setup.sh --python, which also brings torch),
# and OpenBLAS's headers and link library for the blas build.
missing=()
for p in python3-sklearn python3-threadpoolctl libopenblas0-pthread libopenblas-dev; do
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

# name, compile flags, link flags
builds=(default "-O3 -DNDEBUG" ""
        blas "-O3 -DNDEBUG -DEIGEN_USE_BLAS" "-lopenblas"
        native "-O3 -DNDEBUG -march=native" "")
names=()
pids=()
for ((i = 0; i < ${#builds[@]}; i += 3)); do # compiled in parallel
    name=${builds[i]}
    names+=("$name")
    # shellcheck disable=SC2086 # flags are word lists
    "${CXX:-g++}" -std=c++20 ${builds[i + 1]} ${CXXFLAGS:-} -Iinclude -isystem /usr/include/eigen3 \
        benchmarks/surrogate/gp_timing.cpp -ltbb ${builds[i + 2]} -o "$tmp/gp_timing_$name" &
    pids+=($!)
done
for i in "${!pids[@]}"; do wait "${pids[i]}" || { echo "build ${names[i]} failed" >&2; exit 1; }; done
runs=("${names[@]}")
if [[ -n $blas_coretype ]]; then runs+=("blas+$blas_coretype"); fi
for run in "${runs[@]}"; do
    binary=$tmp/gp_timing_${run%%+*}
    environment=(env)
    if [[ $run == blas* ]]; then environment=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE); fi
    if [[ $run == *+* ]]; then environment+=("OPENBLAS_CORETYPE=${run#*+}"); fi
    echo "== nascent (C++, $run build), 1 thread"
    "${environment[@]}" OPENBLAS_NUM_THREADS=1 "$binary" --out "$tmp" --sizes "$sizes" --threads 1 \
        --json "cpp1-$run.json" "${data[@]}"
    echo "== nascent (C++, $run build), $(nproc) threads"
    "${environment[@]}" "$binary" --out "$tmp" --sizes "$sizes" --json "cpp-$run.json" "${data[@]}"
done
printf '%s\n' "${runs[@]}" >"$tmp/runs.txt"
for ((i = 0; i < ${#builds[@]}; i += 3)); do
    printf '%s\t%s\n' "${builds[i]}" "${builds[i + 1]} ${CXXFLAGS:-} ${builds[i + 2]}"
done >"$tmp/flags.txt"

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
runs = open(f"{tmp}/runs.txt").read().split()
flags = dict(line.rstrip("\n").split("\t") for line in open(f"{tmp}/flags.txt"))
cpp, cpp1, build_info = {}, {}, {}
for run in runs:
    all_cores, one = json.load(open(f"{tmp}/cpp-{run}.json")), json.load(open(f"{tmp}/cpp1-{run}.json"))
    cpp[run] = {r["n"]: dict(r, build=run) for r in all_cores["sizes"]}
    cpp1[run] = {r["n"]: dict(r, build=run) for r in one["sizes"]}
    build_info[run] = dict(flags=" ".join(flags[run.split("+")[0]].split()), simd=all_cores["simd"],
                           blas=all_cores["blas"], blas_1_thread=one["blas"])

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
    # Cross-check: sklearn's likelihood and predictions at each build's hyper-parameters.
    checks = {}
    for run in runs:
        c = cpp[run][n]
        lml_at_cpp = gpr.log_marginal_likelihood(np.array(c["theta"]))
        fixed = GaussianProcessRegressor(kernel().clone_with_theta(np.array(c["theta"])), alpha=0.0,
                                         normalize_y=True, optimizer=None).fit(x, y)
        mean, std = fixed.predict(x_test[:50], return_std=True)
        noise = np.exp(c["theta"][2]) * c["target_scale"] ** 2  # sklearn's std includes the white noise
        checks[run] = dict(d_lml=abs(lml_at_cpp - c["lml"]),
                           d_mean=float(np.max(np.abs(mean - np.array(c["pred_mean"])))),
                           d_var=float(np.max(np.abs(std**2 - (np.array(c["pred_var"]) + noise)))))
    results.append(dict(n=n, fit_ms=min(fits), evaluations=evaluations[0],
                        eval_ms=min(evals), predict_ms=min(preds),
                        lml=float(gpr.log_marginal_likelihood_value_), theta=theta.tolist(),
                        checks=checks))
    r = results[-1]
    print(f"{n:7d} {r['fit_ms']:9.1f} ms fit, {r['evaluations']:3d} evals, {r['eval_ms']:8.2f} ms per eval, "
          f"{r['predict_ms']:8.1f} ms predict")
json.dump(results, open(f"{tmp}/sklearn.json", "w"))

print("\nC++ builds (same source, gp_timing.cpp):")
for run, b in build_info.items():
    print(f"  {run:16s} {b['flags']}\n  {'':16s} Eigen SIMD: {b['simd']}; BLAS: {b['blas']}")
print("\nratio = scikit-learn time / nascent time (same data, same model, same machine, this run);")
print("C++ times and ratios on all cores (1 thread in brackets); scikit-learn on OpenBLAS's default threads")
print(f"{'n':>6} {'build':<16} | {'fit ms C++':>17} {'sklearn':>8} {'ratio':>13} | {'evals':>7} | "
      f"{'1 eval ms C++':>15} {'sklearn':>7} {'ratio':>13} | {'predict ms C++':>15} {'sklearn':>7} {'ratio':>13} | "
      f"{'LML C++':>9} {'sklearn':>9} {'|dLML|':>8} {'|dmean|':>8} {'|dvar|':>8}")
for r in results:
    for run in runs:
        c, c1, k = cpp[run][r["n"]], cpp1[run][r["n"]], r["checks"][run]
        def cols(key, digits):
            return (f"{c[key]:8.{digits}f} ({c1[key]:7.{digits}f}) {r[key]:7.{digits}f} "
                    f"{r[key] / c[key]:5.1f}x ({r[key] / c1[key]:4.1f}x)")
        print(f"{r['n']:6d} {run:<16} | {cols('fit_ms', 1)} | {c['evaluations']:3d}/{r['evaluations']:<3d} | "
              f"{cols('eval_ms', 2)} | {cols('predict_ms', 1)} | "
              f"{c['lml']:9.3f} {r['lml']:9.3f} {k['d_lml']:8.1e} {k['d_mean']:8.1e} {k['d_var']:8.1e}")
print("|dLML|, |dmean|, |dvar|: scikit-learn's log marginal likelihood and predictions (50 cells) at")
print("each build's fitted hyper-parameters against that build's own: the two compute the same model.")
if json_out:
    json.dump(dict(builds=build_info,
                   cpp=[r for run in runs for r in cpp[run].values()],
                   cpp_1_thread=[r for run in runs for r in cpp1[run].values()], sklearn=results),
              open(json_out, "w"), indent=1)
    print(f"\nall results: {json_out}")
PY
