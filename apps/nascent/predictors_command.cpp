// nascent predictors (see predictors_command.hpp).

#include "predictors_command.hpp"

#include "cli.hpp"
#include "nb201_models.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/io/atomic_write.hpp>

#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace nascent::cli {
namespace {

using cell = nb201::cell;

const std::vector<std::string> known_predictors{"gcn",   "bananas",      "gp",
                                                "wl-gp", "bananas+cost", "bananas+lc"};

struct split {
    std::vector<cell> train; ///< nested: the first n are the training set of size n
    std::vector<double> train_target;
    std::vector<cell> test;
    std::vector<double> test_accuracy;
};

struct outcome {
    double tau = std::nan("");
    double rho = std::nan("");
    double fit_seconds = 0;
    double predict_seconds = 0;
    std::string error; ///< a predictor that throws is reported, not fatal
};

void check(const predictors_settings& s) {
    if (s.sizes.empty() || s.seeds == 0 || s.test < 2 || s.threads == 0 || s.predictors.empty()) {
        throw std::invalid_argument(
            "predictors: need --sizes, --seeds >= 1, --test >= 2, --threads >= 1 and "
            "--predictors");
    }
    for (const auto& p : s.predictors) {
        if (std::ranges::find(known_predictors, p) == known_predictors.end()) {
            throw std::invalid_argument(
                "predictors: unknown predictor '" + p +
                "' (valid: gcn, bananas, gp, wl-gp, bananas+cost, bananas+lc)");
        }
    }
    const auto largest = *std::ranges::max_element(s.sizes);
    if (std::ranges::find(s.sizes, std::size_t{0}) != s.sizes.end() ||
        largest + s.test > nb201::num_cells) {
        throw std::invalid_argument("predictors: training sizes must lie in [1, " +
                                    std::to_string(nb201::num_cells - s.test) + "] with --test " +
                                    std::to_string(s.test));
    }
}

split draw_split(const bench::nb201_table& table, const predictors_settings& s,
                 std::size_t seed_index) {
    const auto dataset = bench::parse_nb201_dataset(s.dataset);
    const auto metric = bench::parse_nb201_metric(s.target);
    std::vector<std::uint64_t> order(table.size());
    std::iota(order.begin(), order.end(), std::uint64_t{0});
    rng gen(derive_seed(s.seed, seed_index));
    shuffle(order.begin(), order.end(), gen);
    const auto largest = *std::ranges::max_element(s.sizes);
    split out;
    for (const auto index : order) {
        const auto acc = table.accuracy(index, dataset, metric);
        if (!acc || !std::isfinite(*acc))
            continue;
        if (out.test.size() < s.test) {
            out.test.push_back(table.cell_at(index));
            out.test_accuracy.push_back(*acc);
        } else if (out.train.size() < largest) {
            out.train.push_back(table.cell_at(index));
            out.train_target.push_back(-std::log(std::max(100.0 - *acc, 1e-6)));
        } else {
            break;
        }
    }
    if (out.train.size() < largest) {
        throw std::invalid_argument("predictors: only " +
                                    std::to_string(out.test.size() + out.train.size()) +
                                    " cells have " + s.target + " on " + s.dataset);
    }
    return out;
}

template <class Model>
std::vector<double> predicted_means(const Model& model, const std::vector<cell>& xs) {
    std::vector<prediction> ps;
    if constexpr (requires { model.predict_many(std::span<const cell>(xs)); }) {
        ps = model.predict_many(std::span<const cell>(xs));
    } else {
        ps = model.predict_batch(xs);
    }
    std::vector<double> out;
    out.reserve(ps.size());
    for (const auto& p : ps)
        out.push_back(p.mean);
    return out;
}

template <class Model>
outcome score(Model model, const split& data, std::size_t n) {
    outcome o;
    const auto start = clock_type::now();
    model.fit(std::span<const cell>(data.train.data(), n),
              std::span<const double>(data.train_target.data(), n));
    o.fit_seconds = seconds_since(start);
    const auto predicted = clock_type::now();
    const auto means = predicted_means(model, data.test);
    o.predict_seconds = seconds_since(predicted);
    o.tau = kendall_tau(means, data.test_accuracy);
    o.rho = spearman(means, data.test_accuracy);
    return o;
}

outcome evaluate(const std::string& predictor, const split& data, std::size_t n, std::uint64_t seed,
                 const bench::nb201_evaluator& evaluator) {
    try {
        if (predictor == "gcn")
            return score(nb201_models::gcn(seed), data, n);
        if (predictor == "bananas")
            return score(nb201_models::ensemble(seed), data, n);
        if (predictor == "bananas+cost")
            return score(nb201_models::cost_ensemble(seed), data, n);
        if (predictor == "bananas+lc")
            return score(nb201_models::curve_ensemble(evaluator, seed), data, n);
        if (predictor == "gp")
            return score(nb201_models::hamming_gp(), data, n);
        return score(nb201_models::wl_gp(), data, n);
    } catch (const std::exception& e) { // never out of a TBB task: the row says what failed
        outcome o;
        o.error = e.what();
        return o;
    }
}

} // namespace

