#pragma once
// NAS-Bench-101 cells as labelled graphs, for the graph surrogates: the WL-kernel GP
// (wl_graph_map<nb101_graph_map>) and the GNN predictor (gnn_predictor<cell, nb101_graph_map>).
// NB101 cells carry their ops on the vertices already, so the graph is the cell itself: input,
// interior vertices labelled with their op (0..2, as cell_graph labels ops), output.

#include <nascent/space/nb101.hpp>
#include <nascent/surrogate/wl_kernel.hpp>

#include <cstdint>

namespace nascent::surrogate {

/// The pruned cell (nb101::prune) as a graph; cells that prune to nothing keep input and output.
[[nodiscard]] inline labelled_graph nb101_graph(const nb101::cell& c) {
    const auto pruned = nb101::prune(c);
    const nb101::cell& cell = pruned ? *pruned : c;
    labelled_graph g;
    const std::size_t n = cell.num_vertices;
    for (std::size_t v = 0; v < n; ++v) {
        g.add_node(v == 0 ? cell_labels::input : v + 1 == n ? cell_labels::output : cell.ops[v]);
    }
    for (std::size_t from = 0; from < n; ++from) {
        for (std::size_t to = from + 1; to < n; ++to) {
            if (cell.edge(from, to))
                g.add_edge(static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(to));
        }
    }
    return g;
}

struct nb101_graph_map {
    [[nodiscard]] labelled_graph operator()(const nb101::cell& c) const { return nb101_graph(c); }
};

} // namespace nascent::surrogate
