#pragma once
// The NAS-Bench-101 cell space (Ying et al., ICML 2019): a DAG of at most 7 vertices and 9 edges,
// vertex 0 the input, the last vertex the output, every interior vertex one of conv3x3-bn-relu,
// conv1x1-bn-relu, maxpool3x3. About 423k distinct networks.
//
// Stored form. A cell keeps its vertex count, its adjacency as bits of a uint64 (edge i -> j is
// bit i * 7 + j, whatever the vertex count) and an op id per interior vertex (ops[1..n-2];
// every other entry is 0). Any well-formed upper-triangular spec can be stored, but the space
// (sample, mutation, neighbours, parse) always returns *pruned* cells, as NAS-Bench-101's
// ModelSpec prunes them: vertices that are not on an input -> output path are removed and the
// rest renumbered in order. So two specs that build the same network are the same genotype,
// and every function that looks a cell up (hash_hex, encodings, the table, the cost model)
// prunes first, so it also accepts unpruned specs.
//
// Validity is NAS-Bench-101's `is_valid`: after pruning the input still reaches the output and
// at most 9 edges remain (at most 7 vertices and valid op labels hold by construction).
//
// Identity. `hash_hex(c)` is the official NAS-Bench-101 module hash (graph_util.hash_module):
// it is isomorphism-invariant and is what the benchmark's files are keyed by. space::hash(c) is
// its first 64 bits (the first 16 hex digits) and space::canonical_key(c) the full hex string.
//
// Text form: `<adjacency>:<ops>`, the two columns of the data files joined by ':'. The adjacency
// is the row-major 0/1 string of the n x n matrix, the ops are the n vertex labels separated by
// '|', e.g. the chain input -> conv3x3 -> output is "010001000:input|conv3x3-bn-relu|output".

#include <nascent/core/rng.hpp>
#include <nascent/detail/md5.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::nb101 {

inline constexpr std::size_t max_vertices = 7;
inline constexpr std::size_t max_edges = 9;
inline constexpr std::size_t num_ops = 3;
inline constexpr std::size_t max_interior = max_vertices - 2; ///< op spots of a full cell

/// Interior operations; the ids are NAS-Bench-101's integer labels used by its graph hash.
enum op : std::uint8_t { conv3x3 = 0, conv1x1 = 1, maxpool3x3 = 2 };

inline constexpr std::array<std::string_view, num_ops> op_names{"conv3x3-bn-relu",
                                                                "conv1x1-bn-relu", "maxpool3x3"};
inline constexpr std::string_view input_name = "input";
inline constexpr std::string_view output_name = "output";

/// The operation id of a name, or nullopt.
[[nodiscard]] constexpr std::optional<std::uint8_t> op_from_name(std::string_view name) noexcept {
    for (std::size_t i = 0; i < num_ops; ++i) {
        if (op_names[i] == name)
            return static_cast<std::uint8_t>(i);
    }
    return std::nullopt;
}

/// A cell; the default is the smallest network, input -> output.
struct cell {
    std::uint8_t num_vertices = 2;
    std::array<std::uint8_t, max_vertices> ops{}; ///< ops[v] for interior v (1..n-2), else 0
    std::uint64_t adjacency = 1U << 1U;           ///< bit i * max_vertices + j: edge i -> j

    [[nodiscard]] static constexpr std::uint64_t bit(std::size_t from, std::size_t to) noexcept {
        return std::uint64_t{1} << (from * max_vertices + to);
    }
    [[nodiscard]] constexpr bool edge(std::size_t from, std::size_t to) const noexcept {
        return (adjacency & bit(from, to)) != 0;
    }
    constexpr void set_edge(std::size_t from, std::size_t to, bool present = true) noexcept {
        adjacency = present ? adjacency | bit(from, to) : adjacency & ~bit(from, to);
    }
    /// The out-neighbours of v as a bit mask over vertices.
    [[nodiscard]] constexpr std::uint32_t successors(std::size_t v) const noexcept {
        return static_cast<std::uint32_t>((adjacency >> (v * max_vertices)) & 0x7FU);
    }
    /// The in-neighbours of v as a bit mask over vertices.
    [[nodiscard]] constexpr std::uint32_t predecessors(std::size_t v) const noexcept {
        std::uint32_t mask = 0;
        for (std::size_t u = 0; u < v; ++u)
            mask |= edge(u, v) ? 1U << u : 0U;
        return mask;
    }
    [[nodiscard]] constexpr std::size_t num_edges() const noexcept {
        return static_cast<std::size_t>(std::popcount(adjacency));
    }
    [[nodiscard]] constexpr std::size_t output() const noexcept { return num_vertices - 1U; }

