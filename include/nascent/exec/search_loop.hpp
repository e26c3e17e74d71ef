#pragma once
// The search loop: the one place that owns a run's generator, its history per fidelity level, its
// counters (queries, repeats, out-of-table answers, failures, the free streak), its incumbent and
// trajectory, and that calls the callbacks (exec/callbacks.hpp). The runners (runner.hpp,
// multi_fidelity.hpp, multi_objective.hpp, async_simulator.hpp) are thin instances of it.
//
// Synchronous batches: up to `in_flight` (k) requests are asked, evaluated at once over the
// executor, then booked and told in ask order. A request already in the history is answered and
// told at once (it takes no slot); one that repeats a request of the current batch waits and is
// told its result after the batch, as a repeat. With k = 1 this is the plain ask-evaluate-tell
// loop. For a fixed seed the result does not depend on k's executor or its thread count: requests
// and tells are in ask order whatever finishes first. Strategies that want to see what is in flight
// define `set_pending(std::span<const request>)` (PendingAware), called before every ask of a batch
// with the requests asked and not yet told; the model-based ones already track their own pending
// asks (kriging believer).
//
// Resume: `replay` holds the evaluator's answers of an earlier, interrupted run in the order the
// loop booked them (exec/checkpoint.hpp records them). The loop runs from its seed again, answers
// the first requests from it instead of the evaluator (checking that each is the architecture
// recorded), then goes on live: the resumed run is the uninterrupted one, for every strategy, and
// no completed evaluation is redone.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/history.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/exec/callbacks.hpp>
#include <nascent/exec/sequential.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace nascent {

/// An evaluator's answer as a checkpoint keeps it: the architecture's hash, its fidelity level and
/// the evaluation (whose metric names must outlive the run that replays it).
struct evaluation_record {
    std::uint64_t hash = 0;
    std::size_t level = 0;
    evaluation result{};
};

/// A strategy that wants to know which of its requests are still being evaluated.
template <class St, class Request>
concept PendingAware = requires(St& s, std::span<const Request> pending) {
    s.set_pending(pending);
};

namespace detail {

template <class G>
const G& arch_of(const G& g) noexcept {
    return g;
}
template <class G>
const G& arch_of(const fidelity_request<G>& r) noexcept {
    return r.arch;
}
template <class G>
double fidelity_of(const G&) noexcept {
    return 0;
}
template <class G>
double fidelity_of(const fidelity_request<G>& r) noexcept {
    return r.fidelity;
}

/// Books a charged evaluation of `arch` at fidelity level `level` (0 for single-fidelity runs):
/// counts it, updates the incumbent — the best ok reward at the highest level seen, the first
/// reached on ties — and appends the trajectory point.
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

/// The first argument of a pack that models Executor (what evaluates a run's batches), else the
/// sequential executor. The other arguments are callbacks.
inline const exec::sequential_executor& first_executor() {
    static constexpr exec::sequential_executor sequential{};
    return sequential;
}
template <class A, class... Rest>
const auto& first_executor(const A& a, const Rest&... rest) {
    if constexpr (Executor<A>)
        return a;
    else
        return first_executor(rest...);
}

} // namespace detail

/// What a runner tells the loop.
struct loop_settings {
    std::size_t run = 0;
    std::uint64_t seed = 0; ///< the run's own seed (derive_seed of the master seed and run)
    std::string_view report = "test_acc@200";
    std::size_t max_free_streak = 100000;
    std::size_t in_flight = 1;
    /// Budget in cost units. count_budget: each charged evaluation costs 1 and the loop asks only
    /// while one more fits; otherwise a charged evaluation at level l costs levels[l]/levels[0]
    /// and the run ends at the first request that does not fit.
    double budget = 100;
    bool count_budget = true;
    bool record_cost = false;        ///< append the cumulative cost to run_result::cost
    std::vector<double> levels{0.0}; ///< fidelity levels; {0} for single-fidelity runs
    std::span<const evaluation_record> replay{};
    std::size_t expected = 64;           ///< history capacity to reserve
    std::string_view who = "run_search"; ///< names the runner in error messages
};

