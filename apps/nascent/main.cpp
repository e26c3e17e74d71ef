// nascent: the command-line tool. A thin layer over the library: it resolves the data directory,
// loads the table, picks the strategy by name and hands everything to nascent::run_protocol.
// Errors become one line on stderr and exit code 2.

#include <nascent/bench/nb201_table.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/darts.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/product.hpp>
#include <nascent/exec/multi_fidelity.hpp>
#include <nascent/strategy/bohb.hpp>
#include <nascent/strategy/hyperband.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#ifndef NASCENT_DEFAULT_DATA_DIR
#define NASCENT_DEFAULT_DATA_DIR "../shared/data"
#endif

namespace {

using nascent::bench::nb201_dataset;
using nascent::bench::nb201_metric;
using nascent::bench::nb201_table;
using result_t = nascent::run_result<nascent::nb201::cell>;
using clock_type = std::chrono::steady_clock;

const std::vector<std::string> strategy_names{"random", "rea", "ls", "sh", "hyperband", "bohb"};
const std::vector<std::string> compare_strategies{"random", "rea", "ls"};
const std::vector<std::string> dataset_names{"cifar10", "cifar100", "imagenet16-120"};
const std::vector<std::string> benchmark_names{"nb201"};

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct search_settings {
    std::string strategy = "rea";
    std::size_t runs = 500;
    std::size_t budget = 150;
    std::uint64_t seed = 0;
    std::size_t threads = 2;
    std::size_t population = 10;
    std::size_t sample = 3;
};

/// A progress bar on stderr, drawn only when stderr is a terminal.
class progress_bar {
public:
    progress_bar(std::string label, std::size_t total)
        : m_label(std::move(label)), m_total(total), m_enabled(::isatty(STDERR_FILENO) == 1) {}
    ~progress_bar() {
        if (m_enabled && m_drawn) std::fprintf(stderr, "\r\033[K");
    }
    progress_bar(const progress_bar&) = delete;
    progress_bar& operator=(const progress_bar&) = delete;

    void update(std::size_t done) {
        if (!m_enabled) return;
        const std::size_t width = 30;
        const std::size_t filled = done * width / m_total;
        std::lock_guard lock(m_mutex);
        if (filled == m_last && done != m_total) return;
        m_last = filled;
        m_drawn = true;
        std::fprintf(stderr, "\r%s [%s%s] %zu/%zu", m_label.c_str(), std::string(filled, '#').c_str(),
                     std::string(width - filled, ' ').c_str(), done, m_total);
        std::fflush(stderr);
    }

private:
    std::string m_label;
    std::size_t m_total;
    bool m_enabled;
    bool m_drawn = false;
    std::size_t m_last = static_cast<std::size_t>(-1);
    std::mutex m_mutex;
};

std::vector<result_t> search(const nb201_table& table, const std::string& dataset,
                             const search_settings& s,
                             const nascent::exec::tbb_executor& executor, progress_bar* progress) {
    const auto evaluator = table.evaluator({.dataset = dataset, .reward = "valid_acc@12"});
    const nascent::run_options options{
        .budget = s.budget,
        .runs = s.runs,
        .seed = s.seed,
        .report = "test_acc@200",
        .on_run_done = progress ? std::function<void(std::size_t)>(
                                      [progress](std::size_t done) { progress->update(done); })
                                : nullptr,
    };
    const nascent::nb201::space space;
    if (s.strategy == "random") {
        return nascent::run_protocol(space, nascent::strategy::random_search{space}, evaluator,
                                     options, executor);
    }
    if (s.strategy == "rea") {
        const nascent::strategy::regularized_evolution rea{
            space, nascent::ops::point_mutation{},
            {.population = s.population, .sample = s.sample}};
        return nascent::run_protocol(space, rea, evaluator, options, executor);
    }
    if (s.strategy == "ls") {
        return nascent::run_protocol(space, nascent::strategy::local_search{space}, evaluator,
                                     options, executor);
    }
    // Multi-fidelity strategies: the budget counts 12-epoch evaluations; a 200-epoch one costs
    // 200/12 of them.
    const nascent::multi_fidelity_options mf{.budget = static_cast<double>(s.budget),
                                             .runs = s.runs,
                                             .seed = s.seed,
                                             .report = "test_acc@200",
                                             .on_run_done = options.on_run_done};
    if (evaluator.fidelities().size() < 2) {
        std::fprintf(stderr, "nascent: note: %s has no 200-epoch validation accuracy in the table; "
                             "%s runs at 12 epochs only\n",
                     dataset.c_str(), s.strategy.c_str());
    }
    if (s.strategy == "sh") {
        return nascent::run_multi_fidelity(space, nascent::strategy::successive_halving(space), evaluator,
                                           mf, executor);
    }
    if (s.strategy == "hyperband") {
        return nascent::run_multi_fidelity(space, nascent::strategy::hyperband{space}, evaluator, mf,
                                           executor);
    }
    if (s.strategy == "bohb") {
        return nascent::run_multi_fidelity(space, nascent::strategy::make_bohb(space), evaluator, mf,
                                           executor);
    }
    throw std::invalid_argument("unknown strategy '" + s.strategy +
                                "' (valid: random, rea, ls, sh, hyperband, bohb)");
}

struct summary {
    nascent::mean_std test;
    nascent::mean_std reward;
};

summary summarize(const std::vector<result_t>& results) {
    std::vector<double> test;
    std::vector<double> reward;
    for (const auto& r : results) {
        test.push_back(r.best_report);
        reward.push_back(r.best_reward);
    }
    return {nascent::summarize(test), nascent::summarize(reward)};
}

/// JSON number or null (JSON has no NaN/inf).
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

/// The run report. One run per line, so that files diff well and timing lines can be filtered.
std::string results_json(const std::string& dataset, const search_settings& s,
                         const std::vector<result_t>& results, const summary& sum,
                         double load_seconds, double search_seconds) {
    const nascent::nb201::space space;
    std::string out = "{\n";
    auto field = [&](const char* key, const nlohmann::json& value, bool comma = true) {
        out += "  \"" + std::string(key) + "\": " + value.dump() + (comma ? ",\n" : "\n");
    };
    field("benchmark", "nb201");
    field("dataset", dataset);
    field("strategy", s.strategy);
    field("budget", s.budget);
    field("seed", s.seed);
    out += "  \"runs\": [\n";
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& r = results[i];
        nlohmann::json trajectory = nlohmann::json::array();
        for (const auto& [best, report] : r.trajectory) {
            trajectory.push_back({number(best), number(report)});
        }
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
        if (!r.cost.empty()) run["cost"] = r.cost; // multi-fidelity: cumulative 12-epoch units
        out += "    " + run.dump() + (i + 1 < results.size() ? ",\n" : "\n");
    }
    out += "  ],\n  \"summary\": {\n";
    out += "    \"test_mean\": " + number(sum.test.mean).dump() + ",\n";
    out += "    \"test_std\": " + number(sum.test.std).dump() + ",\n";
    out += "    \"reward_mean\": " + number(sum.reward.mean).dump() + ",\n";
    out += "    \"load_seconds\": " + nlohmann::json(load_seconds).dump() + ",\n";
    out += "    \"search_seconds\": " + nlohmann::json(search_seconds).dump() + "\n";
    out += "  }\n}\n";
    return out;
}

