// GP timing: fit and predict for n = 50 ... 2000 NAS-Bench-201 cells, the work scikit-learn's
// GaussianProcessRegressor does in gp_vs_sklearn.sh on the same data.
//
// Model on both sides: 30-dim one-hot cells (6 edges x 5 ops), targets CIFAR-10 valid_acc@12
// standardised (sklearn: normalize_y=True), kernel sf2 * rbf(l) + sn2 * white, all three
// hyper-parameters fitted in log space by L-BFGS from (sf2, l, sn2) = (1, 1, 0.1) within
// [1e-5, 1e5], one start (sklearn: n_restarts_optimizer=0), stopping rules of SciPy's L-BFGS-B
// (projected gradient 1e-5, relative decrease 2.2e-9).
//
// Usage: gp_timing --out DIR [--data DIR] [--sizes 50,100,...] [--test 1000] [--seed 0]
//                  [--threads N] [--json NAME]
// Writes DIR/train.csv (features and target of the largest training set; smaller sets are its
// prefixes), DIR/test.csv (features of the query cells) and DIR/NAME (default cpp.json: timings,
// evaluation counts, fitted hyper-parameters, log marginal likelihoods and some predictions).
// --threads caps oneTBB's threads (the GP's dense linear algebra uses up to 2 tasks per level);
// the default is all cores.
// The first line printed (and "simd", "blas" in the JSON) names the SIMD instruction sets Eigen was
// compiled for and, with EIGEN_USE_BLAS (linked with -lopenblas), OpenBLAS's configuration, the
// kernels it chose for this CPU at run time and its thread count.

#include <nascent/bench/nb201_table.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/surrogate/gp.hpp>

#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#ifdef EIGEN_USE_BLAS
extern "C" { // OpenBLAS's own queries (cblas.h declares them; not included, to keep Eigen's BLAS
             // names)
char* openblas_get_config(void);
char* openblas_get_corename(void);
int openblas_get_num_threads(void);
}
#endif

namespace sg = nascent::surrogate;
namespace nb201 = nascent::nb201;

namespace {

/// The fastest of the repeats: on a machine shared with other work, the least disturbed one.
double best(const std::vector<double>& v) {
    return *std::ranges::min_element(v);
}

template <class F>
double milliseconds(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::size_t> parse_sizes(const std::string& text) {
    std::vector<std::size_t> out;
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');)
        out.push_back(std::stoul(item));
    return out;
}

std::string json_vector(const Eigen::VectorXd& v) {
    std::ostringstream s;
    s.precision(17);
    s << '[';
    for (Eigen::Index i = 0; i < v.size(); ++i)
        s << (i > 0 ? ", " : "") << v[i];
    s << ']';
    return s.str();
}

} // namespace

int main(int argc, char** argv) {
    std::optional<std::string> data;
    std::string out;
    std::vector<std::size_t> sizes{50, 100, 200, 500, 1000, 2000};
    std::size_t test_size = 1000;
    std::uint64_t seed = 0;
    std::size_t threads = 0;
    std::string json_name = "cpp.json";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--data") {
            data = value;
        } else if (flag == "--out") {
            out = value;
        } else if (flag == "--sizes") {
            sizes = parse_sizes(value);
        } else if (flag == "--test") {
            test_size = std::stoul(value);
        } else if (flag == "--seed") {
            seed = std::stoull(value);
        } else if (flag == "--threads") {
            threads = std::stoul(value);
        } else if (flag == "--json") {
            json_name = value;
        } else {
            std::cerr << "gp_timing: unknown flag " << flag << "\n";
            return 2;
        }
    }
    if (out.empty() || sizes.empty()) {
        std::cerr << "usage: gp_timing --out DIR [--data DIR] [--sizes 50,100] [--test 1000] "
                     "[--seed 0]\n";
        return 2;
    }
    std::optional<tbb::global_control> limit;
    if (threads > 0)
        limit.emplace(tbb::global_control::max_allowed_parallelism, threads);
    const auto table =
        nascent::bench::nb201_table::load(nascent::io::resolve_data_dir(data, "../shared/data"));
    const std::size_t largest = *std::ranges::max_element(sizes);

    // Cells: a shuffled prefix of the table's official indices; training sets are prefixes.
    nascent::rng gen(seed);
    std::vector<std::uint64_t> order(table.size());
    for (std::uint64_t i = 0; i < order.size(); ++i)
        order[i] = i;
    nascent::shuffle(order.begin(), order.end(), gen);
    const sg::edge_onehot<nb201::space> onehot;
    Eigen::MatrixXd x_all(static_cast<Eigen::Index>(largest), 30);
    std::vector<double> y_all;
    Eigen::MatrixXd x_test(static_cast<Eigen::Index>(test_size), 30);
    std::size_t taken = 0;
    for (const auto index : order) {
        const auto acc = table.accuracy(index, nascent::bench::nb201_dataset::cifar10,
                                        nascent::bench::nb201_metric::valid_12);
        if (!acc)
            continue;
        const Eigen::VectorXd f = onehot(table.cell_at(index));
        if (taken < largest) {
            x_all.row(static_cast<Eigen::Index>(taken)) = f.transpose();
            y_all.push_back(*acc);
        } else if (taken < largest + test_size) {
            x_test.row(static_cast<Eigen::Index>(taken - largest)) = f.transpose();
        } else {
            break;
        }
        ++taken;
    }
    std::filesystem::create_directories(out);
    {
        std::ofstream f(std::filesystem::path(out) / "train.csv");
        f.precision(17);
        for (Eigen::Index i = 0; i < x_all.rows(); ++i) {
            for (Eigen::Index j = 0; j < 30; ++j)
                f << x_all(i, j) << ',';
            f << y_all[static_cast<std::size_t>(i)] << '\n';
        }
        std::ofstream t(std::filesystem::path(out) / "test.csv");
        for (Eigen::Index i = 0; i < x_test.rows(); ++i) {
            for (Eigen::Index j = 0; j < 30; ++j)
                t << x_test(i, j) << (j < 29 ? "," : "\n");
        }
    }

    const sg::gp_options options{.signal_variance = 1.0,
                                 .noise_variance = 0.1,
                                 .optimise = true,
                                 .restarts = 0,
                                 .signal_bounds = {1e-5, 1e5},
                                 .kernel_bounds = {1e-5, 1e5},
                                 .noise_bounds = {1e-5, 1e5},
                                 .optimiser = {.max_iterations = 15000}};
    const std::string simd = Eigen::SimdInstructionSetsInUse();
