#pragma once
// The exact size of the NAS-Bench-101 network built from a cell, as the benchmark's
// model_builder builds it: a 3x3 conv-BN-ReLU stem (3 -> 128 channels), 3 stacks of 3 cells with
// a 2x2 max-pool (stride 2) before stacks 2 and 3 doubling the channels (128, 256, 512), global
// average pooling and a dense layer to the 10 classes.
//
// Inside a cell (channels C_in -> C_out) the output concatenates the interior vertices that feed
// it, so C_out is split among them (vertex_channels below, NAS-Bench-101's
// compute_vertex_channels); every other interior vertex gets the largest width of the vertices
// it feeds, and wider inputs are truncated (free). The input reaches an interior vertex through
// a 1x1 conv-BN-ReLU projection to that vertex's width, and reaches the output through a
// projection to C_out, added to the concatenation. Convolutions have no bias; each batch norm
// has 2C trainable parameters (scale and shift); the dense layer has a bias. These conventions
// reproduce the benchmark's `trainable_parameters` exactly (tested on 1,000 cells).
//
// FLOPs follow space/cost.hpp: multiply-accumulates of the convolutions and the dense layer for
// one 32x32 image; batch norm, ReLU, pooling, additions and truncations are not counted.
// naslib_flops() counts the way NASLib's zero-cost data (tensorwatch) does, which adds those
// element-wise operations; it reproduces the `flops` column of zc/nb101_cifar10.csv.

#include <nascent/space/cost.hpp>
#include <nascent/space/nb101.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace nascent::nb101 {

/// The network around the cells; the defaults are NAS-Bench-101's CIFAR-10 configuration.
struct network_options {
    std::int64_t image_size = 32; ///< input height = width
    std::int64_t image_channels = 3;
    std::int64_t stem_channels = 128; ///< also the width of the first stack
    std::int64_t stacks = 3;          ///< a max-pool and a doubling of channels between stacks
    std::int64_t cells_per_stack = 3;
    std::int64_t classes = 10;
};

/// The output width of every vertex of a pruned cell mapping `in_channels` to `out_channels`
/// (NAS-Bench-101's compute_vertex_channels): out_channels is split evenly among the interior
/// vertices feeding the output, the first `out_channels % k` of them (by number) taking one
/// extra; the other interior vertices take, from the last to the first, the largest width of
/// the interior vertices they feed. Entry 0 is in_channels, the output's is out_channels.
[[nodiscard]] constexpr std::array<std::int64_t, max_vertices>
vertex_channels(const cell& pruned, std::int64_t in_channels, std::int64_t out_channels) noexcept {
    const std::size_t n = pruned.num_vertices;
    std::array<std::int64_t, max_vertices> width{};
    width[0] = in_channels;
    width[n - 1] = out_channels;
    if (n == 2)
        return width;
    const std::size_t out = n - 1;
    std::int64_t fan_in = 0; // interior vertices feeding the output (the input does not count)
    for (std::size_t v = 1; v < out; ++v)
        fan_in += pruned.edge(v, out) ? 1 : 0;
    if (fan_in == 0)
        return width; // not a pruned cell; nothing sensible to split
    const std::int64_t share = out_channels / fan_in;
    std::int64_t extra = out_channels % fan_in;
    for (std::size_t v = 1; v < out; ++v) {
        if (!pruned.edge(v, out))
            continue;
        width[v] = share + (extra > 0 ? 1 : 0);
        if (extra > 0)
            --extra;
    }
    for (std::size_t v = out - 1; v-- > 1;) {
        if (pruned.edge(v, out))
            continue;
        for (std::size_t w = v + 1; w < out; ++w) {
            if (pruned.edge(v, w) && width[w] > width[v])
                width[v] = width[w];
        }
    }
    return width;
}

