#pragma once
// 2-d convolution: the op and its recorded backward, with the per-thread scratch and the batching
// of its GEMM path; the direct kernels are in conv_direct.hpp.

#include <nascent/tensor/autograd/conv_direct.hpp>
#include <nascent/tensor/autograd/conv_geometry.hpp>
#include <nascent/tensor/autograd/core.hpp>
#include <nascent/tensor/autograd/gemm.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>

namespace nascent::tensor {

namespace detail {

// Per-thread scratch space (unfolded columns, gathered batches): allocating and first touching
// fresh buffers on every call costs about as much as the small GEMMs they feed. Every use writes
// its buffer in full before reading it, so reuse cannot change results. Requests above
// scratch_limit floats get a buffer of their own, so that one huge convolution does not pin
// memory in every thread. Each slot is used by one scratch object at a time per thread: op
// bodies run inside parallel_chunks and start no nested parallel work while holding one.
class scratch {
public:
    enum slot : std::size_t { columns, grad_columns, batch, result, slots };
    static constexpr std::size_t limit = std::size_t{1} << 22; // floats (16 MiB)

    scratch(slot s, std::size_t n) {
        if (n == 0)
            return;
        if (n > limit) {
            m_own = ndarray::storage(n);
            m_data = m_own.data();
            return;
        }
        auto& buffer = buffers()[s];
        if (buffer.size() < n) {
            buffer = ndarray::storage(); // free first: peak memory is one buffer, not two
            buffer = ndarray::storage(n);
        }
        m_data = buffer.data();
    }
    [[nodiscard]] float* data() const noexcept { return m_data; }

private:
    static std::array<ndarray::storage, slots>& buffers() {
        thread_local std::array<ndarray::storage, slots> b;
        return b;
    }
    ndarray::storage m_own;
    float* m_data = nullptr;
};

// How a convolution cuts the batch: `batch` samples share one GEMM (their unfolded columns side
// by side), so that small planes (8x8 = 64 columns) still make GEMMs of ~1024 columns; `chunk`
// samples (a multiple of batch) share one partial weight gradient. Both depend only on the
// geometry, never on the thread count, so the order of every sum is fixed.
struct conv_batching {
    std::size_t batch = 1;
    std::size_t chunk = 1;
};
inline constexpr std::size_t conv_target_columns = 1024;
// Samples per chunk of a convolution's weight-gradient reduction (at least).
inline constexpr std::size_t conv_batch_chunk = 4;
[[nodiscard]] inline conv_batching batching_of(const conv_geometry& g) {
    const std::size_t plane = std::max<std::size_t>(g.out_plane(), 1);
    std::size_t batch = (conv_target_columns + plane - 1) / plane;
    batch = std::min(batch, std::max<std::size_t>(g.n / 4, 1)); // >= 4 tasks to share out
    batch = std::max<std::size_t>(batch, 1);
    const std::size_t per_chunk = (conv_batch_chunk + batch - 1) / batch;
    return {.batch = batch, .chunk = batch * per_chunk};
}

// The unfolded input of samples [n0, n0 + count), group grp, as a k x (count * plane) matrix:
// the input itself for one sample of a pointwise convolution, else written into `buffer`.
[[nodiscard]] inline const float* unfold_batch(const float* x, const conv_geometry& g,
                                               std::size_t n0, std::size_t count, std::size_t grp,
                                               float* buffer) {
    const std::size_t plane = g.out_plane();
    const std::size_t in_plane = g.h * g.w;
    const std::size_t ld = count * plane;
    const auto sample = [&](std::size_t j) {
        return x + ((n0 + j) * g.cin + grp * g.cin_g()) * in_plane;
    };
    if (g.pointwise()) {
        if (count == 1)
            return sample(0);
        for (std::size_t j = 0; j < count; ++j) {
            for (std::size_t c = 0; c < g.cin_g(); ++c)
                std::copy_n(sample(j) + c * plane, plane, buffer + c * ld + j * plane);
        }
        return buffer;
    }
    for (std::size_t j = 0; j < count; ++j)
        im2col(sample(j), g.cin_g(), g, buffer + j * plane, ld);
    return buffer;
}

// Batch layout [rows, count * plane] <-> NCHW planes of samples [n0, n0 + count): row r of sample
// j is plane (n0 + j) * channels + r.
inline void gather_planes(const float* nchw, std::size_t channels, std::size_t plane,
                          std::size_t n0, std::size_t count, float* batch) {
    for (std::size_t j = 0; j < count; ++j) {
        for (std::size_t r = 0; r < channels; ++r) {
            std::copy_n(nchw + ((n0 + j) * channels + r) * plane, plane,
                        batch + r * count * plane + j * plane);
        }
    }
}

inline void scatter_planes(const float* batch, std::size_t channels, std::size_t plane,
                           std::size_t n0, std::size_t count, float* nchw) {
    for (std::size_t j = 0; j < count; ++j) {
        for (std::size_t r = 0; r < channels; ++r) {
            std::copy_n(batch + r * count * plane + j * plane, plane,
                        nchw + ((n0 + j) * channels + r) * plane);
        }
    }
}

// The recorded node of a convolution: its backward computes dx (the transposed convolution,
// direct or by GEMM, or col2im), dW (directly, or by GEMM over chunks of samples; summed in
// chunk order) and db.
[[nodiscard]] inline variable conv2d_result(ndarray out, const variable& x, const variable& weight,
                                            const variable& bias, const conv_geometry& g) {
    return make_result(
        std::move(out), {x, weight, bias},
        [g](backward_context& ctx) {
            const bool need_x = ctx.needs_grad(0);
            const bool need_w = ctx.needs_grad(1);
            const float* gp = ctx.grad().data();
            const float* xp2 = ctx.input(0).data();
            const float* wp2 = ctx.input(1).data();
            const std::size_t plane2 = g.out_plane();
            const std::size_t in_plane = g.h * g.w;
            const std::size_t wsize = g.cout * g.k();
            const auto bt2 = detail::batching_of(g);
            const std::size_t chunks = (g.n + bt2.chunk - 1) / bt2.chunk;
            // dx by the transposed convolution where it exists, else by col2im.
            const bool transposed = need_x && detail::transposed_dx(g);
            const auto gt = detail::transposed_geometry(g);
            const ndarray::storage wt =
                transposed ? detail::transposed_weights(wp2, g) : ndarray::storage{};
            const bool by_col2im = need_x && !transposed;
            const bool direct_dx = transposed && detail::direct_conv_fits(gt);
            const auto plan_t = direct_dx ? detail::plan_direct(gt) : detail::direct_plan{};
            const ndarray::storage wr_t =
                direct_dx ? detail::repack_direct(wt.data(), gt, plan_t) : ndarray::storage{};
            ndarray dx;
            if (need_x)
                dx = ndarray::uninitialized(ctx.input(0).shape());
            // One weight gradient per chunk of samples, each written in full by its chunk.
            ndarray::storage partial_w(need_w ? chunks * wsize : 0);
            // dW directly for 3x3 stride-1 layers of >= 8 channels, else by GEMM per batch.
            const bool by_channels = need_w && detail::direct_weight_grad_by_channels_fits(g);
            const bool direct_dw = by_channels || (need_w && detail::direct_weight_grad_fits(g));
            const bool gemm_w = need_w && !direct_dw;
            const auto plan_w = direct_dw ? detail::plan_direct(g) : detail::direct_plan{};
            const auto chunk_weight_grad = [&](std::size_t c) {
                const std::size_t first = c * bt2.chunk;
                const std::size_t count = std::min(g.n, first + bt2.chunk) - first;
                const detail::scratch xpads(detail::scratch::columns, count * plan_w.input_size);
                // dy per sample: transposed, or on the padded-width grid.
                const std::size_t dy_size =
                    by_channels ? plane2 * g.cout_g() : g.cout_g() * plan_w.grid_stride;
                const detail::scratch grids(detail::scratch::batch, count * dy_size);
                for (std::size_t grp = 0; grp < g.groups; ++grp) {
                    for (std::size_t j = 0; j < count; ++j) {
                        detail::pad_input(xp2 + ((first + j) * g.cin + grp * g.cin_g()) * in_plane,
                                          g, plan_w, xpads.data() + j * plan_w.input_size);
                        const float* dy = gp + ((first + j) * g.cout + grp * g.cout_g()) * plane2;
                        if (by_channels)
                            detail::transpose_planes(dy, g, grids.data() + j * dy_size);
                        else
                            detail::pad_to_grid(dy, g, plan_w, grids.data() + j * dy_size);
                    }
                    float* dw = partial_w.data() + c * wsize + grp * g.cout_g() * g.k();
                    if (by_channels) {
                        detail::direct_weight_grad_by_channels(xpads.data(), grids.data(), count, g,
                                                               plan_w, dw);
                    } else {
                        detail::direct_weight_grad(xpads.data(), grids.data(), count, g, plan_w,
                                                   dw);
                    }
                }
            };
            const auto batch_backward = [&](std::size_t c, std::size_t n0, std::size_t count) {
                const std::size_t cols_n = count * plane2;
                const std::size_t in_cols = count * in_plane;
                const bool first_in_chunk = n0 == c * bt2.chunk;
                // dL/d output of the batch as [C_out, count * plane] (dW and col2im need it).
                const bool need_gm = gemm_w || by_col2im;
                const detail::scratch gathered(detail::scratch::batch,
                                               need_gm && count > 1 ? g.cout * cols_n : 0);
                const float* gb = gp + n0 * g.cout * plane2;
                if (need_gm && count > 1) {
                    detail::gather_planes(gp, g.cout, plane2, n0, count, gathered.data());
                    gb = gathered.data();
                }
                const detail::scratch columns(
                    detail::scratch::columns,
                    gemm_w && !(g.pointwise() && count == 1) ? g.k() * cols_n : 0);
                const std::size_t direct_grid =
                    plan_t.blocks * detail::direct_channels * plan_t.grid_stride;
                const std::size_t dcol_size = !need_x         ? 0
                                              : direct_dx     ? plan_t.input_size
                                              : transposed    ? gt.k() * in_cols
                                              : g.pointwise() ? g.cin * cols_n
                                                              : g.k() * cols_n;
                const detail::scratch dcols(detail::scratch::grad_columns, dcol_size);
                // dx of the batch as [C_in, count * H * W] before it is scattered to NCHW.
                const bool via_result =
                    need_x && !direct_dx && count > 1 && (transposed || g.pointwise());
                const detail::scratch result(detail::scratch::result, direct_dx    ? direct_grid
                                                                      : via_result ? g.cin * in_cols
                                                                                   : 0);
                if (by_col2im && !g.pointwise()) // col2im adds into these planes
                    std::fill_n(dx.data() + n0 * g.cin * in_plane, count * g.cin * in_plane, 0.0F);
                for (std::size_t grp = 0; grp < g.groups; ++grp) {
                    const float* gm = gb + grp * g.cout_g() * cols_n; // [C_out_g, cols_n]
                    if (gemm_w) {
                        const float* cols =
                            detail::unfold_batch(xp2, g, n0, count, grp, columns.data());
                        detail::gemm(g.cout_g(), g.k(), cols_n, {gm, cols_n}, {cols, cols_n, true},
                                     partial_w.data() + c * wsize + grp * g.cout_g() * g.k(), g.k(),
                                     !first_in_chunk);
                    }
                    if (!need_x || direct_dx)
                        continue;
                    float* dxg = via_result ? result.data() + grp * g.cin_g() * in_cols
                                            : dx.data() + (n0 * g.cin + grp * g.cin_g()) * in_plane;
                    if (transposed) {
                        const float* cols =
                            detail::unfold_batch(gp, gt, n0, count, grp, dcols.data());
                        detail::gemm(g.cin_g(), in_cols, gt.k(),
                                     {wt.data() + grp * g.cin_g() * gt.k(), gt.k()},
                                     {cols, in_cols}, dxg, in_cols);
                        continue;
                    }
                    // W^T [k, C_out_g] times dL/d output: unfolded input gradient (k = C_in_g
                    // for a pointwise layer, whose unfolding is the identity).
                    const detail::gemm_operand wm_t{wp2 + grp * g.cout_g() * g.k(), g.k(), true};
                    if (g.pointwise()) {
                        detail::gemm(g.cin_g(), cols_n, g.cout_g(), wm_t, {gm, cols_n}, dxg,
                                     cols_n);
                        continue;
                    }
                    float* dcol = dcols.data();
                    detail::gemm(g.k(), cols_n, g.cout_g(), wm_t, {gm, cols_n}, dcol, cols_n);
                    for (std::size_t j = 0; j < count; ++j)
                        detail::col2im(dcol + j * plane2, g.cin_g(), g, dxg + j * g.cin * in_plane,
                                       cols_n);
                }
                if (via_result)
                    detail::scatter_planes(result.data(), g.cin, in_plane, n0, count, dx.data());
                for (std::size_t j = 0; direct_dx && j < count; ++j) {
                    detail::direct_conv_sample(
                        gp + (n0 + j) * g.cout * plane2, gt, plan_t, wr_t.data(), nullptr,
                        dx.data() + (n0 + j) * g.cin * in_plane, dcols.data(), result.data());
                }
            };
            if (need_x || need_w) {
                detail::parallel_chunks(chunks, 1, [&](std::size_t lo, std::size_t hi) {
                    for (std::size_t c = lo; c < hi; ++c) {
                        if (direct_dw)
                            chunk_weight_grad(c);
                        const std::size_t end = std::min(g.n, (c + 1) * bt2.chunk);
                        for (std::size_t n0 = c * bt2.chunk; n0 < end && (need_x || gemm_w);
                             n0 += bt2.batch) {
                            batch_backward(c, n0, std::min(bt2.batch, end - n0));
                        }
                    }
                });
            }
            if (need_x)
                ctx.accumulate(0, std::move(dx));
            if (need_w) {
                auto dw = ndarray::uninitialized(ctx.input(1).shape());
                std::copy_n(partial_w.data(), wsize, dw.data());
                for (std::size_t c = 1; c < chunks; ++c) { // fixed order: deterministic
                    const float* src = partial_w.data() + c * wsize;
                    for (std::size_t i = 0; i < wsize; ++i)
                        dw[i] += src[i];
                }
                ctx.accumulate(1, std::move(dw));
            }
            if (ctx.needs_grad(2)) {
                ndarray db({g.cout});
                for (std::size_t ch = 0; ch < g.cout; ++ch) {
                    double acc = 0.0;
                    for (std::size_t n = 0; n < g.n; ++n) {
                        const float* src = gp + (n * g.cout + ch) * plane2;
                        for (std::size_t i = 0; i < plane2; ++i)
                            acc += src[i];
                    }
                    db[ch] = static_cast<float>(acc);
                }
                ctx.accumulate(2, std::move(db));
            }
        },
        "conv2d");
}
} // namespace detail

/// 2-D cross-correlation (PyTorch's conv2d): x [N, C_in, H, W], weight [C_out, C_in / groups,
/// KH, KW], optional bias [C_out]. Stride-1 layers of >= 8 output channels per group run a
/// direct vectorised kernel; the others im2col and a GEMM (gemm.hpp) per batch of samples (batches
/// of small planes share one GEMM) and group. Samples are spread over TBB tasks.
[[nodiscard]] inline variable conv2d(const variable& x, const variable& weight,
                                     const variable& bias = {},
                                     const conv2d_options& options = {}) {
    const shape_t& xs = x.shape();
    const shape_t& ws = weight.shape();
    if (xs.size() != 4)
        detail::fail("conv2d", "input must be [N, C, H, W], got " + to_string(xs));
    if (ws.size() != 4) {
        detail::fail("conv2d",
                     "weight must be [C_out, C_in / groups, KH, KW], got " + to_string(ws));
    }
    const auto& o = options;
    if (o.groups == 0 || xs[1] % o.groups != 0 || ws[0] % o.groups != 0) {
        detail::fail("conv2d", "groups " + std::to_string(o.groups) + " must divide C_in " +
                                   std::to_string(xs[1]) + " and C_out " + std::to_string(ws[0]));
    }
    if (ws[1] * o.groups != xs[1]) {
        detail::fail("conv2d", "weight " + to_string(ws) + " expects " +
                                   std::to_string(ws[1] * o.groups) + " input channels, got " +
                                   std::to_string(xs[1]) + " (groups " + std::to_string(o.groups) +
                                   ")");
    }
    if (o.stride.h == 0 || o.stride.w == 0 || o.dilation.h == 0 || o.dilation.w == 0 ||
        ws[2] == 0 || ws[3] == 0) {
        detail::fail("conv2d", "stride " + to_string(o.stride) + ", dilation " +
                                   to_string(o.dilation) + " and kernel must be positive");
    }
    if (bias.defined() && bias.shape() != shape_t{ws[0]}) {
        detail::fail("conv2d", "bias of shape " + to_string(bias.shape()) + ", needs [" +
                                   std::to_string(ws[0]) + "]");
    }
    detail::conv_geometry g{.n = xs[0],
                            .cin = xs[1],
                            .h = xs[2],
                            .w = xs[3],
                            .cout = ws[0],
                            .kh = ws[2],
                            .kw = ws[3],
                            .groups = o.groups,
                            .ho = 0,
                            .wo = 0,
                            .stride = o.stride,
                            .padding = o.padding,
                            .dilation = o.dilation};
    g.ho = detail::window_extent(g.h, g.kh, o.stride.h, o.padding.h, o.dilation.h);
    g.wo = detail::window_extent(g.w, g.kw, o.stride.w, o.padding.w, o.dilation.w);
    if (g.ho == 0 || g.wo == 0) {
        detail::fail("conv2d", "kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                                   " (dilation " + to_string(o.dilation) + ") does not fit input " +
                                   to_string(xs) + " with padding " + to_string(o.padding));
    }

    auto out = ndarray::uninitialized({g.n, g.cout, g.ho, g.wo});
    const float* xp = x.value().data();
    const float* wp = weight.value().data();
    const float* bp = bias.defined() ? bias.value().data() : nullptr;
    float* op = out.data();
    const std::size_t plane = g.out_plane();
    if (detail::direct_conv_fits(g)) {
        const auto plan = detail::plan_direct(g);
        const auto wr = detail::repack_direct(wp, g, plan);
        detail::parallel_chunks(g.n, 1, [&](std::size_t lo, std::size_t hi) {
            const detail::scratch xpad(detail::scratch::columns, plan.input_size);
            const detail::scratch grid(detail::scratch::batch,
                                       plan.blocks * detail::direct_channels * plan.grid_stride);
            for (std::size_t n = lo; n < hi; ++n) {
                detail::direct_conv_sample(xp + n * g.cin * g.h * g.w, g, plan, wr.data(), bp,
                                           op + n * g.cout * plane, xpad.data(), grid.data());
            }
        });
        return detail::conv2d_result(std::move(out), x, weight, bias, g);
    }
    const auto bt = detail::batching_of(g);
    const std::size_t batches = (g.n + bt.batch - 1) / bt.batch;
    detail::parallel_chunks(batches, 1, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t b = lo; b < hi; ++b) {
            const std::size_t n0 = b * bt.batch;
            const std::size_t count = std::min(bt.batch, g.n - n0);
            const std::size_t cols_n = count * plane;
            const detail::scratch columns(detail::scratch::columns,
                                          g.pointwise() && count == 1 ? 0 : g.k() * cols_n);
            // One sample's GEMM writes its output planes in place; a batch's goes through
            // [C_out, count * plane] and is scattered to NCHW.
            const detail::scratch result(detail::scratch::batch, count == 1 ? 0 : g.cout * cols_n);
            for (std::size_t grp = 0; grp < g.groups; ++grp) {
                const float* cols = detail::unfold_batch(xp, g, n0, count, grp, columns.data());
                float* y = count == 1 ? op + (n0 * g.cout + grp * g.cout_g()) * plane
                                      : result.data() + grp * g.cout_g() * cols_n;
                detail::gemm(g.cout_g(), cols_n, g.k(), {wp + grp * g.cout_g() * g.k(), g.k()},
                             {cols, cols_n}, y, cols_n);
            }
            for (std::size_t j = 0; j < count; ++j) {
                for (std::size_t c = 0; c < g.cout; ++c) {
                    float* dst = op + ((n0 + j) * g.cout + c) * plane;
                    const float shift = bp != nullptr ? bp[c] : 0.0F;
                    if (count > 1) {
                        const float* src = result.data() + c * cols_n + j * plane;
                        for (std::size_t i = 0; i < plane; ++i)
                            dst[i] = src[i] + shift;
                    } else if (bp != nullptr) {
                        for (std::size_t i = 0; i < plane; ++i)
                            dst[i] += shift;
                    }
                }
            }
        }
    });

    return detail::conv2d_result(std::move(out), x, weight, bias, g);
}

} // namespace nascent::tensor
