#pragma once
// An executor over processes on one or many machines, on MPI (opt-in: including this header needs
// MPI::MPI_CXX; the C API only). Every rank runs the same program. Rank 0 runs the strategy and
// the search loop; ranks 1..n-1 are workers that rebuild the evaluator themselves and evaluate
// what rank 0 sends them: an architecture as its text (PrintableSpace) and the fidelity; they
// answer with the evaluation (status, reward, metrics, reason).
//
//   nascent::exec::mpi_executor mpi;                              // MPI_Init_thread if not done
//   const auto evaluator = make_evaluator();                      // on every rank
//   if (!mpi.root()) { mpi.serve(space, evaluator); return 0; }  // until rank 0 releases
//   const nascent::exec::mpi_remote_evaluator remote{mpi, space, evaluator, {.timeout = 600}};
//   auto r = nascent::run(rea, remote, {.budget = 100, .in_flight = mpi.workers()}, mpi);
//
// for_each(n, task) runs the tasks on up to workers() threads of rank 0, while the calling thread
// alone talks MPI (MPI_THREAD_FUNNELED): each remote evaluate() posts its request and waits, and
// the calling thread hands requests to idle workers and delivers their answers. Called from one
// of those threads (a protocol's run, nested), or with n = 1, it runs the tasks in order on the
// calling thread. Synchronous batches therefore give the sequential executor's results exactly
// (the loop tells in ask order; doubles travel bit for bit).
//
// Failures cost one evaluation, and the run goes on:
//  * an evaluator that throws on a worker: a failed evaluation whose reason is the message;
//  * no answer within `timeout` seconds of reaching a worker: a failed evaluation ("timed out");
//    the worker is busy until it answers, and that late answer is dropped;
//  * neither is re-queued: both would most likely happen again (a training run that diverges or
//    is too slow), and a retry that succeeded would make the result depend on timing.
// A worker process that dies: Open MPI 4.1 aborts the whole job (its runtime has no fault
// tolerance without ULFM), so a checkpoint (exec/checkpoint.hpp) is what saves the run; the
// restarted job replays it and loses at most the evaluations that were in flight.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <mpi.h>

namespace nascent::exec {

struct mpi_remote_options {
    /// Seconds an evaluation may take once a worker has it; 0: no limit.
    double timeout = 0;
};

namespace detail {

/// The bytes of a request or an answer: fixed-size fields copied as they are (every rank runs the
/// same binary, or at least the same ABI) and length-prefixed strings.
class mpi_buffer {
public:
    mpi_buffer() = default;
    explicit mpi_buffer(std::vector<char> bytes) : m_bytes(std::move(bytes)) {}

    template <class T>
    void put(const T& v) {
        const auto at = m_bytes.size();
        m_bytes.resize(at + sizeof(T));
        std::memcpy(m_bytes.data() + at, &v, sizeof(T));
    }
    void put_text(std::string_view s) {
        put(static_cast<std::uint64_t>(s.size()));
        m_bytes.insert(m_bytes.end(), s.begin(), s.end());
    }
    template <class T>
    T get() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, m_bytes.data() + m_at, sizeof(T));
        m_at += sizeof(T);
        return v;
    }
    std::string_view get_text() {
        const auto n = static_cast<std::size_t>(get<std::uint64_t>());
        need(n);
        const std::string_view s(m_bytes.data() + m_at, n);
        m_at += n;
        return s;
    }
    [[nodiscard]] const std::vector<char>& bytes() const noexcept { return m_bytes; }

private:
    void need(std::size_t n) const {
        if (m_bytes.size() - m_at < n)
            throw std::runtime_error("mpi_executor: a truncated message");
    }
    std::vector<char> m_bytes;
    std::size_t m_at = 0;
};

enum mpi_tag : int { request_tag = 1, answer_tag = 2, release_tag = 3 };

inline void mpi_check(int code, const char* what) {
    if (code != MPI_SUCCESS)
        throw std::runtime_error(std::string("mpi_executor: ") + what + " failed");
}