#ifdef EIGEN_USE_BLAS
    const std::string blas = std::string(openblas_get_config()) + ", core " +
                             openblas_get_corename() + ", " +
                             std::to_string(openblas_get_num_threads()) + " threads";
#else
    const std::string blas = "none (Eigen's own kernels)";
#endif
    std::cout << "Eigen SIMD: " << simd << "; BLAS: " << blas << "\n";
    std::ostringstream json;
    json.precision(17);
    json << "{\"simd\": \"" << simd << "\", \"blas\": \"" << blas << "\", \"sizes\": [";
    std::cout << "      n   fit ms  evals  per-eval ms  predict ms (" << test_size << " points)\n";
    for (std::size_t si = 0; si < sizes.size(); ++si) {
        const std::size_t n = sizes[si];
        const Eigen::MatrixXd x = x_all.topRows(static_cast<Eigen::Index>(n));
        const std::span<const double> y(y_all.data(), n);
        const int repeats = n <= 200 ? 7 : n <= 500 ? 3 : n <= 1000 ? 2 : 1;
        std::vector<double> fit_ms;
        sg::gp<sg::rbf> model(sg::rbf{}, {}, options);
        for (int r = 0; r < repeats; ++r) {
            model = sg::gp<sg::rbf>(sg::rbf{}, {}, options); // same start every time
            fit_ms.push_back(milliseconds([&] { model.fit_features(x, y); }));
        }
        std::vector<double> eval_ms;
        Eigen::VectorXd gradient;
        for (int r = 0; r < 5; ++r) {
            eval_ms.push_back(milliseconds(
                [&] { (void)model.log_marginal_likelihood(model.hyperparameters(), &gradient); }));
        }
        std::vector<nascent::prediction> p;
        std::vector<double> predict_ms;
        for (int r = 0; r < 5; ++r) {
            predict_ms.push_back(milliseconds([&] { p = model.predict_features(x_test); }));
        }
        const auto& rep = model.report();
        std::printf("%7zu %8.1f %6zu %12.2f %11.1f\n", n, best(fit_ms), rep.evaluations,
                    best(eval_ms), best(predict_ms));
        Eigen::VectorXd mean(50);
        Eigen::VectorXd var(50);
        for (Eigen::Index i = 0; i < 50; ++i) {
            mean[i] = p[static_cast<std::size_t>(i)].mean;
            var[i] = p[static_cast<std::size_t>(i)].variance;
        }
        json << (si > 0 ? ",\n  " : "\n  ") << "{\"n\": " << n << ", \"fit_ms\": " << best(fit_ms)
             << ", \"evaluations\": " << rep.evaluations << ", \"iterations\": " << rep.iterations
             << ", \"eval_ms\": " << best(eval_ms) << ", \"predict_ms\": " << best(predict_ms)
             << ", \"lml\": " << model.log_marginal_likelihood()
             << ", \"theta\": " << json_vector(model.hyperparameters())
             << ", \"target_scale\": " << model.target_scale()
             << ", \"pred_mean\": " << json_vector(mean) << ", \"pred_var\": " << json_vector(var)
             << "}";
    }
    json << "\n]}\n";
    std::ofstream(std::filesystem::path(out) / json_name) << json.str();
    return 0;
}
