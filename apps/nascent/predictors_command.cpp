// nascent predictors (see predictors_command.hpp).

#include "predictors_command.hpp"

#include "cli.hpp"
#include "nb201_models.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/io/atomic_write.hpp>

#include <nascent/exec/tbb_executor.hpp>
#include <nascent/surrogate/predictor_evaluation.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <stdexcept>

namespace nascent::cli {
namespace {

using cell = nb201::cell;
using split = surrogate::predictor_split<cell>;

/// The predictors by name: each scores a fresh model (seeded per split) on a split.
struct predictor_entry {
    std::string_view name;
    std::string_view note; ///< shown after the name in --help
    std::function<surrogate::predictor_score(const split&, std::size_t n, std::uint64_t seed,
                                             const bench::nb201_evaluator&)>
        score;
};

template <class Make>
predictor_entry entry(std::string_view name, Make make, std::string_view note = {}) {
    return {name, note,
            [make](const split& data, std::size_t n, std::uint64_t seed,
                   const bench::nb201_evaluator& ev) {
                return surrogate::score_predictor(make(seed, ev), data, n);
            }};
}

const std::vector<predictor_entry>& known_predictors() {
    static const std::vector<predictor_entry> all{
        entry("gcn", [](std::uint64_t seed, const auto&) { return nb201_models::gcn(seed); }),
        entry("bananas",
              [](std::uint64_t seed, const auto&) { return nb201_models::ensemble(seed); }),
        entry(
            "gp", [](std::uint64_t, const auto&) { return nb201_models::hamming_gp(); },
            "(Hamming)"),
        entry("wl-gp", [](std::uint64_t, const auto&) { return nb201_models::wl_gp(); }),
        entry("bananas+cost",
              [](std::uint64_t seed, const auto&) { return nb201_models::cost_ensemble(seed); }),
        entry("bananas+lc",
              [](std::uint64_t seed, const bench::nb201_evaluator& ev) {
                  return nb201_models::curve_ensemble(ev, seed);
              }),
    };
    return all;
}

const predictor_entry* find_predictor(const std::string& name) {
    for (const auto& p : known_predictors()) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

void check(const predictors_settings& s) {
    if (s.sizes.empty() || s.seeds == 0 || s.test < 2 || s.threads == 0 || s.predictors.empty()) {
        throw std::invalid_argument(
            "predictors: need --sizes, --seeds >= 1, --test >= 2, --threads >= 1 and "
            "--predictors");
    }
    for (const auto& p : s.predictors) {
        if (find_predictor(p) == nullptr) {
            std::string valid;
            for (const auto& k : known_predictors())
                valid += (valid.empty() ? "" : ", ") + std::string(k.name);
            throw std::invalid_argument("predictors: unknown predictor '" + p +
                                        "' (valid: " + valid + ")");
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
    const auto largest = *std::ranges::max_element(s.sizes);
    auto lookup = [&](std::uint64_t index) -> std::optional<std::pair<cell, double>> {
        const auto acc = table.accuracy(index, dataset, metric);
        if (!acc)
            return std::nullopt;
        return std::pair{table.cell_at(index), *acc};
    };
    auto out = surrogate::draw_predictor_split<cell>(table.size(), lookup, s.test, largest,
                                                     derive_seed(s.seed, seed_index));
    if (out.train.size() < largest) {
        throw std::invalid_argument("predictors: only " +
                                    std::to_string(out.test.size() + out.train.size()) +
                                    " cells have " + s.target + " on " + s.dataset);
    }
    return out;
}

} // namespace

std::string predictor_choices() {
    std::string out;
    for (const auto& p : known_predictors()) {
        out += (out.empty() ? "" : ", ") + std::string(p.name);
        if (!p.note.empty())
            out += " " + std::string(p.note);
    }
    return out;
}

int run_predictors(const predictors_settings& s) {
    check(s);
    const auto table =
        bench::nb201_table::load(io::resolve_data_dir(s.data, NASCENT_DEFAULT_DATA_DIR));
    // Learning-curve features: the searched dataset's 12-epoch validation accuracy.
    const auto evaluator = table.evaluator({.dataset = s.dataset, .reward = "valid_acc@12"});
    std::vector<split> splits;
    for (std::size_t k = 0; k < s.seeds; ++k)
        splits.push_back(draw_split(table, s, k));

    std::vector<const predictor_entry*> chosen;
    for (const auto& p : s.predictors)
        chosen.push_back(find_predictor(p));
    const std::size_t per_predictor = s.sizes.size() * s.seeds;
    const std::size_t tasks = s.predictors.size() * per_predictor;
    const auto start = clock_type::now();
    progress_bar bar("predictors", tasks);
    const auto results = surrogate::evaluate_predictors(
        chosen.size(), std::span<const std::size_t>(s.sizes), std::span<const split>(splits),
        [&](std::size_t p, const split& data, std::size_t n, std::size_t k) {
            return chosen[p]->score(data, n, derive_seed(s.seed, k), evaluator);
        },
        exec::tbb_executor(s.threads), bar.callback());
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
