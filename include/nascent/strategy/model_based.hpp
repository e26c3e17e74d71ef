#pragma once
// Model-based search: Bayesian optimisation with any Surrogate (a Gaussian process, BANANAS' MLP
// ensemble, a GNN) and an acquisition function, maximised over candidates made by mutating the
// best architectures so far and by random sampling, as BANANAS does (White et al., AAAI 2021).
//
//   acquisition::expected_improvement  E[max(0, f - best - xi)] under the predictive normal
//   acquisition::upper_confidence_bound mean + beta * std
//   acquisition::thompson              one draw per candidate from its predictive normal
//                                      (independent Thompson sampling, BANANAS' ITS)
//
// `refit_every` spaces out full refits (a GP's hyper-parameter search, an ensemble's training);
// in between, a GP takes each new observation by its O(n^2) update (`incremental`).
//
// Several asks before their tells (parallel workers) are handled by the kriging believer: pending
// candidates join the model's data with their predicted mean, so the next proposal looks
// elsewhere. `initial_designs` replace the first random samples — a warm start from zero-cost
// proxies or from a predictor trained on another dataset.
//
// guided_evolution is regularized evolution whose child is the best of several mutations of the
// tournament winner according to the model ("predictor-guided evolution").

#include <nascent/concepts.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/strategy/aging_population.hpp>
#include <nascent/surrogate/predict.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace nascent::strategy {

enum class acquisition : std::uint8_t { expected_improvement, upper_confidence_bound, thompson };

struct model_based_options {
    std::size_t initial = 10;      ///< evaluations before the model is used
    std::size_t candidates = 100;  ///< scored per proposal
    std::size_t parents = 10;      ///< best architectures mutated into candidates
    double mutated_fraction = 0.5; ///< share of candidates made by mutation (rest: random)
    acquisition acq = acquisition::thompson;
    double beta = 2.0;           ///< UCB's exploration weight
    double xi = 0.0;             ///< EI's improvement margin
    std::size_t refit_every = 1; ///< refit after this many new observations
    /// Between refits, models with add(g, y) (GPs: O(n^2), hyper-parameters fixed) take each new
    /// observation at once; without add, or with this off, they wait for the next refit.
    bool incremental = true;
};

namespace detail {
/// A standard normal draw (Box-Muller) from the library's generator.
template <RandomGenerator G>
double standard_normal(G& gen) {
    const double u1 = 1.0 - uniform_real(gen); // (0, 1]
    const double u2 = uniform_real(gen);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

inline double expected_improvement(const prediction& p, double best, double xi) {
    const double sd = std::sqrt(std::max(p.variance, 0.0));
    const double gain = p.mean - best - xi;
    if (sd < 1e-12)
        return std::max(gain, 0.0);
    const double z = gain / sd;
    const double cdf = 0.5 * std::erfc(-z / std::numbers::sqrt2);
    const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
    return gain * cdf + sd * pdf;
}
} // namespace detail

template <SearchSpace S, class Model, Mutator<S> M = ops::default_mutator_t<S>>
requires Surrogate<Model, genotype_t<S>>
class model_based_search {
public:
    using genotype = genotype_t<S>;

    model_based_search(S space, Model model, model_based_options opts = {},
                       std::vector<genotype> initial_designs = {}, M mutator = {})
        : m_space(std::move(space)), m_model(std::move(model)), m_options(opts),
          m_initial_designs(std::move(initial_designs)), m_mutator(std::move(mutator)) {
        if (opts.initial == 0)
            throw std::invalid_argument("model_based_search: initial must be >= 1, got 0");
        if (opts.candidates == 0)
            throw std::invalid_argument("model_based_search: candidates must be >= 1, got 0");
        if (!(opts.mutated_fraction >= 0 && opts.mutated_fraction <= 1)) {
            throw std::invalid_argument("model_based_search: mutated_fraction must lie in [0, 1]");
        }
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        const std::size_t started = m_xs.size() + m_pending.size();
        if (started < std::max(m_options.initial, m_initial_designs.size()) || m_xs.empty()) {
            genotype g = started < m_initial_designs.size() ? m_initial_designs[started]
                                                            : m_space.sample(gen);
            m_pending.push_back(g);
            return g;
        }
        // Refit on schedule, or when other proposals are in flight and have changed since the last
        // fit (the kriging believer conditions on them).
        if (!m_fitted || m_new_since_fit >= m_options.refit_every ||
            (!m_pending.empty() && m_pending_changed)) {
            refit();
        } else if (m_options.incremental) {
            catch_up();
        }

        const double best = *std::ranges::max_element(m_ys);
        std::unordered_set<std::uint64_t> taken;
        for (const auto& x : m_xs)
            taken.insert(m_space.hash(x));
        for (const auto& x : m_pending)
            taken.insert(m_space.hash(x));
        const auto parents = top_parents();
        std::vector<genotype> candidates;
        candidates.reserve(m_options.candidates);
        for (std::size_t c = 0; c < m_options.candidates; ++c) {
            const bool mutate = uniform_real(gen) < m_options.mutated_fraction && !parents.empty();
            genotype cand =
                mutate ? m_mutator(m_space, m_xs[parents[uniform_index(gen, parents.size())]], gen)
                       : m_space.sample(gen);
            if (taken.insert(m_space.hash(cand)).second)
                candidates.push_back(std::move(cand));
        }
        const auto predictions =
            surrogate::predict_all(m_model, std::span<const genotype>(candidates));
        genotype choice{};
        double choice_score = -std::numeric_limits<double>::infinity();
        bool found = false;
        for (std::size_t c = 0; c < candidates.size(); ++c) {
            const prediction& p = predictions[c];
            double score = 0;
            switch (m_options.acq) {
            case acquisition::expected_improvement:
                score = detail::expected_improvement(p, best, m_options.xi);
                break;
            case acquisition::upper_confidence_bound:
                score = p.mean + m_options.beta * std::sqrt(std::max(p.variance, 0.0));
                break;
            case acquisition::thompson:
                score =
                    p.mean + std::sqrt(std::max(p.variance, 0.0)) * detail::standard_normal(gen);
                break;
            }
            if (!found || score > choice_score) {
                choice = candidates[c];
                choice_score = score;
                found = true;
            }
        }
        if (!found)
            choice = m_space.sample(gen); // every candidate was taken: explore
        m_pending.push_back(choice);
        m_pending_changed = true;
        return choice;
    }

