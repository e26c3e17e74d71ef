#pragma once
// Composition of spaces without glue code.
//
//   product_space<A, B, ...>     a genotype from every part (e.g. a cell x training
//                                hyper-parameters for joint NAS + HPO, or DARTS' normal x
//                                reduction cell). Capabilities of the parts carry over: it is
//                                printable, enumerable or has neighbourhoods when all parts do.
//   conditional_space<A, B, ...> a genotype from exactly one branch (e.g. the choice between two
//                                families of architectures, each with its own sub-space).
//
// Mutation and crossover of the parts compose into the whole: see ops/composite.hpp.
// Text form: each part's text in brackets, "[a][b]"; brackets nest, so parts may be composites.

#include <nascent/concepts.hpp>
#include <nascent/ops/categorical.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace nascent::space {

namespace detail {
/// Splits "[a][b][c]" into {"a", "b", "c"}, respecting nested brackets; throws on bad nesting.
[[nodiscard]] inline std::vector<std::string_view> split_bracketed(std::string_view text,
                                                                   std::string_view what) {
    std::vector<std::string_view> parts;
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (text[pos] != '[') {
            throw std::invalid_argument("invalid " + std::string(what) + " '" + std::string(text) +
                                        "': expected '[' at position " + std::to_string(pos));
        }
        int depth = 0;
        std::size_t end = pos;
        for (; end < text.size(); ++end) {
            if (text[end] == '[')
                ++depth;
            if (text[end] == ']' && --depth == 0)
                break;
        }
        if (end == text.size()) {
            throw std::invalid_argument("invalid " + std::string(what) + " '" + std::string(text) +
                                        "': unbalanced '['");
        }
        parts.push_back(text.substr(pos + 1, end - pos - 1));
        pos = end + 1;
    }
    return parts;
}

[[nodiscard]] constexpr std::uint64_t combine_hash(std::uint64_t seed, std::uint64_t h) noexcept {
    return splitmix64(seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6U) + (seed >> 2U)));
}

template <class S>
concept HasNeighbours = NeighbourhoodSpace<S> || CategoricalSpace<S>;
} // namespace detail

/// The number of genotypes of a space as a floating-point number (spaces such as DARTS' or
/// OFA's exceed 2^64): the space's `cardinality()` or `size()`.
template <class S>
concept Countable = requires(const S& s) {
    s.cardinality();
}
|| requires(const S& s) {
    s.size();
};

template <Countable S>
[[nodiscard]] long double cardinality(const S& s) {
    if constexpr (requires { s.cardinality(); }) {
        return static_cast<long double>(s.cardinality());
    } else {
        return static_cast<long double>(s.size());
    }
}

template <SearchSpace... Parts>
requires(sizeof...(Parts) >= 1) class product_space {
public:
    using genotype = std::tuple<genotype_t<Parts>...>;
    static constexpr std::size_t arity = sizeof...(Parts);

    explicit product_space(Parts... parts) : m_parts(std::move(parts)...) {}
    product_space() requires(std::default_initializable<Parts>&&...) = default;

    template <std::size_t I>
    [[nodiscard]] const auto& part() const noexcept {
        return std::get<I>(m_parts);
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype sample(G& gen) const {
        // Parts are sampled in order: braced initialisation sequences the calls.
        return std::apply([&](const auto&... p) { return genotype{p.sample(gen)...}; }, m_parts);
    }

    [[nodiscard]] bool is_valid(const genotype& g) const {
        return all([&](auto i) { return part<i>().is_valid(std::get<i>(g)); });
    }

    [[nodiscard]] std::uint64_t hash(const genotype& g) const {
        std::uint64_t h = arity;
        for_each_index(
            [&](auto i) { h = detail::combine_hash(h, part<i>().hash(std::get<i>(g))); });
        return h;
    }

    [[nodiscard]] long double cardinality() const requires(Countable<Parts>&&...) {
        return std::apply([](const auto&... p) { return (space::cardinality(p) * ...); }, m_parts);
    }

    /// The exact count; throws std::overflow_error past 2^64 (see cardinality()).
    [[nodiscard]] std::uint64_t size() const requires(EnumerableSpace<Parts>&&...) {
        std::uint64_t total = 1;
        for_each_index([&](auto i) { total = checked_mul(total, part<i>().size()); });
        return total;
    }
    [[nodiscard]] std::uint64_t id(const genotype& g) const requires(EnumerableSpace<Parts>&&...) {
        std::uint64_t id = 0;
        std::uint64_t scale = 1;
        for_each_index([&](auto i) {
            id += scale * part<i>().id(std::get<i>(g));
            scale *= part<i>().size();
        });
        return id;
    }
    [[nodiscard]] genotype at(std::uint64_t id) const requires(EnumerableSpace<Parts>&&...) {
        genotype g;
        for_each_index([&](auto i) {
            const auto n = part<i>().size();
            std::get<i>(g) = part<i>().at(id % n);
            id /= n;
        });
        return g;
    }

    /// Genotypes differing from g in one part by one neighbour step of that part.
    [[nodiscard]] std::vector<genotype> neighbours(const genotype& g) const
        requires(detail::HasNeighbours<Parts>&&...) {
        std::vector<genotype> out;
        for_each_index([&](auto i) {
            ops::for_each_neighbour(part<i>(), std::get<i>(g), [&](const auto& n) {
                genotype h = g;
                std::get<i>(h) = n;
                out.push_back(std::move(h));
            });
        });
        return out;
    }

    [[nodiscard]] std::string to_string(const genotype& g) const
        requires(PrintableSpace<Parts>&&...) {
        std::string s;
        for_each_index(
            [&](auto i) { s += "[" + std::string(part<i>().to_string(std::get<i>(g))) + "]"; });
        return s;
    }

    [[nodiscard]] genotype parse(std::string_view text) const requires(PrintableSpace<Parts>&&...) {
        const auto parts = detail::split_bracketed(text, "product genotype");
        if (parts.size() != arity) {
            throw std::invalid_argument("invalid product genotype '" + std::string(text) +
                                        "': expected " + std::to_string(arity) + " parts, found " +
                                        std::to_string(parts.size()));
        }
        genotype g;
        for_each_index([&](auto i) { std::get<i>(g) = part<i>().parse(parts[i]); });
        return g;
    }

    [[nodiscard]] auto canonical_key(const genotype& g) const requires(CanonicalSpace<Parts>&&...) {
        return std::apply(
            [&](const auto&... p) {
                return std::apply(
                    [&](const auto&... x) { return std::tuple{p.canonical_key(x)...}; }, g);
            },
            m_parts);
    }

private:
    template <class F>
    static constexpr void for_each_index(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::integral_constant<std::size_t, I>{}), ...);
        }
        (std::make_index_sequence<arity>{});
    }
    template <class F>
    static constexpr bool all(F&& f) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return (f(std::integral_constant<std::size_t, I>{}) && ...);
        }
        (std::make_index_sequence<arity>{});
    }
    static std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b) {
        if (b != 0 && a > UINT64_MAX / b) {
            throw std::overflow_error("product_space: the number of genotypes exceeds 2^64");
        }
        return a * b;
    }

    std::tuple<Parts...> m_parts;
};

