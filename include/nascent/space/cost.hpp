#pragma once
// Analytic cost primitives for the networks the spaces build: parameter counts and FLOPs.
//
// FLOPs follow the NAS literature's convention (NAS-Bench-201, RegNet, EfficientNet, OFA): one
// multiply-accumulate of a convolution or linear layer counts as one FLOP; normalisation,
// activations, pooling and additions are not counted. Parameters are trainable ones: a batch
// norm has 2C (scale and shift), running statistics are buffers, not parameters.

#include <cstdint>

namespace nascent::cost {

/// Cost of a layer or a network, and the spatial size of its output.
struct network_cost {
    double params = 0; ///< trainable parameters
    double flops = 0;  ///< multiply-accumulates for one input
    constexpr network_cost& operator+=(const network_cost& o) noexcept {
        params += o.params;
        flops += o.flops;
        return *this;
    }
    friend constexpr network_cost operator+(network_cost a, const network_cost& b) noexcept {
        return a += b;
    }
    friend constexpr network_cost operator*(double k, network_cost a) noexcept {
        a.params *= k;
        a.flops *= k;
        return a;
    }
};

/// Output size of a convolution or pooling with "same"-style padding (k/2) and the given stride.
[[nodiscard]] constexpr std::int64_t conv_out(std::int64_t in, std::int64_t kernel,
                                              std::int64_t stride, std::int64_t padding) noexcept {
    return (in + 2 * padding - kernel) / stride + 1;
}

/// A 2-D convolution producing an out_h x out_w map; groups divide the input channels.
[[nodiscard]] constexpr network_cost conv2d(std::int64_t c_in, std::int64_t c_out,
                                            std::int64_t kernel, std::int64_t out_h,
                                            std::int64_t out_w, std::int64_t groups = 1,
                                            bool bias = false) noexcept {
    const double weights = static_cast<double>(c_out) * static_cast<double>(c_in / groups) *
                           static_cast<double>(kernel * kernel);
    return {weights + (bias ? static_cast<double>(c_out) : 0.0),
            weights * static_cast<double>(out_h * out_w)};
}

[[nodiscard]] constexpr network_cost batch_norm(std::int64_t channels) noexcept {
    return {2.0 * static_cast<double>(channels), 0.0};
}

[[nodiscard]] constexpr network_cost linear(std::int64_t in, std::int64_t out,
                                            bool bias = true) noexcept {
    const double weights = static_cast<double>(in) * static_cast<double>(out);
    return {weights + (bias ? static_cast<double>(out) : 0.0), weights};
}

/// An inverted-residual block with explicit channel counts, so that spaces with other channel
/// rules (MobileNetV3, OFA: make_divisible expansions, SE on expanded channels) can use it too.
struct mbconv_spec {
    std::int64_t in_channels = 0;
    std::int64_t mid_channels = 0; ///< expanded channels; == in_channels means no expansion conv
    std::int64_t out_channels = 0;
    std::int64_t kernel = 3;      ///< depthwise kernel size (odd)
    std::int64_t stride = 1;      ///< depthwise stride
    std::int64_t se_channels = 0; ///< squeeze width of the SE module; 0 means no SE
};

/// Cost of one MBConv block on an in_h × in_w input: expansion 1×1 conv + BN (if mid != in),
/// depthwise k×k conv with the stride + BN, SE (global pool, 1×1 conv mid→se with bias, 1×1 conv
/// se→mid with bias, both on a 1×1 map), projection 1×1 conv + BN. The identity shortcut, the
/// activations and the SE gating multiply cost nothing under the convention. The output is
/// conv_out(in, kernel, stride, kernel / 2) on each side.
[[nodiscard]] constexpr network_cost mbconv_block(const mbconv_spec& b, std::int64_t in_h,
                                                  std::int64_t in_w) noexcept {
    const auto out_h = conv_out(in_h, b.kernel, b.stride, b.kernel / 2);
    const auto out_w = conv_out(in_w, b.kernel, b.stride, b.kernel / 2);
    network_cost c;
    if (b.mid_channels != b.in_channels) {
        c += conv2d(b.in_channels, b.mid_channels, 1, in_h, in_w) + batch_norm(b.mid_channels);
    }
    c += conv2d(b.mid_channels, b.mid_channels, b.kernel, out_h, out_w, b.mid_channels) +
         batch_norm(b.mid_channels);
    if (b.se_channels > 0) {
        c += conv2d(b.mid_channels, b.se_channels, 1, 1, 1, 1, true) +
             conv2d(b.se_channels, b.mid_channels, 1, 1, 1, 1, true);
    }
    c += conv2d(b.mid_channels, b.out_channels, 1, out_h, out_w) + batch_norm(b.out_channels);
    return c;
}

} // namespace nascent::cost