/// One run of the loop; see the top of the file. `X` evaluates batches (sequential_executor when
/// in_flight is 1). Cbs are callbacks.
template <SearchSpace S, class St, class E, Executor X, class... Cbs>
class search_loop {
public:
    using G = genotype_t<S>;
    static constexpr bool multi_fidelity = MultiFidelityStrategy<St>;
    using request = std::conditional_t<multi_fidelity, fidelity_request<G>, G>;
    using evaluator_type = std::remove_cvref_t<E>;

    /// A request that needs the evaluator.
    struct proposal {
        request req;
        std::size_t level;
        std::uint64_t hash;
    };

    search_loop(const S& space, St& strategy, E& evaluator, const X& executor, loop_settings s,
                Cbs&... callbacks)
        : m_space(space), m_strategy(strategy), m_evaluator(evaluator), m_executor(executor),
          m_settings(std::move(s)), m_callbacks(callbacks...), m_gen(m_settings.seed) {
        if (m_settings.in_flight == 0)
            throw std::invalid_argument(std::string(m_settings.who) +
                                        ": in_flight must be >= 1, got 0");
        m_result.run = m_settings.run;
        m_result.seed = m_settings.seed;
        if (m_settings.count_budget && m_settings.budget < 1e7)
            m_result.trajectory.reserve(static_cast<std::size_t>(m_settings.budget));
        for (std::size_t i = 0; i < m_settings.levels.size(); ++i)
            m_seen.emplace_back(space, m_settings.expected);
    }

