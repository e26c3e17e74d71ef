#pragma once
// Regularized (aging) evolution, Real et al., AAAI 2019. The population is a queue: each child is
// a mutation of the winner of a tournament among `sample` members drawn uniformly with
// replacement, and the oldest member dies, whatever its fitness. Until the population is full,
// proposals are uniform samples.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/strategy/aging_population.hpp>

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
        : m_space(std::move(space)), m_mutator(std::move(mutator)), m_options(opts),
          m_population(opts.population) {
        if (opts.population == 0)
            throw std::invalid_argument("regularized_evolution: population must be >= 1, got 0");
        if (opts.sample == 0)
            throw std::invalid_argument("regularized_evolution: sample must be >= 1, got 0");
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        if (!m_population.full())
            return m_space.sample(gen);
        return m_mutator(m_space, m_population.tournament(gen, m_options.sample).arch, gen);
    }

    void tell(const genotype& g, const evaluation& e) { m_population.add(g, e.reward); }

    [[nodiscard]] const rea_options& opts() const noexcept { return m_options; }
    [[nodiscard]] const S& space() const noexcept { return m_space; }

private:
    S m_space;
    M m_mutator;
    rea_options m_options;
    aging_population<genotype> m_population;
};

template <class S>
regularized_evolution(S) -> regularized_evolution<S>;
template <class S, class M>
regularized_evolution(S, M) -> regularized_evolution<S, M>;
template <class S, class M>
regularized_evolution(S, M, rea_options) -> regularized_evolution<S, M>;

} // namespace nascent::strategy
