#pragma once
// The vocabulary of the library: the roles of the ask -> evaluate -> tell loop as concepts.
// Required members are few; optional capabilities (neighbourhoods, enumeration, canonical keys,
// string forms) have concepts of their own that algorithms test with `if constexpr`.

#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace nascent {

template <class S>
using genotype_t = typename std::remove_cvref_t<S>::genotype;

// ---------------------------------------------------------------------------------------------
// Search spaces

/// A set of architectures: owns the genotype type and what depends only on it.
/// `hash` identifies a genotype exactly (equal genotypes, equal hashes); it is what a run's
/// history uses to recognise a repeat. Isomorphism-aware identity is `canonical_key` (optional).
template <class S>
concept SearchSpace = requires {
    typename genotype_t<S>;
}
&&std::regular<genotype_t<S>>&& requires(const S& space, const genotype_t<S>& g, rng& gen) {
    { space.sample(gen) } -> std::same_as<genotype_t<S>>;
    { space.is_valid(g) } -> std::same_as<bool>;
    { space.hash(g) } -> std::same_as<std::uint64_t>;
};

/// A finite space whose members are numbered 0..size()-1 (dense ids allow array-backed caches).
template <class S>
concept EnumerableSpace = SearchSpace<S> &&
    requires(const S& space, const genotype_t<S>& g, std::uint64_t id) {
    { space.size() } -> std::same_as<std::uint64_t>;
    { space.id(g) } -> std::same_as<std::uint64_t>;
    { space.at(id) } -> std::same_as<genotype_t<S>>;
};

/// A space with a text form: `parse` throws std::invalid_argument naming the bad text.
template <class S>
concept PrintableSpace = SearchSpace<S> &&
    requires(const S& space, const genotype_t<S>& g, std::string_view text) {
    { space.to_string(g) } -> std::convertible_to<std::string>;
    { space.parse(text) } -> std::same_as<genotype_t<S>>;
};

/// A space whose genotype is a fixed-length vector of categorical choices: position i takes
/// values 0..choices(i)-1. Generic point mutation, uniform crossover and one-change
/// neighbourhoods (ops/) work on every such space.
template <class S>
concept CategoricalSpace = SearchSpace<S> &&
    requires(const S& space, genotype_t<S>& g, const genotype_t<S>& cg, std::size_t i) {
    { space.positions() } -> std::convertible_to<std::size_t>;
    { space.choices(i) } -> std::convertible_to<std::size_t>;
    { cg[i] } -> std::convertible_to<std::size_t>;
    g[i] = static_cast<std::remove_cvref_t<decltype(cg[i])>>(0);
};

/// A space that names all neighbours of a genotype itself (otherwise ops/ derives them).
template <class S>
concept NeighbourhoodSpace = SearchSpace<S> && requires(const S& space, const genotype_t<S>& g) {
    { space.neighbours(g) } -> std::ranges::forward_range;
    requires std::same_as<std::ranges::range_value_t<decltype(space.neighbours(g))>, genotype_t<S>>;
};

/// A space that knows when two genotypes compute the same function (isomorphic cells).
template <class S>
concept CanonicalSpace = SearchSpace<S> && requires(const S& space, const genotype_t<S>& g) {
    { space.canonical_key(g) } -> std::equality_comparable;
};

// ---------------------------------------------------------------------------------------------
// Operators

/// `m(space, parent, gen)` returns a child genotype of the space.
template <class M, class S>
concept Mutator = SearchSpace<S> &&
    requires(const M& m, const S& space, const genotype_t<S>& g, rng& gen) {
    { m(space, g, gen) } -> std::same_as<genotype_t<S>>;
};

/// `c(space, a, b, gen)` returns a child combining two parents.
template <class C, class S>
concept Crossover = SearchSpace<S> &&
    requires(const C& c, const S& space, const genotype_t<S>& a, const genotype_t<S>& b, rng& gen) {
    { c(space, a, b, gen) } -> std::same_as<genotype_t<S>>;
};

// ---------------------------------------------------------------------------------------------
// Evaluators

