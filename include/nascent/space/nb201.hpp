#pragma once
// The NAS-Bench-201 cell space (Dong & Yang, ICLR 2020): a 4-node DAG whose 6 edges each carry
// one of 5 operations, 5^6 = 15,625 cells. It is an instance of the generic cell space:
// dag_cell_space<nb201::ops, every_edge<4>>.
//
// Edge e connects the nodes edge_nodes[e] = (from, to), in the order of the official arch string
// `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`: (0,1), (0,2), (1,2), (0,3), (1,3), (2,3).
//
// A cell's id() is its base-5 number with edge 0 as the lowest digit. It is *not* the official
// NAS-Bench-201 index, which is the order of the benchmark's files; bench::nb201_table maps the
// two.

#include <nascent/space/dag_cell.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nascent::nb201 {

/// The NAS-Bench-201 op set; `none` outputs zeros and `skip_connect` is the identity.
struct ops {
    static constexpr std::array<std::string_view, 5> names{"none", "skip_connect", "nor_conv_1x1",
                                                           "nor_conv_3x3", "avg_pool_3x3"};
    static constexpr int zero = 0;
    static constexpr int identity = 1;
};

using space = nascent::space::dag_cell_space<ops, nascent::space::every_edge<4>>;
using cell = space::genotype;

inline constexpr std::size_t num_edges = space::num_edges;
inline constexpr std::size_t num_ops = space::num_ops;
inline constexpr std::size_t num_nodes = space::num_nodes;
inline constexpr std::uint64_t num_cells = space::size(); // 15,625
inline constexpr auto op_names = ops::names;
inline constexpr auto edge_nodes = space::edge_nodes;

/// Operation ids, in the order of op_names.
enum op : std::uint8_t { none = 0, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3 };

/// The operation id of a name, or nullopt.
[[nodiscard]] constexpr std::optional<std::uint8_t> op_from_name(std::string_view name) noexcept {
    return nascent::space::detail::op_index<ops>(name);
}

static_assert(num_cells == 15625);
static_assert(edge_nodes[2] == std::pair<std::uint8_t, std::uint8_t>{1, 2});

} // namespace nascent::nb201
