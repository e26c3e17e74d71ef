#pragma once
// Asynchronous evaluation on real threads: k workers, each evaluating one request; a result is
// booked and told the moment it completes, and the freed worker gets the next ask at once (what
// the asynchronous simulator, async_simulator.hpp, does in virtual time). The run ends when
// `budget` evaluations have completed: the last k - 1 asks are not made, so nothing is discarded.
//
// Which evaluation completes first depends on the machine, so a live run cannot be reproduced
// from its seed. Its record can: the loop books answers in completion order, and that order is
// what a checkpoint (exec/checkpoint.hpp) keeps. A resume replays it: asks are made from the seed
// again, each recorded completion is matched to the request in flight with its architecture
// (requests in flight are distinct: an ask that repeats one waits for it, and is told its result
// as a repeat) and told in the recorded order, so the run retraces the interrupted one exactly;
// then it goes on live, the requests still in flight at the interruption evaluated again.
//
// run_async_ordered is the same driver with a deterministic order: the next completion is the
// in-flight evaluation that ends first in virtual time, `duration(arch, fidelity, evaluation)`
// after its ask (ties: the lower worker), as the simulator orders them. It waits for every
// in-flight result before choosing, so it is for tests and reproducible comparisons, not speed.
// Where the two are comparable (no ask repeats a request in flight) its first budget - k + 1
// completions are the simulator's, and all of them when durations are equal.
//
// Evaluators: shared by the workers when thread_safety is constant, one copy per worker when
// basic; with none, no thread is started and the requests are evaluated on the calling thread in
// ask order. A throwing evaluator's exception is caught on its worker and rethrown on the calling
// thread when its result is taken; the workers are joined first (an evaluation still running is
// waited for, never abandoned).

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/search_loop.hpp>
#include <nascent/exec/sequential.hpp>

#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace nascent {

struct async_run_options {
    std::size_t budget = 100; ///< completed (charged) evaluations per run (>= 1)
    std::size_t runs = 1;     ///< independent runs (>= 1)
    std::uint64_t seed = 0;   ///< master seed
    std::string_view report = "test_acc@200";
    std::size_t max_free_streak = 100000;
    std::size_t workers = 2; ///< evaluations in flight, one thread each (>= 1)
    std::function<void(std::size_t finished)> on_run_done{};
    /// Per run, the answers an interrupted run booked, in its completion order (a checkpoint's
    /// log): the run replays them, then goes on live. Must outlive the call.
    std::span<const std::vector<evaluation_record>> replay{};
};

namespace detail {

inline void check_async_run_options(const async_run_options& o) {
    if (o.budget == 0)
        throw std::invalid_argument("async_run_options: budget must be >= 1, got 0");
    if (o.runs == 0)
        throw std::invalid_argument("async_run_options: runs must be >= 1, got 0");
    if (o.workers == 0)
        throw std::invalid_argument("async_run_options: workers must be >= 1, got 0");
}

/// Marks run_async_live: completions in the order they happen.
struct live_order {};

/// k slots, each evaluating one request on its own thread (or, for evaluators of thread safety
/// none, on the calling thread when its result is asked for).
template <class Request, class Ev, class Call>
class async_pool {
    using value_type = std::remove_cvref_t<Ev>;
    static constexpr auto safety = thread_safety_of<value_type>;

    enum class state : std::uint8_t { idle, queued, running, done };
    struct slot {
        state st = state::idle;
        std::optional<Request> req;
        std::size_t ask = 0;
        evaluation result{};
        std::exception_ptr error;
    };

public:
    static constexpr bool threaded = safety != thread_safety::none;

    async_pool(std::size_t workers, Ev& evaluator, Call call)
        : m_evaluator(evaluator), m_call(std::move(call)), m_slots(workers) {
        if constexpr (threaded) {
            if constexpr (safety == thread_safety::basic) {
                m_copies.reserve(workers);
                for (std::size_t i = 0; i < workers; ++i)
                    m_copies.push_back(evaluator);
            }
            m_threads.reserve(workers);
            for (std::size_t i = 0; i < workers; ++i)
                m_threads.emplace_back([this, i] { work(i); });
        }
    }
    async_pool(const async_pool&) = delete;
    async_pool& operator=(const async_pool&) = delete;
    async_pool(async_pool&&) = delete;
    async_pool& operator=(async_pool&&) = delete;
    ~async_pool() {
        {
            const std::lock_guard lock(m_mutex);
            m_quit = true;
        }
        m_work.notify_all();
        for (auto& t : m_threads)
            t.join();
    }

