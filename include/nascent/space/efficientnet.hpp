#pragma once
// EfficientNet (Tan & Le, ICML 2019): the B0 baseline, compound scaling and the B0…B7 family, with
// exact parameter and FLOP counts, and the MBConv block cost that other mobile spaces reuse.
//
// Everything follows the reference implementation (tensorflow/tpu efficientnet_builder.py and
// efficientnet_model.py): channels scale by round_filters (to a multiple of 8, never more than 10 %
// below the scaled value), repeats by round_repeats (ceil), "same" padding (output = ceil(in /
// stride)). Costs use nascent::cost's convention: multiply-accumulates of convolutions and linear
// layers, including the squeeze-and-excitation 1×1 convolutions (as the paper's FLOPs do); batch
// norms are 2C parameters. B0 has 5,288,548 parameters, the reference implementation's count.

#include <nascent/space/cost.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::efficientnet {

// The MBConv block cost is cost::mbconv_block (space/cost.hpp), shared with the OFA space.
using cost::mbconv_spec;

// ---------------------------------------------------------------------------------------------
// The B0 baseline and the scaling rules

/// One stage of MBConv blocks: the first block has the stride and in_channels, the others
/// stride 1 and out_channels as input. SE squeezes to max(1, int(block input channels · se_ratio)).
struct stage_spec {
    std::int64_t repeats = 1;
    std::int64_t kernel = 3;
    std::int64_t stride = 1;
    std::int64_t expand_ratio = 6;
    std::int64_t in_channels = 0;
    std::int64_t out_channels = 0;
    double se_ratio = 0.25;
    friend bool operator==(const stage_spec&, const stage_spec&) = default;
};

/// B0's stages: the reference's block strings from r1_k3_s11_e1_i32_o16_se0.25 to
/// r1_k3_s11_e6_i192_o320_se0.25.
inline constexpr std::array<stage_spec, 7> b0_stages{{
    {1, 3, 1, 1, 32, 16, 0.25},
    {2, 3, 2, 6, 16, 24, 0.25},
    {2, 5, 2, 6, 24, 40, 0.25},
    {3, 3, 2, 6, 40, 80, 0.25},
    {3, 5, 1, 6, 80, 112, 0.25},
    {4, 5, 2, 6, 112, 192, 0.25},
    {1, 3, 1, 6, 192, 320, 0.25},
}};
inline constexpr std::int64_t b0_stem_channels = 32;   ///< 3×3 stride-2 conv + BN
inline constexpr std::int64_t b0_head_channels = 1280; ///< 1×1 conv + BN before pooling
inline constexpr std::int64_t b0_resolution = 224;
inline constexpr std::int64_t depth_divisor = 8;

/// Width and depth multipliers and the input resolution of one member of the family.
struct scaling {
    double width = 1.0;
    double depth = 1.0;
    std::int64_t resolution = b0_resolution;
    friend bool operator==(const scaling&, const scaling&) = default;
};

/// The published (width, depth, resolution) of B0…B7 (the reference's efficientnet_params).
inline constexpr std::array<scaling, 8> published{{
    {1.0, 1.0, 224},
    {1.0, 1.1, 240},
    {1.1, 1.2, 260},
    {1.2, 1.4, 300},
    {1.4, 1.8, 380},
    {1.6, 2.2, 456},
    {1.8, 2.6, 528},
    {2.0, 3.1, 600},
}};

/// EfficientNet-B`n` for n in 0…7; throws std::invalid_argument naming n otherwise.
[[nodiscard]] inline scaling variant(int n) {
    if (n < 0 || n >= static_cast<int>(published.size()))
        throw std::invalid_argument("EfficientNet-B" + std::to_string(n) +
                                    " does not exist: the family is B0 to B7");
    return published[static_cast<std::size_t>(n)];
}

/// The grid-searched constants of compound scaling (α·β²·γ² ≈ 2, so FLOPs grow about 2^φ).
struct compound_coefficients {
    double alpha = 1.2;  ///< depth
    double beta = 1.1;   ///< width
    double gamma = 1.15; ///< resolution
};

/// The multipliers of compound coefficient φ: depth α^φ, width β^φ, resolution γ^φ.
struct multipliers {
    double depth = 1;
    double width = 1;
    double resolution = 1;
};

[[nodiscard]] inline multipliers compound_scaling(double phi, const compound_coefficients& k = {}) {
    if (!std::isfinite(phi))
        throw std::invalid_argument("compound coefficient phi=" + std::to_string(phi) +
                                    " is not finite");
    return {std::pow(k.alpha, phi), std::pow(k.beta, phi), std::pow(k.gamma, phi)};
}

