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
    friend constexpr network_cost operator+(network_cost a, const network_cost& b) noexcept { return a += b; }
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

} // namespace nascent::cost