    /// Synchronous batches until the budget is spent, the strategy stalls or a callback stops.
    run_result<G> run() {
        std::vector<proposal> batch;
        std::vector<request> pending;  // batch's requests, for PendingAware strategies
        std::vector<proposal> waiting; // repeats of a request of the batch
        while (!m_done) {
            if (stop_requested()) {
                m_result.stopped = true;
                break;
            }
            batch.clear();
            pending.clear();
            waiting.clear();
            double pending_cost = 0;
            while (batch.size() < m_settings.in_flight) {
                if (m_settings.count_budget &&
                    static_cast<double>(m_result.queries + batch.size()) >= m_settings.budget)
                    break;
                if constexpr (PendingAware<St, request>)
                    m_strategy.set_pending(std::span<const request>(pending));
                auto p = ask_next();
                if (!p) {
                    m_done = true;
                    break;
                }
                if (std::ranges::any_of(batch, [&](const proposal& q) { return same(q, *p); })) {
                    waiting.push_back(std::move(*p));
                    note_free();
                    if (m_done)
                        break;
                    continue;
                }
                if (!m_settings.count_budget) {
                    const double c = cost_of(p->level);
                    if (m_spent + pending_cost + c > m_settings.budget * (1 + 1e-12)) {
                        m_done = true; // the next evaluation does not fit
                        break;
                    }
                    pending_cost += c;
                }
                if constexpr (PendingAware<St, request>)
                    pending.push_back(p->req);
                batch.push_back(std::move(*p));
            }
            if (batch.empty())
                break;
            auto results = evaluate(batch);
            bool stop = false;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                const auto [e, charged] = store(batch[i], std::move(results[i]), stop);
                if (charged)
                    charge(batch[i], *e);
            }
            for (const auto& w : waiting) {
                ++m_result.repeats;
                m_strategy.tell(w.req,
                                *m_seen[w.level].find_hashed(detail::arch_of(w.req), w.hash));
            }
            checkpoint();
            if (stop) {
                m_result.stopped = true;
                break;
            }
        }
        finish();
        return std::move(m_result);
    }

    // ---- primitives, for drivers with their own schedule (the asynchronous simulator) --------

    /// Asks until a request needs the evaluator; repeats are answered and told at once. Empty when
    /// the free streak reaches max_free_streak (the run has stalled).
    std::optional<proposal> ask_next() {
        while (!m_result.stalled) {
            request r = m_strategy.ask(m_gen);
            const auto level = level_of(detail::fidelity_of(r));
            const auto h = m_space.hash(detail::arch_of(r));
            if (const evaluation* known = m_seen[level].find_hashed(detail::arch_of(r), h)) {
                ++m_result.repeats;
                m_strategy.tell(r, *known);
                note_free();
                continue;
            }
            return proposal{std::move(r), level, h};
        }
        return std::nullopt;
    }

    /// The evaluation of one proposal on the calling thread (from the replay while it lasts).
    evaluation evaluate_one(const proposal& p) {
        if (auto e = replayed(p))
            return std::move(*e);
        return call(m_evaluator, p);
    }

    /// Records p's evaluation in the history and calls on_evaluation; an out-of-table answer is
    /// counted and told here. Returns the stored evaluation and whether it is to be charged.
    std::pair<const evaluation*, bool> store(const proposal& p, evaluation e, bool& stop) {
        const bool was_replayed = m_booked < m_replayed;
        const evaluation& stored = m_seen[p.level].insert_hashed(detail::arch_of(p.req), p.hash,
                                                                 [&] { return std::move(e); });
        const bool charged = stored.status != eval_status::out_of_table;
        const evaluation_event<G> event{m_settings.run,
                                        detail::arch_of(p.req),
                                        p.hash,
                                        p.level,
                                        detail::fidelity_of(p.req),
                                        stored,
                                        charged ? booking::charged : booking::out_of_table,
                                        was_replayed,
                                        m_booked,
                                        m_result.queries + (charged ? 1 : 0)};
        ++m_booked;
        std::apply(
            [&](auto&... cb) { ((stop = detail::call_on_evaluation(cb, event) || stop), ...); },
            m_callbacks);
        if (charged) {
            m_free_streak = 0; // a charged evaluation (started, when asynchronous) ends the streak
        } else {
            ++m_result.out_of_table;
            m_strategy.tell(p.req, stored);
            note_free();
        }
        return {&stored, charged};
    }

    /// Charges p's evaluation: the cost is spent, the incumbent and the
    /// trajectory are updated (with `cost_point` in run_result::cost when recorded), then tell.
    void charge(const proposal& p, const evaluation& e, std::optional<double> cost_point = {}) {
        m_spent += cost_of(p.level);
        detail::record_charged(m_result, m_incumbent_level, p.level, detail::arch_of(p.req), e,
                               m_settings.report);
        if (m_settings.record_cost)
            m_result.cost.push_back(cost_point.value_or(m_spent));
        m_strategy.tell(p.req, e);
    }

    void checkpoint() {
        const checkpoint_event event{m_settings.run, m_booked, m_result.queries};
        std::apply([&](auto&... cb) { (detail::call_on_checkpoint(cb, event), ...); }, m_callbacks);
    }

    [[nodiscard]] bool stop_requested() {
        bool stop = false;
        std::apply([&](auto&... cb) { ((stop = detail::call_stop(cb, m_result) || stop), ...); },
                   m_callbacks);
        return stop;
    }

    /// Marks the end of the run and calls on_run_done.
    void finish() {
        std::apply([&](auto&... cb) { (detail::call_on_run_done(cb, m_result), ...); },
                   m_callbacks);
    }

    [[nodiscard]] run_result<G>& result() noexcept { return m_result; }
    [[nodiscard]] double spent() const noexcept { return m_spent; }
    [[nodiscard]] bool stalled() const noexcept { return m_result.stalled; }