struct loaded_table {
    nb201_table table;
    double seconds;
};

loaded_table load_table(const std::optional<std::string>& data) {
    const auto start = clock_type::now();
    const auto dir = nascent::io::resolve_data_dir(data, NASCENT_DEFAULT_DATA_DIR);
    auto table = nb201_table::load(dir);
    return {std::move(table), seconds_since(start)};
}

int cmd_run(const std::optional<std::string>& data, const std::string& dataset,
            const search_settings& s, const std::optional<std::string>& json_path) {
    const auto [table, load_seconds] = load_table(data);
    const nascent::exec::tbb_executor executor(s.threads);
    const auto start = clock_type::now();
    std::vector<result_t> results;
    {
        progress_bar bar(s.strategy + " " + dataset, s.runs);
        results = search(table, dataset, s, executor, &bar);
    }
    const double search_seconds = seconds_since(start);
    const auto sum = summarize(results);
    const auto d = nascent::bench::parse_nb201_dataset(dataset);
    const auto optimum = table.optimum(d, nb201_metric::test_200);
    std::printf("nb201 %s, strategy %s: %zu runs, budget %zu, seed %llu, %zu threads\n",
                dataset.c_str(), s.strategy.c_str(), s.runs, s.budget,
                static_cast<unsigned long long>(s.seed), s.threads);
    std::printf("  test accuracy (200 epochs) of the chosen arch: %.4f +- %.4f %%\n", sum.test.mean,
                sum.test.std);
    const bool multi_fidelity = s.strategy == "sh" || s.strategy == "hyperband" || s.strategy == "bohb";
    std::printf("  reward (%s) of the chosen arch: %s%.4f +- %.4f %%\n",
                multi_fidelity ? "valid_acc at the top fidelity" : "valid_acc@12",
                multi_fidelity ? "" : "     ", sum.reward.mean, sum.reward.std);
    std::printf("  table optimum test_acc@200:                    %.4f %% (index %u)\n",
                optimum.value, optimum.index);
    std::printf("  load %.1f ms, search %.1f ms\n", load_seconds * 1e3, search_seconds * 1e3);
    if (json_path) {
        nascent::io::write_file_atomically(
            *json_path, results_json(dataset, s, results, sum, load_seconds, search_seconds));
    }
    return 0;
}

