#pragma once
// The Parzen estimator of tree-structured Parzen estimation (Bergstra et al., NeurIPS 2011) on a
// categorical space, shared by BOHB's sampler (strategy/bohb.hpp) and single-fidelity TPE
// (strategy/tpe.hpp): one implementation, two bandwidth rules.
//
// The density is a weighted mixture of product kernels, one per centre (an observation), plus
// optionally a uniform "prior" component. At position i the kernel centred on value v gives v
// probability 1 - lambda_i and every other value lambda_i / (c_i - 1) (Aitchison & Aitken 1976);
// lambda_i = (c_i - 1) / c_i is the uniform kernel. BOHB chooses lambda_i by leave-one-out
// likelihood and weighs centres equally; Optuna's TPE derives lambda from its prior weight and
// weighs older observations less (tpe.hpp).

#include <nascent/concepts.hpp>
#include <nascent/core/rng.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

namespace nascent::strategy {

template <CategoricalSpace S>
class categorical_parzen {
public:
    using genotype = genotype_t<S>;

    /// `weights` (one per centre, >= 0, unnormalised) and `prior_weight` (>= 0) are relative
    /// mixture weights; `lambda` holds one bandwidth per position.
    categorical_parzen(const S& space, std::vector<genotype> centres, std::vector<double> weights,
                       std::vector<double> lambda, double prior_weight = 0.0)
        : m_centres(std::move(centres)), m_weights(std::move(weights)), m_lambda(std::move(lambda)),
          m_prior_weight(prior_weight) {
        m_total = 0;
        for (const double w : m_weights)
            m_total += w;
        m_equal_weights = m_prior_weight == 0.0 && std::ranges::all_of(m_weights, [&](double w) {
                              return w == m_weights[0];
                          });
        m_prior_density = 1.0;
        m_choices.resize(m_lambda.size());
        for (std::size_t i = 0; i < m_lambda.size(); ++i) {
            m_choices[i] = space.choices(i);
            m_prior_density /= static_cast<double>(m_choices[i]);
        }
        m_total += m_prior_weight;
    }

    /// log of the mixture density at x (+1e-300 so that log stays finite).
    [[nodiscard]] double log_pdf(const genotype& x) const {
        double total = 0;
        for (std::size_t k = 0; k < m_centres.size(); ++k) {
            double prod = 1;
            for (std::size_t i = 0; i < m_lambda.size(); ++i)
                prod *= kernel(m_choices[i], m_lambda[i], m_centres[k][i] == x[i]);
            total += m_weights[k] * prod;
        }
        if (m_prior_weight > 0)
            total += m_prior_weight * m_prior_density;
        return std::log(total / m_total + 1e-300);
    }

    /// The marginal distribution of position i: probabilities of values 0..c_i-1 (sum 1).
    [[nodiscard]] std::vector<double> marginal(std::size_t i) const {
        const std::size_t c = m_choices[i];
        std::vector<double> weight_at(c, 0.0);
        double centres_weight = 0;
        for (std::size_t k = 0; k < m_centres.size(); ++k) {
            weight_at[static_cast<std::size_t>(m_centres[k][i])] += m_weights[k];
            centres_weight += m_weights[k];
        }
        const double same = c <= 1 ? 1.0 : 1.0 - m_lambda[i];
        const double other = other_value(c, m_lambda[i]);
        std::vector<double> p(c);
        for (std::size_t v = 0; v < c; ++v) {
            p[v] = (weight_at[v] * same + (centres_weight - weight_at[v]) * other +
                    m_prior_weight / static_cast<double>(c)) /
                   m_total;
        }
        return p;
    }

    /// A draw from the mixture with every bandwidth multiplied by `widen` (capped at uniform):
    /// a component, then each position from that component's kernel.
    template <RandomGenerator G>
    [[nodiscard]] genotype sample(const S& space, G& gen, double widen = 1.0) const {
        const std::size_t k = component(gen);
        if (k == m_centres.size())
            return space.sample(gen); // the uniform prior
        genotype x = m_centres[k];
        for (std::size_t i = 0; i < m_lambda.size(); ++i) {
            const std::size_t c = m_choices[i];
            const double lambda =
                std::min(m_lambda[i] * widen, static_cast<double>(c - 1) / static_cast<double>(c));
            if (c > 1 && uniform_real(gen) < lambda) {
                auto v = uniform_index(gen, c - 1);
                if (v >= static_cast<std::size_t>(x[i]))
                    ++v;
                x[i] = static_cast<std::remove_cvref_t<decltype(x[i])>>(v);
            }
        }
        return x;
    }

    [[nodiscard]] std::size_t centres() const noexcept { return m_centres.size(); }
    [[nodiscard]] const std::vector<double>& bandwidths() const noexcept { return m_lambda; }

private:
    // Probability of a value under one kernel: 1 - lambda at the centre, else lambda / (c-1).
    static double kernel(std::size_t c, double lambda, bool same) {
        if (c <= 1)
            return 1.0;
        return same ? 1.0 - lambda : lambda / static_cast<double>(c - 1);
    }
    static double other_value(std::size_t c, double lambda) {
        return c <= 1 ? 0.0 : lambda / static_cast<double>(c - 1);
    }

    // Equal weights and no prior draw a centre uniformly (BOHB's draws); otherwise by weight,
    // the prior being index centres().
    template <RandomGenerator G>
    std::size_t component(G& gen) const {
        if (m_equal_weights)
            return uniform_index(gen, m_centres.size());
        double u = uniform_real(gen) * m_total;
        for (std::size_t k = 0; k < m_centres.size(); ++k) {
            u -= m_weights[k];
            if (u < 0)
                return k;
        }
        return m_prior_weight > 0 ? m_centres.size() : m_centres.size() - 1;
    }

    std::vector<genotype> m_centres;
    std::vector<double> m_weights;
    std::vector<double> m_lambda;
    std::vector<std::size_t> m_choices;
    double m_prior_weight = 0;
    double m_prior_density = 1;
    double m_total = 0;
    bool m_equal_weights = true;
};

/// BOHB's bandwidth rule for one position: the lambda of a grid (fractions of the uniform
/// kernel's (c-1)/c, at least `min_bandwidth`) with the highest leave-one-out likelihood of the
/// centres' values, from the counts of each value: O(n + c) per bandwidth.
template <class Genotype>
[[nodiscard]] double leave_one_out_bandwidth(const std::vector<Genotype>& centres,
                                             std::size_t position, std::size_t c,
                                             double min_bandwidth) {
    const double max_lambda =
        static_cast<double>(c - 1) / static_cast<double>(std::max<std::size_t>(c, 1));
    if (c <= 1 || centres.size() < 2)
        return max_lambda;
    std::vector<std::size_t> count(c, 0);
    for (const auto& p : centres)
        ++count[static_cast<std::size_t>(p[position])];
    const double others = static_cast<double>(centres.size() - 1);
    double best = max_lambda;
    double best_ll = -std::numeric_limits<double>::infinity();
    for (const double frac : {0.01, 0.03, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0}) {
        const double lambda = std::max(min_bandwidth, frac * max_lambda);
        double ll = 0;
        for (std::size_t v = 0; v < c; ++v) {
            if (count[v] == 0)
                continue;
            const double same = static_cast<double>(count[v] - 1);
            const double p =
                same * (1.0 - lambda) + (others - same) * lambda / static_cast<double>(c - 1);
            ll += static_cast<double>(count[v]) * std::log(p / others + 1e-300);
        }
        if (ll > best_ll) {
            best_ll = ll;
            best = lambda;
        }
    }
    return best;
}

} // namespace nascent::strategy
