// nascent run --objectives ...: multi-objective, hardware-aware search on NAS-Bench-201 with the
// latency table. Every strategy's runs are scored by the hypervolume of the front they found,
// also as a ratio to the exact front of the whole table.

#include "checkpointing.hpp"
#include "commands.hpp"

#include <nascent/bench/nb201_objectives.hpp>
#include <nascent/exec/multi_objective.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/pareto/exact_front.hpp>
#include <nascent/pareto/scalarise.hpp>
#include <nascent/pareto/sort.hpp>

#include <cstdio>
#include <limits>

namespace nascent::cli {
namespace {

std::vector<double> parse_numbers(const std::string& text, const char* what) {
    std::vector<double> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto end = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, end - pos);
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size()) {
            throw std::invalid_argument(std::string(what) + ": '" + item + "' is not a number");
        }
        out.push_back(v);
        pos = end + 1;
    }
    return out;
}

} // namespace

int run_nb201_multi_objective(const settings& s) {
    const auto load_start = clock_type::now();
    const auto dir = data_dir(s);
    const auto table = bench::nb201_table::load(dir);
    const auto latency = bench::nb201_latency_table::load(dir, &table);
    const double load_seconds = seconds_since(load_start);
    const auto dataset = bench::parse_nb201_dataset(s.dataset);
    const auto parsed = bench::parse_nb201_objectives(*s.objectives, table, dataset, &latency);
    const auto objs = bench::to_pareto(parsed);
    const bench::nb201_objectives_evaluator evaluator(table, dataset, &latency, parsed);

    std::vector<pareto::constraint> constraints;
    for (const auto& text : s.constraints) {
        auto c = pareto::parse_constraint(text);
        // A constraint must name a metric the evaluations carry.
        const auto probe = evaluator.evaluate(nb201::space::at(1462));
        if (!probe.metrics.contains(c.metric)) {
            throw std::invalid_argument(
                "constraint on '" + c.metric +
                "', which is not a metric of the evaluations (constrain an objective, "
                "or a table metric such as test_acc@200)");
        }
        constraints.push_back(std::move(c));
    }
    // The exact Pareto front of all 15,625 cells under the objectives and constraints.
    const auto truth = pareto::exact_front(nb201::space{}, evaluator, objs, constraints);
    if (truth.empty())
        throw std::invalid_argument("no cell of the table satisfies the constraints");

    const nb201::space space;
    const exec::tbb_executor executor(s.threads);
    progress_bar bar(s.strategy + " " + s.dataset, s.runs);
    const multi_objective_options options{.budget = s.budget,
                                          .runs = s.runs,
                                          .seed = s.seed,
                                          .reference = truth.reference,
                                          .constraints = constraints,
                                          .on_run_done = bar.callback(),
                                          .in_flight = s.in_flight};
    const auto start = clock_type::now();
    std::vector<multi_objective_result<nb201::cell>> results;
    const auto& info = exec::find_strategy(s.strategy);
    const bool plain = info.kind == exec::strategy_kind::single_objective && !info.model_based;
    const exec::strategy_context<nb201::space> context{.space = space,
                                                       .options = strategy_options_of(s),
                                                       .objectives = objs,
                                                       .constraints = constraints};
    // The strategy as its template type (no virtual call per step) on either evaluator.
    auto search = [&](const auto& ev) {
        return exec::visit_strategy(
            s.strategy, context,
            [&]<class St>(const St& strategy) -> std::vector<multi_objective_result<nb201::cell>> {
                if constexpr (Strategy<St>) {
                    if (!s.checkpoint && !s.resume)
                        return run_multi_objective(space, strategy, ev, objs, options, executor);
                    return with_checkpoint(
                        space, s, [&](auto replay, auto& interrupt, auto& writer) {
                            auto checkpointed = options;
                            checkpointed.replay = replay;
                            return run_multi_objective(space, strategy, ev, objs, checkpointed,
                                                       executor, interrupt, writer);
                        });
                } else {
                    throw std::logic_error("'" + s.strategy + "' is multi-fidelity"); // checked
                }
            });
    };
    if (info.kind == exec::strategy_kind::multi_objective || (plain && info.reward_free)) {
        results = search(evaluator);
    } else if (plain) { // it learns from a reward: one scalar of the objectives
        const pareto::scalarised_evaluator scalar(
            evaluator, objs,
            {.weights = s.weights ? parse_numbers(*s.weights, "--weights") : std::vector<double>{},
             .ideal = truth.ideal,
             .nadir = truth.reference,
             .method = s.scalarisation == "weighted" ? pareto::scalarisation::weighted
                                                     : pareto::scalarisation::chebyshev,
             .constraints = constraints});
        results = search(scalar);
    } else {
        auto valid = strategies_of_kind(exec::strategy_kind::multi_objective);
        for (auto& name : plain_strategies())
            valid.push_back(std::move(name));
        throw std::invalid_argument("strategy '" + s.strategy +
                                    "' does not support --objectives (valid: " + exec::join(valid) +
                                    ")");
    }
    const double search_seconds = seconds_since(start);

    std::vector<double> hv;
    std::vector<double> ratio;
    for (const auto& r : results) {
        hv.push_back(r.hypervolume.empty() ? 0.0 : r.hypervolume.back());
        ratio.push_back(hv.back() / truth.hypervolume);
    }
    const auto hv_sum = summarize(hv);
    const auto ratio_sum = summarize(ratio);
    std::printf(
        "nb201 %s, strategy %s, objectives %s: %zu runs, budget %zu, seed %llu, %zu threads\n",
        s.dataset.c_str(), s.strategy.c_str(), s.objectives->c_str(), s.runs, s.budget,
        static_cast<unsigned long long>(s.seed), s.threads);
    std::printf("  hypervolume of the found front:   %.6g +- %.6g\n", hv_sum.mean, hv_sum.std);
    std::printf("  ratio to the exact front's:       %.4f +- %.4f (exact front: %zu cells, "
                "hypervolume %.6g)\n",
                ratio_sum.mean, ratio_sum.std, truth.size(), truth.hypervolume);
    std::printf("  reference point (the exact front's nadir):");
    for (std::size_t j = 0; j < objs.size(); ++j)
        std::printf(" %s=%g", std::string(objs.name(j)).c_str(), truth.reference[j]);
    std::printf("\n  load %.1f ms, search %.1f ms\n", load_seconds * 1e3, search_seconds * 1e3);

    if (s.json) {
        std::string out = "{\n";
        out += "  \"benchmark\": \"nb201\",\n  \"dataset\": " + nlohmann::json(s.dataset).dump() +
               ",\n  \"strategy\": " + nlohmann::json(s.strategy).dump() +
               ",\n  \"objectives\": " + nlohmann::json(*s.objectives).dump() +
               ",\n  \"budget\": " + std::to_string(s.budget) +
               ",\n  \"seed\": " + std::to_string(s.seed) + ",\n  \"manifest\": " +
               exec::make_manifest(
                   {.data_files = {dir.file(bench::nb201_table::relative_path),
                                   dir.file(bench::nb201_latency_table::relative_path)},
                    .seed = s.seed,
                    .options = checkpoint_problem(s),
                    .threads = s.threads,
                    .in_flight = s.in_flight})
                   .dump() +
               ",\n  \"runs\": [\n";
        for (std::size_t i = 0; i < results.size(); ++i) {
            const auto& r = results[i];
            nlohmann::json front = nlohmann::json::array();
            for (std::size_t k = 0; k < r.front.size(); ++k) {
                nlohmann::json point{{"arch", space.to_string(r.front[k])}};
                for (std::size_t j = 0; j < objs.size(); ++j)
                    point[std::string(objs.name(j))] = r.front_values[k][j];
                front.push_back(point);
            }
            const nlohmann::json run{{"run", r.run},
                                     {"seed", r.seed},
                                     {"queries", r.queries},
                                     {"hypervolume", hv[i]},
                                     {"hv_ratio", ratio[i]},
                                     {"front", front},
                                     {"hv_trajectory", r.hypervolume}};
            out += "    " + run.dump() + (i + 1 < results.size() ? ",\n" : "\n");
        }
        const nlohmann::json summary{{"hv_mean", hv_sum.mean},
                                     {"hv_std", hv_sum.std},
                                     {"hv_ratio_mean", ratio_sum.mean},
                                     {"hv_ratio_std", ratio_sum.std},
                                     {"true_front_hypervolume", truth.hypervolume},
                                     {"true_front_size", truth.size()},
                                     {"reference", truth.reference},
                                     {"load_seconds", load_seconds},
                                     {"search_seconds", search_seconds}};
        out += "  ],\n  \"summary\": " + summary.dump() + "\n}\n";
        io::write_file_atomically(*s.json, out);
    }
    return 0;
}

} // namespace nascent::cli