    friend constexpr auto operator<=>(const cell&, const cell&) = default;
};

/// Whether the fields describe a spec at all: 2..7 vertices, edges only above the diagonal of
/// the n x n matrix, interior ops in range and every unused entry zero.
[[nodiscard]] constexpr bool is_well_formed(const cell& c) noexcept {
    const std::size_t n = c.num_vertices;
    if (n < 2 || n > max_vertices)
        return false;
    std::uint64_t allowed = 0;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j)
            allowed |= cell::bit(i, j);
    }
    if ((c.adjacency & ~allowed) != 0)
        return false;
    for (std::size_t v = 0; v < max_vertices; ++v) {
        const bool interior = v >= 1 && v + 1 < n;
        if (interior ? c.ops[v] >= num_ops : c.ops[v] != 0)
            return false;
    }
    return true;
}

/// The vertices on some input -> output path, as a bit mask (0 when there is none).
[[nodiscard]] constexpr std::uint32_t live_vertices(const cell& c) noexcept {
    const std::size_t n = c.num_vertices;
    std::uint32_t from_input = 1;
    for (std::size_t v = 0; v < n; ++v) { // upper-triangular: ascending order is topological
        if ((from_input >> v) & 1U)
            from_input |= c.successors(v);
    }
    std::uint32_t to_output = 1U << (n - 1);
    for (std::size_t v = n - 1; v-- > 0;) {
        if ((c.successors(v) & to_output) != 0)
            to_output |= 1U << v;
    }
    const std::uint32_t live = from_input & to_output;
    return (live & 1U) != 0 ? live : 0U;
}

/// NAS-Bench-101's ModelSpec pruning: drops the vertices off every input -> output path and
/// renumbers the rest in order. nullopt when the input does not reach the output (or the cell
/// is not well-formed).
[[nodiscard]] constexpr std::optional<cell> prune(const cell& c) noexcept {
    if (!is_well_formed(c))
        return std::nullopt;
    const std::uint32_t live = live_vertices(c);
    if (live == 0)
        return std::nullopt;
    const std::size_t n = c.num_vertices;
    if (live == (1U << n) - 1U)
        return c;
    std::array<std::size_t, max_vertices> index{};
    cell out;
    out.adjacency = 0;
    std::size_t k = 0;
    for (std::size_t v = 0; v < n; ++v) {
        if ((live >> v) & 1U)
            index[v] = k++;
    }
    out.num_vertices = static_cast<std::uint8_t>(k);
    for (std::size_t v = 0; v < n; ++v) {
        if (!((live >> v) & 1U))
            continue;
        if (v != 0 && v + 1 != n)
            out.ops[index[v]] = c.ops[v];
        for (std::size_t w = v + 1; w < n; ++w) {
            if (((live >> w) & 1U) && c.edge(v, w))
                out.set_edge(index[v], index[w]);
        }
    }
    return out;
}

/// Whether pruning leaves the cell unchanged.
[[nodiscard]] constexpr bool is_pruned(const cell& c) noexcept {
    const auto p = prune(c);
    return p && *p == c;
}

/// NAS-Bench-101's validity: well-formed, the input reaches the output, and at most 9 edges
/// remain after pruning.
[[nodiscard]] constexpr bool is_valid(const cell& c) noexcept {
    const auto p = prune(c);
    return p && p->num_edges() <= max_edges;
}

/// The text form `<adjacency>:<ops>` of the cell as stored (not pruned).
[[nodiscard]] inline std::string to_string(const cell& c) {
    const std::size_t n = std::clamp<std::size_t>(c.num_vertices, 0, max_vertices);
    std::string s;
    s.reserve(n * n + 1 + 16 * n);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j)
            s += c.edge(i, j) ? '1' : '0';
    }
    s += ':';
    for (std::size_t v = 0; v < n; ++v) {
        if (v > 0)
            s += '|';
        if (v == 0) {
            s += input_name;
        } else if (v + 1 == n) {
            s += output_name;
        } else {
            s += c.ops[v] < num_ops ? op_names[c.ops[v]] : std::string_view("?");
        }
    }
    return s;
}

