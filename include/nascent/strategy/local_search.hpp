#pragma once
// Local search as in White, Nolen, Hutter & Pan, "Local search is state of the art for NAS
// benchmarks" (2021): from a uniformly random start, evaluate all neighbours (in random order,
// so ties break uniformly), move to the best one if it strictly improves on the current
// architecture, otherwise restart from a new random architecture.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/ops/categorical.hpp>

#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

namespace nascent::strategy {

template <SearchSpace S>
class local_search {
public:
    using genotype = genotype_t<S>;

    explicit local_search(S space = {}) : m_space(std::move(space)) {}

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        if (!m_scanning)
            return m_space.sample(gen); // a (re)start
        if (m_shuffle_pending) {
            nascent::shuffle(m_neighbours.begin(), m_neighbours.end(), gen);
            m_shuffle_pending = false;
        }
        return m_neighbours[m_asked++ % m_neighbours.size()];
    }

    void tell(const genotype& g, const evaluation& e) {
        if (!m_scanning) {
            move_to(g, e.reward);
            return;
        }
        if (e.reward > m_best_reward) {
            m_best = g;
            m_best_reward = e.reward;
        }
        if (++m_told < m_neighbours.size())
            return;
        if (m_best_reward > m_current_reward) {
            const genotype next = m_best;
            move_to(next, m_best_reward);
        } else {
            m_scanning = false; // local optimum: restart
        }
    }

    [[nodiscard]] const S& space() const noexcept { return m_space; }

private:
    void move_to(const genotype& g, double reward) {
        m_current = g;
        m_current_reward = reward;
        m_neighbours.clear();
        ops::for_each_neighbour(m_space, g, [&](const genotype& n) { m_neighbours.push_back(n); });
        m_best_reward = -std::numeric_limits<double>::infinity();
        m_asked = 0;
        m_told = 0;
        m_scanning = !m_neighbours.empty();
        m_shuffle_pending = true;
    }

    S m_space;
    genotype m_current{};
    double m_current_reward = -std::numeric_limits<double>::infinity();
    std::vector<genotype> m_neighbours;
    genotype m_best{};
    double m_best_reward = -std::numeric_limits<double>::infinity();
    std::size_t m_asked = 0;
    std::size_t m_told = 0;
    bool m_scanning = false;
    bool m_shuffle_pending = false;
};

} // namespace nascent::strategy