int cmd_compare(const std::optional<std::string>& data, search_settings s,
                const std::optional<std::string>& json_path) {
    const auto [table, load_seconds] = load_table(data);
    std::printf("NAS-Bench-201: %zu runs per cell, budget %zu distinct archs, seed %llu, %zu threads\n"
                "reward = 12-epoch validation accuracy; reported = 200-epoch test accuracy (%%) "
                "of the arch with the best reward\n\n",
                s.runs, s.budget, static_cast<unsigned long long>(s.seed), s.threads);
    std::printf("%-16s %-8s %20s %12s %10s %10s\n", "dataset", "strategy", "test mean +- std",
                "reward mean", "optimum", "search ms");
    nlohmann::json cells = nlohmann::json::array();
    const nascent::exec::tbb_executor executor(s.threads);
    double total_search = 0;
    for (const auto& dataset : dataset_names) {
        const auto optimum = table.optimum(nascent::bench::parse_nb201_dataset(dataset),
                                           nb201_metric::test_200);
        for (const auto& strategy : compare_strategies) {
            s.strategy = strategy;
            const auto start = clock_type::now();
            std::vector<result_t> results;
            {
                progress_bar bar(dataset + " " + strategy, s.runs);
                results = search(table, dataset, s, executor, &bar);
            }
            const double search_seconds = seconds_since(start);
            total_search += search_seconds;
            const auto sum = summarize(results);
            std::printf("%-16s %-8s %11.4f +- %6.4f %12.4f %10.4f %10.2f\n", dataset.c_str(),
                        strategy.c_str(), sum.test.mean, sum.test.std, sum.reward.mean,
                        optimum.value, search_seconds * 1e3);
            cells.push_back({{"dataset", dataset},
                             {"strategy", strategy},
                             {"test_mean", number(sum.test.mean)},
                             {"test_std", number(sum.test.std)},
                             {"reward_mean", number(sum.reward.mean)},
                             {"optimum_test", optimum.value},
                             {"search_seconds", search_seconds}});
        }
    }
    std::printf("\ntable load %.1f ms; search %.1f ms in total (9 cells x %zu runs x budget %zu)\n",
                load_seconds * 1e3, total_search * 1e3, s.runs, s.budget);
    if (json_path) {
        const nlohmann::json doc{{"benchmark", "nb201"},   {"runs", s.runs},
                                 {"budget", s.budget},     {"seed", s.seed},
                                 {"threads", s.threads},   {"cells", cells},
                                 {"load_seconds", load_seconds},
                                 {"search_seconds", total_search}};
        nascent::io::write_file_atomically(*json_path, doc.dump(2) + "\n");
    }
    return 0;
}

int cmd_query(const std::optional<std::string>& data, const std::string& arch,
              std::optional<std::size_t> index) {
    const auto [table, load_seconds] = load_table(data);
    (void)load_seconds;
    const nascent::nb201::space space;
    const std::uint32_t i =
        index ? static_cast<std::uint32_t>(*index) : table.index_of(std::string_view(arch));
    const auto cell = table.cell_at(i);
    std::printf("arch     %s\nindex    %u\niso      %u\n", space.to_string(cell).c_str(), i,
                table.iso(i));
    auto print = [](const char* name, std::optional<double> v) {
        if (v) {
            std::printf("%-30s %.6g\n", name, *v);
        } else {
            std::printf("%-30s missing\n", name);
        }
    };
    print("params_m", table.params_m(i));
    print("naswot", table.naswot(i));
    for (std::size_t d = 0; d < 3; ++d) {
        for (std::size_t m = 0; m < nascent::bench::nb201_num_metrics; ++m) {
            const std::string name = std::string(nascent::bench::nb201_dataset_names[d]) + " " +
                                     std::string(nascent::bench::nb201_metric_names[m]);
            print(name.c_str(), table.accuracy(i, static_cast<nb201_dataset>(d),
                                               static_cast<nb201_metric>(m)));
        }
    }
    return 0;
}

/// Accepts whole numbers >= `minimum` (below 2^64) and says so plainly otherwise.
CLI::Validator whole_number(unsigned long long minimum) {
    return CLI::Validator(
        [minimum](const std::string& text) -> std::string {
            unsigned long long value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            const std::string bound = ">= " + std::to_string(minimum);
            if (ec != std::errc{} || end != text.data() + text.size()) {
                return "expected a whole number " + bound + ", got '" + text + "'";
            }
            return value < minimum ? "must be " + bound + ", got " + text : "";
        },
        "INT>=" + std::to_string(minimum));
}
const CLI::Validator at_least_one = whole_number(1);

