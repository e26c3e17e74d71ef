#pragma once
// The DARTS search space (Liu, Simonyan & Yang, ICLR 2019), also NAS-Bench-301's: a normal and a
// reduction cell, each with 2 inputs and 4 intermediate nodes that sum two ops applied to two
// distinct earlier nodes; the cell output concatenates the 4 intermediate nodes. 8 ops, as DARTS'
// PRIMITIVES (NAS-Bench-301 never uses `none`).
//
// darts::cell_space = dag_cell_space<darts::ops, k_inputs<2, 4, 2>>
// darts::space      = product_space<cell_space, cell_space>   (normal, reduce)
//
// cost() gives the exact params and FLOPs of DARTS' CIFAR network (NetworkCIFAR) for a genotype.

#include <nascent/space/cost.hpp>
#include <nascent/space/dag_cell.hpp>
#include <nascent/space/product.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nascent::darts {

struct ops {
    static constexpr std::array<std::string_view, 8> names{
        "none",         "max_pool_3x3", "avg_pool_3x3", "skip_connect",
        "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};
    static constexpr int zero = 0;
    static constexpr int identity = 3;
};

enum op : std::uint8_t {
    none = 0,
    max_pool_3x3,
    avg_pool_3x3,
    skip_connect,
    sep_conv_3x3,
    sep_conv_5x5,
    dil_conv_3x3,
    dil_conv_5x5
};

using cell_space = nascent::space::dag_cell_space<ops, nascent::space::k_inputs<2, 4, 2>>;
using cell = cell_space::genotype;
using space = nascent::space::product_space<cell_space, cell_space>;
using genotype = space::genotype; ///< (normal, reduce)

/// The evaluation network: NetworkCIFAR of the DARTS code.
struct network_options {
    std::int64_t channels = 16; ///< C: channels of the first cells
    std::int64_t layers = 8;    ///< cells; reduction cells at layers/3 and 2*layers/3
    std::int64_t classes = 10;
    std::int64_t resolution = 32; ///< input height = width
    bool auxiliary = false;       ///< DARTS' auxiliary head after the second reduction
    bool affine_ops = true;       ///< whether the ops' batch norms have parameters
};

/// The network whose parameter counts NAS-Bench-301's zero-cost data lists (NASLib): C = 32,
/// 8 cells, the ops' batch norms without affine parameters. Matches all 725 rows exactly.
inline constexpr network_options nb301_network{.channels = 32, .layers = 8, .affine_ops = false};

namespace detail {
using nascent::cost::batch_norm;
using nascent::cost::conv2d;
using nascent::cost::network_cost;

// ReLU-Conv-BN with a k x k kernel (DARTS' ReLUConvBN).
constexpr network_cost relu_conv_bn(std::int64_t c_in, std::int64_t c_out, std::int64_t kernel,
                                    std::int64_t out) noexcept {
    return conv2d(c_in, c_out, kernel, out, out) + batch_norm(c_out);
}
// A batch norm, whose scale and shift are parameters only when affine.
constexpr network_cost norm(std::int64_t c, bool affine) noexcept {
    return affine ? batch_norm(c) : network_cost{};
}
// Two strided 1x1 convolutions to C/2 channels each, concatenated, then BN.
constexpr network_cost factorized_reduce(std::int64_t c_in, std::int64_t c_out, std::int64_t out,
                                         bool affine) noexcept {
    return 2.0 * conv2d(c_in, c_out / 2, 1, out, out) + norm(c_out, affine);
}
// Depthwise k x k (with stride; dilation does not change the cost) + pointwise 1x1 + BN.
constexpr network_cost dw_pw_bn(std::int64_t c, std::int64_t kernel, std::int64_t out,
                                bool affine) noexcept {
    return conv2d(c, c, kernel, out, out, c) + conv2d(c, c, 1, out, out) + norm(c, affine);
}
constexpr network_cost op_cost(std::uint8_t o, std::int64_t c, std::int64_t stride,
                               std::int64_t out, bool affine) noexcept {
    switch (o) {
    case skip_connect:
        return stride == 1 ? network_cost{} : factorized_reduce(c, c, out, affine);
    case sep_conv_3x3:
        return 2.0 * dw_pw_bn(c, 3, out, affine);
    case sep_conv_5x5:
        return 2.0 * dw_pw_bn(c, 5, out, affine);
    case dil_conv_3x3:
        return dw_pw_bn(c, 3, out, affine);
    case dil_conv_5x5:
        return dw_pw_bn(c, 5, out, affine);
    default:
        return {}; // none and pooling have no parameters and no counted FLOPs
    }
}
} // namespace detail

/// Exact params and FLOPs (multiply-accumulates) of NetworkCIFAR built from (normal, reduce).
[[nodiscard]] inline cost::network_cost cost(const genotype& g, const network_options& o = {}) {
    using namespace detail;
    std::int64_t size = o.resolution;
    network_cost total = conv2d(3, 3 * o.channels, 3, size, size) + batch_norm(3 * o.channels);
    std::int64_t c_prev_prev = 3 * o.channels;
    std::int64_t c_prev = 3 * o.channels;
    std::int64_t c = o.channels;
    bool reduction_prev = false;
    for (std::int64_t layer = 0; layer < o.layers; ++layer) {
        const bool reduction = layer == o.layers / 3 || layer == 2 * o.layers / 3;
        if (reduction)
            c *= 2;
        const std::int64_t out = reduction ? size / 2 : size;
        // Preprocessing brings both inputs to C channels at this cell's input size.
        total += reduction_prev ? factorized_reduce(c_prev_prev, c, size, true)
                                : relu_conv_bn(c_prev_prev, c, 1, size);
        total += relu_conv_bn(c_prev, c, 1, size);
        const cell& k = reduction ? std::get<1>(g) : std::get<0>(g);
        for (const auto& e : cell_space::edges(k)) {
            const std::int64_t stride = reduction && e.from < 2 ? 2 : 1;
            total += op_cost(e.op, c, stride, out, o.affine_ops);
        }
        size = out;
        c_prev_prev = c_prev;
        c_prev = 4 * c;
        reduction_prev = reduction;
        if (o.auxiliary && layer == 2 * o.layers / 3) {
            // ReLU, AvgPool 5/3 (8x8 -> 2x2), 1x1 conv to 128 + BN, ReLU, 2x2 conv to 768 + BN,
            // ReLU, linear to the classes.
            total += conv2d(c_prev, 128, 1, 2, 2) + batch_norm(128) + conv2d(128, 768, 2, 1, 1) +
                     batch_norm(768) + cost::linear(768, o.classes);
        }
    }
    total += cost::linear(c_prev, o.classes);
    return total;
}

} // namespace nascent::darts