    /// Slot i starts evaluating r (the ask-th request of the run).
    void start(std::size_t i, const Request& r, std::size_t ask) {
        {
            const std::lock_guard lock(m_mutex);
            auto& s = m_slots[i];
            s.req = r;
            s.ask = ask;
            s.error = nullptr;
            s.st = state::queued;
        }
        if constexpr (threaded)
            m_work.notify_all();
    }

    /// Waits for the first slot to be done (the lowest if several are) and returns it.
    std::size_t wait_any() {
        if constexpr (!threaded) { // the earliest ask first
            std::size_t best = m_slots.size();
            for (std::size_t i = 0; i < m_slots.size(); ++i) {
                if (m_slots[i].st == state::done)
                    return i;
                if (m_slots[i].st == state::queued &&
                    (best == m_slots.size() || m_slots[i].ask < m_slots[best].ask))
                    best = i;
            }
            if (best == m_slots.size())
                throw std::logic_error("async_pool: nothing in flight");
            run_inline(best);
            return best;
        } else {
            std::unique_lock lock(m_mutex);
            std::size_t found = 0;
            m_done.wait(lock, [&] {
                for (std::size_t i = 0; i < m_slots.size(); ++i) {
                    if (m_slots[i].st == state::done) {
                        found = i;
                        return true;
                    }
                }
                return false;
            });
            return found;
        }
    }

    /// Slot i's result, once done (rethrows the evaluator's exception). Stays in the slot.
    const evaluation& peek(std::size_t i) {
        wait(i);
        const std::lock_guard lock(m_mutex);
        if (m_slots[i].error)
            std::rethrow_exception(m_slots[i].error);
        return m_slots[i].result;
    }

    /// Slot i's result, once done; the slot is free again.
    evaluation take(std::size_t i) {
        wait(i);
        const std::lock_guard lock(m_mutex);
        auto& s = m_slots[i];
        s.st = state::idle;
        if (s.error)
            std::rethrow_exception(std::exchange(s.error, nullptr));
        return std::move(s.result);
    }

private:
    void wait(std::size_t i) {
        if constexpr (!threaded) {
            if (m_slots[i].st == state::queued)
                run_inline(i);
        } else {
            std::unique_lock lock(m_mutex);
            m_done.wait(lock, [&] { return m_slots[i].st == state::done; });
        }
    }

    void run_inline(std::size_t i) {
        auto& s = m_slots[i];
        try {
            s.result = m_call(m_evaluator, *s.req);
        } catch (...) {
            s.error = std::current_exception();
        }
        s.st = state::done;
    }

    void work(std::size_t i) {
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_work.wait(lock, [&] { return m_quit || m_slots[i].st == state::queued; });
            if (m_quit)
                return;
            auto& s = m_slots[i];
            s.st = state::running;
            const Request r = *s.req;
            lock.unlock();
            evaluation e;
            std::exception_ptr error;
            try { // nothing leaves the thread
                if constexpr (safety == thread_safety::basic)
                    e = m_call(m_copies[i], r);
                else
                    e = m_call(m_evaluator, r);
            } catch (...) {
                error = std::current_exception();
            }
            lock.lock();
            s.result = std::move(e);
            s.error = error;
            s.st = state::done;
            m_done.notify_all();
        }
    }

    Ev& m_evaluator;
    Call m_call;
    std::vector<slot> m_slots; // never resized: the workers hold references
    std::vector<value_type> m_copies;
    std::vector<std::thread> m_threads;
    std::mutex m_mutex;
    std::condition_variable m_work;
    std::condition_variable m_done;
    bool m_quit = false;
};

