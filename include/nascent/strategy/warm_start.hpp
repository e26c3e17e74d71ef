#pragma once
// Warm starts: any strategy whose first proposals come from prior knowledge instead of its own
// initial design.
//
//   warm_started(inner, designs)  asks designs(gen)'s architectures first (drawn on the first
//                                 ask, with the run's generator), then hands over to `inner`; all
//                                 tells reach `inner`, so a model-based search fits on the
//                                 warm-start evaluations and REA fills its population with them
//   top_of_pool{sample, score}    a designs source: `pool` distinct draws of sample(gen), the
//                                 `count` best by score(g) — zero-cost proxy scores (Abdelfattah
//                                 et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021, warm
//                                 up with the top proxy scores of a random pool), or the predicted
//                                 mean of a surrogate fitted on another dataset (transfer)
//
// The pool is drawn per run, so runs still differ; a deterministic score makes the warm start
// reproducible from the run's seed like everything else.

#include <nascent/concepts.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace nascent::strategy {

template <Strategy Inner, class Designs>
class warm_started {
public:
    using genotype = genotype_t<Inner>;

    warm_started(Inner inner, Designs designs)
        : m_inner(std::move(inner)), m_designs(std::move(designs)) {}

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        if (!m_drawn) {
            m_queue = m_designs(gen);
            m_drawn = true;
        }
        if (m_next < m_queue.size())
            return m_queue[m_next++];
        return m_inner.ask(gen);
    }

    void tell(const genotype& g, const evaluation& e) { m_inner.tell(g, e); }

    [[nodiscard]] const Inner& inner() const noexcept { return m_inner; }
    /// The warm-start designs of this run (empty before the first ask).
    [[nodiscard]] const std::vector<genotype>& designs() const noexcept { return m_queue; }

private:
    Inner m_inner;
    Designs m_designs;
    std::vector<genotype> m_queue;
    std::size_t m_next = 0;
    bool m_drawn = false;
};

/// The `count` highest-scoring of `pool` distinct samples. `sample(gen)` draws a genotype,
/// `score(g)` rates it (higher is better; NaN ranks last).
template <class Sample, class Score>
struct top_of_pool {
    Sample sample;
    Score score;
    std::size_t pool = 100;
    std::size_t count = 10;
    /// Draws allowed per pool member before giving up on distinctness (small spaces, small pools).
    std::size_t attempts_per_member = 20;

    template <RandomGenerator G>
    [[nodiscard]] auto operator()(G& gen) const {
        using genotype = std::decay_t<std::invoke_result_t<const Sample&, G&>>;
        if (count == 0 || pool < count) {
            throw std::invalid_argument("top_of_pool: need 1 <= count <= pool, got count " +
                                        std::to_string(count) + " and pool " +
                                        std::to_string(pool));
        }
        std::vector<std::pair<double, genotype>> scored;
        scored.reserve(pool);
        for (std::size_t tries = 0; scored.size() < pool && tries < pool * attempts_per_member;
             ++tries) {
            genotype g = sample(gen);
            if (std::ranges::any_of(scored, [&](const auto& s) { return s.second == g; }))
                continue;
            const double s = static_cast<double>(score(g));
            scored.emplace_back(std::isnan(s) ? -std::numeric_limits<double>::infinity() : s,
                                std::move(g));
        }
        // Stable: equal scores keep their draw order, so the result depends on the seed only.
        std::ranges::stable_sort(scored,
                                 [](const auto& a, const auto& b) { return a.first > b.first; });
        std::vector<genotype> out;
        for (std::size_t i = 0; i < std::min(count, scored.size()); ++i)
            out.push_back(std::move(scored[i].second));
        return out;
    }
};

} // namespace nascent::strategy
