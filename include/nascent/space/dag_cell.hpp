#pragma once
// Cell spaces: a directed acyclic graph whose edges carry operations, parameterised at compile
// time by an op set and an edge rule.
//
//   dag_cell_space<Ops, every_edge<N>>    N nodes, an op on every edge i -> j (i < j); node 0 is
//                                         the input, node N-1 the output. NAS-Bench-201 is
//                                         dag_cell_space<nb201_ops, every_edge<4>>.
//   dag_cell_space<Ops, k_inputs<I, M, K>> I cell inputs and M intermediate nodes, each of which
//                                         sums K ops applied to K distinct earlier nodes (DARTS:
//                                         k_inputs<2, 4, 2> with 8 ops); the output concatenates
//                                         the intermediate nodes.
//
// An op set is a type with `static constexpr std::array<std::string_view, N> names` and optional
// `static constexpr int zero` (the op that outputs zeros: "none") and `identity` ("skip_connect").
// Both rules expose the cell as labelled edges (`edges(g)`), which generic encodings and cost
// models consume.

#include <nascent/core/rng.hpp>

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nascent::space {

/// An op set: a type with a constexpr array of names (see the header comment).
template <class Ops>
concept OpSet = requires {
    { Ops::names.size() } -> std::convertible_to<std::size_t>;
    { Ops::names[0] } -> std::convertible_to<std::string_view>;
};

namespace detail {
template <OpSet Ops>
[[nodiscard]] constexpr int zero_op() noexcept {
    if constexpr (requires { Ops::zero; })
        return Ops::zero;
    return -1;
}
template <OpSet Ops>
[[nodiscard]] constexpr int identity_op() noexcept {
    if constexpr (requires { Ops::identity; })
        return Ops::identity;
    return -1;
}
template <OpSet Ops>
[[nodiscard]] constexpr std::optional<std::uint8_t> op_index(std::string_view name) noexcept {
    for (std::size_t i = 0; i < Ops::names.size(); ++i) {
        if (Ops::names[i] == name)
            return static_cast<std::uint8_t>(i);
    }
    return std::nullopt;
}
template <OpSet Ops>
[[nodiscard]] std::string op_list() {
    std::string s;
    for (std::size_t i = 0; i < Ops::names.size(); ++i) {
        if (i > 0)
            s += ", ";
        s += Ops::names[i];
    }
    return s;
}
/// Parses a decimal node number; nullopt unless the whole text is digits.
[[nodiscard]] constexpr std::optional<std::size_t> parse_node(std::string_view text) noexcept {
    // One text per node: "00" or "01" would parse, print as "0" / "1" and hide typos.
    if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0'))
        return std::nullopt;
    std::size_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    return v;
}
} // namespace detail

/// One labelled edge of a cell: op `op` applied to node `from`, summed into node `to`.
struct labelled_edge {
    std::uint8_t from;
    std::uint8_t to;
    std::uint8_t op;
    friend constexpr bool operator==(const labelled_edge&, const labelled_edge&) = default;
};

/// Edge rule: an op on every edge of a complete DAG of N nodes.
template <std::size_t N>
struct every_edge {
    static_assert(N >= 2, "a cell needs an input and an output node");
    static constexpr std::size_t nodes = N;
    static constexpr std::size_t edges = N * (N - 1) / 2;
};

/// Edge rule: `Inputs` cell inputs, `Intermediate` nodes each reading K distinct earlier nodes.
template <std::size_t Inputs, std::size_t Intermediate, std::size_t K = 2>
struct k_inputs {
    static_assert(Inputs >= K, "the first intermediate node needs K distinct inputs");
    static constexpr std::size_t inputs = Inputs;
    static constexpr std::size_t intermediate = Intermediate;
    static constexpr std::size_t k = K;
};

template <OpSet Ops, class Rule>
class dag_cell_space;

// ---------------------------------------------------------------------------------------------
// every_edge: NAS-Bench-201-style cells

/// The ops on the edges of a complete DAG, edge order (0,1), (0,2), (1,2), (0,3), (1,3), (2,3)...
/// (by target node, then source): the order of the NAS-Bench-201 arch string.
template <std::size_t E>
struct edge_cell {
    std::array<std::uint8_t, E> ops{};

    [[nodiscard]] constexpr std::uint8_t& operator[](std::size_t edge) noexcept {
        return ops[edge];
    }
    [[nodiscard]] constexpr const std::uint8_t& operator[](std::size_t edge) const noexcept {
        return ops[edge];
    }
    [[nodiscard]] static constexpr std::size_t size() noexcept { return E; }
    friend constexpr auto operator<=>(const edge_cell&, const edge_cell&) = default;
};

template <OpSet Ops, std::size_t N>
class dag_cell_space<Ops, every_edge<N>> {
public:
    static constexpr std::size_t num_nodes = N;
    static constexpr std::size_t num_edges = every_edge<N>::edges;
    static constexpr std::size_t num_ops = Ops::names.size();
    using genotype = edge_cell<num_edges>;
    using ops_type = Ops;

    /// (from, to) of each edge position.
    static constexpr std::array<std::pair<std::uint8_t, std::uint8_t>, num_edges> edge_nodes = [] {
        std::array<std::pair<std::uint8_t, std::uint8_t>, num_edges> out{};
        std::size_t e = 0;
        for (std::size_t to = 1; to < N; ++to) {
            for (std::size_t from = 0; from < to; ++from) {
                out[e++] = {static_cast<std::uint8_t>(from), static_cast<std::uint8_t>(to)};
            }
        }
        return out;
    }();

    [[nodiscard]] static constexpr std::size_t positions() noexcept { return num_edges; }
    [[nodiscard]] static constexpr std::size_t choices(std::size_t /*edge*/) noexcept {
        return num_ops;
    }

    // Dense numbering (base num_ops, edge 0 the lowest digit), while the count fits in 64 bits.
    static constexpr bool enumerable = [] {
        long double size = 1;
        for (std::size_t e = 0; e < num_edges; ++e)
            size *= num_ops;
        return size < 1.8e19L;
    }();

    [[nodiscard]] static constexpr std::uint64_t size() noexcept requires enumerable {
        std::uint64_t size = 1;
        for (std::size_t e = 0; e < num_edges; ++e)
            size *= num_ops;
        return size;
    }
    [[nodiscard]] static constexpr std::uint64_t
    id(const genotype& c) noexcept requires enumerable {
        std::uint64_t id = 0;
        for (std::size_t e = num_edges; e-- > 0;)
            id = id * num_ops + c.ops[e];
        return id;
    }
    /// The cell of a dense id; ids >= size() are reduced modulo size().
    [[nodiscard]] static constexpr genotype at(std::uint64_t id) noexcept requires enumerable {
        genotype c;
        for (std::size_t e = 0; e < num_edges; ++e) {
            c.ops[e] = static_cast<std::uint8_t>(id % num_ops);
            id /= num_ops;
        }
        return c;
    }

    template <RandomGenerator G>
    [[nodiscard]] static constexpr genotype sample(G& gen) noexcept {
        if constexpr (enumerable) {
            return at(uniform_index(gen, size())); // one draw instead of one per edge
        } else {
            genotype c;
            for (auto& op : c.ops)
                op = static_cast<std::uint8_t>(uniform_index(gen, num_ops));
            return c;
        }
    }

    [[nodiscard]] static constexpr bool is_valid(const genotype& c) noexcept {
        return std::ranges::all_of(c.ops, [](std::uint8_t o) { return o < num_ops; });
    }

    [[nodiscard]] static constexpr std::uint64_t hash(const genotype& c) noexcept {
        if constexpr (enumerable) {
            return id(c);
        } else {
            std::uint64_t h = 0;
            for (auto op : c.ops)
                h = splitmix64(h ^ op);
            return h;
        }
    }

    /// All cells that differ on exactly one edge, edge-major, op ascending.
    [[nodiscard]] static constexpr std::array<genotype, num_edges*(num_ops - 1)>
    neighbours(const genotype& c) noexcept {
        std::array<genotype, num_edges*(num_ops - 1)> out{};
        std::size_t k = 0;
        for (std::size_t e = 0; e < num_edges; ++e) {
            for (std::uint8_t o = 0; o < num_ops; ++o) {
                if (o == c.ops[e])
                    continue;
                out[k] = c;
                out[k].ops[e] = o;
                ++k;
            }
        }
        return out;
    }

    /// Every edge with its op; a zero op still appears (it is part of the genotype).
    [[nodiscard]] static constexpr std::array<labelled_edge, num_edges>
    edges(const genotype& c) noexcept {
        std::array<labelled_edge, num_edges> out{};
        for (std::size_t e = 0; e < num_edges; ++e) {
            out[e] = {edge_nodes[e].first, edge_nodes[e].second, c.ops[e]};
        }
        return out;
    }

    /// The NAS-Bench-201 form: `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`, one group per node.
    [[nodiscard]] static std::string to_string(const genotype& c) {
        std::string s;
        s.reserve(num_edges * 16);
        for (std::size_t e = 0; e < num_edges; ++e) {
            const auto [from, to] = edge_nodes[e];
            if (e > 0 && from == 0)
                s += '+';
            s += '|';
            s += Ops::names[c.ops[e]];
            s += '~';
            s += std::to_string(from);
            if (from + 1 == to)
                s += '|';
        }
        return s;
    }

    /// Parses the string form strictly; throws std::invalid_argument naming the text and fault.
    [[nodiscard]] static genotype parse(std::string_view text) {
        auto fail = [&](const std::string& what) -> std::invalid_argument {
            return std::invalid_argument("invalid arch string '" + std::string(text) +
                                         "': " + what);
        };
        genotype c;
        std::size_t pos = 0;
        std::size_t edge = 0;
        for (std::size_t to = 1; to < N; ++to) {
            if (to > 1) {
                if (pos >= text.size() || text[pos] != '+')
                    throw fail("expected '+' before node " + std::to_string(to));
                ++pos;
            }
            if (pos >= text.size() || text[pos] != '|')
                throw fail("expected '|' at position " + std::to_string(pos));
            ++pos;
            for (std::size_t from = 0; from < to; ++from, ++edge) {
                const auto end = text.find('|', pos);
                if (end == std::string_view::npos)
                    throw fail("missing '|' after position " + std::to_string(pos));
                const auto item = text.substr(pos, end - pos);
                const auto tilde = item.rfind('~');
                if (tilde == std::string_view::npos)
                    throw fail("entry '" + std::string(item) + "' is not op~input");
                const auto name = item.substr(0, tilde);
                const auto op = detail::op_index<Ops>(name);
                if (!op) {
                    throw fail("unknown op '" + std::string(name) +
                               "' (valid: " + detail::op_list<Ops>() + ")");
                }
                if (detail::parse_node(item.substr(tilde + 1)) != from) {
                    throw fail("entry '" + std::string(item) + "' of node " + std::to_string(to) +
                               " must read from node " + std::to_string(from));
                }
                c.ops[edge] = *op;
                pos = end + 1;
            }
        }
        if (pos != text.size())
            throw fail("unexpected trailing text '" + std::string(text.substr(pos)) + "'");
        return c;
    }

    /// Isomorphism-aware key: equal keys compute the same function. NATS-Bench's
    /// `Structure.to_unique_str(consider_zero=True)`, generalised to N nodes: each node is the
    /// sorted sum of its inputs; the identity op passes its input's expression through; the zero
    /// op, or an input that is exactly zero ('#'), contributes '#'; other ops wrap their input as
    /// `(x)@op`. For NAS-Bench-201 it reproduces the table's 6,466 `iso` classes exactly.
    [[nodiscard]] static std::string canonical_key(const genotype& c) {
        constexpr int zero = detail::zero_op<Ops>();
        constexpr int identity = detail::identity_op<Ops>();
        std::array<std::string, N> node;
        node[0] = "0";
        std::size_t edge = 0;
        std::vector<std::string> terms;
        for (std::size_t to = 1; to < N; ++to) {
            terms.clear();
            for (std::size_t from = 0; from < to; ++from, ++edge) {
                const int op = c.ops[edge];
                if (op == zero || node[from] == "#") {
                    terms.emplace_back("#");
                } else if (op == identity) {
                    terms.push_back(node[from]);
                } else {
                    terms.push_back("(" + node[from] + ")@" + std::string(Ops::names[op]));
                }
            }
            std::ranges::sort(terms);
            std::string joined;
            for (std::size_t i = 0; i < terms.size(); ++i) {
                if (i > 0)
                    joined += '+';
                joined += terms[i];
            }
            node[to] = std::move(joined);
        }
        return node[N - 1];
    }
};

// ---------------------------------------------------------------------------------------------
// k_inputs: DARTS-style cells

/// For each intermediate node, K (input, op) slots with distinct inputs, kept sorted by input so
/// that equal cells (the node sums its inputs) have equal genotypes.
template <std::size_t M, std::size_t K>
struct input_cell {
    struct slot {
        std::uint8_t input;
        std::uint8_t op;
        friend constexpr auto operator<=>(const slot&, const slot&) = default;
    };
    std::array<std::array<slot, K>, M> nodes{};
    friend constexpr auto operator<=>(const input_cell&, const input_cell&) = default;
};

template <OpSet Ops, std::size_t I, std::size_t M, std::size_t K>
class dag_cell_space<Ops, k_inputs<I, M, K>> {
public:
    static constexpr std::size_t num_inputs = I;
    static constexpr std::size_t num_intermediate = M;
    static constexpr std::size_t inputs_per_node = K;
    static constexpr std::size_t num_ops = Ops::names.size();
    using genotype = input_cell<M, K>;
    using ops_type = Ops;

    /// Cells in the space: per node, C(I + n, K) input sets times num_ops^K op choices.
    [[nodiscard]] static constexpr long double size() noexcept {
        long double total = 1;
        for (std::size_t n = 0; n < M; ++n) {
            total *= binomial(I + n, K);
            for (std::size_t k = 0; k < K; ++k)
                total *= num_ops;
        }
        return total;
    }

    template <RandomGenerator G>
    [[nodiscard]] static genotype sample(G& gen) {
        genotype c;
        for (std::size_t n = 0; n < M; ++n) {
            // K distinct inputs among the I + n earlier nodes (partial Fisher-Yates).
            std::array<std::uint8_t, I + M> pool{};
            for (std::size_t i = 0; i < I + n; ++i)
                pool[i] = static_cast<std::uint8_t>(i);
            for (std::size_t k = 0; k < K; ++k) {
                const auto j = k + uniform_index(gen, I + n - k);
                std::swap(pool[k], pool[j]);
                c.nodes[n][k] = {pool[k], static_cast<std::uint8_t>(uniform_index(gen, num_ops))};
            }
            normalise(c.nodes[n]);
        }
        return c;
    }

    [[nodiscard]] static constexpr bool is_valid(const genotype& c) noexcept {
        for (std::size_t n = 0; n < M; ++n) {
            for (std::size_t k = 0; k < K; ++k) {
                const auto& s = c.nodes[n][k];
                if (s.input >= I + n || s.op >= num_ops)
                    return false;
                if (k > 0 && c.nodes[n][k - 1].input >= s.input)
                    return false; // sorted, distinct
            }
        }
        return true;
    }

    [[nodiscard]] static constexpr std::uint64_t hash(const genotype& c) noexcept {
        std::uint64_t h = 0x243f6a8885a308d3ULL;
        for (const auto& node : c.nodes) {
            for (const auto& s : node)
                h = splitmix64(h ^ (std::uint64_t{s.input} << 8U | s.op));
        }
        return h;
    }

    /// One change: a slot's op, or a slot's input moved to another node not already read.
    [[nodiscard]] static std::vector<genotype> neighbours(const genotype& c) {
        std::vector<genotype> out;
        for (std::size_t n = 0; n < M; ++n) {
            for (std::size_t k = 0; k < K; ++k) {
                for (std::uint8_t op = 0; op < num_ops; ++op) {
                    if (op == c.nodes[n][k].op)
                        continue;
                    genotype g = c;
                    g.nodes[n][k].op = op;
                    out.push_back(g);
                }
                for (std::uint8_t in = 0; in < I + n; ++in) {
                    if (reads(c.nodes[n], in))
                        continue;
                    genotype g = c;
                    g.nodes[n][k].input = in;
                    normalise(g.nodes[n]);
                    out.push_back(g);
                }
            }
        }
        return out;
    }

    /// A random neighbour, drawn without building the list: the mutation of DARTS-space
    /// evolution (change one op or one input).
    template <RandomGenerator G>
    [[nodiscard]] static genotype mutate(const genotype& c, G& gen) {
        genotype g = c;
        const auto n = uniform_index(gen, M);
        const auto k = uniform_index(gen, K);
        auto& s = g.nodes[n][k];
        const std::size_t free_inputs = I + n - K;
        // Choose uniformly among the (num_ops - 1) op changes and free_inputs input changes.
        auto pick = uniform_index(gen, num_ops - 1 + free_inputs);
        if (pick < num_ops - 1) {
            s.op = static_cast<std::uint8_t>(pick >= s.op ? pick + 1 : pick);
            return g;
        }
        pick -= num_ops - 1;
        for (std::uint8_t in = 0;; ++in) {
            if (reads(c.nodes[n], in))
                continue;
            if (pick-- == 0) {
                s.input = in;
                break;
            }
        }
        normalise(g.nodes[n]);
        return g;
    }

    /// Labelled edges: slot (input, op) of intermediate node n is the edge input -> I + n.
    [[nodiscard]] static constexpr std::array<labelled_edge, M * K>
    edges(const genotype& c) noexcept {
        std::array<labelled_edge, M * K> out{};
        for (std::size_t n = 0; n < M; ++n) {
            for (std::size_t k = 0; k < K; ++k) {
                out[n * K + k] = {c.nodes[n][k].input, static_cast<std::uint8_t>(I + n),
                                  c.nodes[n][k].op};
            }
        }
        return out;
    }

    /// NAS-Bench-301 / DARTS-genotype form: `op~input|op~input|...`, K entries per node.
    [[nodiscard]] static std::string to_string(const genotype& c) {
        std::string s;
        for (std::size_t n = 0; n < M; ++n) {
            for (std::size_t k = 0; k < K; ++k) {
                if (n + k > 0)
                    s += '|';
                s += Ops::names[c.nodes[n][k].op];
                s += '~';
                s += std::to_string(c.nodes[n][k].input);
            }
        }
        return s;
    }

    /// Parses `op~input|...`; slots of a node may come in any order (they are sorted).
    [[nodiscard]] static genotype parse(std::string_view text) {
        auto fail = [&](const std::string& what) -> std::invalid_argument {
            return std::invalid_argument("invalid cell string '" + std::string(text) +
                                         "': " + what);
        };
        genotype c;
        std::size_t pos = 0;
        for (std::size_t n = 0; n < M; ++n) {
            for (std::size_t k = 0; k < K; ++k) {
                if (n + k > 0) {
                    if (pos >= text.size() || text[pos] != '|')
                        throw fail("expected " + std::to_string(M * K) +
                                   " entries separated by '|'");
                    ++pos;
                }
                const auto end = std::min(text.find('|', pos), text.size());
                const auto item = text.substr(pos, end - pos);
                const auto tilde = item.rfind('~');
                if (tilde == std::string_view::npos)
                    throw fail("entry '" + std::string(item) + "' is not op~input");
                const auto op = detail::op_index<Ops>(item.substr(0, tilde));
                if (!op) {
                    throw fail("unknown op '" + std::string(item.substr(0, tilde)) +
                               "' (valid: " + detail::op_list<Ops>() + ")");
                }
                const auto input = detail::parse_node(item.substr(tilde + 1));
                if (!input || *input >= I + n) {
                    throw fail("entry '" + std::string(item) + "' of intermediate node " +
                               std::to_string(n) + " must read from a node below " +
                               std::to_string(I + n));
                }
                c.nodes[n][k] = {static_cast<std::uint8_t>(*input), *op};
                pos = end;
            }
            normalise(c.nodes[n]);
            for (std::size_t k = 1; k < K; ++k) {
                if (c.nodes[n][k].input == c.nodes[n][k - 1].input) {
                    throw fail("intermediate node " + std::to_string(n) + " reads node " +
                               std::to_string(c.nodes[n][k].input) + " twice");
                }
            }
        }
        if (pos != text.size())
            throw fail("unexpected trailing text '" + std::string(text.substr(pos)) + "'");
        return c;
    }

private:
    static constexpr long double binomial(std::size_t n, std::size_t k) noexcept {
        long double r = 1;
        for (std::size_t i = 0; i < k; ++i)
            r = r * static_cast<long double>(n - i) / static_cast<long double>(i + 1);
        return r;
    }
    static constexpr bool reads(const std::array<typename genotype::slot, K>& node,
                                std::size_t input) noexcept {
        return std::ranges::any_of(node, [&](const auto& s) { return s.input == input; });
    }
    static constexpr void normalise(std::array<typename genotype::slot, K>& node) noexcept {
        std::ranges::sort(node);
    }
};

} // namespace nascent::space
