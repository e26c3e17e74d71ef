#pragma once
// Parallel executor on oneTBB (opt-in: including this header needs TBB::tbb).
// Tasks are independent and derive their seeds from their index, so results are the same for
// any number of threads. Exceptions never leave a TBB task: each is caught inside, and after the
// loop the one of the lowest index is rethrown on the calling thread (deterministic choice).

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <nascent/detail/fork_join.hpp>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace nascent::exec {

class tbb_executor {
public:
    /// `threads` worker threads (the calling thread counts as one); 0 is rejected.
    explicit tbb_executor(std::size_t threads)
        : m_threads(checked(threads)), m_arena(static_cast<int>(threads)) {}

    template <class Task>
    void for_each(std::size_t n, const Task& task) const {
        std::vector<std::exception_ptr> errors(n);
        const auto chunk = [&](const tbb::blocked_range<std::size_t>& range) {
            for (std::size_t i = range.begin(); i != range.end(); ++i) {
                try {
                    task(i);
                } catch (...) {
                    errors[i] = std::current_exception();
                }
            }
        };
        ::nascent::detail::fork_join_edges edges;
        m_arena.execute(edges.task([&] {
            tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1), edges.task(chunk));
        }));
        edges.joined();
        for (const auto& e : errors) {
            if (e)
                std::rethrow_exception(e);
        }
    }

    [[nodiscard]] std::size_t concurrency() const noexcept { return m_threads; }

private:
    static std::size_t checked(std::size_t threads) {
        if (threads == 0)
            throw std::invalid_argument("tbb_executor: threads must be >= 1, got 0");
        return threads;
    }

    std::size_t m_threads;
    // Kept for the executor's lifetime: its worker threads stay warm between calls.
    mutable tbb::task_arena m_arena;
};

} // namespace nascent::exec
