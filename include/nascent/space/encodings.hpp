#pragma once
// Fixed-length encodings of cells for performance predictors (White et al., "A Study on
// Encodings for Neural Architecture Search", 2020; BANANAS, 2021):
//
// - adjacency(c): the adjacency matrix and one-hot operations.
//     NAS-Bench-101: the 21 upper-triangular entries of the cell's 7 x 7 matrix, row-major
//     ((0,1), (0,2), ..., (5,6)), then 5 interior vertices x 3 ops one-hot (conv3x3, conv1x1,
//     maxpool3x3): 36 values. The cell is pruned first and padded to 7 vertices with the
//     output moved to vertex 6, so the last column is always "feeds the output".
//     NAS-Bench-201: the ops sit on the 6 edges, so the labelled adjacency is the one-hot op of
//     each edge, edge-major in nb201::edge_nodes order, ops in nb201::op_names order: 30 values.
// - paths(c, options): one feature per possible input -> output path, identified by the
//     sequence of its operations (an indicator, or with .counts the number of such paths).
//     NAS-Bench-101 (as BANANAS): a path through k interior vertices with ops o_1..o_k has index
//     sum_i 3^(i-1) (o_i + 1), so index 0 is the direct input -> output edge, then the 3 paths
//     of one op, 9 of two... : 1 + 3 + 9 + 27 + 81 + 243 = 364 features.
//     NAS-Bench-201: the paths are the edge sequences (0,3), (0,1)(1,3), (0,2)(2,3),
//     (0,1)(1,2)(2,3) (NASLib's order); a 'none' edge is no edge, so a path through one does not
//     exist and 'none' never labels a path. Paths of length L with ops o_1..o_L (skip_connect,
//     nor_conv_1x1, nor_conv_3x3, avg_pool_3x3 numbered 0..3) have index
//     offset(L) + sum_i 4^(i-1) o_i, offset = 0, 4, 20: 4 + 16 + 64 = 84 features (the 155 of
//     NASLib's variant include 'none' labels, which are always 0 here).
//   Both orders put shorter paths first, so .truncate = K keeps the K shortest-path features
//   (BANANAS' truncated path encoding).

#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::encoding {

struct path_options {
    bool counts = false;      ///< number of paths per op sequence instead of 0/1
    std::size_t truncate = 0; ///< keep the first K features (0: all)
};

inline constexpr std::size_t nb101_adjacency_size = 21 + nb101::max_interior * nb101::num_ops; // 36
inline constexpr std::size_t nb101_path_size = 1 + 3 + 9 + 27 + 81 + 243;              // 364
inline constexpr std::size_t nb201_adjacency_size = nb201::num_edges * nb201::num_ops; // 30
inline constexpr std::size_t nb201_path_size = 4 + 16 + 64;                            // 84

namespace detail {

[[nodiscard]] inline nb101::cell pruned_or_throw(const nb101::cell& c) {
    const auto p = nb101::prune(c);
    if (!p || p->num_edges() > nb101::max_edges) {
        throw std::invalid_argument("invalid NAS-Bench-101 cell '" + nb101::to_string(c) +
                                    "': it has no encoding");
    }
    return *p;
}

[[nodiscard]] inline std::vector<double> finish(std::vector<double> v, const path_options& o) {
    if (o.truncate > 0 && o.truncate < v.size())
        v.resize(o.truncate);
    return v;
}

} // namespace detail

// ---------------------------------------------------------------------------------------------
// NAS-Bench-101

/// Upper-triangular 7 x 7 adjacency (21) and one-hot ops of the 5 interior vertices (15) of the
/// pruned cell, padded; throws std::invalid_argument for an invalid cell.
[[nodiscard]] inline std::array<double, nb101_adjacency_size> adjacency(const nb101::cell& c) {
    const auto p = detail::pruned_or_throw(c);
    const std::size_t n = p.num_vertices;
    auto padded = [&](std::size_t v) { return v + 1 == n ? nb101::max_vertices - 1 : v; };
    std::array<double, nb101_adjacency_size> out{};
    // Offset of row i's entries in the row-major upper triangle of a 7 x 7 matrix.
    auto entry = [](std::size_t i, std::size_t j) {
        return i * (2 * nb101::max_vertices - i - 1) / 2 + (j - i - 1);
    };
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
            if (p.edge(i, j))
                out[entry(padded(i), padded(j))] = 1.0;
        }
    }
    for (std::size_t v = 1; v + 1 < n; ++v)
        out[21 + (v - 1) * nb101::num_ops + p.ops[v]] = 1.0;
    return out;
}