/// The network of compound coefficient φ from B0, the resolution rounded to the nearest pixel.
/// The published B1…B7 were hand-rounded from such values, so they differ from scaled(1…7).
[[nodiscard]] inline scaling scaled(double phi, const compound_coefficients& k = {}) {
    const auto m = compound_scaling(phi, k);
    return {
        m.width, m.depth,
        static_cast<std::int64_t>(std::round(static_cast<double>(b0_resolution) * m.resolution))};
}

/// Channels scaled by `width` and rounded to a multiple of `divisor`, at least `divisor`, and not
/// more than 10 % below the scaled value (the reference's round_filters).
[[nodiscard]] inline std::int64_t round_filters(std::int64_t filters, double width,
                                                std::int64_t divisor = depth_divisor) {
    const double scaled = static_cast<double>(filters) * width;
    const auto d = static_cast<double>(divisor);
    auto rounded = static_cast<std::int64_t>(scaled + d / 2) / divisor * divisor;
    rounded = std::max(divisor, rounded);
    if (static_cast<double>(rounded) < 0.9 * scaled)
        rounded += divisor;
    return rounded;
}

/// Repeats scaled by `depth`, rounded up (the reference's round_repeats).
[[nodiscard]] inline std::int64_t round_repeats(std::int64_t repeats, double depth) {
    return static_cast<std::int64_t>(std::ceil(depth * static_cast<double>(repeats)));
}

/// A scaled network's layout: stem and head channels and the seven stages.
struct network {
    std::int64_t stem_channels = 0;
    std::array<stage_spec, 7> stages{};
    std::int64_t head_channels = 0;
    std::int64_t resolution = 0;
};

/// B0's layout scaled by `s`; throws std::invalid_argument naming a non-positive multiplier.
[[nodiscard]] inline network layout(const scaling& s = {}) {
    if (!(s.width > 0 && std::isfinite(s.width)) || !(s.depth > 0 && std::isfinite(s.depth)) ||
        s.resolution < 1) {
        throw std::invalid_argument("invalid EfficientNet scaling: width " +
                                    std::to_string(s.width) + ", depth " + std::to_string(s.depth) +
                                    ", resolution " + std::to_string(s.resolution) +
                                    " must be positive");
    }
    network n;
    n.stem_channels = round_filters(b0_stem_channels, s.width);
    for (std::size_t i = 0; i < b0_stages.size(); ++i) {
        stage_spec st = b0_stages[i];
        st.in_channels = round_filters(st.in_channels, s.width);
        st.out_channels = round_filters(st.out_channels, s.width);
        st.repeats = round_repeats(st.repeats, s.depth);
        n.stages[i] = st;
    }
    n.head_channels = round_filters(b0_head_channels, s.width);
    n.resolution = s.resolution;
    return n;
}

/// The MBConv blocks of one stage, in order.
[[nodiscard]] inline std::vector<mbconv_spec> blocks(const stage_spec& st) {
    std::vector<mbconv_spec> out;
    out.reserve(static_cast<std::size_t>(st.repeats));
    for (std::int64_t r = 0; r < st.repeats; ++r) {
        const auto in = r == 0 ? st.in_channels : st.out_channels;
        const auto squeeze = static_cast<std::int64_t>(static_cast<double>(in) * st.se_ratio);
        out.push_back({.in_channels = in,
                       .mid_channels = in * st.expand_ratio,
                       .out_channels = st.out_channels,
                       .kernel = st.kernel,
                       .stride = r == 0 ? st.stride : 1,
                       .se_channels = st.se_ratio > 0 ? std::max<std::int64_t>(1, squeeze) : 0});
    }
    return out;
}

/// Parameters and FLOPs of a laid-out network with a `num_classes` linear classifier.
[[nodiscard]] inline cost::network_cost complexity(const network& n,
                                                   std::int64_t num_classes = 1000) {
    std::int64_t h = cost::conv_out(n.resolution, 3, 2, 1);
    cost::network_cost c =
        cost::conv2d(3, n.stem_channels, 3, h, h) + cost::batch_norm(n.stem_channels);
    std::int64_t prev = n.stem_channels;
    for (const auto& st : n.stages) {
        for (const auto& b : blocks(st)) {
            c += cost::mbconv_block(b, h, h);
            h = cost::conv_out(h, b.kernel, b.stride, b.kernel / 2);
        }
        prev = st.out_channels;
    }
    c += cost::conv2d(prev, n.head_channels, 1, h, h) + cost::batch_norm(n.head_channels);
    return c + cost::linear(n.head_channels, num_classes); // after global average pooling
}

/// Parameters and FLOPs of the EfficientNet scaled by `s` (B0 by default).
[[nodiscard]] inline cost::network_cost complexity(const scaling& s = {},
                                                   std::int64_t num_classes = 1000) {
    return complexity(layout(s), num_classes);
}

} // namespace nascent::efficientnet
