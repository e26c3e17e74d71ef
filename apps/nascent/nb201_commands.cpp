// nascent run / compare / query on the NAS-Bench-201 table.

#include "checkpointing.hpp"
#include "commands.hpp"
#include "model_based.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/exec/multi_fidelity.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/nb201_cost.hpp>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <vector>

namespace nascent::cli {
namespace {

using bench::nb201_dataset;
using bench::nb201_metric;
using bench::nb201_table;
using results_t = std::vector<run_result<nb201::cell>>;

struct loaded {
    nb201_table table;
    double seconds;
};

loaded load(const settings& s) {
    const auto start = clock_type::now();
    auto table = nb201_table::load(data_dir(s));
    return {std::move(table), seconds_since(start)};
}

results_t search(const nb201_table& table, const settings& s, const exec::tbb_executor& executor,
                 progress_bar& progress) {
    const auto reward = s.reward.value_or("valid_acc@12");
    const auto report = s.report.value_or("test_acc@200");
    (void)bench::parse_nb201_metric(report); // an unknown report metric is an error, not NaNs
    const auto evaluator = table.evaluator({.dataset = s.dataset, .reward = reward});
    const nb201::space space;
    const run_options options{.budget = s.budget,
                              .runs = s.runs,
                              .seed = s.seed,
                              .report = report,
                              .on_run_done = progress.callback(),
                              .in_flight = s.in_flight};
    if (is_model_based(s.strategy))
        return run_nb201_model_based(table, evaluator, s, options, executor);
    const exec::strategy_context<nb201::space> context{.space = space,
                                                       .options = strategy_options_of(s)};
    if (!is_multi_fidelity(s.strategy))
        return run_named(context, evaluator, s, options, executor);
    // The budget counts 12-epoch evaluations; a 200-epoch one costs 200/12 of them.
    const multi_fidelity_options mf{.budget = static_cast<double>(s.budget),
                                    .runs = s.runs,
                                    .seed = s.seed,
                                    .report = report,
                                    .on_run_done = progress.callback(),
                                    .in_flight = s.in_flight};
    if (evaluator.fidelities().size() < 2) {
        std::fprintf(stderr,
                     "nascent: note: %s has no 200-epoch validation accuracy in the table; %s runs "
                     "at 12 epochs only\n",
                     s.dataset.c_str(), s.strategy.c_str());
    }
    return exec::visit_strategy(
        s.strategy, context, [&]<class St>(const St& strategy) -> results_t {
            if constexpr (MultiFidelityStrategy<St>) {
                if (!s.checkpoint && !s.resume)
                    return run_multi_fidelity(space, strategy, evaluator, mf, executor);
                return with_checkpoint(space, s, [&](auto replay, auto& interrupt, auto& writer) {
                    auto checkpointed = mf;
                    checkpointed.replay = replay;
                    return run_multi_fidelity(space, strategy, evaluator, checkpointed, executor,
                                              interrupt, writer);
                });
            } else {
                throw std::logic_error("'" + s.strategy +
                                       "' is not multi-fidelity"); // checked above
            }
        });
}

std::string optimum_line(const nb201_table& table, const settings& s) {
    const auto report = s.report.value_or("test_acc@200");
    const auto best =
        table.optimum(bench::parse_nb201_dataset(s.dataset), bench::parse_nb201_metric(report));
    char line[160];
    std::snprintf(line, sizeof line, "%-46s %.4f (index %u)",
                  ("table optimum of " + report + ":").c_str(), best.value, best.index);
    return line;
}

} // namespace

int run_nb201(const settings& s) {
    const auto [table, load_seconds] = load(s);
    const exec::tbb_executor executor(s.threads);
    const auto start = clock_type::now();
    results_t results;
    {
        progress_bar bar(s.strategy + " " + s.dataset, s.runs);
        results = search(table, s, executor, bar);
    }
    const double search_seconds = seconds_since(start);
    const auto reward = is_multi_fidelity(s.strategy) ? std::string("valid_acc at the top fidelity")
                                                      : s.reward.value_or("valid_acc@12");
    print_run_summary(s, results, reward, s.report.value_or("test_acc@200"), optimum_line(table, s),
                      load_seconds, search_seconds);
    if (s.json) {
        io::write_file_atomically(
            *s.json,
            results_json(
                nb201::space{}, s, results, summarize_runs(results), load_seconds, search_seconds,
                exec::make_manifest({.data_files = {data_dir(s).file(nb201_table::relative_path)},
                                     .seed = s.seed,
                                     .options = checkpoint_problem(s),
                                     .threads = s.threads,
                                     .in_flight = s.in_flight})));
    }
    return 0;
}

int compare_nb201(settings s) {
    const auto plain = plain_strategies();
    if (s.compare_strategies.empty())
        throw std::invalid_argument("--strategies: needs at least one strategy");
    for (const auto& name : s.compare_strategies) {
        if (std::find(plain.begin(), plain.end(), name) == plain.end()) {
            throw std::invalid_argument("--strategies: '" + name +
                                        "' is not a plain strategy (valid: " + exec::join(plain) +
                                        ")");
        }
    }
    const auto [table, load_seconds] = load(s);
    const auto report = s.report.value_or("test_acc@200");
    std::printf(
        "NAS-Bench-201: %zu runs per cell, budget %zu distinct archs, seed %llu, %zu threads\n"
        "reward = %s; reported = %s (%%) of the arch with the best reward\n\n",
        s.runs, s.budget, static_cast<unsigned long long>(s.seed), s.threads,
        s.reward.value_or("valid_acc@12").c_str(), report.c_str());
    std::printf("%-16s %-8s %20s %12s %10s %10s\n", "dataset", "strategy", "test mean +- std",
                "reward mean", "optimum", "search ms");
    nlohmann::json cells = nlohmann::json::array();
    const exec::tbb_executor executor(s.threads);
    double total_search = 0;
    for (const auto& dataset : bench::nb201_dataset_names) {
        s.dataset = dataset;
        const auto optimum =
            table.optimum(bench::parse_nb201_dataset(dataset), bench::parse_nb201_metric(report));
        for (const auto& strategy : s.compare_strategies) {
            s.strategy = strategy;
            const auto start = clock_type::now();
            results_t results;
            {
                progress_bar bar(s.dataset + " " + strategy, s.runs);
                results = search(table, s, executor, bar);
            }
            const double search_seconds = seconds_since(start);
            total_search += search_seconds;
            const auto sum = summarize_runs(results);
            std::printf("%-16s %-8s %11.4f +- %6.4f %12.4f %10.4f %10.2f\n", s.dataset.c_str(),
                        strategy.c_str(), sum.report.mean, sum.report.std, sum.reward.mean,
                        optimum.value, search_seconds * 1e3);
            cells.push_back({{"dataset", s.dataset},
                             {"strategy", strategy},
                             {"test_mean", number(sum.report.mean)},
                             {"test_std", number(sum.report.std)},
                             {"reward_mean", number(sum.reward.mean)},
                             {"optimum_test", optimum.value},
                             {"search_seconds", search_seconds}});
        }
    }
    std::printf(
        "\ntable load %.1f ms; search %.1f ms in total (%zu cells x %zu runs x budget %zu)\n",
        load_seconds * 1e3, total_search * 1e3,
        bench::nb201_dataset_names.size() * s.compare_strategies.size(), s.runs, s.budget);
    if (s.json) {
        const nlohmann::json doc{{"benchmark", "nb201"},         {"runs", s.runs},
                                 {"budget", s.budget},           {"seed", s.seed},
                                 {"threads", s.threads},         {"cells", cells},
                                 {"load_seconds", load_seconds}, {"search_seconds", total_search}};
        io::write_file_atomically(*s.json, doc.dump(2) + "\n");
    }
    return 0;
}

int query_nb201(const settings& s, const std::string& arch, std::optional<std::size_t> index) {
    const auto [table, load_seconds] = load(s);
    (void)load_seconds;
    const nb201::space space;
    const std::uint32_t i =
        index ? static_cast<std::uint32_t>(*index) : table.index_of(std::string_view(arch));
    const auto cell = table.cell_at(i);
    const auto cost = nb201::network_cost(cell);
    std::printf("arch     %s\nindex    %u\niso      %u\n", space.to_string(cell).c_str(), i,
                table.iso(i));
    auto print = [](const std::string& name, std::optional<double> v) {
        if (v) {
            std::printf("%-30s %.6g\n", name.c_str(), *v);
        } else {
            std::printf("%-30s missing\n", name.c_str());
        }
    };
    print("params_m", table.params_m(i));
    print("params (analytic)", cost.params);
    print("flops (analytic, MACs)", cost.flops);
    print("naswot", table.naswot(i));
    for (std::size_t d = 0; d < bench::nb201_dataset_names.size(); ++d) {
        for (std::size_t m = 0; m < bench::nb201_num_metrics; ++m) {
            print(std::string(bench::nb201_dataset_names[d]) + " " +
                      std::string(bench::nb201_metric_names[m]),
                  table.accuracy(i, static_cast<nb201_dataset>(d), static_cast<nb201_metric>(m)));
        }
    }
    return 0;
}

} // namespace nascent::cli
