#pragma once
// Smooth activations and the log-softmax: sigmoid, tanh, exp (what an LSTM cell and a policy's
// probabilities are made of) and log_softmax over the last axis.

#include <nascent/tensor/autograd/core.hpp>
#include <nascent/tensor/autograd/elementwise.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// 1 / (1 + exp(-x)), computed without overflow for large |x|.
[[nodiscard]] inline variable sigmoid(const variable& x) {
    return detail::pointwise<detail::slope_of::output>(
        x,
        [](float v) {
            if (v >= 0.0F)
                return 1.0F / (1.0F + std::exp(-v));
            const float e = std::exp(v);
            return e / (1.0F + e);
        },
        [](float y) { return y * (1.0F - y); }, "sigmoid");
}

/// Hyperbolic tangent.
[[nodiscard]] inline variable tanh(const variable& x) {
    return detail::pointwise<detail::slope_of::output>(
        x, [](float v) { return std::tanh(v); }, [](float y) { return 1.0F - y * y; }, "tanh");
}

/// e^x.
[[nodiscard]] inline variable exp(const variable& x) {
    return detail::pointwise<detail::slope_of::output>(
        x, [](float v) { return std::exp(v); }, [](float y) { return y; }, "exp");
}

/// log softmax over the last axis of x [..., C] (max-shifted, sums in double). The backward is
/// g - softmax * sum(g) per row.
[[nodiscard]] inline variable log_softmax(const variable& x) {
    const shape_t& s = x.shape();
    if (s.empty() || s.back() == 0)
        detail::fail("log_softmax", "needs a last axis of extent >= 1, got " + to_string(s));
    const std::size_t classes = s.back();
    const std::size_t rows = x.size() / classes;
    auto out = ndarray::uninitialized(s);
    const float* zp = x.value().data();
    for (std::size_t r = 0; r < rows; ++r) {
        const float* z = zp + r * classes;
        const float top = *std::max_element(z, z + classes);
        double total = 0.0;
        for (std::size_t c = 0; c < classes; ++c)
            total += std::exp(static_cast<double>(z[c]) - top);
        const double shift = top + std::log(total);
        for (std::size_t c = 0; c < classes; ++c)
            out[r * classes + c] = static_cast<float>(z[c] - shift);
    }
    return make_result(
        std::move(out), {x},
        [rows, classes](backward_context& ctx) {
            const ndarray& y = ctx.output();
            ndarray d = detail::take_grad(ctx); // overwritten in place
            for (std::size_t r = 0; r < rows; ++r) {
                float* g = d.data() + r * classes;
                const float* yr = y.data() + r * classes;
                double total = 0.0;
                for (std::size_t c = 0; c < classes; ++c)
                    total += g[c];
                for (std::size_t c = 0; c < classes; ++c)
                    g[c] = static_cast<float>(g[c] - std::exp(static_cast<double>(yr[c])) * total);
            }
            ctx.accumulate(0, std::move(d));
        },
        "log_softmax");
}

} // namespace nascent::tensor