private:
    [[nodiscard]] bool same(const proposal& a, const proposal& b) const {
        return a.level == b.level && a.hash == b.hash &&
               detail::arch_of(a.req) == detail::arch_of(b.req);
    }

    void note_free() {
        if (++m_free_streak >= m_settings.max_free_streak) {
            m_result.stalled = true;
            m_done = true;
        }
    }

    [[nodiscard]] double cost_of(std::size_t level) const noexcept {
        if (m_settings.count_budget)
            return 1;
        return m_settings.levels[level] / m_settings.levels.front();
    }

    [[nodiscard]] std::size_t level_of(double fidelity) const {
        const auto& levels = m_settings.levels;
        const auto it = std::ranges::find(levels, fidelity);
        if (it == levels.end()) {
            throw std::invalid_argument(
                std::string(m_settings.who) + ": the strategy asked for fidelity " +
                std::to_string(fidelity) + ", which the evaluator does not offer");
        }
        return static_cast<std::size_t>(it - levels.begin());
    }

    // Every evaluator answer passes here; a non-finite reward is booked as failed
    // (checked_evaluation), or a NaN incumbent would never be beaten.
    template <class Ev>
    static evaluation call(Ev& ev, const proposal& p) {
        if constexpr (multi_fidelity)
            return checked_evaluation(ev.evaluate(p.req.arch, p.req.fidelity));
        else
            return checked_evaluation(ev.evaluate(p.req));
    }

    /// The next recorded answer while the replay lasts; checks it is p's architecture.
    std::optional<evaluation> replayed(const proposal& p) {
        if (m_replayed >= m_settings.replay.size())
            return std::nullopt;
        const auto& rec = m_settings.replay[m_replayed];
        if (rec.hash != p.hash || rec.level != p.level) {
            throw std::runtime_error(
                "resume: run " + std::to_string(m_settings.run) + " evaluation " +
                std::to_string(m_replayed) +
                " asked another architecture than the checkpoint recorded (another space, "
                "strategy, seed or options?)");
        }
        ++m_replayed;
        return rec.result;
    }

    /// The batch's evaluations, in ask order: replayed ones first, the rest over the executor.
    std::vector<evaluation> evaluate(const std::vector<proposal>& batch) {
        std::vector<evaluation> out(batch.size());
        std::size_t live = 0;
        while (live < batch.size()) {
            auto e = replayed(batch[live]);
            if (!e)
                break;
            out[live++] = std::move(*e);
        }
        const std::size_t n = batch.size() - live;
        constexpr auto safety = thread_safety_of<evaluator_type>;
        if (n <= 1 || m_executor.concurrency() <= 1 || safety == thread_safety::none) {
            for (std::size_t i = live; i < batch.size(); ++i)
                out[i] = call(m_evaluator, batch[i]);
        } else if constexpr (safety == thread_safety::constant) {
            m_executor.for_each(
                n, [&](std::size_t i) { out[live + i] = call(m_evaluator, batch[live + i]); });
        } else if constexpr (safety == thread_safety::basic) {
            // One copy per slot of the batch, kept for the run: slot i always uses copy i.
            while (m_copies.size() < n)
                m_copies.push_back(m_evaluator);
            m_executor.for_each(
                n, [&](std::size_t i) { out[live + i] = call(m_copies[i], batch[live + i]); });
        }
        return out;
    }

    const S& m_space;
    St& m_strategy;
    E& m_evaluator;
    const X& m_executor;
    loop_settings m_settings;
    std::tuple<Cbs&...> m_callbacks;
    rng m_gen;
    std::vector<history<S>> m_seen; // one per fidelity level
    std::vector<evaluator_type> m_copies;
    run_result<G> m_result;
    std::size_t m_incumbent_level = 0;
    std::size_t m_free_streak = 0;
    std::size_t m_booked = 0;   // evaluator answers stored
    std::size_t m_replayed = 0; // of them, taken from the replay
    double m_spent = 0;
    bool m_done = false;
};

} // namespace nascent
