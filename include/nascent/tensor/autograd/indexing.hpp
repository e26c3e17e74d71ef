#pragma once
// Ops that read entries by index: embedding (rows of a table), pick (one entry per row, e.g. the
// log-probability of the action taken) and row sums. Their backwards scatter-add in index order,
// so they are deterministic.

#include <nascent/tensor/autograd/core.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

namespace detail {
inline void check_indices(std::span<const std::int32_t> indices, std::size_t bound,
                          std::string_view op) {
    for (std::size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] < 0 || static_cast<std::size_t>(indices[i]) >= bound) {
            fail(op, "index " + std::to_string(indices[i]) + " at " + std::to_string(i) +
                         " outside [0, " + std::to_string(bound) + ")");
        }
    }
}
} // namespace detail

/// Rows of weight [V, D] by index: out[n] = weight[indices[n]], shape [N, D] (torch's
/// nn.functional.embedding). Repeated indices add their gradients.
[[nodiscard]] inline variable embedding(const variable& weight,
                                        std::span<const std::int32_t> indices) {
    const shape_t& ws = weight.shape();
    if (ws.size() != 2)
        detail::fail("embedding", "weight must be [V, D], got " + to_string(ws));
    detail::check_indices(indices, ws[0], "embedding");
    const std::size_t n = indices.size();
    const std::size_t d = ws[1];
    auto out = ndarray::uninitialized({n, d});
    const float* w = weight.value().data();
    for (std::size_t r = 0; r < n; ++r)
        std::copy_n(w + static_cast<std::size_t>(indices[r]) * d, d, out.data() + r * d);
    std::vector<std::int32_t> kept(indices.begin(), indices.end());
    return make_result(
        std::move(out), {weight},
        [kept = std::move(kept), d](backward_context& ctx) {
            ndarray dw(ctx.input(0).shape());
            const float* g = ctx.grad().data();
            for (std::size_t r = 0; r < kept.size(); ++r) {
                float* row = dw.data() + static_cast<std::size_t>(kept[r]) * d;
                for (std::size_t c = 0; c < d; ++c)
                    row[c] += g[r * d + c];
            }
            ctx.accumulate(0, std::move(dw));
        },
        "embedding");
}

/// One entry per row: out[n] = x[n, indices[n]] for x [N, C], shape [N] (torch.gather along
/// the last axis, squeezed).
[[nodiscard]] inline variable pick(const variable& x, std::span<const std::int32_t> indices) {
    const shape_t& s = x.shape();
    if (s.size() != 2)
        detail::fail("pick", "input must be [N, C], got " + to_string(s));
    if (indices.size() != s[0]) {
        detail::fail("pick", std::to_string(indices.size()) + " indices for " +
                                 std::to_string(s[0]) + " rows");
    }
    detail::check_indices(indices, s[1], "pick");
    const std::size_t c = s[1];
    auto out = ndarray::uninitialized({s[0]});
    for (std::size_t r = 0; r < s[0]; ++r)
        out[r] = x.value()[r * c + static_cast<std::size_t>(indices[r])];
    std::vector<std::int32_t> kept(indices.begin(), indices.end());
    return make_result(
        std::move(out), {x},
        [kept = std::move(kept), c](backward_context& ctx) {
            ndarray dx(ctx.input(0).shape());
            for (std::size_t r = 0; r < kept.size(); ++r)
                dx[r * c + static_cast<std::size_t>(kept[r])] = ctx.grad()[r];
            ctx.accumulate(0, std::move(dx));
        },
        "pick");
}

/// Sums over the last axis: x [N, C] -> [N] (in double, in order).
[[nodiscard]] inline variable row_sums(const variable& x) {
    const shape_t& s = x.shape();
    if (s.size() != 2)
        detail::fail("row_sums", "input must be [N, C], got " + to_string(s));
    const std::size_t rows = s[0];
    const std::size_t c = s[1];
    auto out = ndarray::uninitialized({rows});
    for (std::size_t r = 0; r < rows; ++r) {
        double acc = 0.0;
        for (std::size_t k = 0; k < c; ++k)
            acc += x.value()[r * c + k];
        out[r] = static_cast<float>(acc);
    }
    return make_result(
        std::move(out), {x},
        [rows, c](backward_context& ctx) {
            auto dx = ndarray::uninitialized(ctx.input(0).shape());
            for (std::size_t r = 0; r < rows; ++r) {
                for (std::size_t k = 0; k < c; ++k)
                    dx[r * c + k] = ctx.grad()[r];
            }
            ctx.accumulate(0, std::move(dx));
        },
        "row_sums");
}

} // namespace nascent::tensor
