// The canary of the TSan job: two tasks of one fork-join write the same int without
// synchronisation. scripts/sanitize.sh expects ThreadSanitizer to report it, so the job proves
// that the fork-join annotations (detail/fork_join.hpp) and the suppressions do not hide a real
// race between concurrent tasks.
#include <nascent/exec/tbb_executor.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

int main() {
    int shared = 0;
    std::atomic<int> arrived{0};
    nascent::exec::tbb_executor(2).for_each(2, [&](std::size_t i) {
        // Both tasks run at once (each waits, a bounded time, for the other), so nothing orders
        // their writes. Relaxed atomics give TSan no happens-before edge.
        arrived.fetch_add(1, std::memory_order_relaxed);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (arrived.load(std::memory_order_relaxed) < 2 &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
        shared += static_cast<int>(i) + 1;
    });
    std::printf("%d\n", shared);
    return 0;
}
