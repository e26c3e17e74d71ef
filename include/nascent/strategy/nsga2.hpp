#pragma once
// NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEC 2002) as an ask/tell strategy over any
// space: binary tournaments on (rank, crowding distance) pick two parents, the space's crossover
// combines them (with probability crossover_probability) and its mutation perturbs the child
// (with probability mutation_probability). Once `population` offspring have been told, parents and
// offspring are merged and the best `population` survive by non-dominated rank, then crowding.
//
// Objectives are named metrics of the evaluations with a direction (pareto::objectives).
// Constraints follow Deb's constrained domination: feasible candidates beat infeasible ones,
// infeasible ones are ranked by their violation; failed evaluations are infinitely infeasible.

#include <nascent/concepts.hpp>
#include <nascent/ops/categorical.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/pareto/constraints.hpp>
#include <nascent/pareto/crowding.hpp>
#include <nascent/pareto/sort.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::strategy {

struct nsga2_options {
    std::size_t population = 50;
    double crossover_probability = 0.9;
    double mutation_probability = 1.0;
};

namespace detail {
template <class S>
using default_crossover_t =
    std::conditional_t<CategoricalSpace<S>, ops::uniform_crossover, ops::take_either>;
} // namespace detail

template <SearchSpace S, Mutator<S> M = ops::default_mutator_t<S>,
          Crossover<S> C = detail::default_crossover_t<S>>
class nsga2 {
public:
    using genotype = genotype_t<S>;

    /// Throws std::invalid_argument for a population below 2 or probabilities outside [0, 1].
    nsga2(S space, pareto::objectives objectives, nsga2_options opts = {},
          std::vector<pareto::constraint> constraints = {}, M mutator = {}, C crossover = {})
        : m_space(std::move(space)), m_objectives(std::move(objectives)), m_options(opts),
          m_constraints(std::move(constraints)), m_mutator(std::move(mutator)),
          m_crossover(std::move(crossover)) {
        if (opts.population < 2) {
            throw std::invalid_argument("nsga2: population must be >= 2, got " +
                                        std::to_string(opts.population));
        }
        for (const double p : {opts.crossover_probability, opts.mutation_probability}) {
            if (!(p >= 0 && p <= 1))
                throw std::invalid_argument("nsga2: probabilities must lie in [0, 1], got " +
                                            std::to_string(p));
        }
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        if (m_parents.empty())
            return m_space.sample(gen);
        const auto& a = m_parents[tournament(gen)].arch;
        const auto& b = m_parents[tournament(gen)].arch;
        genotype child = uniform_real(gen) < m_options.crossover_probability
                             ? m_crossover(m_space, a, b, gen)
                             : a;
        if (uniform_real(gen) < m_options.mutation_probability)
            child = m_mutator(m_space, child, gen);
        return child;
    }

    void tell(const genotype& g, const evaluation& e) {
        m_offspring.push_back({g, pareto::score(e, m_objectives, m_constraints)});
        if (m_offspring.size() < m_options.population)
            return;
        // Generation complete: survivors of parents + offspring.
        std::move(m_offspring.begin(), m_offspring.end(), std::back_inserter(m_parents));
        m_offspring.clear();
        select();
        ++m_generation;
    }

    [[nodiscard]] const S& space() const noexcept { return m_space; }
    [[nodiscard]] const pareto::objectives& objectives() const noexcept { return m_objectives; }
    [[nodiscard]] std::size_t generation() const noexcept { return m_generation; }

    /// The current parents (after the last completed generation).
    [[nodiscard]] std::vector<genotype> population() const {
        std::vector<genotype> out;
        for (const auto& p : m_parents)
            out.push_back(p.arch);
        return out;
    }

private:
    struct individual {
        genotype arch;
        pareto::scored score;
        std::size_t rank = 0;
        double crowding = 0;
    };

    // Whether a beats b in a binary tournament.
    static bool better(const individual& a, const individual& b) {
        if (a.score.violation != b.score.violation)
            return a.score.violation < b.score.violation;
        if (a.rank != b.rank)
            return a.rank < b.rank;
        return a.crowding > b.crowding;
    }

    template <RandomGenerator G>
    std::size_t tournament(G& gen) const {
        const auto i = uniform_index(gen, m_parents.size());
        const auto j = uniform_index(gen, m_parents.size());
        return better(m_parents[j], m_parents[i]) ? j : i;
    }

    void select() {
        const std::size_t n = m_options.population;
        std::vector<std::size_t> feasible;
        std::vector<std::size_t> infeasible;
        for (std::size_t i = 0; i < m_parents.size(); ++i) {
            (m_parents[i].score.feasible() ? feasible : infeasible).push_back(i);
        }
        std::vector<individual> next;
        next.reserve(n);
        if (!feasible.empty()) {
            // Objective values in the all-minimised form, flat: one sort of the merged generation.
            const std::size_t m = m_objectives.size();
            m_flat.clear();
            for (const auto i : feasible) {
                for (std::size_t j = 0; j < m; ++j) {
                    m_flat.push_back(m_objectives.minimised(j, m_parents[i].score.values[j]));
                }
            }
            const auto kept = pareto::nsga2_survivors(pareto::matrix_view::unchecked(m_flat, m),
                                                      std::min(n, feasible.size()));
            for (std::size_t k = 0; k < kept.indices.size(); ++k) {
                individual ind = std::move(m_parents[feasible[kept.indices[k]]]);
                ind.rank = kept.rank[k];
                ind.crowding = kept.crowding[k];
                next.push_back(std::move(ind));
            }
        }
        if (next.size() < n) {
            std::stable_sort(infeasible.begin(), infeasible.end(),
                             [&](std::size_t a, std::size_t b) {
                                 return m_parents[a].score.violation < m_parents[b].score.violation;
                             });
            for (std::size_t k = 0; k < infeasible.size() && next.size() < n; ++k) {
                next.push_back(std::move(m_parents[infeasible[k]]));
            }
        }
        m_parents = std::move(next);
    }

    S m_space;
    pareto::objectives m_objectives;
    nsga2_options m_options;
    std::vector<pareto::constraint> m_constraints;
    M m_mutator;
    C m_crossover;
    std::vector<individual> m_parents;
    std::vector<individual> m_offspring;
    std::vector<double> m_flat; // scratch for selection, kept to avoid reallocating
    std::size_t m_generation = 0;
};

} // namespace nascent::strategy
