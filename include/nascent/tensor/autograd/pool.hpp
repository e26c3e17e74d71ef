#pragma once
// Pooling: max, average (PyTorch's count_include_pad choice) and global average; windows are
// described by conv_geometry.hpp's hw pairs.

#include <nascent/tensor/autograd/conv_geometry.hpp>
#include <nascent/tensor/autograd/core.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::tensor {

struct max_pool2d_options {
    hw kernel = 2;
    hw stride = 0; ///< 0: the kernel size (PyTorch's default)
    hw padding = 0;
};

struct avg_pool2d_options {
    hw kernel = 2;
    hw stride = 0; ///< 0: the kernel size
    hw padding = 0;
    /// false (the default here, unlike PyTorch): border windows average only the real pixels,
    /// as NAS-Bench-201's and DARTS's avg_pool_3x3 do.
    bool count_include_pad = false;
};

namespace detail {

struct pool_geometry {
    std::size_t planes = 0, h = 0, w = 0, ho = 0, wo = 0;
    hw kernel, stride, padding;
};

[[nodiscard]] inline pool_geometry plan_pool(std::string_view op, const shape_t& xs, hw kernel,
                                             hw stride, hw padding) {
    if (xs.size() != 4)
        fail(op, "input must be [N, C, H, W], got " + to_string(xs));
    if (stride == hw(0))
        stride = kernel;
    if (kernel.h == 0 || kernel.w == 0 || stride.h == 0 || stride.w == 0) {
        fail(op, "kernel " + to_string(kernel) + " and stride " + to_string(stride) +
                     " must be positive");
    }
    if (2 * padding.h > kernel.h || 2 * padding.w > kernel.w) {
        fail(op, "padding " + to_string(padding) + " exceeds half the kernel " + to_string(kernel));
    }
    pool_geometry g{.planes = xs[0] * xs[1],
                    .h = xs[2],
                    .w = xs[3],
                    .ho = 0,
                    .wo = 0,
                    .kernel = kernel,
                    .stride = stride,
                    .padding = padding};
    g.ho = window_extent(g.h, kernel.h, stride.h, padding.h, 1);
    g.wo = window_extent(g.w, kernel.w, stride.w, padding.w, 1);
    if (g.ho == 0 || g.wo == 0) {
        fail(op, "kernel " + to_string(kernel) + " does not fit input " + to_string(xs) +
                     " with padding " + to_string(padding));
    }
    return g;
}

// The windows of a pooling op clipped to the input: rows [y0, y1) per output row, columns
// [x0, x1) per output column, and, per kernel column kx, the output columns [col_lo, col_hi)
// whose window holds input column ox * stride + kx - padding. The loops run over output columns
// innermost, so each output's running max / sum is an independent chain (a window-at-a-time loop
// is bound by the latency of one long chain of compares).
struct pool_windows {
    std::vector<std::size_t> y0, y1, x0, x1, col_lo, col_hi;
};
[[nodiscard]] inline pool_windows windows_of(const pool_geometry& g) {
    const auto clip = [](std::size_t start, std::size_t pad, std::size_t k, std::size_t limit) {
        const std::size_t lo = start > pad ? start - pad : 0;
        const std::size_t hi = std::min(limit, start + k > pad ? start + k - pad : 0);
        return std::pair{lo, hi};
    };
    pool_windows w;
    for (std::size_t oy = 0; oy < g.ho; ++oy) {
        const auto [lo, hi] = clip(oy * g.stride.h, g.padding.h, g.kernel.h, g.h);
        w.y0.push_back(lo);
        w.y1.push_back(hi);
    }
    for (std::size_t ox = 0; ox < g.wo; ++ox) {
        const auto [lo, hi] = clip(ox * g.stride.w, g.padding.w, g.kernel.w, g.w);
        w.x0.push_back(lo);
        w.x1.push_back(hi);
    }
    for (std::size_t kx = 0; kx < g.kernel.w; ++kx) {
        std::size_t lo = 0;
        while (lo < g.wo && lo * g.stride.w + kx < g.padding.w)
            ++lo;
        std::size_t hi = lo;
        while (hi < g.wo && hi * g.stride.w + kx < g.padding.w + g.w)
            ++hi;
        w.col_lo.push_back(lo);
        w.col_hi.push_back(hi);
    }
    return w;
}

// Calls f(output column, input column) for the output columns whose window holds input
// columns from kernel column kx, in order of ox.
template <class F>
void for_window_column(const pool_geometry& g, const pool_windows& win, std::size_t kx, F&& f) {
    for (std::size_t ox = win.col_lo[kx]; ox < win.col_hi[kx]; ++ox) {
        f(ox, ox * g.stride.w + kx - g.padding.w);
    }
}

// Planes per task of the pooling loops.
inline constexpr std::size_t pool_plane_chunk = 8;

} // namespace detail