/// Receives the message `status` announced (probed) from `source` with `tag`.
inline mpi_buffer mpi_receive(MPI_Comm comm, int source, int tag) {
    MPI_Status status;
    mpi_check(MPI_Probe(source, tag, comm, &status), "MPI_Probe");
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    std::vector<char> bytes(static_cast<std::size_t>(count));
    mpi_check(
        MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE),
        "MPI_Recv");
    return mpi_buffer(std::move(bytes));
}

inline void mpi_send(MPI_Comm comm, int dest, int tag, const mpi_buffer& b) {
    mpi_check(
        MPI_Send(b.bytes().data(), static_cast<int>(b.bytes().size()), MPI_BYTE, dest, tag, comm),
        "MPI_Send");
}

/// Idle waiting: spins briefly (answers of a fast evaluator come back within microseconds), then
/// sleeps ever longer up to a millisecond, so an idle rank leaves the cores to the busy ones.
class mpi_backoff {
public:
    void reset() noexcept { m_idle = 0; }
    [[nodiscard]] std::chrono::microseconds next() noexcept {
        ++m_idle;
        if (m_idle < 64)
            return std::chrono::microseconds(0);
        return std::chrono::microseconds(std::min<std::size_t>(1000, (m_idle - 63) * 10));
    }

private:
    std::size_t m_idle = 0;
};

} // namespace detail

