#pragma once
// Elementwise and broadcasting ops: add, sub, mul, scale, relu, hard sigmoid / swish, channel
// scaling, sum and mean.

#include <nascent/tensor/autograd/core.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::tensor {

namespace detail {

// NumPy broadcasting of two shapes: per output axis, each operand's stride (0 where it repeats).
struct broadcast_plan {
    shape_t out;
    std::vector<std::size_t> a_stride;
    std::vector<std::size_t> b_stride;
};

[[nodiscard]] inline std::vector<std::size_t> contiguous_strides(const shape_t& s) {
    std::vector<std::size_t> st(s.size(), 1);
    for (std::size_t i = s.size(); i > 1; --i)
        st[i - 2] = st[i - 1] * s[i - 1];
    return st;
}

[[nodiscard]] inline broadcast_plan plan_broadcast(const shape_t& a, const shape_t& b,
                                                   std::string_view op) {
    const std::size_t rank = std::max(a.size(), b.size());
    broadcast_plan p{shape_t(rank), std::vector<std::size_t>(rank, 0),
                     std::vector<std::size_t>(rank, 0)};
    const auto as = contiguous_strides(a);
    const auto bs = contiguous_strides(b);
    for (std::size_t i = 0; i < rank; ++i) {
        const std::size_t ia = i + a.size() - rank; // wraps (unused) when i < rank - a.size()
        const std::size_t ib = i + b.size() - rank;
        const bool has_a = i + a.size() >= rank;
        const bool has_b = i + b.size() >= rank;
        const std::size_t da = has_a ? a[ia] : 1;
        const std::size_t db = has_b ? b[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            fail(op, "shapes " + to_string(a) + " and " + to_string(b) + " do not broadcast");
        }
        p.out[i] = da == 1 ? db : da;
        p.a_stride[i] = (has_a && da != 1) ? as[ia] : 0;
        p.b_stride[i] = (has_b && db != 1) ? bs[ib] : 0;
    }
    return p;
}

// Calls f(out_index, a_index, b_index) for every output element, in row-major order.
template <class F>
void for_each_broadcast(const broadcast_plan& p, F&& f) {
    const std::size_t n = element_count(p.out);
    if (n == 0)
        return;
    if (p.out.empty()) {
        f(std::size_t{0}, std::size_t{0}, std::size_t{0});
        return;
    }
    const std::size_t rank = p.out.size();
    const std::size_t inner = p.out[rank - 1];
    const std::size_t sa = p.a_stride[rank - 1];
    const std::size_t sb = p.b_stride[rank - 1];
    std::vector<std::size_t> idx(rank, 0);
    std::size_t ai = 0;
    std::size_t bi = 0;
    for (std::size_t o = 0; o < n; o += inner) {
        for (std::size_t j = 0; j < inner; ++j)
            f(o + j, ai + j * sa, bi + j * sb);
        for (std::size_t axis = rank - 1; axis-- > 0;) { // odometer over the outer axes
            ++idx[axis];
            ai += p.a_stride[axis];
            bi += p.b_stride[axis];
            if (idx[axis] < p.out[axis])
                break;
            ai -= p.a_stride[axis] * p.out[axis];
            bi -= p.b_stride[axis] * p.out[axis];
            idx[axis] = 0;
        }
    }
}

// Sums a gradient of the broadcast shape back to an operand's shape (double accumulators, one
// sequential pass: deterministic).
template <class Term>
[[nodiscard]] ndarray reduce_broadcast(const broadcast_plan& p, const shape_t& target, bool is_a,
                                       Term&& term) {
    std::vector<double> acc(element_count(target), 0.0);
    for_each_broadcast(p, [&](std::size_t o, std::size_t ai, std::size_t bi) {
        acc[is_a ? ai : bi] += term(o, ai, bi);
    });
    auto out = ndarray::uninitialized(target);
    for (std::size_t i = 0; i < acc.size(); ++i)
        out[i] = static_cast<float>(acc[i]);
    return out;
}

} // namespace detail

