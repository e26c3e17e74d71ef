#pragma once
// Mutation operators and how a space's default one is chosen.
//
// Default: a space may name its own (`using mutator = ...`) or provide a `mutate(g, gen)`
// member; categorical spaces get point mutation; composite spaces (space/product.hpp) get the
// composition of their parts' defaults. Strategies default to it, so regularized evolution works
// on any space that has one of these.
//
// Composite operators, built from the operators of the parts:
//   product_mutation<M...>      mutates one part, chosen uniformly, with that part's mutator.
//   product_crossover<C...>     crosses every part with that part's crossover (take_either takes
//                               a part whole from a random parent).
//   conditional_mutation<M...>  with probability `switch_probability` samples a different branch,
//                               otherwise mutates within the branch.

#include <nascent/concepts.hpp>
#include <nascent/ops/categorical.hpp>
#include <nascent/space/product.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

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
    requires(const S& s, const genotype_t<S>& g, rng& gen) {
    s.mutate(g, gen);
}
struct default_mutator<S> {
    using type = space_mutation;
};
template <class S>
requires requires {
    typename S::mutator;
}
struct default_mutator<S> {
    using type = typename S::mutator;
};
} // namespace detail

/// The mutation strategies use for S unless told otherwise.
template <class S>
using default_mutator_t = typename detail::default_mutator<std::remove_cvref_t<S>>::type;

/// Takes a whole part from a random parent: the crossover of parts that have none.
struct take_either {
    template <SearchSpace S, RandomGenerator G>
    genotype_t<S> operator()(const S&, const genotype_t<S>& a, const genotype_t<S>& b,
                             G& gen) const {
        return (gen() & 1U) != 0 ? b : a;
    }
};

template <class... Ms>
struct product_mutation {
    std::tuple<Ms...> parts{};

    template <class... Ps, RandomGenerator G>
    requires(sizeof...(Ps) == sizeof...(Ms)) typename space::product_space<Ps...>::genotype
    operator()(const space::product_space<Ps...>& s,
               const typename space::product_space<Ps...>::genotype& parent, G& gen) const {
        auto child = parent;
        const auto which = uniform_index(gen, sizeof...(Ps));
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((which == I ? (std::get<I>(child) =
                                std::get<I>(parts)(s.template part<I>(), std::get<I>(parent), gen),
                            true)
                         : false) ||
             ...);
        }
        (std::index_sequence_for<Ps...>{});
        return child;
    }
};

template <class... Cs>
struct product_crossover {
    std::tuple<Cs...> parts{};

    template <class... Ps, RandomGenerator G>
    requires(sizeof...(Ps) == sizeof...(Cs)) typename space::product_space<Ps...>::genotype
    operator()(const space::product_space<Ps...>& s,
               const typename space::product_space<Ps...>::genotype& a,
               const typename space::product_space<Ps...>::genotype& b, G& gen) const {
        typename space::product_space<Ps...>::genotype child;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((std::get<I>(child) =
                  std::get<I>(parts)(s.template part<I>(), std::get<I>(a), std::get<I>(b), gen)),
             ...);
        }
        (std::index_sequence_for<Ps...>{});
        return child;
    }
};

template <class... Ms>
struct conditional_mutation {
    double switch_probability = 0.1;
    std::tuple<Ms...> branches{};

    template <class... Bs, RandomGenerator G>
    requires(sizeof...(Bs) == sizeof...(Ms)) typename space::conditional_space<Bs...>::genotype
    operator()(const space::conditional_space<Bs...>& s,
               const typename space::conditional_space<Bs...>::genotype& parent, G& gen) const {
        constexpr std::size_t n = sizeof...(Bs);
        if (uniform_real(gen) < switch_probability) {
            auto other = uniform_index(gen, n - 1);
            if (other >= parent.index())
                ++other;
            return s.sample_branch(other, gen);
        }
        typename space::conditional_space<Bs...>::genotype child = parent;
        s.visit_index(parent.index(), [&](auto i) {
            child.template emplace<i>(
                std::get<i>(branches)(s.template branch<i>(), std::get<i>(parent), gen));
        });
        return child;
    }
};

} // namespace nascent::ops

namespace nascent::ops::detail {
// Composite spaces default to the composition of their parts' default operators.
template <class... Ps>
struct default_mutator<space::product_space<Ps...>> {
    using type = product_mutation<default_mutator_t<Ps>...>;
};
template <class... Bs>
struct default_mutator<space::conditional_space<Bs...>> {
    using type = conditional_mutation<default_mutator_t<Bs>...>;
};
} // namespace nascent::ops::detail
