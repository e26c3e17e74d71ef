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
#include <nascent/exec/search_loop.hpp>
#include <nascent/exec/sequential.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
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
    /// Evaluations in flight at once within a run (synchronous batches, search_loop.hpp); the
    /// result is the same for any executor and thread count.
    std::size_t in_flight = 1;
    /// Per run, the answers an interrupted run recorded (exec/checkpoint.hpp): the run replays
    /// them, then goes on. Empty: a fresh start. Must outlive the call.
    std::span<const std::vector<evaluation_record>> replay{};
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

namespace detail {
inline loop_settings single_settings(const run_options& o, std::size_t run_index) {
    if (o.in_flight == 0)
        throw std::invalid_argument("run_options: in_flight must be >= 1, got 0");
    return {.run = run_index,
            .seed = derive_seed(o.seed, run_index),
            .report = o.report,
            .max_free_streak = o.max_free_streak,
            .in_flight = o.in_flight,
            .budget = static_cast<double>(o.budget),
            .count_budget = true,
            .record_cost = false,
            .levels = {0.0},
            .replay = run_index < o.replay.size()
                          ? std::span<const evaluation_record>(o.replay[run_index])
                          : std::span<const evaluation_record>{},
            .expected = o.budget,
            .who = "run_search"};
}
} // namespace detail

/// One run: asks `strategy` until `options.budget` architectures have been evaluated.
/// `args` are callbacks (exec/callbacks.hpp) and, optionally, the executor that evaluates the
/// run's batches when options.in_flight > 1 (sequential otherwise).
template <SearchSpace S, Strategy St, class E, class... Args>
requires Evaluator<std::remove_reference_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] run_result<genotype_t<S>> run_search(const S& space, St strategy, E&& evaluator,
                                                   const run_options& options,
                                                   std::size_t run_index = 0, Args&&... args) {
    detail::check_run_options(options);
    const auto& executor = detail::first_executor(args...);
    search_loop loop(space, strategy, evaluator, executor,
                     detail::single_settings(options, run_index), args...);
    return loop.run();
}

/// One run of a strategy that carries its space (every strategy of the library does):
/// `nascent::run(rea, evaluator, {.budget = 150, .seed = 0})`; callbacks (and an executor for
/// in_flight > 1) may follow: `nascent::run(rea, ev, {.in_flight = 2}, exec::tbb_executor(2))`.
template <Strategy St, class E, class... Args>
requires requires(const St& s) {
    { s.space() } -> SearchSpace;
} && Evaluator<std::remove_reference_t<E>, genotype_t<St>> &&
    (sizeof...(Args) != 1 || !(std::is_integral_v<std::remove_cvref_t<Args>> || ...))
        [[nodiscard]] run_result<genotype_t<St>> run(const St& strategy, E&& evaluator,
                                                     const run_options& options, Args&&... args) {
    return run_search(strategy.space(), strategy, evaluator, options, 0, args...);
}
template <Strategy St, class E>
requires requires(const St& s) {
    { s.space() } -> SearchSpace;
} && Evaluator<std::remove_reference_t<E>, genotype_t<St>>
[[nodiscard]] run_result<genotype_t<St>> run(const St& strategy, E&& evaluator,
                                             const run_options& options, std::size_t run_index) {
    return run_search(strategy.space(), strategy, evaluator, options, run_index);
}

/// `options.runs` independent runs, spread over `executor`. The evaluator is shared by all runs
/// when its thread safety is constant, copied per run when basic, and the runs are made one after
/// another (whatever the executor) when none. With options.in_flight > 1 each run's batches are
/// evaluated over the same executor (nested). `callbacks` are shared by the runs: on a parallel
/// executor they must be thread-safe.
template <SearchSpace S, Strategy St, class E, Executor X = exec::sequential_executor, class... Cbs>
requires Evaluator<std::remove_cvref_t<E>, genotype_t<S>> &&
    std::same_as<genotype_t<St>, genotype_t<S>>
[[nodiscard]] std::vector<run_result<genotype_t<S>>>
run_protocol(const S& space, const St& prototype, E&& evaluator, const run_options& options,
             const X& executor = {}, Cbs&&... callbacks) {
    detail::check_run_options(options);
    std::vector<run_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(options.runs, evaluator, executor, options.on_run_done,
                         [&](std::size_t i, auto& ev) {
                             St strategy = prototype;
                             search_loop loop(space, strategy, ev, executor,
                                              detail::single_settings(options, i), callbacks...);
                             results[i] = loop.run();
                         });
    return results;
}

} // namespace nascent
