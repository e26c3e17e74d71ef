#pragma once
// Scalarisation: single-objective strategies (random search, regularized evolution, local search)
// on several objectives. An evaluator adaptor replaces the reward by a scalar of the objectives,
// each first normalised to [0, 1] between a nadir (0) and an ideal (1) value:
//   weighted:  sum_j w_j f_j                     (convex parts of the front only)
//   chebyshev: -max_j w_j (1 - f_j)              (any Pareto point for some weights)
// With constraints, an infeasible candidate keeps status ok but gets a reward below every feasible
// one, ordered by its violation, so strategies rank it instead of discarding it.

#include <nascent/concepts.hpp>
#include <nascent/pareto/constraints.hpp>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::pareto {

enum class scalarisation : std::uint8_t { weighted, chebyshev };

struct scalarise_options {
    std::vector<double> weights{}; ///< one per objective, >= 0, not all 0 (default: equal)
    std::vector<double> ideal{};   ///< best value per objective (own directions)
    std::vector<double> nadir{};   ///< worst value per objective
    scalarisation method = scalarisation::chebyshev;
    std::vector<constraint> constraints{};
};

template <class E>
class scalarised_evaluator {
public:
    static constexpr auto thread_safety = thread_safety_of<E>;

    /// Throws std::invalid_argument when the sizes disagree, a weight is negative, all weights
    /// are zero, or an ideal value equals its nadir.
    scalarised_evaluator(E inner, objectives objs, scalarise_options options)
        : m_inner(std::move(inner)), m_objectives(std::move(objs)), m_options(std::move(options)) {
        const std::size_t m = m_objectives.size();
        if (m_options.weights.empty())
            m_options.weights.assign(m, 1.0 / static_cast<double>(m));
        auto check = [&](const std::vector<double>& v, const char* what) {
            if (v.size() != m) {
                throw std::invalid_argument(std::string("scalarise: ") + what + " has " +
                                            std::to_string(v.size()) + " values for " +
                                            std::to_string(m) + " objectives");
            }
        };
        check(m_options.weights, "weights");
        check(m_options.ideal, "ideal");
        check(m_options.nadir, "nadir");
        double total = 0;
        for (std::size_t j = 0; j < m; ++j) {
            if (!(m_options.weights[j] >= 0))
                throw std::invalid_argument("scalarise: weight " + std::to_string(j) +
                                            " is negative");
            total += m_options.weights[j];
            if (m_options.ideal[j] == m_options.nadir[j]) {
                throw std::invalid_argument("scalarise: ideal and nadir of objective '" +
                                            std::string(m_objectives.name(j)) + "' are equal");
            }
        }
        if (!(total > 0))
            throw std::invalid_argument("scalarise: all weights are zero");
        m_floor = m_options.method == scalarisation::weighted
                      ? 0.0
                      : -*std::ranges::max_element(m_options.weights);
    }

    template <class G>
    [[nodiscard]] evaluation evaluate(const G& g) const requires Evaluator<E, G> {
        evaluation e = m_inner.evaluate(g);
        if (!e.ok())
            return e;
        const auto s = score(e, m_objectives, m_options.constraints);
        if (!s.feasible()) {
            // Below every feasible reward; more violation, lower reward. Still data, not failure.
            e.reward = m_floor - 1.0 - std::min(s.violation, 1e300);
            return e;
        }
        double r = 0;
        double worst = 0;
        for (std::size_t j = 0; j < s.values.size(); ++j) {
            const double f = std::clamp((s.values[j] - m_options.nadir[j]) /
                                            (m_options.ideal[j] - m_options.nadir[j]),
                                        0.0, 1.0);
            r += m_options.weights[j] * f;
            worst = std::max(worst, m_options.weights[j] * (1.0 - f));
        }
        e.reward = m_options.method == scalarisation::weighted ? r : -worst;
        return e;
    }

private:
    // Mutable: the adaptor adds no state; how the inner evaluator may be shared is its own
    // thread_safety, which the adaptor passes on.
    mutable E m_inner;
    objectives m_objectives;
    scalarise_options m_options;
    double m_floor = 0;
};

} // namespace nascent::pareto