/// The BANANAS index of a path through interior vertices with the given ops (see above).
[[nodiscard]] constexpr std::size_t nb101_path_index(const std::uint8_t* ops,
                                                     std::size_t length) noexcept {
    std::size_t index = 0;
    std::size_t scale = 1;
    for (std::size_t i = 0; i < length; ++i) {
        index += scale * (ops[i] + 1U);
        scale *= nb101::num_ops;
    }
    return index;
}

/// Input -> output paths of the pruned cell by op sequence (364 features, see above).
[[nodiscard]] inline std::vector<double> paths(const nb101::cell& c,
                                               const path_options& options = {}) {
    const auto p = detail::pruned_or_throw(c);
    const std::size_t out = p.num_vertices - 1U;
    std::vector<double> v(nb101_path_size, 0.0);
    std::array<std::uint8_t, nb101::max_vertices> trail{}; // ops of the interior vertices so far
    // Depth-first over the DAG: at most 7 vertices, so recursion depth is tiny.
    auto walk = [&](auto&& self, std::size_t at, std::size_t depth) -> void {
        for (std::size_t next = at + 1; next <= out; ++next) {
            if (!p.edge(at, next))
                continue;
            if (next == out) {
                double& f = v[nb101_path_index(trail.data(), depth)];
                f = options.counts ? f + 1.0 : 1.0;
            } else {
                trail[depth] = p.ops[next];
                self(self, next, depth + 1);
            }
        }
    };
    walk(walk, 0, 0);
    return detail::finish(std::move(v), options);
}

// ---------------------------------------------------------------------------------------------
// NAS-Bench-201

/// One-hot op of each of the 6 edges (30 values).
[[nodiscard]] constexpr std::array<double, nb201_adjacency_size>
adjacency(const nb201::cell& c) noexcept {
    std::array<double, nb201_adjacency_size> out{};
    for (std::size_t e = 0; e < nb201::num_edges; ++e) {
        if (c.ops[e] < nb201::num_ops)
            out[e * nb201::num_ops + c.ops[e]] = 1.0;
    }
    return out;
}

/// The input -> output paths of NAS-Bench-201 as edge lists (NASLib's order).
inline constexpr std::array<std::array<std::uint8_t, 3>, 4> nb201_path_edges{
    {{3, 0, 0}, {0, 4, 0}, {1, 5, 0}, {0, 2, 5}}};
inline constexpr std::array<std::uint8_t, 4> nb201_path_lengths{1, 2, 2, 3};

/// The index of a path with ops given as nb201 op ids (none excluded; see above).
[[nodiscard]] constexpr std::size_t nb201_path_index(const std::uint8_t* ops,
                                                     std::size_t length) noexcept {
    constexpr std::array<std::size_t, 4> offset{0, 0, 4, 20}; // by length
    std::size_t index = offset[length];
    std::size_t scale = 1;
    for (std::size_t i = 0; i < length; ++i) {
        index += scale * (ops[i] - 1U); // skip_connect (1) .. avg_pool_3x3 (4) -> 0..3
        scale *= nb201::num_ops - 1;
    }
    return index;
}

/// Input -> output paths by op sequence, 'none' edges cutting paths (84 features, see above).
[[nodiscard]] inline std::vector<double> paths(const nb201::cell& c,
                                               const path_options& options = {}) {
    std::vector<double> v(nb201_path_size, 0.0);
    for (std::size_t k = 0; k < nb201_path_edges.size(); ++k) {
        std::array<std::uint8_t, 3> ops{};
        bool exists = true;
        for (std::size_t i = 0; i < nb201_path_lengths[k]; ++i) {
            ops[i] = c.ops[nb201_path_edges[k][i]];
            exists = exists && ops[i] != nb201::op::none && ops[i] < nb201::num_ops;
        }
        if (!exists)
            continue;
        double& f = v[nb201_path_index(ops.data(), nb201_path_lengths[k])];
        f = options.counts ? f + 1.0 : 1.0;
    }
    return detail::finish(std::move(v), options);
}

} // namespace nascent::encoding