namespace detail {

/// Exact integer counts (a double holds them exactly too, but integers make that obvious).
struct exact_cost {
    std::int64_t params = 0;
    std::int64_t flops = 0;       ///< multiply-accumulates
    std::int64_t bn_relu_out = 0; ///< output elements of conv-BN-ReLU layers
    std::int64_t pool_ops = 0;    ///< kernel area x output elements of the max-pools
    constexpr exact_cost& operator+=(const exact_cost& o) noexcept {
        params += o.params;
        flops += o.flops;
        bn_relu_out += o.bn_relu_out;
        pool_ops += o.pool_ops;
        return *this;
    }
};

/// A k x k conv (no bias) + BN + ReLU producing `out` channels from `in` on a size x size map.
[[nodiscard]] constexpr exact_cost conv_bn(std::int64_t in, std::int64_t out, std::int64_t k,
                                           std::int64_t size) noexcept {
    const std::int64_t weights = k * k * in * out;
    return {weights + 2 * out, weights * size * size, out * size * size, 0};
}

/// A k x k max-pool with `channels` outputs on a size x size map.
[[nodiscard]] constexpr exact_cost max_pool(std::int64_t channels, std::int64_t k,
                                            std::int64_t size) noexcept {
    return {0, 0, 0, k * k * channels * size * size};
}

/// One cell (module) of a pruned cell on a size x size map.
[[nodiscard]] constexpr exact_cost module_cost(const cell& pruned, std::int64_t in,
                                               std::int64_t out, std::int64_t size) noexcept {
    const std::size_t n = pruned.num_vertices;
    const std::size_t last = n - 1;
    const auto width = vertex_channels(pruned, in, out);
    exact_cost total;
    for (std::size_t v = 1; v < last; ++v) {
        if (pruned.edge(0, v))
            total += conv_bn(in, width[v], 1, size); // input projection
        switch (pruned.ops[v]) {
        case op::conv3x3:
            total += conv_bn(width[v], width[v], 3, size);
            break;
        case op::conv1x1:
            total += conv_bn(width[v], width[v], 1, size);
            break;
        default:
            total += max_pool(width[v], 3, size);
            break; // no parameters, no MACs
        }
    }
    if (pruned.edge(0, last))
        total += conv_bn(in, out, 1, size); // input -> output projection
    return total;
}

/// All counts of the network built from a pruned, valid cell.
[[nodiscard]] constexpr exact_cost network_counts(const cell& pruned,
                                                  const network_options& net) noexcept {
    exact_cost total = conv_bn(net.image_channels, net.stem_channels, 3, net.image_size);
    std::int64_t channels = net.stem_channels;
    std::int64_t size = net.image_size;
    for (std::int64_t s = 0; s < net.stacks; ++s) {
        std::int64_t out = channels;
        if (s > 0) { // 2x2 max-pool, stride 2, 'same' padding: ceil(size / 2)
            size = (size + 1) / 2;
            total += max_pool(channels, 2, size);
            out = 2 * channels;
        }
        for (std::int64_t m = 0; m < net.cells_per_stack; ++m) {
            total += module_cost(pruned, channels, out, size);
            channels = out;
        }
    }
    total += {channels * net.classes + net.classes, channels * net.classes, 0, 0}; // dense + bias
    return total;
}

[[nodiscard]] inline exact_cost checked_counts(const cell& c, const network_options& net) {
    const auto p = prune(c);
    if (!p || p->num_edges() > max_edges) {
        throw std::invalid_argument("invalid NAS-Bench-101 cell '" + to_string(c) +
                                    "': no network to count");
    }
    if (net.image_size < 1 || net.image_channels < 1 || net.stem_channels < 1 || net.stacks < 1 ||
        net.cells_per_stack < 1 || net.classes < 1) {
        throw std::invalid_argument("NAS-Bench-101 network options must all be positive");
    }
    return network_counts(*p, net);
}

} // namespace detail

/// Trainable parameters and multiply-accumulates of the network built from `c` (pruned first);
/// throws std::invalid_argument for an invalid cell or non-positive options.
[[nodiscard]] inline cost::network_cost network_cost(const cell& c,
                                                     const network_options& net = {}) {
    const auto counts = detail::checked_counts(c, net);
    return {static_cast<double>(counts.params), static_cast<double>(counts.flops)};
}

/// FLOPs as NASLib's NAS-Bench-101 zero-cost data counts them (tensorwatch's model statistics):
/// the multiply-accumulates plus 3 per conv-BN-ReLU output element (2 for the affine batch norm,
/// 1 for the ReLU) plus kernel area x output elements for every max-pool (9 for the cells'
/// 3x3 pools, 4 for the 2x2 down-sampling). For comparison with that data only; nascent's FLOPs
/// are network_cost().flops.
[[nodiscard]] inline double naslib_flops(const cell& c, const network_options& net = {}) {
    const auto counts = detail::checked_counts(c, net);
    return static_cast<double>(counts.flops + 3 * counts.bn_relu_out + counts.pool_ops);
}

/// The exact number of trainable parameters (NAS-Bench-101's `trainable_parameters`).
[[nodiscard]] inline std::int64_t parameter_count(const cell& c, const network_options& net = {}) {
    return static_cast<std::int64_t>(network_cost(c, net).params);
}

} // namespace nascent::nb101