template <class S, class St, class E, class Order, class... Cbs>
run_result<genotype_t<S>> async_live_one(const S& space, St& strategy, E& evaluator,
                                         const Order& order, const async_run_options& options,
                                         std::size_t run_index, Cbs&... callbacks) {
    constexpr bool ordered = !std::is_same_v<Order, live_order>;
    std::vector<double> levels{0.0};
    if constexpr (MultiFidelityStrategy<St>) {
        levels.clear();
        for (const auto f : evaluator.fidelities())
            levels.push_back(static_cast<double>(f));
        strategy.set_fidelities(levels);
    }
    // The replay is read here too: the loop answers evaluate_one from it, in order, and the
    // driver needs the next record first, to know which request in flight it completes.
    const std::span<const evaluation_record> replay =
        run_index < options.replay.size()
            ? std::span<const evaluation_record>(options.replay[run_index])
            : std::span<const evaluation_record>{};
    std::size_t replayed = 0;
    std::size_t twin_streak = 0;                // consecutive asks that repeat a request in flight
    const exec::sequential_executor sequential; // unused: the pool evaluates
    search_loop loop(
        space, strategy, evaluator, sequential,
        loop_settings{.run = run_index,
                      .seed = derive_seed(options.seed, run_index),
                      .report = options.report,
                      .max_free_streak = options.max_free_streak,
                      .in_flight = options.workers,
                      .budget = static_cast<double>(options.budget),
                      .count_budget = true,
                      .record_cost = ordered, // virtual time; a live run's clock is not replayable
                      .levels = std::move(levels),
                      .replay = replay,
                      .expected = options.budget,
                      .who = "run_async_live"},
        callbacks...);
    using loop_type = decltype(loop);
    using proposal = typename loop_type::proposal;
    using request = typename loop_type::request;
    struct job {
        proposal p;
        std::size_t ask;
        double start; // virtual time of the ask (ordered)
        bool started;
    };
    struct waiter { // an ask that repeats a request in flight
        std::size_t ask;
        proposal p;
    };
    auto call = [](auto& ev, const request& r) -> evaluation {
        if constexpr (MultiFidelityStrategy<St>)
            return checked_evaluation(ev.evaluate(r.arch, r.fidelity));
        else
            return checked_evaluation(ev.evaluate(r));
    };
    std::vector<std::optional<job>> slots(options.workers);
    std::vector<waiter> waiting;
    std::size_t in_flight = 0;
    std::size_t asks = 0;
    double now = 0;
    bool stop = false;
    bool live = replay.empty();
    async_pool<request, E, decltype(call)> pool(options.workers, evaluator, call);

    auto twin_of = [&](const proposal& p) -> std::optional<std::size_t> {
        for (const auto& j : slots) {
            if (j && j->p.level == p.level && j->p.hash == p.hash &&
                detail::arch_of(j->p.req) == detail::arch_of(p.req))
                return j->ask;
        }
        return std::nullopt;
    };
    // Gives worker w the next request that needs evaluating, if the budget leaves room.
    auto dispatch = [&](std::size_t w) {
        while (!stop && !loop.stalled() && loop.result().queries + in_flight < options.budget) {
            auto p = loop.ask_next();
            if (!p)
                return;
            if (const auto twin = twin_of(*p)) {
                waiting.push_back({*twin, std::move(*p)});
                if (++twin_streak >= options.max_free_streak)
                    loop.result().stalled = true; // ask_next asks no more
                continue;
            }
            twin_streak = 0;
            slots[w] = job{std::move(*p), asks++, now, live};
            ++in_flight;
            if (live)
                pool.start(w, slots[w]->p.req, slots[w]->ask);
            return;
        }
    };
    auto finish_time = [&](const job& j, const evaluation& e) {
        if constexpr (ordered) {
            const double d = order(detail::arch_of(j.p.req), detail::fidelity_of(j.p.req), e);
            if (!(d >= 0) || !std::isfinite(d)) {
                throw std::invalid_argument(
                    "run_async_ordered: duration must be finite and >= 0, got " +
                    std::to_string(d));
            }
            return j.start + d;
        } else {
            (void)j;
            (void)e;
            return 0.0;
        }
    };

    for (std::size_t w = 0; w < options.workers && !loop.stalled(); ++w)
        dispatch(w);
    while (in_flight > 0) {
        if (loop.stop_requested()) {
            loop.result().stopped = true;
            break;
        }
        std::size_t w = slots.size();
        evaluation e;
        if (replayed < replay.size()) {
            const evaluation_record* rec = &replay[replayed++];
            for (std::size_t i = 0; i < slots.size() && w == slots.size(); ++i) {
                if (slots[i] && slots[i]->p.hash == rec->hash && slots[i]->p.level == rec->level)
                    w = i;
            }
            if (w == slots.size()) {
                throw std::runtime_error(
                    "resume: run " + std::to_string(run_index) +
                    " recorded a completion of an architecture that is not in flight (another "
                    "space, strategy, seed, worker count or options?)");
            }
            e = loop.evaluate_one(slots[w]->p); // the recorded answer
            if constexpr (ordered)
                now = finish_time(*slots[w], e);
        } else if constexpr (ordered) {
            double first = std::numeric_limits<double>::infinity();
            for (std::size_t i = 0; i < slots.size(); ++i) {
                if (!slots[i])
                    continue;
                const double t = finish_time(*slots[i], pool.peek(i));
                if (t < first) {
                    first = t;
                    w = i;
                }
            }
            if (w == slots.size()) // every duration infinite is refused above: unreachable
                throw std::logic_error("run_async_ordered: no completion");
            e = pool.take(w);
            now = first;
        } else {
            w = pool.wait_any();
            e = pool.take(w);
        }
        job done = std::move(*slots[w]);
        slots[w].reset();
        --in_flight;
        if (!live && replayed == replay.size()) { // the replay is over: evaluate the rest
            live = true;
            for (std::size_t i = 0; i < slots.size(); ++i) {
                if (slots[i] && !slots[i]->started) {
                    slots[i]->started = true;
                    pool.start(i, slots[i]->p.req, slots[i]->ask);
                }
            }
        }
        bool stop_now = false;
        const auto [stored, charged] = loop.store(done.p, std::move(e), stop_now);
        if (charged)
            loop.charge(done.p, *stored, now);
        for (auto it = waiting.begin(); it != waiting.end();) {
            if (it->ask == done.ask) {
                ++loop.result().repeats;
                strategy.tell(it->p.req, *stored);
                it = waiting.erase(it);
            } else {
                ++it;
            }
        }
        loop.checkpoint();
        if (stop_now) {
            stop = true;
            loop.result().stopped = true;
            break;
        }
        dispatch(w);
    }
    loop.finish();
    return std::move(loop.result());
}

} // namespace detail