class mpi_executor {
public:
    /// Collective: every rank constructs one, first thing (it duplicates MPI_COMM_WORLD). The
    /// thread that constructs it is the one that talks MPI.
    mpi_executor() {
        int initialised = 0;
        MPI_Initialized(&initialised);
        if (initialised == 0) {
            int provided = 0;
            detail::mpi_check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided),
                              "MPI_Init_thread");
            m_finalise = true;
            if (provided < MPI_THREAD_FUNNELED) {
                throw std::runtime_error("mpi_executor: the MPI library does not provide "
                                         "MPI_THREAD_FUNNELED");
            }
        } else {
            int provided = 0;
            MPI_Query_thread(&provided);
            if (provided < MPI_THREAD_FUNNELED) {
                throw std::runtime_error("mpi_executor: MPI was initialised below "
                                         "MPI_THREAD_FUNNELED (use MPI_Init_thread)");
            }
        }
        // A communicator of its own: the executor's messages never meet the program's.
        detail::mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, &m_comm), "MPI_Comm_dup");
        MPI_Comm_rank(m_comm, &m_rank);
        MPI_Comm_size(m_comm, &m_size);
        m_slots.resize(static_cast<std::size_t>(m_size));
    }

    mpi_executor(const mpi_executor&) = delete;
    mpi_executor& operator=(const mpi_executor&) = delete;
    mpi_executor(mpi_executor&&) = delete;
    mpi_executor& operator=(mpi_executor&&) = delete;

    ~mpi_executor() {
        try {
            if (root())
                release();
        } catch (...) { // a destructor must not throw; MPI_Finalize follows regardless
        }
        {
            const std::lock_guard lock(m_mutex);
            m_quit = true;
            m_wake.notify_all();
        }
        for (auto& t : m_pool)
            t.join();
        MPI_Comm_free(&m_comm);
        if (m_finalise)
            MPI_Finalize();
    }

    [[nodiscard]] int rank() const noexcept { return m_rank; }
    [[nodiscard]] int size() const noexcept { return m_size; }
    [[nodiscard]] bool root() const noexcept { return m_rank == 0; }
    /// Ranks that evaluate (all but rank 0).
    [[nodiscard]] std::size_t workers() const noexcept {
        return static_cast<std::size_t>(m_size - 1);
    }
    [[nodiscard]] std::size_t concurrency() const noexcept {
        return std::max<std::size_t>(1, workers());
    }

    /// On rank 0: runs task(i) for i in [0, n), up to workers() at once (see the top of the file).
    /// Exceptions are caught per task; the one of the lowest index is rethrown afterwards.
    template <class Task>
    void for_each(std::size_t n, const Task& task) const {
        if (n <= 1 || workers() <= 1 || std::this_thread::get_id() != m_owner) {
            for (std::size_t i = 0; i < n; ++i)
                task(i);
            return;
        }
        std::vector<std::exception_ptr> errors(n);
        const std::function<void(std::size_t)> one = [&](std::size_t i) {
            try {
                task(i);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        };
        {
            const std::lock_guard lock(m_mutex);
            start_pool();
            m_task = &one;
            m_tasks = n;
            m_next_task = 0;
            m_running = m_pool.size(); // each takes part in every batch, once
            ++m_generation;
            m_wake.notify_all();
        }
        pump_until([&] { return m_running == 0; });
        m_task = nullptr;
        for (const auto& e : errors) {
            if (e)
                std::rethrow_exception(e);
        }
    }

    /// On a worker: evaluates what rank 0 sends until it calls release() (or this executor on
    /// rank 0 is destroyed). May be called again afterwards, e.g. with another evaluator.
    template <PrintableSpace S, class E>
    void serve(const S& space, E& evaluator) const {
        if (root())
            throw std::logic_error("mpi_executor::serve: rank 0 runs the search, not serve()");
        detail::mpi_backoff backoff;
        for (;;) {
            int flag = 0;
            MPI_Status status;
            detail::mpi_check(MPI_Iprobe(0, MPI_ANY_TAG, m_comm, &flag, &status), "MPI_Iprobe");
            if (flag == 0) {
                std::this_thread::sleep_for(backoff.next());
                continue;
            }
            backoff.reset();
            auto in = detail::mpi_receive(m_comm, 0, status.MPI_TAG);
            if (status.MPI_TAG == detail::release_tag)
                return;
            const auto id = in.get<std::uint64_t>();
            const auto has_fidelity = in.get<std::uint8_t>() != 0;
            const auto fidelity = in.get<double>();
            const auto text = in.get_text();
            std::string reason;
            evaluation e;
            try {
                e = evaluate_here(space, evaluator, text, has_fidelity, fidelity);
                reason = std::string(e.reason);
            } catch (const std::exception& x) {
                e = evaluation::failure({});
                reason = "the evaluator threw on rank " + std::to_string(m_rank) + ": " + x.what();
            } catch (...) {
                e = evaluation::failure({});
                reason = "the evaluator threw on rank " + std::to_string(m_rank);
            }
            detail::mpi_buffer out;
            out.put(id);
            out.put(static_cast<std::uint8_t>(e.status));
            out.put(e.reward);
            out.put(static_cast<std::uint64_t>(e.metrics.size()));
            for (std::size_t i = 0; i < e.metrics.size(); ++i) {
                out.put_text(e.metrics.name(i));
                out.put(e.metrics.value(i));
            }
            out.put_text(reason);
            detail::mpi_send(m_comm, 0, detail::answer_tag, out);
        }
    }

    /// On rank 0: ends every worker's serve(), after the answers still due (late ones included)
    /// have come back, so that no message of this session is left for the next.
    void release() const {
        if (!root() || m_released)
            return;
        pump_until(
            [&] { return std::ranges::none_of(m_slots, [](const slot& s) { return s.busy; }); });
        for (int r = 1; r < m_size; ++r)
            detail::mpi_send(m_comm, r, detail::release_tag, {});
        m_released = true;
    }

    // ---- what the remote evaluator uses ---------------------------------------------------------

    /// Sends (arch text, fidelity) to a worker and waits for its answer: on the calling thread's
    /// own MPI loop when it is the thread that talks MPI, else through it (so other threads may
    /// call it only from within for_each, while that thread pumps).
    /// `timeout` in seconds from reaching a worker (0: none).
    evaluation evaluate_remote(std::string_view text, bool has_fidelity, double fidelity,
                               double timeout) const {
        job j;
        j.id = ++m_next_id;
        j.timeout = timeout;
        j.request.put(j.id);
        j.request.put(static_cast<std::uint8_t>(has_fidelity ? 1 : 0));
        j.request.put(fidelity);
        j.request.put_text(text);
        {
            const std::lock_guard lock(m_mutex);
            m_released = false;
            m_queue.push_back(&j);
            m_wake.notify_all();
        }
        if (std::this_thread::get_id() == m_owner) {
            pump_until([&] { return j.done; });
        } else {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return j.done; });
        }
        return j.result;
    }

