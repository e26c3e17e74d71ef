#pragma once
// Shared pieces of the nascent CLI: settings, progress bar, summaries, the JSON report, and the
// strategies by name from the registry (exec/registry.hpp).

#include <nascent/core/stats.hpp>
#include <nascent/exec/registry.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/data_dir.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#ifndef NASCENT_DEFAULT_DATA_DIR
#define NASCENT_DEFAULT_DATA_DIR "../shared/data"
#endif

namespace nascent::cli {

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Everything `run` and `compare` take from the command line.
struct settings {
    std::optional<std::string> data;
    std::optional<std::string> json;
    std::string benchmark = "nb201";
    std::string dataset = "cifar10";
    std::string strategy = "rea";
    std::optional<std::string> reward; ///< default per benchmark
    std::optional<std::string> report; ///< default per benchmark
    std::size_t runs = 500;
    std::size_t budget = 150;
    std::uint64_t seed = 0;
    std::size_t threads = 2;
    std::optional<std::size_t> population; ///< REA: 10; NSGA-II: 50
    std::size_t sample = 3;
    bool restrict_to_table = false;
    std::optional<std::string> warm_start; ///< model-based: PROXY or transfer:DATASET
    // Multi-objective runs (nb201)
    std::optional<std::string> objectives; ///< e.g. "test_acc,latency:pixel3"
    std::vector<std::string> constraints;  ///< e.g. "latency:pixel3<=10"
    std::optional<std::string> weights;    ///< scalarisation weights, comma-separated
    std::string scalarisation = "chebyshev";
    // Checkpoints and parallel evaluation (run; checkpointing.hpp)
    std::optional<std::string> checkpoint; ///< write checkpoints to this file
    std::optional<std::string> resume;     ///< resume from this checkpoint (and go on writing it)
    std::size_t checkpoint_every = 50;     ///< evaluations between checkpoint writes
    std::size_t in_flight = 1;             ///< evaluations in flight per run
    /// compare: the strategies of the table (the main job's three by default)
    std::vector<std::string> compare_strategies{"random", "rea", "ls"};
};

inline io::data_dir data_dir(const settings& s) {
    return io::resolve_data_dir(s.data, NASCENT_DEFAULT_DATA_DIR);
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
class progress_bar {
public:
    progress_bar(std::string label, std::size_t total)
        : m_label(std::move(label)), m_total(total), m_enabled(::isatty(STDERR_FILENO) == 1) {}
    ~progress_bar() {
        if (m_enabled && m_drawn)
            std::fprintf(stderr, "\r\033[K");
    }
    progress_bar(const progress_bar&) = delete;
    progress_bar& operator=(const progress_bar&) = delete;

    void update(std::size_t done) {
        if (!m_enabled)
            return;
        const std::size_t width = 30;
        const std::size_t filled = done * width / m_total;
        std::lock_guard lock(m_mutex);
        if (filled == m_last && done != m_total)
            return;
        m_last = filled;
        m_drawn = true;
        std::fprintf(stderr, "\r%s [%s%s] %zu/%zu", m_label.c_str(),
                     std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
                     done, m_total);
        std::fflush(stderr);
    }
    /// A callback for run_options::on_run_done.
    std::function<void(std::size_t)> callback() {
        return [this](std::size_t done) { update(done); };
    }

private:
    std::string m_label;
    std::size_t m_total;
    bool m_enabled;
    bool m_drawn = false;
    std::size_t m_last = static_cast<std::size_t>(-1);
    std::mutex m_mutex;
};

struct summary {
    mean_std report;
    mean_std reward;
};

template <class G>
summary summarize_runs(const std::vector<run_result<G>>& results) {
    std::vector<double> report;
    std::vector<double> reward;
    for (const auto& r : results) {
        report.push_back(r.best_report);
        reward.push_back(r.best_reward);
    }
    return {summarize(report), summarize(reward)};
}

/// JSON number or null (JSON has no NaN/inf).
inline nlohmann::json number(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

/// The run report. One run per line, so that files diff well and timing lines can be filtered.
template <class Space, class G>
std::string results_json(const Space& space, const settings& s,
                         const std::vector<run_result<G>>& results, const summary& sum,
                         double load_seconds, double search_seconds,
                         const nlohmann::json& manifest = {}) {
    std::string out = "{\n";
    auto field = [&](const char* key, const nlohmann::json& value) {
        out += "  \"" + std::string(key) + "\": " + value.dump() + ",\n";
    };
    field("benchmark", s.benchmark);
    field("dataset", s.dataset);
    field("strategy", s.strategy);
    field("budget", s.budget);
    field("seed", s.seed);
    if (!manifest.is_null())
        field("manifest", manifest);
    out += "  \"runs\": [\n";
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& r = results[i];
        nlohmann::json trajectory = nlohmann::json::array();
        for (const auto& [best, report] : r.trajectory)
            trajectory.push_back({number(best), number(report)});
        nlohmann::json run{
            {"run", r.run},
            {"seed", r.seed},
            {"best_arch", r.best ? nlohmann::json(space.to_string(*r.best)) : nlohmann::json()},
            {"best_reward", number(r.best_reward)},
            {"best_test", number(r.best_report)},
            {"queries", r.queries},
            {"repeats", r.repeats},
            {"trajectory", trajectory},
        };
        if (!r.cost.empty())
            run["cost"] = r.cost; // multi-fidelity: cumulative cost units
        out += "    " + run.dump() + (i + 1 < results.size() ? ",\n" : "\n");
    }
    out += "  ],\n  \"summary\": {\n";
    out += "    \"test_mean\": " + number(sum.report.mean).dump() + ",\n";
    out += "    \"test_std\": " + number(sum.report.std).dump() + ",\n";
    out += "    \"reward_mean\": " + number(sum.reward.mean).dump() + ",\n";
    out += "    \"load_seconds\": " + nlohmann::json(load_seconds).dump() + ",\n";
    out += "    \"search_seconds\": " + nlohmann::json(search_seconds).dump() + "\n";
    out += "  }\n}\n";
    return out;
}

/// Registry names by kind.
inline bool is_model_based(const std::string& strategy) {
    return exec::find_strategy(strategy).model_based;
}
inline bool is_multi_fidelity(const std::string& strategy) {
    return exec::find_strategy(strategy).kind == exec::strategy_kind::multi_fidelity;
}
/// Single-objective strategies that need no surrogates: what every benchmark runs and compare
/// shows.
inline std::vector<std::string> plain_strategies() {
    return exec::strategy_names([](const exec::strategy_info& i) {
        return i.kind == exec::strategy_kind::single_objective && !i.model_based;
    });
}
/// The plain strategies a context of type C can build (the RL controllers need a categorical
/// space, for instance).
template <class C>
std::vector<std::string> plain_strategies_for() {
    return exec::strategy_names_for<C>([](const exec::strategy_info& i) {
        return i.kind == exec::strategy_kind::single_objective && !i.model_based;
    });
}
inline std::vector<std::string> strategies_of_kind(exec::strategy_kind kind) {
    return exec::strategy_names([kind](const exec::strategy_info& i) { return i.kind == kind; });
}
inline std::vector<std::string> model_based_strategies() {
    return exec::strategy_names([](const exec::strategy_info& i) { return i.model_based; });
}

/// The registry's options from the command line.
inline exec::strategy_options strategy_options_of(const settings& s) {
    return {.population = s.population, .sample = s.sample};
}

template <class Space, class St, class Evaluator>
std::vector<run_result<genotype_t<Space>>>
run_checkpointed(const Space& space, const St& strategy, const Evaluator& evaluator,
                 const settings& s, run_options options, const exec::tbb_executor& executor);

/// The single-objective strategy named by --strategy on any space, run by the protocol runner
/// (as its template type: no virtual call per step).
template <class Space, class Surrogates, class Evaluator>
std::vector<run_result<genotype_t<Space>>>
run_named(const exec::strategy_context<Space, Surrogates>& context, const Evaluator& evaluator,
          const settings& s, const run_options& options, const exec::tbb_executor& executor) {
    using results = std::vector<run_result<genotype_t<Space>>>;
    return exec::visit_strategy(s.strategy, context, [&]<class St>(const St& strategy) -> results {
        if constexpr (Strategy<St>) {
            if (s.checkpoint || s.resume)
                return run_checkpointed(context.space, strategy, evaluator, s, options, executor);
            return run_protocol(context.space, strategy, evaluator, options, executor);
        } else {
            throw std::invalid_argument(
                "strategy '" + s.strategy + "' is not available for " + s.benchmark + " (valid: " +
                exec::join(plain_strategies_for<exec::strategy_context<Space, Surrogates>>()) +
                ")");
        }
    });
}

/// Prints the summary of `run`.
template <class G>
void print_run_summary(const settings& s, const std::vector<run_result<G>>& results,
                       std::string_view reward, std::string_view report,
                       std::string_view optimum_line, double load_seconds, double search_seconds) {
    const auto sum = summarize_runs(results);
    std::printf("%s %s, strategy %s: %zu runs, budget %zu, seed %llu, %zu threads\n",
                s.benchmark.c_str(), s.dataset.c_str(), s.strategy.c_str(), s.runs, s.budget,
                static_cast<unsigned long long>(s.seed), s.threads);
    std::printf("  %-46s %.4f +- %.4f\n",
                ("reported " + std::string(report) + " of the chosen arch:").c_str(),
                sum.report.mean, sum.report.std);
    std::printf("  %-46s %.4f +- %.4f\n",
                ("reward " + std::string(reward) + " of the chosen arch:").c_str(), sum.reward.mean,
                sum.reward.std);
    std::printf("  %s\n", std::string(optimum_line).c_str());
    std::printf("  load %.1f ms, search %.1f ms\n", load_seconds * 1e3, search_seconds * 1e3);
}

} // namespace nascent::cli