    void tell(const genotype& g, const evaluation& e) {
        const auto it = std::ranges::find(m_pending, g);
        if (it != m_pending.end()) {
            m_pending.erase(it);
            m_pending_changed = true;
        }
        if (!e.ok())
            return; // a failure teaches the model nothing about the reward's scale
        m_xs.push_back(g);
        m_ys.push_back(e.reward);
        ++m_new_since_fit;
    }

    [[nodiscard]] const S& space() const noexcept { return m_space; }
    [[nodiscard]] const Model& model() const noexcept { return m_model; }

private:
    // Indices of the best `parents` observations.
    [[nodiscard]] std::vector<std::size_t> top_parents() const {
        std::vector<std::size_t> order(m_xs.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        const auto k = std::min(m_options.parents, order.size());
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k),
                          order.end(), [&](std::size_t a, std::size_t b) {
                              return m_ys[a] > m_ys[b] || (m_ys[a] == m_ys[b] && a < b);
                          });
        order.resize(k);
        return order;
    }

    // Fits on the observations plus the pending candidates at their believed (predicted) reward.
    void refit() {
        std::vector<genotype> xs = m_xs;
        std::vector<double> ys = m_ys;
        m_believed_in_model = !m_pending.empty() && m_fitted;
        if (m_believed_in_model) {
            for (const auto& p : m_pending) {
                xs.push_back(p);
                ys.push_back(m_model.predict(p).mean);
            }
        }
        m_model.fit(std::span<const genotype>(xs), std::span<const double>(ys));
        m_fitted = true;
        m_in_model = m_xs.size();
        m_new_since_fit = 0;
        m_pending_changed = false;
    }

    // Adds the observations told since the last fit, where the model can (a model holding
    // believed values of pending candidates is refitted instead: they must leave it).
    void catch_up() {
        if constexpr (requires(Model & m, const genotype& g) { m.add(g, 0.0); }) {
            if (m_in_model == m_xs.size())
                return;
            if (m_believed_in_model) {
                refit();
                return;
            }
            for (; m_in_model < m_xs.size(); ++m_in_model)
                m_model.add(m_xs[m_in_model], m_ys[m_in_model]);
        }
    }

    S m_space;
    Model m_model;
    model_based_options m_options;
    std::vector<genotype> m_initial_designs;
    M m_mutator;
    std::vector<genotype> m_xs;
    std::vector<double> m_ys;
    std::vector<genotype> m_pending;
    bool m_fitted = false;
    bool m_pending_changed = false;
    bool m_believed_in_model = false; ///< the model's data includes pending candidates
    std::size_t m_in_model = 0;       ///< observations m_xs[0, m_in_model) are in the model
    std::size_t m_new_since_fit = 0;
};

struct guided_evolution_options {
    std::size_t population = 10;
    std::size_t sample = 3;
    std::size_t offspring = 10; ///< mutations of the winner the model chooses among
    std::size_t refit_every = 10;
};

/// Regularized evolution whose child is the best of `offspring` mutations of the tournament
/// winner by the model's predicted mean (once the population is full).
template <SearchSpace S, class Model, Mutator<S> M = ops::default_mutator_t<S>>
requires Surrogate<Model, genotype_t<S>>
class guided_evolution {
public:
    using genotype = genotype_t<S>;

    guided_evolution(S space, Model model, guided_evolution_options opts = {}, M mutator = {})
        : m_space(std::move(space)), m_model(std::move(model)), m_options(opts),
          m_mutator(std::move(mutator)), m_population(opts.population) {
        if (opts.population == 0 || opts.sample == 0 || opts.offspring == 0 ||
            opts.refit_every == 0) {
            throw std::invalid_argument(
                "guided_evolution: population, sample, offspring and refit_every must be >= 1");
        }
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        if (!m_population.full())
            return m_space.sample(gen);
        const genotype& parent = m_population.tournament(gen, m_options.sample).arch;
        if (!m_fitted || m_new_since_fit >= m_options.refit_every) {
            m_model.fit(std::span<const genotype>(m_xs), std::span<const double>(m_ys));
            m_fitted = true;
            m_new_since_fit = 0;
        }
        genotype best{};
        double best_mean = -std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < m_options.offspring; ++k) {
            genotype child = m_mutator(m_space, parent, gen);
            const double mean = m_model.predict(child).mean;
            if (k == 0 || mean > best_mean) {
                best = std::move(child);
                best_mean = mean;
            }
        }
        return best;
    }

    void tell(const genotype& g, const evaluation& e) {
        m_population.add(g, e.reward);
        if (e.ok()) {
            m_xs.push_back(g);
            m_ys.push_back(e.reward);
            ++m_new_since_fit;
        }
    }

    [[nodiscard]] const S& space() const noexcept { return m_space; }

private:
    S m_space;
    Model m_model;
    guided_evolution_options m_options;
    M m_mutator;
    aging_population<genotype> m_population;
    std::vector<genotype> m_xs;
    std::vector<double> m_ys;
    bool m_fitted = false;
    std::size_t m_new_since_fit = 0;
};

} // namespace nascent::strategy
