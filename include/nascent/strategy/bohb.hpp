#pragma once
// BOHB (Falkner, Klein & Hutter, ICML 2018): Hyperband whose new configurations come from a
// tree-structured Parzen estimator instead of uniform sampling, for categorical spaces.
//
// The model is fitted on the highest fidelity level that has enough observations (at least
// 2 (d + 1) for d positions): the best `top_fraction` of them (at least d + 1) form the "good"
// density l(x), the rest (at least d + 1) the "bad" density g(x). Each density is a product over
// positions of Aitchison-Aitken kernels (keep a centre's choice with probability 1 - lambda,
// else any other uniformly); each position's lambda is chosen by leave-one-out likelihood. The
// estimator is strategy/parzen.hpp's, which single-fidelity TPE (strategy/tpe.hpp) shares.
// A proposal is, with probability `random_fraction`, uniform; otherwise the best l/g ratio among
// `candidates` draws from l with its bandwidths widened by `bandwidth_factor`, as BOHB does.

#include <nascent/concepts.hpp>
#include <nascent/strategy/hyperband.hpp>
#include <nascent/strategy/parzen.hpp>

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
            const double score = good.log_pdf(x) - bad.log_pdf(x);
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
    using density = categorical_parzen<S>;

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
        auto build = [&](std::size_t first, std::size_t last) {
            std::vector<genotype> centres;
            for (std::size_t k = first; k < last; ++k)
                centres.push_back(sorted[k]->arch);
            std::vector<double> lambda(d);
            for (std::size_t i = 0; i < d; ++i) {
                lambda[i] =
                    leave_one_out_bandwidth(centres, i, space.choices(i), m_options.min_bandwidth);
            }
            std::vector<double> weights(centres.size(), 1.0);
            return density(space, std::move(centres), std::move(weights), std::move(lambda));
        };
        m_model.emplace(build(0, n_good), build(n - n_bad, n));
        m_model_level = level;
        m_model_size = data.size();
    }

    static std::size_t count_finite(const std::vector<observation>& v) {
        return static_cast<std::size_t>(
            std::ranges::count_if(v, [](const observation& o) { return std::isfinite(o.reward); }));
    }

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