/// One asynchronous run on `options.workers` threads (see the top of the file); `callbacks` as
/// run_search's (a checkpoint_writer records the completion order).
template <SearchSpace S, class St, class E, class... Cbs>
requires(Strategy<St> || MultiFidelityStrategy<St>) &&
    std::same_as<genotype_t<St>, genotype_t<S>> [[nodiscard]] run_result<
        genotype_t<S>> run_async_live(const S& space, St strategy, E&& evaluator,
                                      const async_run_options& options, std::size_t run_index = 0,
                                      Cbs&&... callbacks) {
    detail::check_async_run_options(options);
    return detail::async_live_one(space, strategy, evaluator, detail::live_order{}, options,
                                  run_index, callbacks...);
}

/// The same run in a deterministic order: completions in virtual time, `duration(g, fidelity,
/// evaluation)` after each ask, as run_async_search orders them; run_result::cost holds the
/// virtual time of each completion.
template <SearchSpace S, class St, class E, class Duration, class... Cbs>
requires(Strategy<St> || MultiFidelityStrategy<St>) &&
    std::same_as<genotype_t<St>, genotype_t<S>> [[nodiscard]] run_result<
        genotype_t<S>> run_async_ordered(const S& space, St strategy, E&& evaluator,
                                         const Duration& duration, const async_run_options& options,
                                         std::size_t run_index = 0, Cbs&&... callbacks) {
    detail::check_async_run_options(options);
    return detail::async_live_one(space, strategy, evaluator, duration, options, run_index,
                                  callbacks...);
}

/// `options.runs` independent asynchronous runs, spread over `executor` (each run with its own
/// workers); `callbacks` are shared by the runs, so thread-safe on a parallel executor.
template <SearchSpace S, class St, class E, Executor X = exec::sequential_executor, class... Cbs>
requires(Strategy<St> || MultiFidelityStrategy<St>) &&
    std::same_as<genotype_t<St>, genotype_t<S>> [[nodiscard]] std::vector<
        run_result<genotype_t<S>>> run_async_live_protocol(const S& space, const St& prototype,
                                                           E&& evaluator,
                                                           const async_run_options& options,
                                                           const X& executor = {},
                                                           Cbs&&... callbacks) {
    detail::check_async_run_options(options);
    std::vector<run_result<genotype_t<S>>> results(options.runs);
    detail::for_each_run(
        options.runs, evaluator, executor, options.on_run_done, [&](std::size_t i, auto& ev) {
            St strategy = prototype;
            results[i] = detail::async_live_one(space, strategy, ev, detail::live_order{}, options,
                                                i, callbacks...);
        });
    return results;
}

} // namespace nascent