/// a + b with NumPy broadcasting (e.g. [N, C, H, W] + [C, 1, 1]).
[[nodiscard]] inline variable add(const variable& a, const variable& b) {
    const ndarray& av = a.value();
    const ndarray& bv = b.value();
    if (av.shape() == bv.shape()) {
        auto out = ndarray::uninitialized(av.shape());
        const float* ap = av.data();
        const float* bp = bv.data();
        float* op = out.data();
        detail::parallel_elementwise(out.size(), [ap, bp, op](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i)
                op[i] = ap[i] + bp[i];
        });
        return make_result(
            std::move(out), {a, b},
            [](backward_context& ctx) {
                // The last input that needs it gets the gradient itself, not a copy.
                const bool both = ctx.needs_grad(0) && ctx.needs_grad(1);
                if (both)
                    ctx.accumulate(0, ctx.grad());
                const std::size_t last = both || ctx.needs_grad(1) ? 1 : 0;
                if (ctx.needs_grad(last))
                    ctx.accumulate(last, detail::take_grad(ctx));
            },
            "add");
    }
    auto plan = detail::plan_broadcast(av.shape(), bv.shape(), "add");
    auto out = ndarray::uninitialized(plan.out);
    detail::for_each_broadcast(
        plan, [&](std::size_t o, std::size_t ai, std::size_t bi) { out[o] = av[ai] + bv[bi]; });
    return make_result(
        std::move(out), {a, b},
        [plan](backward_context& ctx) {
            const ndarray& g = ctx.grad();
            for (std::size_t i = 0; i < 2; ++i) {
                if (!ctx.needs_grad(i))
                    continue;
                const auto& target = ctx.input(i).shape();
                if (target == plan.out) {
                    ctx.accumulate(i, g);
                } else {
                    ctx.accumulate(i, detail::reduce_broadcast(plan, target, i == 0,
                                                               [&](std::size_t o, std::size_t,
                                                                   std::size_t) { return g[o]; }));
                }
            }
        },
        "add");
}

/// s * a for a constant s.
[[nodiscard]] inline variable scale(const variable& a, float s) {
    ndarray out = a.value();
    for (auto& v : out.values())
        v *= s;
    return make_result(
        std::move(out), {a},
        [s](backward_context& ctx) {
            ndarray g = detail::take_grad(ctx);
            for (auto& v : g.values())
                v *= s;
            ctx.accumulate(0, std::move(g));
        },
        "scale");
}

/// a - b with broadcasting.
[[nodiscard]] inline variable sub(const variable& a, const variable& b) {
    return add(a, scale(b, -1.0F));
}

/// a * b elementwise with NumPy broadcasting.
[[nodiscard]] inline variable mul(const variable& a, const variable& b) {
    const ndarray& av = a.value();
    const ndarray& bv = b.value();
    auto plan = detail::plan_broadcast(av.shape(), bv.shape(), "mul");
    auto out = ndarray::uninitialized(plan.out);
    if (av.shape() == bv.shape()) {
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = av[i] * bv[i];
    } else {
        detail::for_each_broadcast(
            plan, [&](std::size_t o, std::size_t ai, std::size_t bi) { out[o] = av[ai] * bv[bi]; });
    }
    return make_result(
        std::move(out), {a, b},
        [plan](backward_context& ctx) {
            const ndarray& g = ctx.grad();
            const ndarray& x = ctx.input(0);
            const ndarray& y = ctx.input(1);
            for (std::size_t i = 0; i < 2; ++i) {
                if (!ctx.needs_grad(i))
                    continue;
                const ndarray& other = i == 0 ? y : x;
                const auto& target = ctx.input(i).shape();
                if (x.shape() == y.shape()) {
                    auto d = ndarray::uninitialized(target);
                    for (std::size_t k = 0; k < d.size(); ++k)
                        d[k] = g[k] * other[k];
                    ctx.accumulate(i, std::move(d));
                } else {
                    ctx.accumulate(i, detail::reduce_broadcast(
                                          plan, target, i == 0,
                                          [&](std::size_t o, std::size_t ai, std::size_t bi) {
                                              return static_cast<double>(g[o]) *
                                                     (i == 0 ? y[bi] : x[ai]);
                                          }));
                }
            }
        },
        "mul");
}

