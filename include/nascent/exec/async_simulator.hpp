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
#include <nascent/exec/sequential.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <queue>
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

/// One asynchronous run. `duration(g, fidelity, evaluation)` is the virtual time an evaluation
/// takes (fidelity is 0 for single-fidelity strategies); it must be finite and >= 0.
template <SearchSpace S, class St, class E, class Duration>
requires(Strategy<St> || MultiFidelityStrategy<St>) &&
    std::same_as<genotype_t<St>, genotype_t<S>> [[nodiscard]] run_result<
        genotype_t<S>> run_async_search(const S& space, St strategy, E&& evaluator,
                                        const Duration& duration, const async_options& options,
                                        std::size_t run_index = 0) {
    detail::check_async_options(options);
    using G = genotype_t<S>;
    constexpr bool mf = MultiFidelityStrategy<St>;
    std::vector<double> levels{0.0};
    if constexpr (mf) {
        levels.clear();
        for (const auto f : evaluator.fidelities())
            levels.push_back(static_cast<double>(f));
        strategy.set_fidelities(levels);
    }

    struct job {
        double finish;
        std::size_t worker;
        G arch;
        double fidelity;
        evaluation result;
    };
    auto later = [](const job& a, const job& b) {
        return a.finish != b.finish ? a.finish > b.finish : a.worker > b.worker;
    };
    std::priority_queue<job, std::vector<job>, decltype(later)> running(later);

    run_result<G> result;
    result.run = run_index;
    result.seed = derive_seed(options.seed, run_index);
    rng gen(result.seed);
    std::vector<history<S>> seen;
    for (std::size_t i = 0; i < levels.size(); ++i)
        seen.emplace_back(space, 64);
    std::size_t incumbent_level = 0;
    std::size_t free_streak = 0;
    double now = 0;

    auto tell = [&](const G& g, double fidelity, const evaluation& e) {
        if constexpr (mf) {
            strategy.tell(fidelity_request<G>{g, fidelity}, e);
        } else {
            (void)fidelity;
            strategy.tell(g, e);
        }
    };
    // Gives worker w new work: asks until a request needs evaluating (repeats are told at once).
    auto dispatch = [&](std::size_t w) -> bool {
        while (free_streak < options.max_free_streak) {
            G g;
            double fidelity = 0;
            if constexpr (mf) {
                auto r = strategy.ask(gen);
                g = std::move(r.arch);
                fidelity = r.fidelity;
            } else {
                g = strategy.ask(gen);
            }
            const auto level =
                static_cast<std::size_t>(std::ranges::find(levels, fidelity) - levels.begin());
            if (level == levels.size()) {
                throw std::invalid_argument("run_async_search: the strategy asked for fidelity " +
                                            std::to_string(fidelity) +
                                            ", which the evaluator does not offer");
            }
            const auto h = space.hash(g);
            if (const evaluation* known = seen[level].find_hashed(g, h)) {
                ++result.repeats;
                ++free_streak;
                tell(g, fidelity, *known);
                continue;
            }
            evaluation e = [&] {
                if constexpr (mf) {
                    return checked_evaluation(evaluator.evaluate(g, fidelity));
                } else {
                    return checked_evaluation(evaluator.evaluate(g));
                }
            }();
            seen[level].insert_hashed(g, h, [&] { return e; });
            if (e.status == eval_status::out_of_table) {
                ++result.out_of_table;
                ++free_streak;
                tell(g, fidelity, e);
                continue;
            }
            free_streak = 0;
            const double d = duration(g, fidelity, e);
            if (!(d >= 0) || !std::isfinite(d)) {
                throw std::invalid_argument(
                    "run_async_search: duration must be finite and >= 0, got " + std::to_string(d));
            }
            running.push(job{now + d, w, std::move(g), fidelity, std::move(e)});
            return true;
        }
        return false;
    };

    for (std::size_t w = 0; w < options.workers; ++w) {
        if (!dispatch(w))
            break;
    }
    while (!running.empty()) {
        job done = running.top();
        running.pop();
        if (done.finish > options.time_budget)
            break;
        now = done.finish;
        const evaluation& e = done.result;
        const auto lvl =
            static_cast<std::size_t>(std::ranges::find(levels, done.fidelity) - levels.begin());
        detail::record_charged(result, incumbent_level, lvl, done.arch, e, options.report);
        result.cost.push_back(now);
        tell(done.arch, done.fidelity, e);
        if (!dispatch(done.worker) && running.empty())
            break;
    }
    result.stalled = free_streak >= options.max_free_streak;
    return result;
}

/// `options.runs` independent asynchronous runs, spread over `executor`.
template <SearchSpace S, class St, class E, class Duration, Executor X = exec::sequential_executor>
requires(Strategy<St> || MultiFidelityStrategy<St>) &&
    std::same_as<genotype_t<St>, genotype_t<S>> [[nodiscard]] std::vector<
        run_result<genotype_t<S>>> run_async(const S& space, const St& prototype, E&& evaluator,
                                             const Duration& duration, const async_options& options,
                                             const X& executor = {}) {
    detail::check_async_options(options);
    std::vector<run_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(
        options.runs, evaluator, executor, options.on_run_done, [&](std::size_t i, auto& ev) {
            results[i] = run_async_search(space, prototype, ev, duration, options, i);
        });
    return results;
}

} // namespace nascent
