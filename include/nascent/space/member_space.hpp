#pragma once
// A space restricted to a list of members, e.g. the cells a tabular benchmark actually holds
// (NAS-Bench-101's 1,000-cell subset: a random NB101 cell is in it with probability 0.24 %).
// Searches over it only ever propose members, so every query is answered by the table.
//
// Sampling is uniform over the members. Locality comes from an encoder (a callable genotype ->
// range of doubles, e.g. the path encoding): the neighbours of a genotype are the k members
// nearest to it in L1 distance of their encodings, and the mutation of a member applies the base
// space's mutation and, when the child is not a member, moves to a member near the child. Without
// an encoder the fallback is a uniformly random member.

#include <nascent/concepts.hpp>
#include <nascent/ops/mutation.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace nascent::space {

/// The encoder of a member space without one: no locality.
struct no_encoder {};

struct member_space_options {
    std::size_t neighbours = 24;     ///< k nearest members as the neighbourhood
    std::size_t mutation_tries = 20; ///< base mutations tried before moving to a near member
};

template <SearchSpace S, class Encoder = no_encoder>
class member_space {
public:
    using genotype = genotype_t<S>;
    static constexpr bool has_encoder = !std::same_as<Encoder, no_encoder>;

    /// Throws std::invalid_argument when `members` is empty or holds an invalid genotype.
    member_space(S base, std::vector<genotype> members, Encoder encoder = {},
                 member_space_options options = {})
        : m_base(std::move(base)), m_members(std::move(members)), m_encoder(std::move(encoder)),
          m_options(options) {
        if (m_members.empty())
            throw std::invalid_argument("member_space: no members");
        for (std::size_t i = 0; i < m_members.size(); ++i) {
            if (!m_base.is_valid(m_members[i])) {
                throw std::invalid_argument("member_space: member " + std::to_string(i) +
                                            " is not valid in the base space");
            }
            m_index.emplace(m_base.hash(m_members[i]), i);
            if constexpr (has_encoder) {
                const auto e = m_encoder(m_members[i]);
                m_codes.emplace_back(std::begin(e), std::end(e));
            }
        }
    }

    [[nodiscard]] const S& base() const noexcept { return m_base; }
    [[nodiscard]] const std::vector<genotype>& members() const noexcept { return m_members; }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_members.size(); }

    template <RandomGenerator G>
    [[nodiscard]] genotype sample(G& gen) const {
        return m_members[uniform_index(gen, m_members.size())];
    }

    [[nodiscard]] bool is_valid(const genotype& g) const {
        return m_base.is_valid(g) && member_of(g) != npos;
    }
    [[nodiscard]] std::uint64_t hash(const genotype& g) const { return m_base.hash(g); }

    [[nodiscard]] bool same(const genotype& a, const genotype& b) const requires
        requires(const S& s) {
        s.same(a, b);
    }
    { return m_base.same(a, b); }

    [[nodiscard]] std::string to_string(const genotype& g) const requires PrintableSpace<S> {
        return m_base.to_string(g);
    }
    /// Parses with the base space; a genotype that is not a member is an error.
    [[nodiscard]] genotype parse(std::string_view text) const requires PrintableSpace<S> {
        auto g = m_base.parse(text);
        if (member_of(g) == npos) {
            throw std::invalid_argument(
                "'" + std::string(text) +
                "' is not a member of the restricted space (not in the table)");
        }
        return g;
    }

    /// The k members nearest to g (g itself excluded), nearest first.
    [[nodiscard]] std::vector<genotype> neighbours(const genotype& g) const requires has_encoder {
        const auto order = nearest(g, m_options.neighbours + 1);
        std::vector<genotype> out;
        for (const auto i : order) {
            if (!same_arch(m_members[i], g) && out.size() < m_options.neighbours)
                out.push_back(m_members[i]);
        }
        return out;
    }

    /// The base mutation, moved onto the members (see the header comment).
    template <RandomGenerator G>
    [[nodiscard]] genotype mutate(const genotype& parent, G& gen) const {
        const ops::default_mutator_t<S> base_mutation{};
        genotype child = parent;
        for (std::size_t t = 0; t < m_options.mutation_tries; ++t) {
            child = base_mutation(m_base, parent, gen);
            if (member_of(child) != npos && !same_arch(child, parent))
                return child;
        }
        if constexpr (has_encoder) {
            // A random one of the few members nearest the last child (not the parent).
            auto order = nearest(child, 4);
            std::erase_if(order, [&](std::size_t i) { return same_arch(m_members[i], parent); });
            if (!order.empty())
                return m_members[order[uniform_index(gen, order.size())]];
        }
        if (m_members.size() == 1)
            return m_members.front();
        while (true) {
            const auto& m = m_members[uniform_index(gen, m_members.size())];
            if (!same_arch(m, parent))
                return m;
        }
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    [[nodiscard]] bool same_arch(const genotype& a, const genotype& b) const {
        if constexpr (requires { m_base.same(a, b); }) {
            return a == b || m_base.same(a, b);
        } else {
            return a == b;
        }
    }

    [[nodiscard]] std::size_t member_of(const genotype& g) const {
        const auto [first, last] = m_index.equal_range(m_base.hash(g));
        for (auto it = first; it != last; ++it) {
            if (same_arch(m_members[it->second], g))
                return it->second;
        }
        return npos;
    }

    // Indices of the k members nearest to g by L1 distance of encodings (ties: lower index).
    [[nodiscard]] std::vector<std::size_t> nearest(const genotype& g, std::size_t k) const {
        const auto e = m_encoder(g);
        const std::vector<double> code(std::begin(e), std::end(e));
        std::vector<std::pair<double, std::size_t>> d(m_members.size());
        for (std::size_t i = 0; i < m_members.size(); ++i) {
            double sum = 0;
            for (std::size_t j = 0; j < code.size() && j < m_codes[i].size(); ++j)
                sum += std::abs(code[j] - m_codes[i][j]);
            d[i] = {sum, i};
        }
        k = std::min(k, d.size());
        std::partial_sort(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(k), d.end());
        std::vector<std::size_t> out(k);
        for (std::size_t i = 0; i < k; ++i)
            out[i] = d[i].second;
        return out;
    }

    S m_base;
    std::vector<genotype> m_members;
    Encoder m_encoder;
    member_space_options m_options;
    std::unordered_multimap<std::uint64_t, std::size_t> m_index;
    std::vector<std::vector<double>> m_codes;
};

} // namespace nascent::space
