// nascent run / query on the NAS-Bench-101 table (the 1,000-cell subset with graphs).

#include "checkpointing.hpp"
#include "commands.hpp"

#include <nascent/bench/nb101_table.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/space/encodings.hpp>
#include <nascent/space/member_space.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb101_cost.hpp>

#include <cstdio>

namespace nascent::cli {
namespace {

template <class Space>
int run_on(const Space& space, const bench::nb101_table& table, const settings& s,
           double load_seconds) {
    const auto reward = s.reward.value_or("valid_acc@108");
    const auto report = s.report.value_or("valid_acc@108");
    (void)bench::parse_nb101_metric(report);
    const auto evaluator = table.evaluator({.reward = reward});
    const exec::tbb_executor executor(s.threads);
    const auto start = clock_type::now();
    std::vector<run_result<nb101::cell>> results;
    {
        progress_bar bar(s.strategy + " nb101", s.runs);
        const run_options options{.budget = s.budget,
                                  .runs = s.runs,
                                  .seed = s.seed,
                                  .report = report,
                                  .on_run_done = bar.callback(),
                                  .in_flight = s.in_flight};
        if (is_multi_fidelity(s.strategy)) { // the table has one fidelity
            throw std::invalid_argument(
                "strategy '" + s.strategy + "' is not available for " + s.benchmark + " (valid: " +
                exec::join(plain_strategies_for<exec::strategy_context<Space>>()) + ")");
        }
        results = is_model_based(s.strategy)
                      ? run_nb101_model_based(space, evaluator, s, options, executor)
                      : run_named(exec::strategy_context<Space>{.space = space,
                                                                .options = strategy_options_of(s)},
                                  evaluator, s, options, executor);
    }
    const double search_seconds = seconds_since(start);
    const auto best = table.optimum(bench::parse_nb101_metric(report));
    char line[160];
    std::snprintf(line, sizeof line, "%-46s %.4f (hash %s)",
                  ("table optimum of " + report + ":").c_str(), best.value,
                  table.hash_hex_at(best.row).c_str());
    print_run_summary(s, results, reward, report, line, load_seconds, search_seconds);
    std::size_t out_of_table = 0;
    for (const auto& r : results)
        out_of_table += r.out_of_table;
    if (!s.restrict_to_table) {
        std::printf("  proposals outside the table (free): %.1f per run\n",
                    static_cast<double>(out_of_table) / static_cast<double>(results.size()));
    }
    if (s.json) {
        io::write_file_atomically(
            *s.json,
            results_json(space, s, results, summarize_runs(results), load_seconds, search_seconds,
                         exec::make_manifest(
                             {.data_files = {data_dir(s).file(bench::nb101_table::relative_path)},
                              .seed = s.seed,
                              .options = checkpoint_problem(s),
                              .threads = s.threads,
                              .in_flight = s.in_flight})));
    }
    return 0;
}

} // namespace

int run_nb101(const settings& s) {
    const auto start = clock_type::now();
    const auto table = bench::nb101_table::load(data_dir(s));
    const double load_seconds = seconds_since(start);
    if (s.restrict_to_table) {
        const nb101_restricted_space restricted(nb101::space{}, table.members(),
                                                nb101_path_encoder{});
        return run_on(restricted, table, s, load_seconds);
    }
    return run_on(nb101::space{}, table, s, load_seconds);
}

int query_nb101(const settings& s, const std::string& arch) {
    const auto table = bench::nb101_table::load(data_dir(s));
    const auto cell = nb101::parse(arch);
    const auto cost = nb101::network_cost(cell);
    std::printf("arch      %s\nhash      %s\n", nb101::to_string(cell).c_str(),
                nb101::hash_hex(cell).c_str());
    std::printf("%-20s %.0f\n%-20s %.0f\n", "params (analytic)", cost.params, "flops (analytic)",
                cost.flops);
    const auto e = table.evaluator({}).evaluate(cell);
    if (!e.ok()) {
        std::printf("status    %s (%s)\n", std::string(to_string(e.status)).c_str(),
                    std::string(e.reason).c_str());
        return 0;
    }
    for (std::size_t i = 0; i < e.metrics.size(); ++i) {
        std::printf("%-20s %.6g\n", std::string(e.metrics.name(i)).c_str(), e.metrics.value(i));
    }
    return 0;
}

} // namespace nascent::cli