/// A cell from the two columns of the data files (adjacency and ops), pruned. Throws
/// std::invalid_argument naming the fault and the offending value: wrong adjacency length,
/// characters other than 0/1, an edge on or below the diagonal (a cycle or self-loop), a bad op
/// label, too many vertices, an input not connected to the output, or more than 9 edges.
[[nodiscard]] inline cell parse(std::string_view adjacency, std::string_view ops) {
    auto fail = [&](const std::string& what) -> std::invalid_argument {
        return std::invalid_argument("invalid NAS-Bench-101 cell '" + std::string(adjacency) + ":" +
                                     std::string(ops) + "': " + what);
    };
    const std::size_t n = static_cast<std::size_t>(std::count(ops.begin(), ops.end(), '|')) + 1;
    if (n > max_vertices) {
        throw fail("too many vertices: " + std::to_string(n) + " ops (max " +
                   std::to_string(max_vertices) + ")");
    }
    std::array<std::string_view, max_vertices> labels;
    for (std::size_t v = 0, pos = 0; v < n; ++v) {
        const auto bar = std::min(ops.find('|', pos), ops.size());
        labels[v] = ops.substr(pos, bar - pos);
        pos = bar + 1;
    }
    if (n < 2) {
        throw fail("needs at least 2 vertices (input and output), got the single op '" +
                   std::string(ops) + "'");
    }
    if (adjacency.size() != n * n) {
        throw fail("adjacency has " + std::to_string(adjacency.size()) + " characters, expected " +
                   std::to_string(n * n) + " (" + std::to_string(n) + " x " + std::to_string(n) +
                   " for " + std::to_string(n) + " ops)");
    }
    cell c;
    c.num_vertices = static_cast<std::uint8_t>(n);
    c.adjacency = 0;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            const char ch = adjacency[i * n + j];
            if (ch != '0' && ch != '1') {
                throw fail("adjacency character '" + std::string(1, ch) + "' at position " +
                           std::to_string(i * n + j) + " is not 0 or 1");
            }
            if (ch == '1' && j <= i) {
                throw fail("edge " + std::to_string(i) + "->" + std::to_string(j) +
                           " is not above the diagonal (the graph must be upper-triangular: "
                           "no self-loops or cycles)");
            }
            if (ch == '1')
                c.set_edge(i, j);
        }
    }
    if (labels[0] != input_name) {
        throw fail("vertex 0 must be 'input', got '" + std::string(labels[0]) + "'");
    }
    if (labels[n - 1] != output_name) {
        throw fail("vertex " + std::to_string(n - 1) + " (the last) must be 'output', got '" +
                   std::string(labels[n - 1]) + "'");
    }
    for (std::size_t v = 1; v + 1 < n; ++v) {
        const auto o = op_from_name(labels[v]);
        if (!o) {
            throw fail("unknown op '" + std::string(labels[v]) + "' at vertex " +
                       std::to_string(v) +
                       " (valid: conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3)");
        }
        c.ops[v] = *o;
    }
    const auto pruned = prune(c);
    if (!pruned)
        throw fail("the input is not connected to the output");
    if (pruned->num_edges() > max_edges) {
        throw fail("too many edges: " + std::to_string(pruned->num_edges()) +
                   " after pruning (max " + std::to_string(max_edges) + ")");
    }
    return *pruned;
}

/// A cell from its text form `<adjacency>:<ops>` (see parse(adjacency, ops)), pruned.
[[nodiscard]] inline cell parse(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        throw std::invalid_argument("invalid NAS-Bench-101 cell '" + std::string(text) +
                                    "': expected '<adjacency>:<ops>', e.g. "
                                    "'010001000:input|conv3x3-bn-relu|output'");
    }
    return parse(text.substr(0, colon), text.substr(colon + 1));
}

// ---------------------------------------------------------------------------------------------
// The NAS-Bench-101 graph hash

