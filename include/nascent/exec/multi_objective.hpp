#pragma once
// The multi-objective runner: N independent runs of any strategy, scoring every evaluated
// architecture on named objectives (and constraints). Each run keeps the Pareto archive of the
// feasible architectures it evaluated; its result is that front and the hypervolume of the front
// after each charged evaluation, with respect to a reference point. Budget, repeats and seeding
// are those of run_search.

#include <nascent/concepts.hpp>
#include <nascent/core/history.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/search_loop.hpp>
#include <nascent/pareto/archive.hpp>
#include <nascent/pareto/constraints.hpp>

#include <cstddef>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent {

struct multi_objective_options {
    std::size_t budget = 100;
    std::size_t runs = 1;
    std::uint64_t seed = 0;
    std::vector<double> reference{}; ///< hypervolume reference point, objectives' directions
    std::vector<pareto::constraint> constraints{};
    std::size_t max_free_streak = 100000;
    std::function<void(std::size_t finished)> on_run_done{};
    std::size_t in_flight = 1;                                ///< as run_options::in_flight
    std::span<const std::vector<evaluation_record>> replay{}; ///< as run_options::replay
};

template <class G>
struct multi_objective_result {
    std::size_t run = 0;
    std::uint64_t seed = 0;
    std::size_t queries = 0;
    std::size_t repeats = 0;
    std::size_t infeasible = 0;   ///< charged evaluations that were infeasible or failed
    std::size_t failures = 0;     ///< charged evaluations whose status was not ok
    std::size_t out_of_table = 0; ///< proposals a table could not answer (not charged)
    bool stalled = false;         ///< as run_result::stalled
    bool stopped = false;         ///< as run_result::stopped
    std::vector<G> front;         ///< the run's non-dominated feasible architectures
    std::vector<std::vector<double>> front_values; ///< their objective values, own directions
    std::vector<double> hypervolume;               ///< of the front after each charged evaluation
};

namespace detail {
inline void check_multi_objective_options(const multi_objective_options& o,
                                          const pareto::objectives& objectives) {
    check_run_options({.budget = o.budget, .runs = o.runs});
    if (o.reference.size() != objectives.size()) {
        throw std::invalid_argument("multi_objective_options: the reference point has " +
                                    std::to_string(o.reference.size()) + " values for " +
                                    std::to_string(objectives.size()) + " objectives");
    }
}

/// The loop's callback that keeps the Pareto archive and the hypervolume after each charged
/// evaluation.
template <class G>
struct pareto_book {
    const pareto::objectives& objectives;
    const multi_objective_options& options;
    pareto::archive<G> front;
    std::vector<double> hypervolume{};
    std::size_t infeasible = 0;
    double hv = 0;

    void on_evaluation(const evaluation_event<G>& e) {
        if (e.booking != booking::charged)
            return;
        const auto s = pareto::score(e.result, objectives, options.constraints);
        if (!s.feasible()) {
            ++infeasible;
        } else if (front.insert(s.values, e.arch) == pareto::insert_status::added) {
            hv = front.hypervolume(options.reference);
        }
        hypervolume.push_back(hv);
    }
};

template <class S, class St, class E, class X, class... Cbs>
multi_objective_result<genotype_t<S>>
multi_objective_one(const S& space, St& strategy, E& evaluator,
                    const pareto::objectives& objectives, const multi_objective_options& options,
                    std::size_t run_index, const X& executor, Cbs&... callbacks) {
    using G = genotype_t<S>;
    const run_options single{.budget = options.budget,
                             .seed = options.seed,
                             .max_free_streak = options.max_free_streak,
                             .in_flight = options.in_flight,
                             .replay = options.replay};
    pareto_book<G> book{objectives, options, pareto::archive<G>(objectives)};
    book.hypervolume.reserve(options.budget);
    search_loop loop(space, strategy, evaluator, executor, single_settings(single, run_index), book,
                     callbacks...);
    const auto r = loop.run();
    multi_objective_result<G> result;
    result.run = r.run;
    result.seed = r.seed;
    result.queries = r.queries;
    result.repeats = r.repeats;
    result.failures = r.failures;
    result.out_of_table = r.out_of_table;
    result.stalled = r.stalled;
    result.stopped = r.stopped;
    result.infeasible = book.infeasible;
    result.hypervolume = std::move(book.hypervolume);
    result.front.assign(book.front.payloads().begin(), book.front.payloads().end());
    for (std::size_t i = 0; i < book.front.size(); ++i)
        result.front_values.push_back(book.front.values(i));
    return result;
}
} // namespace detail

/// One multi-objective run; `args` as run_search's (callbacks, and an executor for in_flight > 1).
template <SearchSpace S, Strategy St, class E, class... Args>
requires Evaluator<std::remove_reference_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] multi_objective_result<genotype_t<S>> run_multi_objective_search(
    const S& space, St strategy, E&& evaluator, const pareto::objectives& objectives,
    const multi_objective_options& options, std::size_t run_index = 0, Args&&... args) {
    detail::check_multi_objective_options(options, objectives);
    return detail::multi_objective_one(space, strategy, evaluator, objectives, options, run_index,
                                       detail::first_executor(args...), args...);
}

/// `options.runs` independent multi-objective runs over an executor (as run_protocol).
template <SearchSpace S, Strategy St, class E, Executor X = exec::sequential_executor, class... Cbs>
requires Evaluator<std::remove_cvref_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] std::vector<multi_objective_result<genotype_t<S>>>
run_multi_objective(const S& space, const St& prototype, E&& evaluator,
                    const pareto::objectives& objectives, const multi_objective_options& options,
                    const X& executor = {}, Cbs&&... callbacks) {
    detail::check_multi_objective_options(options, objectives);
    std::vector<multi_objective_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(
        options.runs, evaluator, executor, options.on_run_done, [&](std::size_t i, auto& ev) {
            St strategy = prototype;
            results[i] = detail::multi_objective_one(space, strategy, ev, objectives, options, i,
                                                     executor, callbacks...);
        });
    return results;
}

} // namespace nascent
