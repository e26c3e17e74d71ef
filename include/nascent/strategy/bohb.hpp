#pragma once
// BOHB (Falkner, Klein & Hutter, ICML 2018): Hyperband whose new configurations come from a
// tree-structured Parzen estimator instead of uniform sampling, for categorical spaces.
//
// The model is fitted on the highest fidelity level that has enough observations (at least
// 2 (d + 1) for d positions): the best `top_fraction` of them (at least d + 1) form the "good"
// density l(x), the rest (at least d + 1) the "bad" density g(x). Each density is a product over
// positions of Aitchison-Aitken kernels (keep a centre's choice with probability 1 - lambda,
// else any other uniformly); each position's lambda is chosen by leave-one-out likelihood.
// A proposal is, with probability `random_fraction`, uniform; otherwise the best l/g ratio among
// `candidates` draws from l with its bandwidths widened by `bandwidth_factor`, as BOHB does.

#include <nascent/concepts.hpp>
#include <nascent/strategy/hyperband.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

namespace nascent::strategy {

struct tpe_options {
    double top_fraction = 0.15;
    double random_fraction = 1.0 / 3.0;
    std::size_t candidates = 64;
    double bandwidth_factor = 3.0;
    double min_bandwidth = 1e-3;
};

template <CategoricalSpace S>
class tpe_sampler {
public:
    using genotype = genotype_t<S>;

    explicit tpe_sampler(tpe_options opts = {}) : m_options(opts) {}

    void observe(const genotype& g, std::size_t level, double reward) {
        if (m_observations.size() <= level)
            m_observations.resize(level + 1);
        m_observations[level].push_back({g, reward});
    }

    template <RandomGenerator G>
    genotype propose(const S& space, G& gen) {
        const std::size_t d = space.positions();
        const std::size_t needed = 2 * (d + 1);
        std::size_t level = m_observations.size();
        while (level > 0 && count_finite(m_observations[level - 1]) < needed)
            --level;
        if (level == 0 || uniform_real(gen) < m_options.random_fraction)
            return space.sample(gen);
        --level; // the highest level with enough observations
        if (!m_model || m_model_level != level || m_model_size != m_observations[level].size()) {
            fit(space, level);
        }
        const density& good = m_model->first;
        const density& bad = m_model->second;

        genotype best{};
        double best_score = -std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < m_options.candidates; ++c) {
            const genotype x = good.sample(space, gen, m_options.bandwidth_factor);
            const double score = good.log_pdf(space, x) - bad.log_pdf(space, x);
            if (score > best_score) {
                best_score = score;
                best = x;
            }
        }
        return best;
    }

    [[nodiscard]] std::size_t observations(std::size_t level) const noexcept {
        return level < m_observations.size() ? m_observations[level].size() : 0;
    }

private:
    struct observation {
        genotype arch;
        double reward;
    };
    class density;

    // Fits l and g on one level's observations; kept until that level gains observations.
    void fit(const S& space, std::size_t level) {
        const auto& data = m_observations[level];
        const std::size_t d = space.positions();
        std::vector<const observation*> sorted;
        for (const auto& o : data) {
            if (std::isfinite(o.reward))
                sorted.push_back(&o);
        }
        std::stable_sort(
            sorted.begin(), sorted.end(),
            [](const observation* a, const observation* b) { return a->reward > b->reward; });
        const std::size_t n = sorted.size();
        const std::size_t n_good = std::min(
            n, std::max<std::size_t>(d + 1, static_cast<std::size_t>(m_options.top_fraction *
                                                                     static_cast<double>(n))));
        const std::size_t n_bad = std::min(n, std::max<std::size_t>(d + 1, n - n_good));
        const auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(n_good);
        const auto bad_begin = sorted.end() - static_cast<std::ptrdiff_t>(n_bad);
        m_model.emplace(density(space, {sorted.begin(), mid}, m_options.min_bandwidth),
                        density(space, {bad_begin, sorted.end()}, m_options.min_bandwidth));
        m_model_level = level;
        m_model_size = data.size();
    }

    static std::size_t count_finite(const std::vector<observation>& v) {
        return static_cast<std::size_t>(
            std::ranges::count_if(v, [](const observation& o) { return std::isfinite(o.reward); }));
    }

