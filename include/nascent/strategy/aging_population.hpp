#pragma once
// The population of regularized (aging) evolution, Real et al., AAAI 2019: a queue of fixed
// capacity whose oldest member dies when a child joins, whatever its fitness; parents are
// tournament winners. Shared by regularized_evolution and guided_evolution.

#include <nascent/core/rng.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace nascent::strategy {

template <class G>
class aging_population {
public:
    struct member {
        G arch;
        double reward;
    };

    explicit aging_population(std::size_t capacity) : m_capacity(capacity) {
        m_members.reserve(capacity);
    }

    [[nodiscard]] bool full() const noexcept { return m_members.size() >= m_capacity; }
    [[nodiscard]] std::size_t size() const noexcept { return m_members.size(); }

    /// The best of `sample` members drawn uniformly with replacement (the first drawn among ties).
    /// The population must not be empty.
    template <RandomGenerator R>
    [[nodiscard]] const member& tournament(R& gen, std::size_t sample) const {
        const member* winner = nullptr;
        for (std::size_t i = 0; i < sample; ++i) {
            const member& candidate = m_members[uniform_index(gen, m_members.size())];
            if (winner == nullptr || candidate.reward > winner->reward)
                winner = &candidate;
        }
        return *winner;
    }

    /// Adds a member; once the population is full, it replaces the oldest.
    void add(G arch, double reward) {
        if (!full()) {
            m_members.push_back({std::move(arch), reward});
            return;
        }
        m_members[m_oldest] = {std::move(arch), reward};
        m_oldest = (m_oldest + 1) % m_members.size();
    }

private:
    std::size_t m_capacity;
    std::vector<member> m_members; // a ring buffer once full; m_oldest is its head
    std::size_t m_oldest = 0;
};

} // namespace nascent::strategy