/// Max pooling; padded positions never win (PyTorch's -inf padding), ties go to the first
/// element in row-major order, NaN wins.
[[nodiscard]] inline variable max_pool2d(const variable& x,
                                         const max_pool2d_options& options = {}) {
    const auto g =
        detail::plan_pool("max_pool2d", x.shape(), options.kernel, options.stride, options.padding);
    auto out = ndarray::uninitialized({x.dim(0), x.dim(1), g.ho, g.wo});
    std::vector<std::uint32_t> argmax(out.size()); // position within the input plane
    const float* xp = x.value().data();
    const auto win = detail::windows_of(g);
    detail::parallel_chunks(
        g.planes, detail::pool_plane_chunk, [&](std::size_t lo, std::size_t hi) {
            for (std::size_t p = lo; p < hi; ++p) {
                const float* src = xp + p * g.h * g.w;
                for (std::size_t oy = 0; oy < g.ho; ++oy) {
                    float* best = out.data() + (p * g.ho + oy) * g.wo;
                    std::uint32_t* at = argmax.data() + (p * g.ho + oy) * g.wo;
                    for (std::size_t ox = 0; ox < g.wo; ++ox) {
                        best[ox] = -std::numeric_limits<float>::infinity();
                        at[ox] = static_cast<std::uint32_t>(win.y0[oy] * g.w + win.x0[ox]);
                    }
                    for (std::size_t y = win.y0[oy]; y < win.y1[oy]; ++y) {
                        const float* row = src + y * g.w;
                        for (std::size_t kx = 0; kx < g.kernel.w; ++kx) {
                            detail::for_window_column(
                                g, win, kx, [&](std::size_t ox, std::size_t ix) {
                                    // Selection by bit masks: compilers turn `take ? a : b` into
                                    // branches here, and which element wins is unpredictable.
                                    const float v = row[ix];
                                    const bool take = (v > best[ox]) | (v != v);
                                    const std::uint32_t m = 0U - static_cast<std::uint32_t>(take);
                                    at[ox] = (at[ox] & ~m) |
                                             (static_cast<std::uint32_t>(y * g.w + ix) & m);
                                    best[ox] = std::bit_cast<float>(
                                        (std::bit_cast<std::uint32_t>(best[ox]) & ~m) |
                                        (std::bit_cast<std::uint32_t>(v) & m));
                                });
                        }
                    }
                }
            }
        });
    return make_result(
        std::move(out), {x},
        [g, argmax = std::move(argmax)](backward_context& ctx) {
            ndarray dx(ctx.input(0).shape());
            const float* gp = ctx.grad().data();
            detail::parallel_chunks(g.planes, detail::pool_plane_chunk,
                                    [&](std::size_t lo, std::size_t hi) {
                                        for (std::size_t p = lo; p < hi; ++p) {
                                            float* dst = dx.data() + p * g.h * g.w;
                                            const std::size_t base = p * g.ho * g.wo;
                                            for (std::size_t o = 0; o < g.ho * g.wo; ++o)
                                                dst[argmax[base + o]] += gp[base + o];
                                        }
                                    });
            ctx.accumulate(0, std::move(dx));
        },
        "max_pool2d");
}