    // A product of Aitchison-Aitken kernels centred on the given points.
    class density {
    public:
        density(const S& space, std::vector<const observation*> points, double min_bandwidth)
            : m_points(std::move(points)) {
            const std::size_t d = space.positions();
            m_lambda.resize(d);
            for (std::size_t i = 0; i < d; ++i) {
                m_lambda[i] = choose_bandwidth(space.choices(i), i, min_bandwidth);
            }
        }

        [[nodiscard]] double log_pdf(const S& space, const genotype& x) const {
            double total = 0;
            for (const auto* p : m_points) {
                double prod = 1;
                for (std::size_t i = 0; i < m_lambda.size(); ++i) {
                    prod *= kernel(space.choices(i), m_lambda[i], p->arch[i] == x[i]);
                }
                total += prod;
            }
            return std::log(total / static_cast<double>(m_points.size()) + 1e-300);
        }

        template <RandomGenerator G>
        [[nodiscard]] genotype sample(const S& space, G& gen, double widen) const {
            genotype x = m_points[uniform_index(gen, m_points.size())]->arch;
            for (std::size_t i = 0; i < m_lambda.size(); ++i) {
                const std::size_t c = space.choices(i);
                const double lambda = std::min(m_lambda[i] * widen,
                                               static_cast<double>(c - 1) / static_cast<double>(c));
                if (c > 1 && uniform_real(gen) < lambda) {
                    auto v = uniform_index(gen, c - 1);
                    if (v >= static_cast<std::size_t>(x[i]))
                        ++v;
                    x[i] = static_cast<std::remove_cvref_t<decltype(x[i])>>(v);
                }
            }
            return x;
        }

    private:
        // Probability of a value under one kernel: 1 - lambda at the centre, else lambda / (c-1).
        static double kernel(std::size_t c, double lambda, bool same) {
            if (c <= 1)
                return 1.0;
            return same ? 1.0 - lambda : lambda / static_cast<double>(c - 1);
        }
        // Leave-one-out likelihood over a grid of bandwidths (the uniform kernel at (c-1)/c),
        // from the counts of each value: O(n + c) per bandwidth.
        double choose_bandwidth(std::size_t c, std::size_t position, double min_bandwidth) const {
            const double max_lambda =
                static_cast<double>(c - 1) / static_cast<double>(std::max<std::size_t>(c, 1));
            if (c <= 1 || m_points.size() < 2)
                return max_lambda;
            std::vector<std::size_t> count(c, 0);
            for (const auto* p : m_points)
                ++count[static_cast<std::size_t>(p->arch[position])];
            const double others = static_cast<double>(m_points.size() - 1);
            double best = max_lambda;
            double best_ll = -std::numeric_limits<double>::infinity();
            for (const double frac : {0.01, 0.03, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0}) {
                const double lambda = std::max(min_bandwidth, frac * max_lambda);
                double ll = 0;
                for (std::size_t v = 0; v < c; ++v) {
                    if (count[v] == 0)
                        continue;
                    const double same = static_cast<double>(count[v] - 1);
                    const double p = same * (1.0 - lambda) +
                                     (others - same) * lambda / static_cast<double>(c - 1);
                    ll += static_cast<double>(count[v]) * std::log(p / others + 1e-300);
                }
                if (ll > best_ll) {
                    best_ll = ll;
                    best = lambda;
                }
            }
            return best;
        }

        std::vector<const observation*> m_points;
        std::vector<double> m_lambda;
    };

    tpe_options m_options;
    std::vector<std::vector<observation>> m_observations; // per fidelity level
    std::optional<std::pair<density, density>> m_model;   // (good, bad)
    std::size_t m_model_level = 0;
    std::size_t m_model_size = 0;
};

/// BOHB: Hyperband with TPE proposals.
template <CategoricalSpace S>
using bohb = hyperband<S, tpe_sampler<S>>;

template <CategoricalSpace S>
[[nodiscard]] bohb<S> make_bohb(S space = {}, hyperband_options hb = {}, tpe_options tpe = {}) {
    return bohb<S>(std::move(space), hb, tpe_sampler<S>(tpe));
}

} // namespace nascent::strategy
