#pragma once
// Operators for every CategoricalSpace (fixed-length vectors of categorical choices, such as the
// NAS-Bench-201 cell): point mutation, uniform crossover and the one-change neighbourhood.

#include <nascent/concepts.hpp>
#include <nascent/core/rng.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nascent::ops {

/// Changes one position, chosen uniformly, to a different choice, chosen uniformly
/// (for NAS-Bench-201: one edge to one of the 4 other ops, as in REA on NAS-Bench-201).
/// Positions with a single choice cannot change and are never picked.
struct point_mutation {
    template <CategoricalSpace S, RandomGenerator G>
    genotype_t<S> operator()(const S& space, const genotype_t<S>& parent, G& gen) const {
        genotype_t<S> child = parent;
        const std::size_t n = space.positions();
        std::size_t mutable_positions = 0;
        for (std::size_t i = 0; i < n; ++i)
            mutable_positions += space.choices(i) > 1 ? 1 : 0;
        if (mutable_positions == 0)
            return child;
        auto k = uniform_index(gen, mutable_positions);
        std::size_t pos = 0;
        for (;; ++pos) {
            if (space.choices(pos) > 1 && k-- == 0)
                break;
        }
        using value_type = std::remove_cvref_t<decltype(child[pos])>;
        const auto current = static_cast<std::uint64_t>(child[pos]);
        auto value = uniform_index(gen, space.choices(pos) - 1);
        if (value >= current)
            ++value; // skip the current choice
        child[pos] = static_cast<value_type>(value);
        return child;
    }
};

/// Each position from either parent with probability 1/2.
struct uniform_crossover {
    template <CategoricalSpace S, RandomGenerator G>
    genotype_t<S> operator()(const S& space, const genotype_t<S>& a, const genotype_t<S>& b,
                             G& gen) const {
        genotype_t<S> child = a;
        const std::size_t n = space.positions();
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (i % 64 == 0)
                bits = gen();
            if ((bits >> (i % 64)) & 1U)
                child[i] = b[i];
        }
        return child;
    }
};

/// Calls f(neighbour) for every genotype differing from g in exactly one position, position-major
/// and choice-ascending. Uses the space's own neighbours() when it has one.
template <SearchSpace S, class F>
void for_each_neighbour(const S& space, const genotype_t<S>& g, F&& f) {
    if constexpr (NeighbourhoodSpace<S>) {
        for (const auto& n : space.neighbours(g))
            f(n);
    } else {
        static_assert(CategoricalSpace<S>,
                      "for_each_neighbour needs a NeighbourhoodSpace or a CategoricalSpace");
        const std::size_t n = space.positions();
        for (std::size_t i = 0; i < n; ++i) {
            const auto current = static_cast<std::size_t>(g[i]);
            for (std::size_t v = 0; v < space.choices(i); ++v) {
                if (v == current)
                    continue;
                genotype_t<S> neighbour = g;
                neighbour[i] = static_cast<std::remove_cvref_t<decltype(neighbour[i])>>(v);
                f(neighbour);
            }
        }
    }
}

/// All neighbours of g as a vector (see for_each_neighbour).
template <SearchSpace S>
[[nodiscard]] std::vector<genotype_t<S>> neighbours(const S& space, const genotype_t<S>& g) {
    std::vector<genotype_t<S>> out;
    for_each_neighbour(space, g, [&](const genotype_t<S>& n) { out.push_back(n); });
    return out;
}

} // namespace nascent::ops