/// A genotype of exactly one branch. `sample` picks a branch uniformly (or with the given
/// weights) and samples it.
template <SearchSpace... Branches>
requires(sizeof...(Branches) >= 2) class conditional_space {
public:
    using genotype = std::variant<genotype_t<Branches>...>;
    static constexpr std::size_t arity = sizeof...(Branches);

    explicit conditional_space(Branches... branches) : m_branches(std::move(branches)...) {}
    conditional_space() requires(std::default_initializable<Branches>&&...) = default;

    template <std::size_t I>
    [[nodiscard]] const auto& branch() const noexcept {
        return std::get<I>(m_branches);
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype sample(G& gen) const {
        return sample_branch(uniform_index(gen, arity), gen);
    }

    /// A sample of branch `b`.
    template <RandomGenerator G>
    [[nodiscard]] genotype sample_branch(std::size_t b, G& gen) const {
        genotype g;
        visit_index(b, [&](auto i) { g.template emplace<i>(branch<i>().sample(gen)); });
        return g;
    }

    [[nodiscard]] bool is_valid(const genotype& g) const {
        bool ok = false;
        visit_index(g.index(), [&](auto i) { ok = branch<i>().is_valid(std::get<i>(g)); });
        return ok;
    }

    [[nodiscard]] std::uint64_t hash(const genotype& g) const {
        std::uint64_t h = 0;
        visit_index(g.index(),
                    [&](auto i) { h = detail::combine_hash(i, branch<i>().hash(std::get<i>(g))); });
        return h;
    }

    [[nodiscard]] std::string to_string(const genotype& g) const
        requires(PrintableSpace<Branches>&&...) {
        std::string s;
        visit_index(g.index(), [&](auto i) {
            s = std::to_string(i.value) + "[" + std::string(branch<i>().to_string(std::get<i>(g))) +
                "]";
        });
        return s;
    }

    [[nodiscard]] genotype parse(std::string_view text) const
        requires(PrintableSpace<Branches>&&...) {
        const auto open = text.find('[');
        std::size_t b = arity;
        if (open != std::string_view::npos && open > 0 && open <= 2) {
            b = 0;
            for (char c : text.substr(0, open))
                b = c >= '0' && c <= '9' ? b * 10 + static_cast<std::size_t>(c - '0') : arity;
        }
        if (b >= arity || text.back() != ']') {
            throw std::invalid_argument("invalid conditional genotype '" + std::string(text) +
                                        "': expected BRANCH[genotype] with BRANCH < " +
                                        std::to_string(arity));
        }
        genotype g;
        const auto inner = text.substr(open + 1, text.size() - open - 2);
        visit_index(b, [&](auto i) { g.template emplace<i>(branch<i>().parse(inner)); });
        return g;
    }

    /// Calls f(std::integral_constant<I>) for the runtime branch index b.
    template <class F>
    static constexpr void visit_index(std::size_t b, F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((b == I ? (f(std::integral_constant<std::size_t, I>{}), true) : false) || ...);
        }
        (std::make_index_sequence<arity>{});
    }

private:
    std::tuple<Branches...> m_branches;
};

} // namespace nascent::space
