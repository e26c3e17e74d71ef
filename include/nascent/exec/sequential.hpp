#pragma once
// The default executor: tasks in index order on the calling thread.

#include <cstddef>

namespace nascent::exec {

struct sequential_executor {
    template <class Task>
    void for_each(std::size_t n, const Task& task) const {
        for (std::size_t i = 0; i < n; ++i)
            task(i);
    }
    [[nodiscard]] static constexpr std::size_t concurrency() noexcept { return 1; }
};

} // namespace nascent::exec