/// How an evaluator may be used from several threads (after pagmo2's levels).
enum class thread_safety {
    none,     ///< one thread at a time: runs that use it are executed sequentially
    basic,    ///< copies may be used concurrently: each parallel task gets its own copy
    constant, ///< one object may be used concurrently (const lookups, e.g. tables)
};

/// Maps a genotype to an evaluation. Failure is returned, not thrown.
template <class E, class G>
concept Evaluator = requires(E& e, const G& g) {
    { e.evaluate(g) } -> std::same_as<evaluation>;
};

/// Evaluation at a fidelity (epochs of training, for tables and trainers alike): what
/// successive halving, Hyperband and BOHB spend their budget on. `fidelities()` lists the levels
/// the evaluator supports, ascending (a table has only the epochs it recorded).
template <class E, class G>
concept MultiFidelityEvaluator = Evaluator<E, G> && requires(E& e, const G& g, double fidelity) {
    { e.evaluate(g, fidelity) } -> std::same_as<evaluation>;
    { e.fidelities() } -> std::ranges::forward_range;
};

/// An evaluator's declared thread safety: `E::thread_safety` if present, else basic
/// (pagmo2's default: copies are independent).
template <class E>
inline constexpr thread_safety thread_safety_of = [] {
    if constexpr (requires { E::thread_safety; }) {
        return static_cast<thread_safety>(E::thread_safety);
    } else {
        return thread_safety::basic;
    }
}();

// ---------------------------------------------------------------------------------------------
// Strategies

/// Ask/tell: `ask(gen)` proposes the next genotype to evaluate; `tell(g, e)` feeds a result back.
/// A strategy knows nothing about where evaluations come from. Strategies are values: a copy of
/// an unused strategy is a fresh, independent search.
template <class St>
concept Strategy = requires {
    typename genotype_t<St>;
}
&&std::copy_constructible<St>&& requires(St& s, rng& gen, const genotype_t<St>& g,
                                         const evaluation& e) {
    { s.ask(gen) } -> std::same_as<genotype_t<St>>;
    s.tell(g, e);
};

/// What a multi-fidelity strategy asks for: an architecture at a fidelity (e.g. epochs).
template <class G>
struct fidelity_request {
    G arch;
    double fidelity;
    friend constexpr bool operator==(const fidelity_request&, const fidelity_request&) = default;
};

/// A strategy that also chooses the fidelity of each evaluation (successive halving, Hyperband,
/// BOHB). It is told the fidelity levels before the first ask.
template <class St>
concept MultiFidelityStrategy = requires {
    typename genotype_t<St>;
}
&&std::copy_constructible<St>&& requires(St& s, rng& gen, const fidelity_request<genotype_t<St>>& r,
                                         const evaluation& e, std::span<const double> levels) {
    s.set_fidelities(levels);
    { s.ask(gen) } -> std::same_as<fidelity_request<genotype_t<St>>>;
    s.tell(r, e);
};

// ---------------------------------------------------------------------------------------------
// Surrogates

/// A prediction of a surrogate: mean and variance (0 for models without uncertainty).
struct prediction {
    double mean = 0.0;
    double variance = 0.0;
};

/// A model of the reward: `fit(genotypes, targets)` then `predict(g)`. Fitting on bad data (no
/// points, non-finite targets) throws std::invalid_argument; it never yields NaN predictions.
template <class M, class G>
concept Surrogate = requires(M& m, const M& cm, std::span<const G> xs, std::span<const double> ys,
                             const G& g) {
    m.fit(xs, ys);
    { cm.predict(g) } -> std::same_as<prediction>;
};

// ---------------------------------------------------------------------------------------------
// Executors

namespace detail {
/// The callable an executor is checked with: one task per index.
struct index_task_archetype {
    void operator()(std::size_t) const {}
};
} // namespace detail

/// Runs `task(i)` for i in [0, n). Results must not depend on the executor for a fixed seed:
/// tasks are independent and seed themselves from their index.
template <class X>
concept Executor = requires(X& x, std::size_t n, const detail::index_task_archetype& task) {
    x.for_each(n, task);
    { x.concurrency() } -> std::convertible_to<std::size_t>;
};

} // namespace nascent