namespace detail {

// Python's str((out_degree, in_degree, label)), e.g. "(1, 0, -1)"; degrees are 0..6.
inline std::size_t write_vertex_tuple(char* out, std::size_t out_degree, std::size_t in_degree,
                                      int label) noexcept {
    std::size_t k = 0;
    out[k++] = '(';
    out[k++] = static_cast<char>('0' + out_degree);
    out[k++] = ',';
    out[k++] = ' ';
    out[k++] = static_cast<char>('0' + in_degree);
    out[k++] = ',';
    out[k++] = ' ';
    if (label < 0)
        out[k++] = '-';
    out[k++] = static_cast<char>('0' + (label < 0 ? -label : label));
    out[k++] = ')';
    return k;
}

/// The hash of a pruned, well-formed cell, as graph_util.hash_module computes it: start from
/// md5(str((out, in, label))), then |V| rounds of md5(sorted in-hashes | sorted out-hashes | own),
/// then md5(str(sorted(hashes))). Hex strings sort like their digests' bytes, so the sorting is
/// done on digests; each round ranks the vertices once and lists neighbours in rank order.
inline nascent::detail::md5::digest fingerprint_of_pruned(const cell& c) noexcept {
    namespace md5 = nascent::detail::md5;
    const std::size_t n = c.num_vertices;
    std::array<std::uint32_t, max_vertices> in_mask{};
    std::array<std::uint32_t, max_vertices> out_mask{};
    for (std::size_t v = 0; v < n; ++v) {
        out_mask[v] = c.successors(v);
        in_mask[v] = c.predecessors(v);
    }
    std::array<md5::digest, max_vertices> hashes{};
    // Longest message: 6 neighbours' hashes, two bars and the vertex's own hash. Each round's
    // n messages are independent, so they are hashed as one batch.
    std::array<std::array<char, (max_vertices - 1) * 32 + 2 + 32>, max_vertices> messages{};
    std::array<std::string_view, max_vertices> views{};
    for (std::size_t v = 0; v < n; ++v) {
        const int label = v == 0 ? -1 : v + 1 == n ? -2 : static_cast<int>(c.ops[v]);
        const auto len = write_vertex_tuple(
            messages[v].data(), static_cast<std::size_t>(std::popcount(out_mask[v])),
            static_cast<std::size_t>(std::popcount(in_mask[v])), label);
        views[v] = std::string_view(messages[v].data(), len);
    }
    md5::hash_batch(views.data(), n, hashes.data());

    std::array<std::array<char, 32>, max_vertices> hex{};
    std::array<std::uint8_t, max_vertices> order{}; // vertices by ascending hash
    auto rank_vertices = [&] {
        for (std::size_t v = 0; v < n; ++v) {
            md5::write_hex(hashes[v], hex[v].data());
            order[v] = static_cast<std::uint8_t>(v);
        }
        for (std::size_t i = 1; i < n; ++i) { // insertion sort: n <= 7
            const auto v = order[i];
            std::size_t j = i;
            for (; j > 0 && hashes[v] < hashes[order[j - 1]]; --j)
                order[j] = order[j - 1];
            order[j] = v;
        }
    };
    for (std::size_t round = 0; round < n; ++round) {
        rank_vertices();
        for (std::size_t v = 0; v < n; ++v) {
            char* message = messages[v].data();
            std::size_t len = 0;
            auto append_masked = [&](std::uint32_t mask) {
                for (std::size_t r = 0; r < n; ++r) {
                    const auto w = order[r];
                    if ((mask >> w) & 1U) {
                        std::copy_n(hex[w].data(), 32, message + len);
                        len += 32;
                    }
                }
            };
            append_masked(in_mask[v]);
            message[len++] = '|';
            append_masked(out_mask[v]);
            message[len++] = '|';
            std::copy_n(hex[v].data(), 32, message + len);
            len += 32;
            views[v] = std::string_view(message, len);
        }
        md5::hash_batch(views.data(), n, hashes.data());
    }
    rank_vertices();
    // Python's str(sorted(hashes)): "['h0', 'h1', ...]".
    std::array<char, 2 + max_vertices * 36> list{};
    std::size_t len = 0;
    list[len++] = '[';
    for (std::size_t r = 0; r < n; ++r) {
        if (r > 0) {
            list[len++] = ',';
            list[len++] = ' ';
        }
        list[len++] = '\'';
        std::copy_n(hex[order[r]].data(), 32, list.data() + len);
        len += 32;
        list[len++] = '\'';
    }
    list[len++] = ']';
    return md5::hash(std::string_view(list.data(), len));
}

[[nodiscard]] inline std::invalid_argument invalid_cell(const cell& c, std::string_view what) {
    return std::invalid_argument("invalid NAS-Bench-101 cell '" + to_string(c) +
                                 "': " + std::string(what));
}

} // namespace detail

/// The NAS-Bench-101 module hash of a cell (pruned first) as a digest; throws
/// std::invalid_argument for a cell that is not valid.
[[nodiscard]] inline nascent::detail::md5::digest fingerprint(const cell& c) {
    const auto p = prune(c);
    if (!p)
        throw detail::invalid_cell(c, "the input is not connected to the output");
    if (p->num_edges() > max_edges)
        throw detail::invalid_cell(c, "more than 9 edges");
    return detail::fingerprint_of_pruned(*p);
}