private:
    struct job {
        std::uint64_t id = 0;
        double timeout = 0;
        detail::mpi_buffer request;
        evaluation result{};
        bool done = false;
    };
    struct slot {
        bool busy = false;
        job* current = nullptr; // null once the job timed out (the answer will be dropped)
        std::uint64_t id = 0;
        std::chrono::steady_clock::time_point deadline{};
    };

    /// The task threads, started on the first parallel for_each (under m_mutex) and kept: a
    /// batch then costs two wake-ups, not thread creations.
    void start_pool() const {
        if (!m_pool.empty())
            return;
        for (std::size_t t = 0; t < workers(); ++t) {
            m_pool.emplace_back([this] {
                std::uint64_t seen = 0;
                std::unique_lock lock(m_mutex);
                for (;;) {
                    m_wake.wait(lock, [&] { return m_quit || m_generation != seen; });
                    if (m_quit)
                        return;
                    seen = m_generation;
                    while (m_next_task < m_tasks) {
                        const std::size_t i = m_next_task++;
                        const auto* task = m_task;
                        lock.unlock();
                        (*task)(i);
                        lock.lock();
                    }
                    if (--m_running == 0)
                        m_wake.notify_all();
                }
            });
        }
    }

    template <class S, class E>
    static evaluation evaluate_here(const S& space, E& evaluator, std::string_view text,
                                    bool has_fidelity, double fidelity) {
        const auto g = space.parse(text);
        if (has_fidelity) {
            if constexpr (MultiFidelityEvaluator<E, genotype_t<S>>)
                return evaluator.evaluate(g, fidelity);
            else
                return evaluation::failure("the worker's evaluator has no fidelities");
        } else {
            return evaluator.evaluate(g);
        }
    }

    /// The MPI loop, on the owning thread, until `done()` (read under the lock) holds.
    template <class Done>
    void pump_until(const Done& done) const {
        if (std::this_thread::get_id() != m_owner)
            throw std::logic_error(
                "mpi_executor: MPI is used from the thread that created it only");
        detail::mpi_backoff backoff;
        std::unique_lock lock(m_mutex);
        while (!done()) {
            bool progress = false;
            // Hand queued requests to idle workers, in the order they were posted.
            for (std::size_t r = 1; r < m_slots.size() && !m_queue.empty(); ++r) {
                auto& s = m_slots[r];
                if (s.busy)
                    continue;
                job* j = m_queue.front();
                m_queue.pop_front();
                s = {true, j, j->id, deadline(j->timeout)};
                detail::mpi_send(m_comm, static_cast<int>(r), detail::request_tag, j->request);
                progress = true;
            }
            // Answers.
            for (;;) {
                int flag = 0;
                MPI_Status status;
                detail::mpi_check(
                    MPI_Iprobe(MPI_ANY_SOURCE, detail::answer_tag, m_comm, &flag, &status),
                    "MPI_Iprobe");
                if (flag == 0)
                    break;
                auto in = detail::mpi_receive(m_comm, status.MPI_SOURCE, detail::answer_tag);
                auto& s = m_slots[static_cast<std::size_t>(status.MPI_SOURCE)];
                const auto id = in.get<std::uint64_t>();
                if (s.busy && s.id == id && s.current != nullptr)
                    finish(*s.current, decode(in));
                s.busy = false;
                s.current = nullptr;
                progress = true;
            }
            // Timeouts.
            const auto now = std::chrono::steady_clock::now();
            for (auto& s : m_slots) {
                if (s.busy && s.current != nullptr && now > s.deadline) {
                    finish(*s.current, evaluation::failure("timed out (mpi_executor)"));
                    s.current = nullptr;
                    progress = true;
                }
            }
            // No workers (-np 1; the remote evaluator refuses that): fail rather than hang.
            if (m_slots.size() <= 1) {
                while (!m_queue.empty()) {
                    finish(*m_queue.front(), evaluation::failure("mpi_executor: no worker ranks"));
                    m_queue.pop_front();
                }
            }
            if (progress) {
                backoff.reset();
                m_wake.notify_all();
                continue;
            }
            const auto wait = backoff.next();
            if (wait.count() == 0) {
                lock.unlock();
                std::this_thread::yield();
                lock.lock();
            } else {
                m_wake.wait_for(lock, wait);
            }
        }
    }

    void finish(job& j, evaluation e) const {
        j.result = std::move(e);
        j.done = true;
    }

    [[nodiscard]] static std::chrono::steady_clock::time_point deadline(double timeout) {
        if (timeout <= 0)
            return std::chrono::steady_clock::time_point::max();
        return std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double>(timeout));
    }

    /// An answer; names and reasons are interned here, so they outlive the runs that keep them.
    evaluation decode(detail::mpi_buffer& in) const {
        evaluation e;
        e.status = static_cast<eval_status>(in.get<std::uint8_t>());
        e.reward = in.get<double>();
        const auto n = in.get<std::uint64_t>();
        for (std::uint64_t i = 0; i < n; ++i) {
            const auto name = intern(in.get_text());
            e.metrics.append(name, in.get<double>());
        }
        if (const auto reason = in.get_text(); !reason.empty())
            e.reason = intern(reason);
        return e;
    }
    std::string_view intern(std::string_view s) const { return *m_names.emplace(s).first; }

    MPI_Comm m_comm = MPI_COMM_NULL;
    int m_rank = 0;
    int m_size = 1;
    bool m_finalise = false;
    std::thread::id m_owner = std::this_thread::get_id();
    // Shared with rank 0's task threads, under m_mutex.
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_wake;
    mutable std::deque<job*> m_queue;
    mutable std::vector<slot> m_slots; // by rank; slot 0 unused
    mutable std::set<std::string, std::less<>> m_names;
    mutable std::atomic<std::uint64_t> m_next_id{0};
    mutable std::size_t m_running = 0; // task threads still on the current batch
    mutable std::vector<std::thread> m_pool;
    mutable const std::function<void(std::size_t)>* m_task = nullptr;
    mutable std::size_t m_tasks = 0;
    mutable std::size_t m_next_task = 0;
    mutable std::uint64_t m_generation = 0;
    mutable bool m_quit = false;
    mutable bool m_released = false;
};

