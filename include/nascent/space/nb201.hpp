#pragma once
// The NAS-Bench-201 cell space (Dong & Yang, ICLR 2020): a 4-node DAG whose 6 edges each carry
// one of 5 operations, 5^6 = 15,625 cells.
//
// Edge e connects the nodes edge_nodes[e] = (from, to), in the order of the official arch string
// `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`: (0,1), (0,2), (1,2), (0,3), (1,3), (2,3).
//
// A cell's id() is its base-5 number with edge 0 as the lowest digit. It is *not* the official
// NAS-Bench-201 index, which is the order of the benchmark's files; bench::nb201_table maps the two.

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
#include <utility>
#include <vector>

namespace nascent::nb201 {

inline constexpr std::size_t num_edges = 6;
inline constexpr std::size_t num_ops = 5;
inline constexpr std::size_t num_nodes = 4;
inline constexpr std::uint64_t num_cells = 15625; // num_ops ^ num_edges

inline constexpr std::array<std::string_view, num_ops> op_names{
    "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};

/// Operation ids, in the order of op_names.
enum op : std::uint8_t { none = 0, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3 };

inline constexpr std::array<std::pair<std::uint8_t, std::uint8_t>, num_edges> edge_nodes{
    {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}}};

/// The operation id of a name, or nullopt.
[[nodiscard]] constexpr std::optional<std::uint8_t> op_from_name(std::string_view name) noexcept {
    for (std::size_t i = 0; i < num_ops; ++i) {
        if (op_names[i] == name) return static_cast<std::uint8_t>(i);
    }
    return std::nullopt;
}

/// A cell: the operation on each of the 6 edges.
struct cell {
    std::array<std::uint8_t, num_edges> ops{};

    [[nodiscard]] constexpr std::uint8_t& operator[](std::size_t edge) noexcept { return ops[edge]; }
    [[nodiscard]] constexpr const std::uint8_t& operator[](std::size_t edge) const noexcept {
        return ops[edge];
    }
    [[nodiscard]] static constexpr std::size_t size() noexcept { return num_edges; }
    friend constexpr auto operator<=>(const cell&, const cell&) = default;
};

class space {
public:
    using genotype = cell;

    [[nodiscard]] static constexpr std::uint64_t size() noexcept { return num_cells; }
    [[nodiscard]] static constexpr std::size_t positions() noexcept { return num_edges; }
    [[nodiscard]] static constexpr std::size_t choices(std::size_t /*edge*/) noexcept {
        return num_ops;
    }

    [[nodiscard]] static constexpr std::uint64_t id(const cell& c) noexcept {
        std::uint64_t id = 0;
        for (std::size_t e = num_edges; e-- > 0;) id = id * num_ops + c.ops[e];
        return id;
    }
    /// The cell of a dense id; ids >= size() are reduced modulo size().
    [[nodiscard]] static constexpr cell at(std::uint64_t id) noexcept {
        cell c;
        for (std::size_t e = 0; e < num_edges; ++e) {
            c.ops[e] = static_cast<std::uint8_t>(id % num_ops);
            id /= num_ops;
        }
        return c;
    }

    template <RandomGenerator G>
    [[nodiscard]] static constexpr cell sample(G& gen) noexcept {
        return at(uniform_index(gen, num_cells));
    }

    [[nodiscard]] static constexpr bool is_valid(const cell& c) noexcept {
        return std::ranges::all_of(c.ops, [](std::uint8_t o) { return o < num_ops; });
    }

    [[nodiscard]] static constexpr std::uint64_t hash(const cell& c) noexcept { return id(c); }

    /// All 24 cells that differ from `c` on exactly one edge, edge-major, op ascending.
    [[nodiscard]] static constexpr std::array<cell, num_edges*(num_ops - 1)>
    neighbours(const cell& c) noexcept {
        std::array<cell, num_edges*(num_ops - 1)> out{};
        std::size_t k = 0;
        for (std::size_t e = 0; e < num_edges; ++e) {
            for (std::uint8_t o = 0; o < num_ops; ++o) {
                if (o == c.ops[e]) continue;
                out[k] = c;
                out[k].ops[e] = o;
                ++k;
            }
        }
        return out;
    }

    /// The official arch string, e.g. `|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|`.
    [[nodiscard]] static std::string to_string(const cell& c) {
        std::string s;
        s.reserve(96);
        for (std::size_t e = 0; e < num_edges; ++e) {
            const auto [from, to] = edge_nodes[e];
            if (e > 0 && from == 0) s += '+';
            s += '|';
            s += op_names[c.ops[e]];
            s += '~';
            s += static_cast<char>('0' + from);
            if (from + 1 == to) s += '|';
        }
        return s;
    }

    /// Parses an arch string strictly; throws std::invalid_argument naming the string and fault.
    [[nodiscard]] static cell parse(std::string_view text) {
        auto fail = [&](const std::string& what) -> std::invalid_argument {
            return std::invalid_argument("invalid NAS-Bench-201 arch string '" + std::string(text) +
                                         "': " + what);
        };
        cell c;
        std::size_t pos = 0;
        std::size_t edge = 0;
        for (std::size_t to = 1; to < num_nodes; ++to) {
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
                const auto input = item.substr(tilde + 1);
                const auto o = op_from_name(name);
                if (!o) {
                    throw fail("unknown op '" + std::string(name) +
                               "' (valid: none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
                               "avg_pool_3x3)");
                }
                if (input.size() != 1 || input[0] != static_cast<char>('0' + from)) {
                    throw fail("entry '" + std::string(item) + "' of node " + std::to_string(to) +
                               " must read from node " + std::to_string(from));
                }
                c.ops[edge] = *o;
                pos = end + 1;
            }
        }
        if (pos != text.size()) throw fail("unexpected trailing text '" +
                                           std::string(text.substr(pos)) + "'");
        return c;
    }

    /// Isomorphism-aware key: two cells with equal keys compute the same function. This is
    /// NATS-Bench's `Structure.to_unique_str(consider_zero=True)`: each node is the sorted sum of
    /// its inputs, a skip passes its input's expression through, a `none` edge or an input that is
    /// zero contributes the zero term '#', other ops wrap their input as `(x)@op`. It reproduces
    /// the `iso` classes of the NAS-Bench-201 table exactly (6,466 classes).
    [[nodiscard]] static std::string canonical_key(const cell& c) {
        std::array<std::string, num_nodes> node;
        node[0] = "0";
        std::size_t edge = 0;
        for (std::size_t to = 1; to < num_nodes; ++to) {
            std::vector<std::string> terms;
            terms.reserve(to);
            for (std::size_t from = 0; from < to; ++from, ++edge) {
                const auto o = c.ops[edge];
                if (o == op::none || node[from] == "#") {
                    terms.emplace_back("#");
                } else if (o == op::skip_connect) {
                    terms.push_back(node[from]);
                } else {
                    terms.push_back("(" + node[from] + ")@" + std::string(op_names[o]));
                }
            }
            std::ranges::sort(terms);
            std::string joined;
            for (std::size_t i = 0; i < terms.size(); ++i) {
                if (i > 0) joined += '+';
                joined += terms[i];
            }
            node[to] = std::move(joined);
        }
        return node[num_nodes - 1];
    }
};

} // namespace nascent::nb201