/// The official NAS-Bench-101 hash (32 hex digits), the key of the benchmark's files.
[[nodiscard]] inline std::string hash_hex(const cell& c) {
    return nascent::detail::md5::to_hex(fingerprint(c));
}

/// The first 64 bits of a digest, big-endian: the number written by its first 16 hex digits.
[[nodiscard]] constexpr std::uint64_t leading_bits(const nascent::detail::md5::digest& d) noexcept {
    std::uint64_t h = 0;
    for (std::size_t i = 0; i < 8; ++i)
        h = h << 8U | d[i];
    return h;
}

/// All single changes of a cell that leave a valid cell: each interior op to each other op and
/// each edge of the pruned n x n matrix flipped (then pruned). Only distinct networks are kept
/// (one cell per NAS-Bench-101 hash, the first in this order) and never the cell itself.
/// Adding an edge to a vertex outside the pruned cell changes no network, so a neighbour never
/// has more vertices than the cell; mutation and sampling reach larger cells.
[[nodiscard]] inline std::vector<cell> neighbours(const cell& c) {
    const auto p = prune(c);
    if (!p || p->num_edges() > max_edges)
        return {};
    const cell base = *p;
    const std::size_t n = base.num_vertices;
    std::vector<cell> out;
    std::vector<nascent::detail::md5::digest> seen{detail::fingerprint_of_pruned(base)};
    out.reserve(2 * max_interior + max_vertices * (max_vertices - 1) / 2);
    seen.reserve(out.capacity() + 1);
    auto consider = [&](const cell& candidate) {
        const auto q = prune(candidate);
        if (!q || q->num_edges() > max_edges)
            return;
        const auto h = detail::fingerprint_of_pruned(*q);
        if (std::find(seen.begin(), seen.end(), h) != seen.end())
            return;
        seen.push_back(h);
        out.push_back(*q);
    };
    for (std::size_t v = 1; v + 1 < n; ++v) {
        for (std::uint8_t o = 0; o < num_ops; ++o) {
            if (o == base.ops[v])
                continue;
            cell changed = base;
            changed.ops[v] = o;
            consider(changed);
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
            cell changed = base;
            changed.set_edge(i, j, !base.edge(i, j));
            consider(changed);
        }
    }
    return out;
}

/// The 7-vertex form of a pruned cell: interior vertices keep their numbers, the output moves to
/// vertex 6 and the vertices in between are unconnected, with the ops in `padding_ops` (the
/// hidden ops an unpruned spec carries). Mutation works on this form, as NAS-Bench-101's does on
/// a spec's original 7 x 7 matrix.
[[nodiscard]] constexpr cell
expand(const cell& pruned, const std::array<std::uint8_t, max_vertices>& padding_ops) noexcept {
    const std::size_t n = pruned.num_vertices;
    cell full;
    full.num_vertices = max_vertices;
    full.adjacency = 0;
    for (std::size_t v = 1; v + 1 < max_vertices; ++v) {
        full.ops[v] = v + 1 < n ? pruned.ops[v] : padding_ops[v];
    }
    for (std::size_t i = 0; i + 1 < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
            if (pruned.edge(i, j))
                full.set_edge(i, j + 1 == n ? max_vertices - 1 : j);
        }
    }
    return full;
}

/// A uniformly random 7-vertex spec (unpruned, maybe invalid): each of the 21 upper-triangular
/// edges present with probability 1/2 and each interior op uniform, as NAS-Bench-101's
/// `random_spec` draws them.
template <RandomGenerator G>
[[nodiscard]] constexpr cell random_spec(G& gen) noexcept {
    cell c;
    c.num_vertices = max_vertices;
    c.adjacency = 0;
    std::uint64_t edges = uniform_index(gen, std::uint64_t{1} << 21U); // 21 fair bits
    for (std::size_t i = 0; i < max_vertices; ++i) {
        for (std::size_t j = i + 1; j < max_vertices; ++j) {
            c.set_edge(i, j, (edges & 1U) != 0);
            edges >>= 1U;
        }
    }
    std::uint64_t ops = uniform_index(gen, 243); // 3^5: five uniform ops
    for (std::size_t v = 1; v + 1 < max_vertices; ++v) {
        c.ops[v] = static_cast<std::uint8_t>(ops % num_ops);
        ops /= num_ops;
    }
    return c;
}

struct mutation;

class space {
public:
    using genotype = cell;
    using mutator = mutation; ///< what strategies mutate with by default (ops/mutation.hpp)

