#pragma once
// The protocol runner: N independent runs of (space, strategy, evaluator, budget). Each run seeds
// its own generator with derive_seed(master seed, run index), so the results do not depend on the
// executor or its thread count.
//
// Budget: the number of distinct architectures evaluated in a run. A repeat of an architecture
// the run has already evaluated is answered from the run's history and not charged. An
// out-of-table answer is recorded but not charged either (nothing was evaluated). A failed
// evaluation is charged: the evaluator did the work.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/history.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/exec/sequential.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace nascent {

struct run_options {
    std::size_t budget = 100; ///< distinct architectures evaluated per run (>= 1)
    std::size_t runs = 1;     ///< independent runs (>= 1)
    std::uint64_t seed = 0;   ///< master seed
    /// Metric recorded beside the reward in results and trajectories (e.g. the 200-epoch test
    /// accuracy reported for the architecture chosen by the validation reward).
    std::string_view report = "test_acc@200";
    /// A run stops early after this many consecutive proposals that cost nothing (repeats,
    /// out-of-table), e.g. when a small space is exhausted.
    std::size_t max_free_streak = 100000;
    /// Called once per finished run with the number of finished runs; may be called from
    /// worker threads concurrently, so it must be thread-safe.
    std::function<void(std::size_t finished)> on_run_done{};
};

template <class G>
struct run_result {
    std::size_t run = 0;
    std::uint64_t seed = 0;
    std::optional<G> best; ///< highest reward among ok evaluations (first reached on ties)
    double best_reward = -std::numeric_limits<double>::infinity();
    double best_report = std::numeric_limits<double>::quiet_NaN(); ///< NaN if not reported
    std::size_t queries = 0;                                       ///< charged evaluations
    std::size_t repeats = 0;      ///< proposals answered from the run's history
    std::size_t failures = 0;     ///< charged evaluations whose status was not ok
    std::size_t out_of_table = 0; ///< proposals a table could not answer
    bool stalled = false;         ///< stopped by max_free_streak before spending the budget
    /// After each charged evaluation: {best reward so far, that architecture's report metric}.
    std::vector<std::array<double, 2>> trajectory;
    /// Cumulative cost after each charged evaluation, for runners whose evaluations differ in
    /// cost (multi-fidelity, asynchronous); empty where every evaluation costs 1.
    std::vector<double> cost{};
};

namespace detail {
inline void check_run_options(const run_options& o) {
    if (o.budget == 0)
        throw std::invalid_argument("run_options: budget must be >= 1, got 0");
    if (o.runs == 0)
        throw std::invalid_argument("run_options: runs must be >= 1, got 0");
}
} // namespace detail

namespace detail {
/// Books a charged evaluation of `arch` at fidelity level `level` (0 for single-fidelity runs):
/// counts it, updates the incumbent — the best ok reward at the highest level seen, the first
/// reached on ties — and appends the trajectory point. Shared by every runner.
template <class G>
void record_charged(run_result<G>& r, std::size_t& incumbent_level, std::size_t level,
                    const G& arch, const evaluation& e, std::string_view report) {
    ++r.queries;
    if (!e.ok())
        ++r.failures;
    if (e.ok() && (level > incumbent_level || !r.best ||
                   (level == incumbent_level && e.reward > r.best_reward))) {
        incumbent_level = level;
        r.best = arch;
        r.best_reward = e.reward;
        r.best_report = e.metrics.get(report).value_or(std::numeric_limits<double>::quiet_NaN());
    }
    r.trajectory.push_back({r.best_reward, r.best_report});
}

/// Calls body(i, evaluator) for every run i over the executor, giving each task the evaluator as
/// its thread safety allows: shared when constant, a copy per run when basic, and all runs on the
/// calling thread when none. `on_done(finished runs)` follows each run.
template <class E, Executor X, class Body>
void for_each_run(std::size_t runs, E& evaluator, const X& executor,
                  const std::function<void(std::size_t)>& on_done, Body&& body) {
    using Ev = std::remove_cvref_t<E>;
    std::atomic<std::size_t> finished{0};
    auto one = [&](std::size_t i, auto& ev) {
        body(i, ev);
        const auto done = finished.fetch_add(1) + 1;
        if (on_done)
            on_done(done);
    };
    constexpr auto safety = thread_safety_of<Ev>;
    if constexpr (safety == thread_safety::none) {
        exec::sequential_executor{}.for_each(runs, [&](std::size_t i) { one(i, evaluator); });
    } else if constexpr (safety == thread_safety::constant) {
        executor.for_each(runs, [&](std::size_t i) { one(i, evaluator); });
    } else {
        executor.for_each(runs, [&](std::size_t i) {
            Ev local = evaluator;
            one(i, local);
        });
    }
}
} // namespace detail

/// One run: asks `strategy` until `options.budget` architectures have been evaluated.
template <SearchSpace S, Strategy St, class E>
requires Evaluator<std::remove_reference_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] run_result<genotype_t<S>> run_search(const S& space, St strategy, E&& evaluator,
                                                   const run_options& options,
                                                   std::size_t run_index = 0) {
    detail::check_run_options(options);
    using G = genotype_t<S>;
    run_result<G> result;
    result.run = run_index;
    result.seed = derive_seed(options.seed, run_index);
    result.trajectory.reserve(options.budget);
    rng gen(result.seed);
    history<S> seen(space, options.budget);
    std::size_t free_streak = 0;
    std::size_t incumbent_level = 0; // one level: single fidelity

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
            ++result.out_of_table;
            strategy.tell(candidate, e);
            if (++free_streak >= options.max_free_streak)
                break;
            continue;
        }
        free_streak = 0;
        detail::record_charged(result, incumbent_level, 0, candidate, e, options.report);
        strategy.tell(candidate, e);
    }
    result.stalled = result.queries < options.budget;
    return result;
}

/// One run of a strategy that carries its space (every strategy of the library does):
/// `nascent::run(rea, evaluator, {.budget = 150, .seed = 0})`.
template <Strategy St, class E>
requires requires(const St& s) {
    { s.space() } -> SearchSpace;
} && Evaluator<std::remove_reference_t<E>, genotype_t<St>>
[[nodiscard]] run_result<genotype_t<St>>
run(const St& strategy, E&& evaluator, const run_options& options, std::size_t run_index = 0) {
    return run_search(strategy.space(), strategy, evaluator, options, run_index);
}

/// `options.runs` independent runs, spread over `executor`. The evaluator is shared by all runs
/// when its thread safety is constant, copied per run when basic, and the runs are made one after
/// another (whatever the executor) when none.
template <SearchSpace S, Strategy St, class E, Executor X = exec::sequential_executor>
requires Evaluator<std::remove_cvref_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] std::vector<run_result<genotype_t<S>>>
run_protocol(const S& space, const St& prototype, E&& evaluator, const run_options& options,
             const X& executor = {}) {
    detail::check_run_options(options);
    std::vector<run_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(options.runs, evaluator, executor, options.on_run_done,
                         [&](std::size_t i, auto& ev) {
                             results[i] = run_search(space, prototype, ev, options, i);
                         });
    return results;
}

} // namespace nascent
