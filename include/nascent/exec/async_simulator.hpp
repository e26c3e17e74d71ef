#pragma once
// Asynchronous evaluation with k workers in simulated time. Each evaluation occupies a worker for
// a duration given by a cost function (seconds of training from a table, or a cost model); a
// virtual clock advances from one completion to the next, and a free worker immediately asks the
// strategy for more work, so strategies that tolerate several open requests (REA, ASHA) keep every
// worker busy. The run stops at the time budget; work still running then is discarded.
//
// Results are deterministic: completions at equal times are delivered in worker order, and each
// run seeds its generator from (master seed, run index) as the other runners do. The trajectory
// holds the incumbent after each completion and run_result::cost the virtual time of it: the
// wall-clock-equivalent anytime curve.
//
// Simplification: a repeat of an architecture still being evaluated is answered at once from the
// history (the table knows the result), not when the first evaluation completes.

#include <nascent/concepts.hpp>
#include <nascent/core/history.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/search_loop.hpp>
#include <nascent/exec/sequential.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <queue>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent {

struct async_options {
    std::size_t workers = 4;
    double time_budget = 0; ///< virtual seconds (> 0)
    std::size_t runs = 1;
    std::uint64_t seed = 0;
    std::string_view report = "test_acc@200";
    std::size_t max_free_streak = 100000;
    std::function<void(std::size_t finished)> on_run_done{};
    std::span<const std::vector<evaluation_record>> replay{}; ///< as run_options::replay
};

namespace detail {
inline void check_async_options(const async_options& o) {
    if (o.workers == 0)
        throw std::invalid_argument("async_options: workers must be >= 1, got 0");
    if (!(o.time_budget > 0)) {
        throw std::invalid_argument("async_options: time_budget must be > 0, got " +
                                    std::to_string(o.time_budget));
    }
    if (o.runs == 0)
        throw std::invalid_argument("async_options: runs must be >= 1, got 0");
}
} // namespace detail

namespace detail {
template <class S, class St, class E, class Duration, class... Cbs>
run_result<genotype_t<S>> async_one(const S& space, St& strategy, E& evaluator,
                                    const Duration& duration, const async_options& options,
                                    std::size_t run_index, Cbs&... callbacks) {
    std::vector<double> levels{0.0};
    if constexpr (MultiFidelityStrategy<St>) {
        levels.clear();
        for (const auto f : evaluator.fidelities())
            levels.push_back(static_cast<double>(f));
        strategy.set_fidelities(levels);
    }
    const exec::sequential_executor sequential;
    search_loop loop(
        space, strategy, evaluator, sequential,
        loop_settings{.run = run_index,
                      .seed = derive_seed(options.seed, run_index),
                      .report = options.report,
                      .max_free_streak = options.max_free_streak,
                      .in_flight = options.workers,
                      .budget = std::numeric_limits<double>::infinity(),
                      .count_budget = true,
                      .record_cost = true,
                      .levels = std::move(levels),
                      .replay = run_index < options.replay.size()
                                    ? std::span<const evaluation_record>(options.replay[run_index])
                                    : std::span<const evaluation_record>{},
                      .expected = 64,
                      .who = "run_async_search"},
        callbacks...);
    using proposal = typename decltype(loop)::proposal;
    struct job {
        double finish;
        std::size_t worker;
        proposal p;
        evaluation result; // a copy: the history's storage may move
    };
    auto later = [](const job& a, const job& b) {
        return a.finish != b.finish ? a.finish > b.finish : a.worker > b.worker;
    };
    std::priority_queue<job, std::vector<job>, decltype(later)> running(later);
    double now = 0;
    bool stop = false;

    // Gives worker w new work: asks until a request needs evaluating. The evaluation is made (and
    // stored) at once, so a repeat of a request still running is answered from the history.
    auto dispatch = [&](std::size_t w) -> bool {
        while (!stop) {
            auto p = loop.ask_next();
            if (!p)
                return false;
            const auto [e, charged] = loop.store(*p, loop.evaluate_one(*p), stop);
            if (!charged)
                continue;
            const double d = duration(detail::arch_of(p->req), detail::fidelity_of(p->req), *e);
            if (!(d >= 0) || !std::isfinite(d)) {
                throw std::invalid_argument(
                    "run_async_search: duration must be finite and >= 0, got " + std::to_string(d));
            }
            running.push(job{now + d, w, std::move(*p), *e});
            return true;
        }
        return false;
    };

    for (std::size_t w = 0; w < options.workers; ++w) {
        if (!dispatch(w))
            break;
    }
    while (!running.empty()) {
        if (loop.stop_requested()) {
            stop = true;
        }
        job done = running.top();
        running.pop();
        if (done.finish > options.time_budget)
            break;
        now = done.finish;
        loop.charge(done.p, done.result, now);
        loop.checkpoint();
        if (stop) {
            loop.result().stopped = true;
            break;
        }
        if (!dispatch(done.worker) && running.empty())
            break;
    }
    loop.finish();
    return std::move(loop.result());
}
} // namespace detail

/// One asynchronous run. `duration(g, fidelity, evaluation)` is the virtual time an evaluation
/// takes (fidelity is 0 for single-fidelity strategies); it must be finite and >= 0. `callbacks`
/// as run_search's.
template <SearchSpace S, class St, class E, class Duration, class... Cbs>
requires(Strategy<St> || MultiFidelityStrategy<St>) &&
    std::same_as<genotype_t<St>, genotype_t<S>> [[nodiscard]] run_result<
        genotype_t<S>> run_async_search(const S& space, St strategy, E&& evaluator,
                                        const Duration& duration, const async_options& options,
                                        std::size_t run_index = 0, Cbs&&... callbacks) {
    detail::check_async_options(options);
    return detail::async_one(space, strategy, evaluator, duration, options, run_index,
                             callbacks...);
}

/// `options.runs` independent asynchronous runs, spread over `executor`.
template <SearchSpace S, class St, class E, class Duration, Executor X = exec::sequential_executor,
          class... Cbs>
requires(Strategy<St> || MultiFidelityStrategy<St>) &&
    std::same_as<genotype_t<St>, genotype_t<S>> [[nodiscard]] std::vector<
        run_result<genotype_t<S>>> run_async(const S& space, const St& prototype, E&& evaluator,
                                             const Duration& duration, const async_options& options,
                                             const X& executor = {}, Cbs&&... callbacks) {
    detail::check_async_options(options);
    std::vector<run_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(
        options.runs, evaluator, executor, options.on_run_done, [&](std::size_t i, auto& ev) {
            St strategy = prototype;
            results[i] = detail::async_one(space, strategy, ev, duration, options, i, callbacks...);
        });
    return results;
}

} // namespace nascent