    /// NAS-Bench-101's random_spec, resampled until valid, pruned.
    template <RandomGenerator G>
    [[nodiscard]] static cell sample(G& gen) {
        while (true) {
            const auto p = prune(random_spec(gen));
            if (p && p->num_edges() <= max_edges)
                return *p;
        }
    }

    [[nodiscard]] static constexpr bool is_valid(const cell& c) noexcept {
        return nb101::is_valid(c);
    }

    /// The first 64 bits of the NAS-Bench-101 hash (its first 16 hex digits): isomorphic cells
    /// share it. A cell that is not valid has no NAS-Bench-101 hash; it gets a mix of its fields.
    [[nodiscard]] static std::uint64_t hash(const cell& c) noexcept {
        const auto p = prune(c);
        if (!p || p->num_edges() > max_edges) {
            std::uint64_t h = splitmix64(c.adjacency ^ c.num_vertices);
            for (const auto o : c.ops)
                h = splitmix64(h ^ o);
            return h;
        }
        return leading_bits(detail::fingerprint_of_pruned(*p));
    }

    /// Isomorphism-aware key: the official NAS-Bench-101 hash (throws for an invalid cell).
    [[nodiscard]] static std::string canonical_key(const cell& c) { return hash_hex(c); }

    /// Isomorphic cells are the same network (and one table entry): a run's history treats a
    /// relabelled cell as a repeat.
    [[nodiscard]] static bool same(const cell& a, const cell& b) {
        return hash_hex(a) == hash_hex(b);
    }

    [[nodiscard]] static std::vector<cell> neighbours(const cell& c) {
        return nb101::neighbours(c);
    }

    [[nodiscard]] static std::string to_string(const cell& c) { return nb101::to_string(c); }
    [[nodiscard]] static cell parse(std::string_view text) { return nb101::parse(text); }
};

/// NAS-Bench-101's mutation (the benchmark's example `mutate_spec`, also BANANAS'): on the
/// 7-vertex form of the parent, each of the 21 upper-triangular edges flips with probability
/// mutation_rate / 7 and each of the 5 interior ops changes with probability mutation_rate / 5 to
/// one of the other two, chosen uniformly; redrawn until the child is valid and a different
/// network (a different NAS-Bench-101 hash). The ops of vertices a pruned parent lacks are drawn
/// uniformly first, standing for the hidden ops of an unpruned spec.
struct mutation {
    double mutation_rate = 1.0; ///< expected edge flips (/7 each) and op changes (/5 each)

    template <RandomGenerator G>
    [[nodiscard]] cell operator()(const space& /*space*/, const cell& parent, G& gen) const {
        if (!(mutation_rate > 0.0) || !std::isfinite(mutation_rate)) {
            throw std::invalid_argument(
                "NAS-Bench-101 mutation_rate must be positive and finite, got " +
                std::to_string(mutation_rate));
        }
        const auto pruned = prune(parent);
        if (!pruned || pruned->num_edges() > max_edges) {
            throw detail::invalid_cell(parent, "cannot mutate an invalid cell");
        }
        const auto parent_hash = detail::fingerprint_of_pruned(*pruned);
        std::array<std::uint8_t, max_vertices> padding{};
        for (std::size_t v = pruned->num_vertices - 1U; v + 1 < max_vertices; ++v) {
            padding[v] = static_cast<std::uint8_t>(uniform_index(gen, num_ops));
        }
        const cell full = expand(*pruned, padding);
        const double edge_probability = mutation_rate / static_cast<double>(max_vertices);
        const double op_probability = mutation_rate / static_cast<double>(max_interior);
        while (true) {
            cell child = full;
            for (std::size_t i = 0; i < max_vertices; ++i) {
                for (std::size_t j = i + 1; j < max_vertices; ++j) {
                    if (uniform_real(gen) < edge_probability)
                        child.set_edge(i, j, !child.edge(i, j));
                }
            }
            for (std::size_t v = 1; v + 1 < max_vertices; ++v) {
                if (uniform_real(gen) < op_probability) {
                    auto o = uniform_index(gen, num_ops - 1);
                    if (o >= child.ops[v])
                        ++o; // skip the current op
                    child.ops[v] = static_cast<std::uint8_t>(o);
                }
            }
            const auto q = prune(child);
            if (!q || q->num_edges() > max_edges)
                continue;
            if (*q == *pruned || detail::fingerprint_of_pruned(*q) == parent_hash)
                continue;
            return *q;
        }
    }
};

} // namespace nascent::nb101
