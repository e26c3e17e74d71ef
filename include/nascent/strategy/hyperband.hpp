#pragma once
// Successive halving and Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, JMLR 2018)
// as ask/tell multi-fidelity strategies.
//
// The fidelity levels f_0 < ... < f_K come from the evaluator (for NAS-Bench-201 CIFAR-10: 12 and
// 200 epochs). A bracket s (0..K) starts n_s = ceil((K+1)/(s+1) * eta^s) configurations at level
// K-s; each rung keeps the best floor(n/eta) (at least 1) for the next level, until level K.
// Hyperband cycles s = K, K-1, ..., 0; successive halving is the single bracket s = K. eta
// defaults to (f_K/f_0)^(1/K), so that consecutive levels differ by eta (16.7 for 12 -> 200).
//
// New configurations come from a Sampler: uniform for Hyperband, a TPE model for BOHB
// (strategy/bohb.hpp). Brackets may overlap: when every request of the open brackets has been
// asked but not yet told (asynchronous workers), the next bracket opens.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <list>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::strategy {

/// Proposes configurations uniformly; learns nothing.
template <SearchSpace S>
struct uniform_sampler {
    template <RandomGenerator G>
    genotype_t<S> propose(const S& space, G& gen) {
        return space.sample(gen);
    }
    void observe(const genotype_t<S>&, std::size_t /*level*/, double /*reward*/) {}
};

/// The reduction factor Hyperband and ASHA take when none is given: the ratio of consecutive
/// fidelity levels, (f_K / f_0)^(1/K) for levels f_0 < ... < f_K, and 3 for a single level.
[[nodiscard]] inline double default_eta(std::span<const double> levels) {
    const auto k = levels.size() - 1;
    return k == 0 ? 3.0 : std::pow(levels.back() / levels.front(), 1.0 / static_cast<double>(k));
}

struct hyperband_options {
    double eta = 0;   ///< reduction factor (> 1); 0 = ratio of consecutive fidelity levels
    int bracket = -1; ///< -1: cycle all brackets (Hyperband); s >= 0: always bracket s;
                      ///< -2: always the most exploratory, s = K (successive halving)
};

template <SearchSpace S, class Sampler = uniform_sampler<S>>
class hyperband {
public:
    using genotype = genotype_t<S>;
    using request = fidelity_request<genotype>;

    explicit hyperband(S space = {}, hyperband_options opts = {}, Sampler sampler = {})
        : m_space(std::move(space)), m_options(opts), m_sampler(std::move(sampler)) {
        if (opts.eta != 0 && !(opts.eta > 1)) {
            throw std::invalid_argument("hyperband: eta must be > 1, got " +
                                        std::to_string(opts.eta));
        }
    }

    /// The fidelity levels, ascending; called by the runner before the first ask.
    void set_fidelities(std::span<const double> levels) {
        if (levels.empty())
            throw std::invalid_argument("hyperband: no fidelity levels");
        m_levels.assign(levels.begin(), levels.end());
        const auto k = m_levels.size() - 1;
        m_eta = m_options.eta != 0 ? m_options.eta : default_eta(m_levels);
        if (m_options.bracket < -2 || m_options.bracket > static_cast<int>(k)) {
            throw std::invalid_argument("hyperband: bracket " + std::to_string(m_options.bracket) +
                                        " exceeds the " + std::to_string(k) + " of " +
                                        std::to_string(m_levels.size()) + " fidelity levels");
        }
        m_next_bracket = m_options.bracket >= 0 ? static_cast<std::size_t>(m_options.bracket) : k;
        m_cycle = m_options.bracket == -1;
        m_brackets.clear();
    }

    template <RandomGenerator G>
    [[nodiscard]] request ask(G& gen) {
        if (m_levels.empty())
            throw std::logic_error("hyperband: set_fidelities was not called");
        for (auto& b : m_brackets) {
            if (b.asked < b.rung.size())
                return {b.rung[b.asked++].arch, m_levels[b.level]};
        }
        open_bracket(gen);
        auto& b = m_brackets.back();
        return {b.rung[b.asked++].arch, m_levels[b.level]};
    }

    void tell(const request& r, const evaluation& e) {
        for (auto it = m_brackets.begin(); it != m_brackets.end(); ++it) {
            if (m_levels[it->level] != r.fidelity)
                continue;
            for (std::size_t i = 0; i < it->asked; ++i) {
                auto& slot = it->rung[i];
                if (slot.told || slot.arch != r.arch)
                    continue;
                slot.told = true;
                slot.reward = e.reward;
                ++it->told;
                m_sampler.observe(r.arch, it->level, e.reward);
                if (it->told == it->rung.size())
                    promote(it);
                return;
            }
        }
        // A request this strategy did not make (or told twice): nothing to update.
    }

    [[nodiscard]] double eta() const noexcept { return m_eta; }
    [[nodiscard]] const S& space() const noexcept { return m_space; }
    [[nodiscard]] const Sampler& sampler() const noexcept { return m_sampler; }

    /// Configurations bracket s starts with.
    [[nodiscard]] std::size_t bracket_size(std::size_t s) const {
        const auto k = static_cast<double>(m_levels.size() - 1);
        return static_cast<std::size_t>(std::ceil((k + 1) / (static_cast<double>(s) + 1) *
                                                      std::pow(m_eta, static_cast<double>(s)) -
                                                  1e-9));
    }

private:
    struct entry {
        genotype arch;
        double reward = -std::numeric_limits<double>::infinity();
        bool told = false;
    };
    struct bracket_state {
        std::size_t level;
        std::vector<entry> rung;
        std::size_t asked = 0;
        std::size_t told = 0;
    };

    template <RandomGenerator G>
    void open_bracket(G& gen) {
        const std::size_t k = m_levels.size() - 1;
        const std::size_t s = m_next_bracket;
        if (m_cycle)
            m_next_bracket = s == 0 ? k : s - 1;
        bracket_state b{k - s, {}, 0, 0};
        const auto n = bracket_size(s);
        b.rung.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            b.rung.push_back({m_sampler.propose(m_space, gen)});
        m_brackets.push_back(std::move(b));
    }

    void promote(typename std::list<bracket_state>::iterator it) {
        if (it->level + 1 == m_levels.size()) {
            m_brackets.erase(it);
            return;
        }
        auto& rung = it->rung;
        std::stable_sort(rung.begin(), rung.end(),
                         [](const entry& a, const entry& b) { return a.reward > b.reward; });
        const auto keep = std::max<std::size_t>(
            1,
            static_cast<std::size_t>(std::floor(static_cast<double>(rung.size()) / m_eta + 1e-9)));
        rung.resize(keep);
        for (auto& e : rung)
            e = {e.arch};
        ++it->level;
        it->asked = 0;
        it->told = 0;
    }

    S m_space;
    hyperband_options m_options;
    Sampler m_sampler;
    std::vector<double> m_levels;
    double m_eta = 0;
    std::size_t m_next_bracket = 0;
    bool m_cycle = true;
    std::list<bracket_state> m_brackets;
};

/// Successive halving: Hyperband's most exploratory bracket only (s = K).
template <SearchSpace S>
[[nodiscard]] hyperband<S> successive_halving(S space = {}, double eta = 0) {
    return hyperband<S>(std::move(space), {.eta = eta, .bracket = -2});
}

} // namespace nascent::strategy
