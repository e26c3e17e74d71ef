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
#include <nascent/exec/search_loop.hpp>
#include <nascent/exec/sequential.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <limits>
#include <ranges>
#include <span>
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
    std::size_t in_flight = 1;                                ///< as run_options::in_flight
    std::span<const std::vector<evaluation_record>> replay{}; ///< as run_options::replay
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

namespace detail {
template <class E>
std::vector<double> fidelity_levels(E& evaluator) {
    std::vector<double> levels;
    for (const auto f : evaluator.fidelities())
        levels.push_back(static_cast<double>(f));
    if (levels.empty() || !std::ranges::is_sorted(levels) || !(levels.front() > 0)) {
        throw std::invalid_argument("run_multi_fidelity: the evaluator's fidelities must be "
                                    "positive and ascending");
    }
    return levels;
}
inline loop_settings multi_fidelity_settings(const multi_fidelity_options& o,
                                             std::vector<double> levels, std::size_t run_index) {
    if (o.in_flight == 0)
        throw std::invalid_argument("multi_fidelity_options: in_flight must be >= 1, got 0");
    return {.run = run_index,
            .seed = derive_seed(o.seed, run_index),
            .report = o.report,
            .max_free_streak = o.max_free_streak,
            .in_flight = o.in_flight,
            .budget = o.budget,
            .count_budget = false,
            .record_cost = true,
            .levels = std::move(levels),
            .replay = run_index < o.replay.size()
                          ? std::span<const evaluation_record>(o.replay[run_index])
                          : std::span<const evaluation_record>{},
            .expected = 64,
            .who = "run_multi_fidelity"};
}
template <class S, class St, class E, class X, class... Cbs>
auto multi_fidelity_one(const S& space, St& strategy, E& evaluator,
                        const multi_fidelity_options& options, std::size_t run_index,
                        const X& executor, Cbs&... callbacks) {
    auto levels = fidelity_levels(evaluator);
    strategy.set_fidelities(levels);
    search_loop loop(space, strategy, evaluator, executor,
                     multi_fidelity_settings(options, std::move(levels), run_index), callbacks...);
    return loop.run();
}
} // namespace detail

/// One multi-fidelity run; `args` as run_search's (callbacks, and an executor for in_flight > 1).
template <SearchSpace S, MultiFidelityStrategy St, class E, class... Args>
requires MultiFidelityEvaluator<std::remove_reference_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] run_result<genotype_t<S>>
run_multi_fidelity_search(const S& space, St strategy, E&& evaluator,
                          const multi_fidelity_options& options, std::size_t run_index = 0,
                          Args&&... args) {
    detail::check_multi_fidelity_options(options);
    return detail::multi_fidelity_one(space, strategy, evaluator, options, run_index,
                                      detail::first_executor(args...), args...);
}

/// `options.runs` independent multi-fidelity runs, spread over `executor` (as run_protocol).
template <SearchSpace S, MultiFidelityStrategy St, class E, Executor X = exec::sequential_executor,
          class... Cbs>
requires MultiFidelityEvaluator<std::remove_cvref_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] std::vector<run_result<genotype_t<S>>>
run_multi_fidelity(const S& space, const St& prototype, E&& evaluator,
                   const multi_fidelity_options& options, const X& executor = {},
                   Cbs&&... callbacks) {
    detail::check_multi_fidelity_options(options);
    std::vector<run_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(
        options.runs, evaluator, executor, options.on_run_done, [&](std::size_t i, auto& ev) {
            St strategy = prototype;
            results[i] =
                detail::multi_fidelity_one(space, strategy, ev, options, i, executor, callbacks...);
        });
    return results;
}

} // namespace nascent