/// The evaluator rank 0 searches with: evaluate() runs on a worker (mpi_executor::serve).
/// `local` is the same evaluator as the workers': it answers fidelities().
template <PrintableSpace S, class E>
class mpi_remote_evaluator {
public:
    using G = genotype_t<S>;
    static constexpr auto thread_safety = nascent::thread_safety::constant;

    mpi_remote_evaluator(const mpi_executor& executor, const S& space, const E& local,
                         mpi_remote_options options = {})
        : m_executor(&executor), m_space(&space), m_local(&local), m_options(options) {
        if (executor.workers() == 0) {
            throw std::runtime_error(
                "mpi_remote_evaluator: no worker ranks to evaluate on (run under mpirun -np >= 2)");
        }
        if (!(m_options.timeout >= 0)) {
            throw std::invalid_argument("mpi_remote_options: timeout must be >= 0 seconds, got " +
                                        std::to_string(m_options.timeout));
        }
    }

    [[nodiscard]] evaluation evaluate(const G& g) const {
        return m_executor->evaluate_remote(std::string(m_space->to_string(g)), false, 0,
                                           m_options.timeout);
    }
    [[nodiscard]] evaluation
    evaluate(const G& g, double fidelity) const requires MultiFidelityEvaluator<const E, G> {
        return m_executor->evaluate_remote(std::string(m_space->to_string(g)), true, fidelity,
                                           m_options.timeout);
    }
    [[nodiscard]] decltype(auto) fidelities() const requires requires(const E& e) {
        e.fidelities();
    }
    { return m_local->fidelities(); }

private:
    const mpi_executor* m_executor;
    const S* m_space;
    const E* m_local;
    mpi_remote_options m_options;
};

template <class S, class E>
mpi_remote_evaluator(const mpi_executor&, const S&, const E&) -> mpi_remote_evaluator<S, E>;
template <class S, class E>
mpi_remote_evaluator(const mpi_executor&, const S&, const E&, mpi_remote_options)
    -> mpi_remote_evaluator<S, E>;

} // namespace nascent::exec
