#pragma once
// The multi-objective runner: N independent runs of any strategy, scoring every evaluated
// architecture on named objectives (and constraints). Each run keeps the Pareto archive of the
// feasible architectures it evaluated; its result is that front and the hypervolume of the front
// after each charged evaluation, with respect to a reference point. Budget, repeats and seeding
// are those of run_search.

#include <nascent/concepts.hpp>
#include <nascent/core/history.hpp>
#include <nascent/exec/runner.hpp>
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
};

template <class G>
struct multi_objective_result {
    std::size_t run = 0;
    std::uint64_t seed = 0;
    std::size_t queries = 0;
    std::size_t repeats = 0;
    std::size_t infeasible = 0; ///< charged evaluations that were infeasible or failed
    std::vector<G> front;       ///< the run's non-dominated feasible architectures
    std::vector<std::vector<double>> front_values; ///< their objective values, own directions
    std::vector<double> hypervolume;               ///< of the front after each charged evaluation
};

/// One multi-objective run.
template <SearchSpace S, Strategy St, class E>
requires Evaluator<std::remove_reference_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] multi_objective_result<genotype_t<S>>
run_multi_objective_search(const S& space, St strategy, E&& evaluator,
                           const pareto::objectives& objectives,
                           const multi_objective_options& options, std::size_t run_index = 0) {
    detail::check_run_options({.budget = options.budget, .runs = options.runs});
    if (options.reference.size() != objectives.size()) {
        throw std::invalid_argument("multi_objective_options: the reference point has " +
                                    std::to_string(options.reference.size()) + " values for " +
                                    std::to_string(objectives.size()) + " objectives");
    }
    using G = genotype_t<S>;
    multi_objective_result<G> result;
    result.run = run_index;
    result.seed = derive_seed(options.seed, run_index);
    result.hypervolume.reserve(options.budget);
    rng gen(result.seed);
    history<S> seen(space, options.budget);
    pareto::archive<G> front(objectives);
    double hv = 0;
    std::size_t free_streak = 0;
    while (result.queries < options.budget) {
        const G candidate = strategy.ask(gen);
        const auto h = space.hash(candidate);
        if (const evaluation* known = seen.find_hashed(candidate, h)) {
            ++result.repeats;
            strategy.tell(candidate, *known);
            if (++free_streak >= options.max_free_streak)
                break;
            continue;
        }
        const evaluation& e = seen.insert_hashed(
            candidate, h, [&] { return checked_evaluation(evaluator.evaluate(candidate)); });
        if (e.status == eval_status::out_of_table) {
            strategy.tell(candidate, e);
            if (++free_streak >= options.max_free_streak)
                break;
            continue;
        }
        free_streak = 0;
        ++result.queries;
        const auto s = pareto::score(e, objectives, options.constraints);
        if (!s.feasible()) {
            ++result.infeasible;
        } else if (front.insert(s.values, candidate) == pareto::insert_status::added) {
            hv = front.hypervolume(options.reference);
        }
        result.hypervolume.push_back(hv);
        strategy.tell(candidate, e);
    }
    result.front.assign(front.payloads().begin(), front.payloads().end());
    for (std::size_t i = 0; i < front.size(); ++i)
        result.front_values.push_back(front.values(i));
    return result;
}

/// `options.runs` independent multi-objective runs over an executor (as run_protocol).
template <SearchSpace S, Strategy St, class E, Executor X = exec::sequential_executor>
requires Evaluator<std::remove_cvref_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] std::vector<multi_objective_result<genotype_t<S>>>
run_multi_objective(const S& space, const St& prototype, E&& evaluator,
                    const pareto::objectives& objectives, const multi_objective_options& options,
                    const X& executor = {}) {
    detail::check_run_options({.budget = options.budget, .runs = options.runs});
    std::vector<multi_objective_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(
        options.runs, evaluator, executor, options.on_run_done, [&](std::size_t i, auto& ev) {
            results[i] = run_multi_objective_search(space, prototype, ev, objectives, options, i);
        });
    return results;
}

} // namespace nascent
