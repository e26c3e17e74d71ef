#pragma once
// Dense layers: matmul and linear, on Eigen GEMMs.

#include <nascent/tensor/autograd/core.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// a [M, K] x b [K, N] -> [M, N].
[[nodiscard]] inline variable matmul(const variable& a, const variable& b) {
    const shape_t& as = a.shape();
    const shape_t& bs = b.shape();
    if (as.size() != 2 || bs.size() != 2 || as[1] != bs[0]) {
        detail::fail("matmul",
                     "needs [M, K] x [K, N], got " + to_string(as) + " x " + to_string(bs));
    }
    const std::size_t m = as[0];
    const std::size_t k = as[1];
    const std::size_t n = bs[1];
    auto out = ndarray::uninitialized({m, n});
    detail::as_matrix(out.data(), m, n).noalias() =
        detail::as_matrix(a.value().data(), m, k) * detail::as_matrix(b.value().data(), k, n);
    return make_result(
        std::move(out), {a, b},
        [m, k, n](backward_context& ctx) {
            const auto g = detail::as_matrix(ctx.grad().data(), m, n);
            if (ctx.needs_grad(0)) {
                auto d = ndarray::uninitialized({m, k});
                detail::as_matrix(d.data(), m, k).noalias() =
                    g * detail::as_matrix(ctx.input(1).data(), k, n).transpose();
                ctx.accumulate(0, std::move(d));
            }
            if (ctx.needs_grad(1)) {
                auto d = ndarray::uninitialized({k, n});
                detail::as_matrix(d.data(), k, n).noalias() =
                    detail::as_matrix(ctx.input(0).data(), m, k).transpose() * g;
                ctx.accumulate(1, std::move(d));
            }
        },
        "matmul");
}

namespace detail {
// Column sums of a rows x cols matrix, in double, row by row (fixed order).
[[nodiscard]] inline ndarray column_sums(const ndarray& g, std::size_t rows, std::size_t cols) {
    std::vector<double> acc(cols, 0.0);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c)
            acc[c] += g[r * cols + c];
    }
    auto out = ndarray::uninitialized({cols});
    for (std::size_t c = 0; c < cols; ++c)
        out[c] = static_cast<float>(acc[c]);
    return out;
}
} // namespace detail

/// x [N, in] x weight [out, in]^T + bias [out] (bias may be a null handle).
[[nodiscard]] inline variable linear(const variable& x, const variable& weight,
                                     const variable& bias = {}) {
    const shape_t& xs = x.shape();
    const shape_t& ws = weight.shape();
    if (xs.size() != 2 || ws.size() != 2 || xs[1] != ws[1]) {
        detail::fail("linear", "needs input [N, in] and weight [out, in], got " + to_string(xs) +
                                   " and " + to_string(ws));
    }
    const std::size_t n = xs[0];
    const std::size_t in = xs[1];
    const std::size_t out_features = ws[0];
    if (bias.defined() && bias.shape() != shape_t{out_features}) {
        detail::fail("linear", "bias of shape " + to_string(bias.shape()) + ", needs [" +
                                   std::to_string(out_features) + "]");
    }
    auto out = ndarray::uninitialized({n, out_features});
    auto o = detail::as_matrix(out.data(), n, out_features);
    o.noalias() = detail::as_matrix(x.value().data(), n, in) *
                  detail::as_matrix(weight.value().data(), out_features, in).transpose();
    if (bias.defined()) {
        const float* b = bias.value().data();
        for (std::size_t r = 0; r < n; ++r) {
            for (std::size_t c = 0; c < out_features; ++c)
                out[r * out_features + c] += b[c];
        }
    }
    return make_result(
        std::move(out), {x, weight, bias},
        [n, in, out_features](backward_context& ctx) {
            const auto g = detail::as_matrix(ctx.grad().data(), n, out_features);
            if (ctx.needs_grad(0)) {
                auto d = ndarray::uninitialized({n, in});
                detail::as_matrix(d.data(), n, in).noalias() =
                    g * detail::as_matrix(ctx.input(1).data(), out_features, in);
                ctx.accumulate(0, std::move(d));
            }
            if (ctx.needs_grad(1)) {
                auto d = ndarray::uninitialized({out_features, in});
                detail::as_matrix(d.data(), out_features, in).noalias() =
                    g.transpose() * detail::as_matrix(ctx.input(0).data(), n, in);
                ctx.accumulate(1, std::move(d));
            }
            if (ctx.needs_grad(2))
                ctx.accumulate(2, detail::column_sums(ctx.grad(), n, out_features));
        },
        "linear");
}

} // namespace nascent::tensor
