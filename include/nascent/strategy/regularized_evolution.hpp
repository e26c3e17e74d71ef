#pragma once
// Regularized (aging) evolution, Real et al., AAAI 2019. The population is a queue: each child is
// a mutation of the winner of a tournament among `sample` members drawn uniformly with
// replacement, and the oldest member dies, whatever its fitness. Until the population is full,
// proposals are uniform samples.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/ops/mutation.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::strategy {

struct rea_options {
    std::size_t population = 10; ///< members alive at once (P)
    std::size_t sample = 3;      ///< tournament size (S), drawn with replacement
};

template <SearchSpace S, Mutator<S> M = ops::default_mutator_t<S>>
class regularized_evolution {
public:
    using genotype = genotype_t<S>;
    using options = rea_options;

    /// Throws std::invalid_argument for population 0 or sample 0.
    explicit regularized_evolution(S space = {}, M mutator = {}, rea_options opts = {})
        : m_space(std::move(space)), m_mutator(std::move(mutator)), m_options(opts) {
        if (opts.population == 0)
            throw std::invalid_argument("regularized_evolution: population must be >= 1, got 0");
        if (opts.sample == 0)
            throw std::invalid_argument("regularized_evolution: sample must be >= 1, got 0");
        m_population.reserve(opts.population);
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        if (m_population.size() < m_options.population) return m_space.sample(gen);
        const member* parent = nullptr;
        for (std::size_t i = 0; i < m_options.sample; ++i) {
            const member& candidate = m_population[uniform_index(gen, m_population.size())];
            if (parent == nullptr || candidate.reward > parent->reward) parent = &candidate;
        }
        return m_mutator(m_space, parent->arch, gen);
    }

    void tell(const genotype& g, const evaluation& e) {
        if (m_population.size() < m_options.population) {
            m_population.push_back({g, e.reward});
            return;
        }
        m_population[m_oldest] = {g, e.reward}; // the oldest dies
        m_oldest = (m_oldest + 1) % m_population.size();
    }

    [[nodiscard]] const rea_options& opts() const noexcept { return m_options; }
    [[nodiscard]] const S& space() const noexcept { return m_space; }

private:
    struct member {
        genotype arch;
        double reward;
    };

    S m_space;
    M m_mutator;
    rea_options m_options;
    std::vector<member> m_population; // a ring buffer once full; m_oldest is its head
    std::size_t m_oldest = 0;
};

template <class S>
regularized_evolution(S) -> regularized_evolution<S>;
template <class S, class M>
regularized_evolution(S, M) -> regularized_evolution<S, M>;
template <class S, class M>
regularized_evolution(S, M, rea_options) -> regularized_evolution<S, M>;

} // namespace nascent::strategy
