#pragma once
// Exact cost of the NAS-Bench-201 network built from a cell: stem conv3x3 (input channels -> C) +
// BN; three stages of N cells at C, 2C, 4C channels with a residual reduction block between stages
// (ReLU-conv3x3/2-BN, ReLU-conv3x3-BN, shortcut avgpool2x2 + conv1x1); BN + ReLU; global
// average pool; linear to the classes. In a cell, nor_conv_kxk is ReLU-conv-BN (C->C, no bias);
// pooling, skip and none have no parameters. Defaults: C = 16, N = 5, 10 classes, 3 input
// channels, 32x32 input. The same options build the network (eval/nb201_network.hpp), so the
// two describe one network.
//
// Parameters match the `params` of NASLib's NAS-Bench-201 data for all
// 724 cells it lists, and `params_m` of nb201.csv for 15,421 of 15,625 cells; the other 204
// values of that column (from NASWOT's pickle) are off by thirds of one edge's parameters, a
// defect of that source (see tests/unit/cost_models.cpp). FLOPs are multiply-accumulates of the
// convolutions and the linear layer (space/cost.hpp's convention).

#include <nascent/space/cost.hpp>
#include <nascent/space/nb201.hpp>

#include <cstddef>
#include <cstdint>

namespace nascent::nb201 {

struct network_options {
    std::size_t channels = 16;       ///< C of the first stage
    std::size_t cells_per_stage = 5; ///< N
    std::size_t classes = 10;
    std::size_t input_channels = 3;
    bool affine = true; ///< batch norms with scale and shift (else they have no parameters)
    std::size_t resolution = 32; ///< input height = width
};

/// Exact params and FLOPs of the network with every cell equal to `c`.
[[nodiscard]] constexpr cost::network_cost network_cost(const cell& c,
                                                        const network_options& o = {}) noexcept {
    using cost::conv2d;
    const auto batch_norm = [&o](std::int64_t channels) {
        return o.affine ? cost::batch_norm(channels) : cost::network_cost{};
    };
    auto size = static_cast<std::int64_t>(o.resolution);
    auto ch = static_cast<std::int64_t>(o.channels);
    auto total =
        conv2d(static_cast<std::int64_t>(o.input_channels), ch, 3, size, size) + batch_norm(ch);
    for (int stage = 0; stage < 3; ++stage) {
        if (stage > 0) {
            const std::int64_t next = 2 * ch;
            const std::int64_t out = size / 2;
            total += conv2d(ch, next, 3, out, out) + batch_norm(next);
            total += conv2d(next, next, 3, out, out) + batch_norm(next);
            total += conv2d(ch, next, 1, out, out); // shortcut after a 2x2 average pool
            ch = next;
            size = out;
        }
        cost::network_cost cell_cost;
        for (const auto o_id : c.ops) {
            if (o_id == nor_conv_3x3)
                cell_cost += conv2d(ch, ch, 3, size, size) + batch_norm(ch);
            if (o_id == nor_conv_1x1)
                cell_cost += conv2d(ch, ch, 1, size, size) + batch_norm(ch);
        }
        total += static_cast<double>(o.cells_per_stage) * cell_cost;
    }
    total += batch_norm(ch) + cost::linear(ch, static_cast<std::int64_t>(o.classes));
    return total;
}

} // namespace nascent::nb201