/// Average pooling (see avg_pool2d_options::count_include_pad).
[[nodiscard]] inline variable avg_pool2d(const variable& x,
                                         const avg_pool2d_options& options = {}) {
    const auto g =
        detail::plan_pool("avg_pool2d", x.shape(), options.kernel, options.stride, options.padding);
    const bool include_pad = options.count_include_pad;
    const auto win = detail::windows_of(g);
    // 1 / (pixels averaged) per output position.
    std::vector<float> inv_count(g.ho * g.wo);
    for (std::size_t oy = 0; oy < g.ho; ++oy) {
        for (std::size_t ox = 0; ox < g.wo; ++ox) {
            const std::size_t count = include_pad
                                          ? g.kernel.h * g.kernel.w
                                          : (win.y1[oy] - win.y0[oy]) * (win.x1[ox] - win.x0[ox]);
            inv_count[oy * g.wo + ox] = 1.0F / static_cast<float>(count);
        }
    }
    auto out = ndarray::uninitialized({x.dim(0), x.dim(1), g.ho, g.wo});
    const float* xp = x.value().data();
    detail::parallel_chunks(
        g.planes, detail::pool_plane_chunk, [&](std::size_t lo, std::size_t hi) {
            for (std::size_t p = lo; p < hi; ++p) {
                const float* src = xp + p * g.h * g.w;
                for (std::size_t oy = 0; oy < g.ho; ++oy) {
                    float* acc = out.data() + (p * g.ho + oy) * g.wo;
                    std::fill_n(acc, g.wo, 0.0F);
                    for (std::size_t y = win.y0[oy]; y < win.y1[oy]; ++y) {
                        const float* row = src + y * g.w;
                        for (std::size_t kx = 0; kx < g.kernel.w; ++kx) {
                            detail::for_window_column(
                                g, win, kx,
                                [&](std::size_t ox, std::size_t ix) { acc[ox] += row[ix]; });
                        }
                    }
                    const float* inv = inv_count.data() + oy * g.wo;
                    for (std::size_t ox = 0; ox < g.wo; ++ox)
                        acc[ox] *= inv[ox];
                }
            }
        });
    return make_result(
        std::move(out), {x},
        [g, win, inv_count = std::move(inv_count)](backward_context& ctx) {
            ndarray dx(ctx.input(0).shape());
            const float* gp = ctx.grad().data();
            detail::parallel_chunks(
                g.planes, detail::pool_plane_chunk, [&](std::size_t lo, std::size_t hi) {
                    std::vector<float> scaled(g.wo);
                    for (std::size_t p = lo; p < hi; ++p) {
                        float* dst = dx.data() + p * g.h * g.w;
                        for (std::size_t oy = 0; oy < g.ho; ++oy) {
                            const float* grow = gp + (p * g.ho + oy) * g.wo;
                            const float* inv = inv_count.data() + oy * g.wo;
                            for (std::size_t ox = 0; ox < g.wo; ++ox)
                                scaled[ox] = grow[ox] * inv[ox];
                            for (std::size_t y = win.y0[oy]; y < win.y1[oy]; ++y) {
                                float* row = dst + y * g.w;
                                for (std::size_t kx = 0; kx < g.kernel.w; ++kx) {
                                    detail::for_window_column(g, win, kx,
                                                              [&](std::size_t ox, std::size_t ix) {
                                                                  row[ix] += scaled[ox];
                                                              });
                                }
                            }
                        }
                    }
                });
            ctx.accumulate(0, std::move(dx));
        },
        "avg_pool2d");
}

/// [N, C, H, W] -> [N, C]: the mean of each plane.
[[nodiscard]] inline variable global_avg_pool(const variable& x) {
    const shape_t& xs = x.shape();
    if (xs.size() != 4) {
        detail::fail("global_avg_pool", "input must be [N, C, H, W], got " + to_string(xs));
    }
    const std::size_t planes = xs[0] * xs[1];
    const std::size_t plane = xs[2] * xs[3];
    if (plane == 0)
        detail::fail("global_avg_pool", "empty planes in " + to_string(xs));
    auto out = ndarray::uninitialized({xs[0], xs[1]});
    const float* xp = x.value().data();
    for (std::size_t p = 0; p < planes; ++p) {
        double acc = 0.0;
        for (std::size_t i = 0; i < plane; ++i)
            acc += xp[p * plane + i];
        out[p] = static_cast<float>(acc / static_cast<double>(plane));
    }
    return make_result(
        std::move(out), {x},
        [planes, plane](backward_context& ctx) {
            auto dx = ndarray::uninitialized(ctx.input(0).shape());
            const float inv = 1.0F / static_cast<float>(plane);
            for (std::size_t p = 0; p < planes; ++p) {
                std::fill_n(dx.data() + p * plane, plane, ctx.grad()[p] * inv);
            }
            ctx.accumulate(0, std::move(dx));
        },
        "global_avg_pool");
}

} // namespace nascent::tensor