int cmd_spaces() {
    struct row {
        const char* name;
        std::string size;
        const char* what;
    };
    auto count = [](long double n) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, n < 1e7L ? "%.0Lf" : "%.3Le", n);
        return std::string(buffer);
    };
    const std::vector<row> rows{
        {"nb201", count(nascent::space::cardinality(nascent::nb201::space{})),
         "NAS-Bench-201 cell: 4 nodes, 6 edges x 5 ops (table: nb201/nb201.csv)"},
        {"nb101", "423624",
         "NAS-Bench-101 cell: <= 7 vertices, <= 9 edges, 3 ops (unique graphs; tables: 1k, 20k)"},
        {"darts", count(nascent::space::cardinality(nascent::darts::space{})),
         "DARTS / NAS-Bench-301: normal + reduction cell, 4 nodes x 2 inputs x 8 ops"},
        {"mbconv", count(nascent::mbconv::space::size()),
         "Once-for-All MobileNetV3: 5 stages, depth {2,3,4}, kernel {3,5,7}, expand {3,4,6}"},
        {"regnet", "continuous",
         "RegNetX design space: depth, w0, wa, wm, group width, bottleneck (pycls ranges)"},
        {"efficientnet", "8", "EfficientNet B0-B7 compound scaling (alpha 1.2, beta 1.1, gamma 1.15)"},
    };
    std::printf("%-13s %-12s %s\n", "space", "genotypes", "description");
    for (const auto& r : rows) std::printf("%-13s %-12s %s\n", r.name, r.size.c_str(), r.what);
    return 0;
}

void add_search_options(CLI::App& cmd, search_settings& s) {
    cmd.add_option("--runs", s.runs, "independent runs")->check(at_least_one)->capture_default_str();
    cmd.add_option("--budget", s.budget,
                   "distinct architectures evaluated per run (sh, hyperband, bohb: in 12-epoch "
                   "evaluations, a 200-epoch one costing 200/12)")
        ->check(at_least_one)
        ->capture_default_str();
    cmd.add_option("--seed", s.seed, "master seed")->check(whole_number(0))->capture_default_str();
    cmd.add_option("--threads", s.threads, "worker threads")->check(at_least_one)->capture_default_str();
    cmd.add_option("--population", s.population, "REA population size")
        ->check(at_least_one)
        ->capture_default_str();
    cmd.add_option("--sample", s.sample, "REA tournament size")
        ->check(at_least_one)
        ->capture_default_str();
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"nascent: neural architecture search on tabular benchmarks"};
    app.require_subcommand(1);
    std::optional<std::string> data;
    std::optional<std::string> json_path;
    std::string benchmark = "nb201";
    std::string dataset = "cifar10";
    std::string arch;
    std::optional<std::size_t> index;
    search_settings settings;

    auto add_common = [&](CLI::App& cmd) {
        cmd.add_option("--data", data, "benchmark data directory (default: $NASCENT_DATA, else " NASCENT_DEFAULT_DATA_DIR ")");
        cmd.add_option("--benchmark", benchmark, "tabular benchmark")
            ->check(CLI::IsMember(benchmark_names));
    };

    auto* run = app.add_subcommand("run", "run one strategy on one dataset");
    add_common(*run);
    run->add_option("--dataset", dataset, "dataset")
        ->check(CLI::IsMember(dataset_names))
        ->capture_default_str();
    run->add_option("--strategy", settings.strategy, "search strategy")
        ->check(CLI::IsMember(strategy_names))
        ->capture_default_str();
    add_search_options(*run, settings);
    run->add_option("--json", json_path, "write all runs as JSON to this file");

    auto* compare = app.add_subcommand("compare", "all strategies on all datasets, one table");
    add_common(*compare);
    add_search_options(*compare, settings);
    compare->add_option("--json", json_path, "write the table as JSON to this file");

    auto* query = app.add_subcommand("query", "print every metric of one cell");
    add_common(*query);
    auto* arch_opt = query->add_option("--arch", arch, "NAS-Bench-201 arch string");
    auto* index_opt = query->add_option("--index", index, "official index")
                          ->check(CLI::Range(std::size_t{0}, std::size_t{15624}));
    arch_opt->excludes(index_opt);

    auto* spaces = app.add_subcommand("spaces", "list the built-in search spaces with their sizes");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e); // --help
        std::fprintf(stderr, "nascent: error: %s (see nascent --help)\n", e.what());
        return 2;
    }

    if (*query && !*arch_opt && !*index_opt) {
        std::fprintf(stderr, "nascent: error: query needs --arch STRING or --index N\n");
        return 2;
    }
    try {
        if (*run) return cmd_run(data, dataset, settings, json_path);
        if (*compare) return cmd_compare(data, settings, json_path);
        if (*query) return cmd_query(data, arch, index);
        if (*spaces) return cmd_spaces();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nascent: error: %s\n", e.what());
        return 2;
    }
    return 2;
}