int run_predictors(const predictors_settings& s) {
    check(s);
    const auto table =
        bench::nb201_table::load(io::resolve_data_dir(s.data, NASCENT_DEFAULT_DATA_DIR));
    // Learning-curve features: the searched dataset's 12-epoch validation accuracy.
    const auto evaluator = table.evaluator({.dataset = s.dataset, .reward = "valid_acc@12"});
    std::vector<split> splits;
    for (std::size_t k = 0; k < s.seeds; ++k)
        splits.push_back(draw_split(table, s, k));

    // One task per (predictor, size, seed); each writes its own slot.
    const std::size_t per_predictor = s.sizes.size() * s.seeds;
    const std::size_t tasks = s.predictors.size() * per_predictor;
    std::vector<outcome> results(tasks);
    const auto start = clock_type::now();
    progress_bar bar("predictors", tasks);
    std::atomic<std::size_t> done{0};
    tbb::task_arena arena(static_cast<int>(s.threads));
    arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, tasks, [&](std::size_t t) {
            const auto& predictor = s.predictors[t / per_predictor];
            const auto size = s.sizes[(t % per_predictor) / s.seeds];
            const auto k = t % s.seeds;
            results[t] = evaluate(predictor, splits[k], size, derive_seed(s.seed, k), evaluator);
            bar.update(++done);
        });
    });
    const double total = seconds_since(start);

    std::printf("NAS-Bench-201 %s, target %s: %zu held-out cells, %zu seeds, seed %llu, %zu "
                "threads (%.1f s)\n",
                s.dataset.c_str(), s.target.c_str(), s.test, s.seeds,
                static_cast<unsigned long long>(s.seed), s.threads, total);
    std::printf("%-12s %5s %17s %17s %10s %10s\n", "predictor", "n", "kendall tau", "spearman rho",
                "fit s", "predict s");
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t p = 0; p < s.predictors.size(); ++p) {
        for (std::size_t z = 0; z < s.sizes.size(); ++z) {
            std::vector<double> tau, rho, fit, predict;
            nlohmann::json errors = nlohmann::json::array();
            for (std::size_t k = 0; k < s.seeds; ++k) {
                const auto& o = results[p * per_predictor + z * s.seeds + k];
                if (!o.error.empty())
                    errors.push_back(o.error);
                tau.push_back(o.tau);
                rho.push_back(o.rho);
                fit.push_back(o.fit_seconds);
                predict.push_back(o.predict_seconds);
            }
            const auto t = summarize(tau);
            const auto r = summarize(rho);
            std::printf("%-12s %5zu %8.3f +- %5.3f %8.3f +- %5.3f %10.3f %10.3f%s\n",
                        s.predictors[p].c_str(), s.sizes[z], t.mean, t.std, r.mean, r.std,
                        summarize(fit).mean, summarize(predict).mean,
                        errors.empty() ? "" : "  (failures: see --json)");
            nlohmann::json row{{"predictor", s.predictors[p]},
                               {"n", s.sizes[z]},
                               {"kendall_tau", t.mean},
                               {"kendall_tau_std", t.std},
                               {"spearman_rho", r.mean},
                               {"spearman_rho_std", r.std},
                               {"fit_seconds", summarize(fit).mean},
                               {"predict_seconds", summarize(predict).mean},
                               {"per_seed_tau", tau}};
            for (auto& v : row["per_seed_tau"])
                v = number(v.get<double>());
            if (!errors.empty())
                row["errors"] = errors;
            rows.push_back(row);
        }
    }
    if (s.json) {
        const nlohmann::json out{
            {"benchmark", "nb201"}, {"dataset", s.dataset}, {"target", s.target}, {"test", s.test},
            {"seeds", s.seeds},     {"seed", s.seed},       {"rows", rows}};
        io::write_file_atomically(*s.json, out.dump(1) + "\n");
    }
    return 0;
}

} // namespace nascent::cli
