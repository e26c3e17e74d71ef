#pragma once
// Shape ops: reshape, flatten, concat, narrow.

#include <nascent/tensor/autograd/core.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// The same values under another shape with the same element count.
[[nodiscard]] inline variable reshape(const variable& x, shape_t shape) {
    if (element_count(shape) != x.size()) {
        detail::fail("reshape",
                     "cannot view shape " + to_string(x.shape()) + " as " + to_string(shape));
    }
    return make_result(
        x.value().reshaped(std::move(shape)), {x},
        [](backward_context& ctx) {
            ctx.accumulate(0, detail::take_grad(ctx).reshaped(ctx.input(0).shape()));
        },
        "reshape");
}

/// [N, ...] -> [N, product of the rest].
[[nodiscard]] inline variable flatten(const variable& x) {
    if (x.shape().empty())
        detail::fail("flatten", "needs rank >= 1, got a scalar");
    const std::size_t n = x.dim(0);
    return reshape(x, {n, n == 0 ? 0 : x.size() / n});
}

namespace detail {
// An array seen as [outer, axis extent, inner] around `axis`.
struct axis_view {
    std::size_t outer = 1;
    std::size_t extent = 1;
    std::size_t inner = 1;
};
[[nodiscard]] inline axis_view view_around(const shape_t& s, std::size_t axis) {
    axis_view v;
    for (std::size_t i = 0; i < axis; ++i)
        v.outer *= s[i];
    v.extent = s[axis];
    for (std::size_t i = axis + 1; i < s.size(); ++i)
        v.inner *= s[i];
    return v;
}
} // namespace detail

/// Concatenation along `axis` (1 = channels for NCHW); other extents must agree.
[[nodiscard]] inline variable concat(const std::vector<variable>& xs, std::size_t axis = 1) {
    if (xs.empty())
        detail::fail("concat", "no inputs");
    const shape_t& first = xs[0].shape();
    if (axis >= first.size()) {
        detail::fail("concat", "axis " + std::to_string(axis) + " out of range for shape " +
                                   to_string(first));
    }
    shape_t out_shape = first;
    out_shape[axis] = 0;
    for (const auto& x : xs) {
        const shape_t& s = x.shape();
        bool ok = s.size() == first.size();
        for (std::size_t i = 0; ok && i < s.size(); ++i)
            ok = i == axis || s[i] == first[i];
        if (!ok) {
            detail::fail("concat", "shape " + to_string(s) + " does not match " + to_string(first) +
                                       " outside axis " + std::to_string(axis));
        }
        out_shape[axis] += s[axis];
    }
    auto out = ndarray::uninitialized(out_shape);
    const auto ov = detail::view_around(out_shape, axis);
    std::vector<std::size_t> offsets;
    std::size_t offset = 0;
    for (const auto& x : xs) {
        offsets.push_back(offset);
        const auto v = detail::view_around(x.shape(), axis);
        const float* src = x.value().data();
        for (std::size_t o = 0; o < v.outer; ++o) {
            std::copy_n(src + o * v.extent * v.inner, v.extent * v.inner,
                        out.data() + (o * ov.extent + offset) * ov.inner);
        }
        offset += v.extent;
    }
    return make_result(
        std::move(out), xs,
        [axis, offsets](backward_context& ctx) {
            const ndarray& g = ctx.grad();
            const auto gv = detail::view_around(g.shape(), axis);
            for (std::size_t i = 0; i < ctx.inputs(); ++i) {
                if (!ctx.needs_grad(i))
                    continue;
                auto d = ndarray::uninitialized(ctx.input(i).shape());
                const auto v = detail::view_around(d.shape(), axis);
                for (std::size_t o = 0; o < v.outer; ++o) {
                    std::copy_n(g.data() + (o * gv.extent + offsets[i]) * gv.inner,
                                v.extent * v.inner, d.data() + o * v.extent * v.inner);
                }
                ctx.accumulate(i, std::move(d));
            }
        },
        "concat");
}

/// Elements [start, start + length) along `axis` (e.g. the first channels, as NAS-Bench-101's
/// truncation does).
[[nodiscard]] inline variable narrow(const variable& x, std::size_t axis, std::size_t start,
                                     std::size_t length) {
    const shape_t& s = x.shape();
    if (axis >= s.size()) {
        detail::fail("narrow",
                     "axis " + std::to_string(axis) + " out of range for shape " + to_string(s));
    }
    if (start > s[axis] || length > s[axis] - start) {
        detail::fail("narrow", "range [" + std::to_string(start) + ", " +
                                   std::to_string(start + length) + ") exceeds extent " +
                                   std::to_string(s[axis]) + " of axis " + std::to_string(axis));
    }
    shape_t out_shape = s;
    out_shape[axis] = length;
    auto out = ndarray::uninitialized(out_shape);
    const auto v = detail::view_around(s, axis);
    for (std::size_t o = 0; o < v.outer; ++o) {
        std::copy_n(x.value().data() + (o * v.extent + start) * v.inner, length * v.inner,
                    out.data() + o * length * v.inner);
    }
    return make_result(
        std::move(out), {x},
        [axis, start, length](backward_context& ctx) {
            ndarray d(ctx.input(0).shape());
            const auto dv = detail::view_around(d.shape(), axis);
            for (std::size_t o = 0; o < dv.outer; ++o) {
                std::copy_n(ctx.grad().data() + o * length * dv.inner, length * dv.inner,
                            d.data() + (o * dv.extent + start) * dv.inner);
            }
            ctx.accumulate(0, std::move(d));
        },
        "narrow");
}

} // namespace nascent::tensor
