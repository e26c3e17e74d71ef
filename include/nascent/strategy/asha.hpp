#pragma once
// ASHA, asynchronous successive halving (Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt,
// Recht & Talwalkar, MLSys 2020): whenever a worker is free, promote a configuration that is in
// the top 1/eta of its rung's completed results and not yet promoted (looking from the highest
// rung down); if there is none, start a new configuration at the lowest fidelity. No rung ever
// waits for stragglers, so every worker stays busy.

#include <nascent/concepts.hpp>
#include <nascent/strategy/hyperband.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::strategy {

struct asha_options {
    double eta = 0; ///< reduction factor (> 1); 0 = ratio of consecutive fidelity levels
};

template <SearchSpace S, class Sampler = uniform_sampler<S>>
class asha {
public:
    using genotype = genotype_t<S>;
    using request = fidelity_request<genotype>;

    explicit asha(S space = {}, asha_options opts = {}, Sampler sampler = {})
        : m_space(std::move(space)), m_options(opts), m_sampler(std::move(sampler)) {
        if (opts.eta != 0 && !(opts.eta > 1)) {
            throw std::invalid_argument("asha: eta must be > 1, got " + std::to_string(opts.eta));
        }
    }

    void set_fidelities(std::span<const double> levels) {
        if (levels.empty())
            throw std::invalid_argument("asha: no fidelity levels");
        m_levels.assign(levels.begin(), levels.end());
        m_eta = m_options.eta != 0 ? m_options.eta : default_eta(m_levels);
        m_rungs.assign(m_levels.size(), {});
    }

    template <RandomGenerator G>
    [[nodiscard]] request ask(G& gen) {
        if (m_levels.empty())
            throw std::logic_error("asha: set_fidelities was not called");
        for (std::size_t k = m_levels.size() - 1; k-- > 0;) {
            if (auto* candidate = promotable(k)) {
                candidate->promoted = true;
                return {candidate->arch, m_levels[k + 1]};
            }
        }
        return {m_sampler.propose(m_space, gen), m_levels.front()};
    }

    void tell(const request& r, const evaluation& e) {
        const auto level =
            static_cast<std::size_t>(std::ranges::find(m_levels, r.fidelity) - m_levels.begin());
        if (level == m_levels.size())
            return; // not a fidelity of this strategy
        // Rungs stay sorted by reward, best first (stable: earlier results first among ties).
        auto& rung = m_rungs[level];
        const auto at =
            std::upper_bound(rung.begin(), rung.end(), e.reward,
                             [](double reward, const entry& x) { return reward > x.reward; });
        rung.insert(at, entry{r.arch, e.reward, false});
        m_sampler.observe(r.arch, level, e.reward);
    }

    [[nodiscard]] double eta() const noexcept { return m_eta; }
    [[nodiscard]] const S& space() const noexcept { return m_space; }
    [[nodiscard]] std::size_t completed(std::size_t level) const noexcept {
        return level < m_rungs.size() ? m_rungs[level].size() : 0;
    }

private:
    struct entry {
        genotype arch;
        double reward;
        bool promoted;
    };

    // The best not-yet-promoted entry among the top floor(n / eta) of rung k, or nullptr.
    entry* promotable(std::size_t k) {
        auto& rung = m_rungs[k];
        const auto top =
            static_cast<std::size_t>(std::floor(static_cast<double>(rung.size()) / m_eta + 1e-9));
        for (std::size_t i = 0; i < top; ++i) {
            if (!rung[i].promoted)
                return &rung[i];
        }
        return nullptr;
    }

    S m_space;
    asha_options m_options;
    Sampler m_sampler;
    std::vector<double> m_levels;
    double m_eta = 0;
    std::vector<std::vector<entry>> m_rungs; // completed evaluations per level, best first
};

} // namespace nascent::strategy
