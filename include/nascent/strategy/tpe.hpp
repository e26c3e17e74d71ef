#pragma once
// Single-fidelity TPE (Bergstra, Bardenet, Bengio & Kégl, NeurIPS 2011) on a categorical space,
// with Optuna 3.1's TPESampler defaults (optuna/samplers/_tpe/, read at v3.1.0):
//
// - n_startup_trials = 10: until 10 observations, proposals are uniform (space.sample);
// - gamma(n) = min(ceil(0.1 n), 25): the best gamma(n) of the n observations form l(x), the rest
//   g(x) (ties broken by age, the earlier first: NumPy's stable argsort);
// - weights = default_weights: in each group, in chronological order, the oldest m - 25 of m
//   observations get weights linspace(1/m, 1, m - 25), the newest 25 weight 1;
// - consider_prior, prior_weight = 1.0: each estimator has a uniform component of weight 1, and
//   each observation's categorical kernel is (1 + v) at its value and v elsewhere, normalised,
//   with v = prior_weight / (n_group + 1);
// - n_ei_candidates = 24: draw 24 values from l, keep the first with the highest l/g;
// - univariate (multivariate = False): each position is sampled independently from its own
//   marginal l_i and g_i. With `multivariate`, candidates are drawn jointly from l (a component,
//   then each position from its kernel) and scored by the joint densities, as Optuna's
//   multivariate TPE.
// consider_magic_clip and consider_endpoints shape Optuna's Gaussian kernels of numerical
// parameters only; a categorical space has none. The estimator is strategy/parzen.hpp's, the one
// BOHB's sampler uses. Evaluations that are not ok (or whose reward is not finite) are not
// observed: Optuna's failed trials do not enter the model either.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/strategy/parzen.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace nascent::strategy {

struct tpe_search_options {
    std::size_t startup = 10;    ///< n_startup_trials: uniform proposals before the model
    std::size_t candidates = 24; ///< n_ei_candidates (>= 1)
    double gamma = 0.1;          ///< gamma(n) = min(ceil(gamma n), gamma_cap), gamma in (0, 1]
    std::size_t gamma_cap = 25;  ///< (>= 1)
    double prior_weight = 1.0;   ///< (> 0)
    bool consider_prior = true;
    bool ramp_weights = true; ///< default_weights (else every observation weighs 1)
    bool multivariate = false;
};

/// Optuna's default_gamma: min(ceil(gamma n), cap), the product in floating point as NumPy.
[[nodiscard]] inline std::size_t tpe_gamma(std::size_t n, double gamma = 0.1,
                                           std::size_t cap = 25) {
    return std::min(static_cast<std::size_t>(std::ceil(gamma * static_cast<double>(n))), cap);
}

/// Optuna's default_weights(m) (weights in chronological order; `ramp` false: all ones).
[[nodiscard]] inline std::vector<double> tpe_weights(std::size_t m, bool ramp = true) {
    constexpr std::size_t flat = 25;
    std::vector<double> w(m, 1.0);
    if (!ramp || m < flat)
        return w;
    // np.linspace(1/m, 1, num = m - 25): start + i * step, the last point exactly 1.
    const std::size_t num = m - flat;
    const double start = 1.0 / static_cast<double>(m);
    if (num == 1) {
        w[0] = start;
    } else if (num > 1) {
        const double step = (1.0 - start) / static_cast<double>(num - 1);
        for (std::size_t i = 0; i < num; ++i)
            w[i] = start + static_cast<double>(i) * step;
        w[num - 1] = 1.0;
    }
    return w;
}

/// Optuna's Parzen estimator of one group of observations (in chronological order).
template <CategoricalSpace S>
[[nodiscard]] categorical_parzen<S> tpe_estimator(const S& space,
                                                  std::vector<genotype_t<S>> observations,
                                                  const tpe_search_options& o) {
    const std::size_t n = observations.size();
    const bool prior = o.consider_prior || n == 0;
    const double v = o.prior_weight / static_cast<double>(prior ? n + 1 : n);
    std::vector<double> lambda(space.positions());
    for (std::size_t i = 0; i < lambda.size(); ++i) {
        // The normalised row (1 + v at the value, v elsewhere) as an Aitchison-Aitken kernel.
        const auto c = static_cast<double>(space.choices(i));
        lambda[i] = (c - 1) * v / (1 + c * v);
    }
    return categorical_parzen<S>(space, std::move(observations), tpe_weights(n, o.ramp_weights),
                                 std::move(lambda), prior ? o.prior_weight : 0.0);
}

template <CategoricalSpace S>
class tpe {
public:
    using genotype = genotype_t<S>;
    using options = tpe_search_options;

