#pragma once
// The runner of multi-fidelity strategies: each request names an architecture and a fidelity
// (epochs); an evaluation at fidelity f costs f / f_min units, so the budget is in evaluations at
// the lowest fidelity (on NAS-Bench-201, a 200-epoch query costs 200/12 of a 12-epoch one).
// Repeats of (architecture, fidelity) are answered from the run's history and cost nothing.
//
// The run's result (the incumbent) is the best reward among evaluations at the highest fidelity
// reached so far, as Hyperband reports it; the trajectory records it after every charged
// evaluation, with the cumulative cost in run_result::cost.

#include <nascent/concepts.hpp>
#include <nascent/core/history.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/sequential.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <limits>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent {

struct multi_fidelity_options {
    double budget = 100; ///< in evaluations at the lowest fidelity (> 0)
    std::size_t runs = 1;
    std::uint64_t seed = 0;
    std::string_view report = "test_acc@200";
    std::size_t max_free_streak = 100000;
    std::function<void(std::size_t finished)> on_run_done{};
};

namespace detail {
inline void check_multi_fidelity_options(const multi_fidelity_options& o) {
    if (!(o.budget > 0)) {
        throw std::invalid_argument("multi_fidelity_options: budget must be > 0, got " +
                                    std::to_string(o.budget));
    }
    if (o.runs == 0)
        throw std::invalid_argument("multi_fidelity_options: runs must be >= 1, got 0");
}
} // namespace detail

template <SearchSpace S, MultiFidelityStrategy St, class E>
requires MultiFidelityEvaluator<std::remove_reference_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] run_result<genotype_t<S>>
run_multi_fidelity_search(const S& space, St strategy, E&& evaluator,
                          const multi_fidelity_options& options, std::size_t run_index = 0) {
    detail::check_multi_fidelity_options(options);
    using G = genotype_t<S>;
    std::vector<double> levels;
    for (const auto f : evaluator.fidelities())
        levels.push_back(static_cast<double>(f));
    if (levels.empty() || !std::ranges::is_sorted(levels) || !(levels.front() > 0)) {
        throw std::invalid_argument("run_multi_fidelity: the evaluator's fidelities must be "
                                    "positive and ascending");
    }
    strategy.set_fidelities(levels);

    run_result<G> result;
    result.run = run_index;
    result.seed = derive_seed(options.seed, run_index);
    rng gen(result.seed);
    std::vector<history<S>> seen;
    for (std::size_t i = 0; i < levels.size(); ++i)
        seen.emplace_back(space, 64);
    std::size_t incumbent_level = 0;
    double spent = 0;
    std::size_t free_streak = 0;

    while (true) {
        const auto request = strategy.ask(gen);
        const auto level = std::ranges::find(levels, request.fidelity) - levels.begin();
        if (static_cast<std::size_t>(level) == levels.size()) {
            throw std::invalid_argument("run_multi_fidelity: the strategy asked for fidelity " +
                                        std::to_string(request.fidelity) +
                                        ", which the evaluator does not offer");
        }
        auto& memory = seen[static_cast<std::size_t>(level)];
        const auto h = space.hash(request.arch);
        if (const evaluation* known = memory.find_hashed(request.arch, h)) {
            ++result.repeats;
            strategy.tell(request, *known);
            if (++free_streak >= options.max_free_streak)
                break;
            continue;
        }
        const double cost = request.fidelity / levels.front();
        if (spent + cost > options.budget * (1 + 1e-12))
            break; // the next evaluation does not fit
        const evaluation& e = memory.insert_hashed(request.arch, h, [&] {
            return checked_evaluation(evaluator.evaluate(request.arch, request.fidelity));
        });
        if (e.status == eval_status::out_of_table) {
            ++result.out_of_table;
            strategy.tell(request, e);
            if (++free_streak >= options.max_free_streak)
                break;
            continue;
        }
        free_streak = 0;
        spent += cost;
        detail::record_charged(result, incumbent_level, static_cast<std::size_t>(level),
                               request.arch, e, options.report);
        result.cost.push_back(spent);
        strategy.tell(request, e);
    }
    result.stalled = free_streak >= options.max_free_streak;
    return result;
}

/// `options.runs` independent multi-fidelity runs, spread over `executor` (as run_protocol).
template <SearchSpace S, MultiFidelityStrategy St, class E, Executor X = exec::sequential_executor>
requires MultiFidelityEvaluator<std::remove_cvref_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] std::vector<run_result<genotype_t<S>>>
run_multi_fidelity(const S& space, const St& prototype, E&& evaluator,
                   const multi_fidelity_options& options, const X& executor = {}) {
    detail::check_multi_fidelity_options(options);
    std::vector<run_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(
        options.runs, evaluator, executor, options.on_run_done, [&](std::size_t i, auto& ev) {
            results[i] = run_multi_fidelity_search(space, prototype, ev, options, i);
        });
    return results;
}

} // namespace nascent