[[nodiscard]] inline variable operator+(const variable& a, const variable& b) {
    return add(a, b);
}
[[nodiscard]] inline variable operator-(const variable& a, const variable& b) {
    return sub(a, b);
}
[[nodiscard]] inline variable operator*(const variable& a, const variable& b) {
    return mul(a, b);
}
[[nodiscard]] inline variable operator*(const variable& a, float s) {
    return scale(a, s);
}
[[nodiscard]] inline variable operator*(float s, const variable& a) {
    return scale(a, s);
}

/// max(x, 0). The gradient at exactly 0 is 0 (PyTorch's convention).
[[nodiscard]] inline variable relu(const variable& x) {
    const ndarray& in = x.value();
    auto out = ndarray::uninitialized(in.shape());
    const float* ip = in.data();
    float* op = out.data();
    detail::parallel_elementwise(out.size(), [ip, op](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i)
            op[i] = ip[i] > 0.0F ? ip[i] : 0.0F;
    });
    return make_result(
        std::move(out), {x},
        [](backward_context& ctx) {
            const ndarray& y = ctx.output();
            ndarray d = detail::take_grad(ctx); // masked in place
            // A bit mask rather than `y > 0 ? g : 0`, which compilers may turn into an
            // unpredictable branch.
            const float* yp = y.data();
            float* dp = d.data();
            detail::parallel_elementwise(d.size(), [yp, dp](std::size_t lo, std::size_t hi) {
                for (std::size_t i = lo; i < hi; ++i) {
                    const std::uint32_t keep = 0U - static_cast<std::uint32_t>(yp[i] > 0.0F);
                    dp[i] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(dp[i]) & keep);
                }
            });
            ctx.accumulate(0, std::move(d));
        },
        "relu");
}

namespace detail {
/// What an elementwise op's slope is a function of.
enum class slope_of : bool {
    input, ///< f'(x), for ops whose slope is cheapest from x
    output ///< f'(x) as a function of y = f(x) (sigmoid, tanh, exp): no recomputation of f
};

// An elementwise op y = f(x): forward(x) and slope(x or y) per element, both on TBB chunks. The
// backward reads the input (which the graph keeps anyway) or the output.
template <slope_of From = slope_of::input, class Forward, class Slope>
[[nodiscard]] variable pointwise(const variable& x, Forward forward, Slope slope,
                                 std::string_view op) {
    const ndarray& in = x.value();
    auto out = ndarray::uninitialized(in.shape());
    const float* ip = in.data();
    float* yp = out.data();
    parallel_elementwise(out.size(), [ip, yp, forward](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i)
            yp[i] = forward(ip[i]);
    });
    return make_result(
        std::move(out), {x},
        [slope](backward_context& ctx) {
            const float* at = (From == slope_of::input ? ctx.input(0) : ctx.output()).data();
            ndarray d = take_grad(ctx); // scaled in place
            float* dp = d.data();
            parallel_elementwise(d.size(), [at, dp, slope](std::size_t lo, std::size_t hi) {
                for (std::size_t i = lo; i < hi; ++i)
                    dp[i] *= slope(at[i]);
            });
            ctx.accumulate(0, std::move(d));
        },
        op);
}
} // namespace detail

/// min(max(x + 3, 0), 6) / 6: MobileNetV3's hard sigmoid (PyTorch's hardsigmoid). The gradient
/// is 1/6 strictly inside (-3, 3) and 0 elsewhere, kinks included (PyTorch's convention).
[[nodiscard]] inline variable hard_sigmoid(const variable& x) {
    return detail::pointwise(
        x, [](float v) { return std::min(std::max(v + 3.0F, 0.0F), 6.0F) / 6.0F; },
        [](float v) { return v > -3.0F && v < 3.0F ? 1.0F / 6.0F : 0.0F; }, "hard_sigmoid");
}

/// x * hard_sigmoid(x): MobileNetV3's hard swish (PyTorch's hardswish). The gradient is 0 below
/// -3, x / 3 + 1/2 on [-3, 3] and 1 above (PyTorch's convention at the kinks).
[[nodiscard]] inline variable hard_swish(const variable& x) {
    return detail::pointwise(
        x, [](float v) { return v * (std::min(std::max(v + 3.0F, 0.0F), 6.0F) / 6.0F); },
        [](float v) { return v < -3.0F ? 0.0F : (v <= 3.0F ? v / 3.0F + 0.5F : 1.0F); },
        "hard_swish");
}

