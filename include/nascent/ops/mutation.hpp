#pragma once
// Choosing a space's mutation: a space may name its own (`using mutator = ...`) or provide a
// `mutate(g, gen)` member; categorical spaces get point mutation. Strategies default to it, so
// regularized evolution works on any space that has one of these.

#include <nascent/concepts.hpp>
#include <nascent/ops/categorical.hpp>

namespace nascent::ops {

/// Calls the space's own `mutate(g, gen)`.
struct space_mutation {
    template <SearchSpace S, RandomGenerator G>
        requires requires(const S& s, const genotype_t<S>& g, G& gen) {
            { s.mutate(g, gen) } -> std::same_as<genotype_t<S>>;
        }
    genotype_t<S> operator()(const S& space, const genotype_t<S>& parent, G& gen) const {
        return space.mutate(parent, gen);
    }
};

namespace detail {
template <class S>
struct default_mutator {
    using type = point_mutation;
};
template <class S>
    requires(!requires { typename S::mutator; }) &&
            requires(const S& s, const genotype_t<S>& g, rng& gen) { s.mutate(g, gen); }
struct default_mutator<S> {
    using type = space_mutation;
};
template <class S>
    requires requires { typename S::mutator; }
struct default_mutator<S> {
    using type = typename S::mutator;
};
} // namespace detail

/// The mutation strategies use for S unless told otherwise.
template <class S>
using default_mutator_t = typename detail::default_mutator<S>::type;

} // namespace nascent::ops
