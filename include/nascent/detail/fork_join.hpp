#pragma once
// Happens-before edges of a fork-join, declared to ThreadSanitizer.
//
// TSan sees synchronisation only in instrumented code, and Debian's libtbb.so is not built with
// -fsanitize=thread: the edges of its task pool (spawn, steal, join) are invisible, so TSan
// reports the results a parallel_for wrote as racing with the caller that reads them after it
// returns. These annotations declare exactly what oneTBB guarantees, and nothing more:
//   - everything before the fork happens before every task;
//   - every task happens before the code after the join.
// Tasks get no edge to one another, so a real race between two concurrent tasks is still
// reported. Without TSan every member is an empty inline function.

#include <utility>

#if defined(__SANITIZE_THREAD__)
#define NASCENT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NASCENT_TSAN 1
#endif
#endif

#ifdef NASCENT_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace nascent::detail {

#ifdef NASCENT_TSAN
// The task wrapper is copied by TBB when it splits a range, on one thread, and run on another:
// that transfer is the one edge TSan cannot see, so the wrapper's copy and call alone are not
// instrumented. The body it calls is (and is kept from being inlined into them).
#define NASCENT_NO_TSAN __attribute__((no_sanitize("thread")))
#define NASCENT_TSAN_NOINLINE [[gnu::noinline]]
#else
#define NASCENT_NO_TSAN
#define NASCENT_TSAN_NOINLINE
#endif

/// One fork-join: construct before forking, wrap each task body with `task`, call `joined()`
/// after the parallel construct has returned.
class fork_join_edges {
public:
    fork_join_edges() noexcept { release(&m_fork); }
    fork_join_edges(const fork_join_edges&) = delete;
    fork_join_edges& operator=(const fork_join_edges&) = delete;
    ~fork_join_edges() = default;

    /// body, run as a task of this fork-join: it sees the fork, and the join sees it. body must
    /// outlive the parallel construct.
    template <class Body>
    class task_body {
    public:
        task_body(fork_join_edges& edges, const Body& body) noexcept
            : m_edges(&edges), m_body(&body) {}
        // TBB copies the wrapper when it splits a range: on one thread, for another.
        NASCENT_NO_TSAN task_body(const task_body& other) noexcept
            : m_edges(other.m_edges), m_body(other.m_body) {}
        task_body& operator=(const task_body&) = delete;
        ~task_body() = default;

        template <class... Args>
        NASCENT_NO_TSAN decltype(auto) operator()(Args&&... args) const {
            const scope in_task(*m_edges);
            return call(*m_body, std::forward<Args>(args)...);
        }

    private:
        template <class... Args>
        NASCENT_TSAN_NOINLINE static decltype(auto) call(const Body& body, Args&&... args) {
            return body(std::forward<Args>(args)...);
        }

        fork_join_edges* m_edges;
        const Body* m_body;
    };

    template <class Body>
    [[nodiscard]] task_body<Body> task(const Body& body) noexcept {
        return task_body<Body>(*this, body);
    }

    /// After the parallel construct returned: every task's writes are visible here.
    void joined() noexcept { acquire(&m_join); }

private:
    struct scope {
        NASCENT_NO_TSAN explicit scope(fork_join_edges& edges) noexcept : m_edges(edges) {
            acquire(&edges.m_fork);
        }
        scope(const scope&) = delete;
        scope& operator=(const scope&) = delete;
        NASCENT_NO_TSAN ~scope() { release(&m_edges.m_join); }
        fork_join_edges& m_edges;
    };

    static void acquire([[maybe_unused]] char* address) noexcept {
#ifdef NASCENT_TSAN
        __tsan_acquire(address);
#endif
    }
    static void release([[maybe_unused]] char* address) noexcept {
#ifdef NASCENT_TSAN
        __tsan_release(address);
#endif
    }

    char m_fork = 0;
    char m_join = 0;
};

} // namespace nascent::detail