/// x [N, C, H, W] with each plane multiplied by s [N, C]: squeeze-and-excitation's gating
/// (x * s[:, :, None, None]). One op rather than a broadcasting mul, whose generic backward
/// reduces element by element: here ds is one fixed-order sum per plane.
[[nodiscard]] inline variable scale_channels(const variable& x, const variable& s) {
    const shape_t& xs = x.shape();
    if (xs.size() != 4) {
        detail::fail("scale_channels", "input must be [N, C, H, W], got " + to_string(xs));
    }
    if (s.shape() != shape_t{xs[0], xs[1]}) {
        detail::fail("scale_channels",
                     "scales must be [N, C] = " + to_string(shape_t{xs[0], xs[1]}) + ", got " +
                         to_string(s.shape()));
    }
    const std::size_t planes = xs[0] * xs[1];
    const std::size_t plane = xs[2] * xs[3];
    // Planes per task: about elementwise_grain elements, whole planes only.
    const std::size_t grain =
        std::max<std::size_t>(detail::elementwise_grain / std::max<std::size_t>(plane, 1), 1);
    auto out = ndarray::uninitialized(xs);
    const float* xp = x.value().data();
    const float* sp = s.value().data();
    float* op = out.data();
    detail::parallel_chunks(planes, grain, [=](std::size_t lo, std::size_t hi) {
        for (std::size_t p = lo; p < hi; ++p) {
            const float k = sp[p];
            for (std::size_t i = 0; i < plane; ++i)
                op[p * plane + i] = xp[p * plane + i] * k;
        }
    });
    return make_result(
        std::move(out), {x, s},
        [planes, plane, grain](backward_context& ctx) {
            const float* xv = ctx.input(0).data();
            const float* sv = ctx.input(1).data();
            if (ctx.needs_grad(1)) {
                const float* g = ctx.grad().data();
                auto ds = ndarray::uninitialized(ctx.input(1).shape());
                float* dsp = ds.data();
                detail::parallel_chunks(planes, grain, [=](std::size_t lo, std::size_t hi) {
                    for (std::size_t p = lo; p < hi; ++p) {
                        const float* gp = g + p * plane;
                        const float* xq = xv + p * plane;
                        dsp[p] =
                            detail::sum8(plane, [gp, xq](std::size_t i) { return gp[i] * xq[i]; });
                    }
                });
                ctx.accumulate(1, std::move(ds));
            }
            if (ctx.needs_grad(0)) {
                ndarray dx = detail::take_grad(ctx); // scaled in place
                float* dp = dx.data();
                detail::parallel_chunks(planes, grain, [=](std::size_t lo, std::size_t hi) {
                    for (std::size_t p = lo; p < hi; ++p) {
                        const float k = sv[p];
                        for (std::size_t i = 0; i < plane; ++i)
                            dp[p * plane + i] *= k;
                    }
                });
                ctx.accumulate(0, std::move(dx));
            }
        },
        "scale_channels");
}

/// Sum of all elements, as a scalar (shape []).
[[nodiscard]] inline variable sum(const variable& x) {
    double acc = 0.0;
    for (const float v : x.value().values())
        acc += v;
    return make_result(
        ndarray::scalar(static_cast<float>(acc)), {x},
        [](backward_context& ctx) {
            ctx.accumulate(0, ndarray(ctx.input(0).shape(), ctx.grad()[0]));
        },
        "sum");
}

/// Mean of all elements, as a scalar.
[[nodiscard]] inline variable mean(const variable& x) {
    const std::size_t n = x.size();
    if (n == 0)
        detail::fail("mean", "empty input");
    double acc = 0.0;
    for (const float v : x.value().values())
        acc += v;
    const double inv = 1.0 / static_cast<double>(n);
    return make_result(
        ndarray::scalar(static_cast<float>(acc * inv)), {x},
        [inv](backward_context& ctx) {
            ctx.accumulate(0,
                           ndarray(ctx.input(0).shape(), static_cast<float>(ctx.grad()[0] * inv)));
        },
        "mean");
}

} // namespace nascent::tensor