    /// Throws std::invalid_argument for candidates 0, gamma outside (0, 1], gamma_cap 0 or a
    /// prior weight that is not > 0.
    explicit tpe(S space = {}, tpe_search_options opts = {})
        : m_space(std::move(space)), m_options(opts) {
        if (opts.candidates == 0)
            throw std::invalid_argument("tpe: candidates must be >= 1, got 0");
        if (!(opts.gamma > 0 && opts.gamma <= 1))
            throw std::invalid_argument("tpe: gamma must be in (0, 1], got " +
                                        std::to_string(opts.gamma));
        if (opts.gamma_cap == 0)
            throw std::invalid_argument("tpe: gamma_cap must be >= 1, got 0");
        if (!(opts.prior_weight > 0) || !std::isfinite(opts.prior_weight))
            throw std::invalid_argument("tpe: prior_weight must be > 0, got " +
                                        std::to_string(opts.prior_weight));
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        if (m_observed.size() < m_options.startup || m_observed.empty())
            return m_space.sample(gen);
        const auto [good, bad] = split();
        const genotype x =
            m_options.multivariate ? joint(good, bad, gen) : independent(good, bad, gen);
        return m_space.is_valid(x) ? x : m_space.sample(gen);
    }

    void tell(const genotype& g, const evaluation& e) {
        if (e.ok() && std::isfinite(e.reward))
            m_observed.push_back({g, e.reward});
    }

    /// l and g of the current observations (what the next ask uses once past the startup).
    [[nodiscard]] std::pair<categorical_parzen<S>, categorical_parzen<S>> split() const {
        const std::size_t n = m_observed.size();
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return m_observed[a].reward > m_observed[b].reward;
        });
        const std::size_t n_good = std::min(n, tpe_gamma(n, m_options.gamma, m_options.gamma_cap));
        std::vector<bool> is_good(n, false);
        for (std::size_t k = 0; k < n_good; ++k)
            is_good[order[k]] = true;
        std::vector<genotype> good;
        std::vector<genotype> bad;
        for (std::size_t k = 0; k < n; ++k) // chronological, as np.sort of the indices
            (is_good[k] ? good : bad).push_back(m_observed[k].arch);
        return {tpe_estimator(m_space, std::move(good), m_options),
                tpe_estimator(m_space, std::move(bad), m_options)};
    }

    [[nodiscard]] std::size_t observations() const noexcept { return m_observed.size(); }
    [[nodiscard]] const tpe_search_options& opts() const noexcept { return m_options; }
    [[nodiscard]] const S& space() const noexcept { return m_space; }

private:
    struct observation {
        genotype arch;
        double reward;
    };

    // Univariate: each position from its own marginals, the best of `candidates` draws of l_i.
    template <RandomGenerator G>
    genotype independent(const categorical_parzen<S>& good, const categorical_parzen<S>& bad,
                         G& gen) const {
        genotype x = m_observed.front().arch; // a genotype to overwrite position by position
        for (std::size_t i = 0; i < m_space.positions(); ++i) {
            const auto l = good.marginal(i);
            const auto g = bad.marginal(i);
            std::size_t best = 0;
            double best_score = -std::numeric_limits<double>::infinity();
            for (std::size_t c = 0; c < m_options.candidates; ++c) {
                const std::size_t v = draw(l, gen);
                const double score = std::log(l[v]) - std::log(g[v]);
                if (score > best_score) {
                    best_score = score;
                    best = v;
                }
            }
            x[i] = static_cast<std::remove_cvref_t<decltype(x[i])>>(best);
        }
        return x;
    }

    template <RandomGenerator G>
    genotype joint(const categorical_parzen<S>& good, const categorical_parzen<S>& bad,
                   G& gen) const {
        genotype best{};
        double best_score = -std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < m_options.candidates; ++c) {
            genotype x = good.sample(m_space, gen);
            const double score = good.log_pdf(x) - bad.log_pdf(x);
            if (score > best_score) {
                best_score = score;
                best = std::move(x);
            }
        }
        return best;
    }

    // Inverse CDF, as Optuna's _sample_from_categorical_dist: the number of cumulative
    // probabilities below a uniform draw.
    template <RandomGenerator G>
    static std::size_t draw(const std::vector<double>& p, G& gen) {
        const double u = uniform_real(gen);
        double cumulative = 0;
        for (std::size_t v = 0; v + 1 < p.size(); ++v) {
            cumulative += p[v];
            if (!(cumulative < u))
                return v;
        }
        return p.size() - 1;
    }

    S m_space;
    tpe_search_options m_options;
    std::vector<observation> m_observed;
};

template <class S>
tpe(S) -> tpe<S>;
template <class S>
tpe(S, tpe_search_options) -> tpe<S>;

} // namespace nascent::strategy
