#pragma once
// Direct stride-1 convolution (forward, input and weight gradients) for layers of >= 8 output
// channels: the plans, the packing of weights and inputs, and the drivers that run the vector
// kernels of conv_direct_kernels.hpp on the SIMD level chosen at run time (simd.hpp).

#include <nascent/tensor/autograd/conv_direct_kernels.hpp>
#include <nascent/tensor/autograd/conv_geometry.hpp>
#include <nascent/tensor/autograd/simd.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace nascent::tensor {

namespace detail {

// Direct stride-1 convolution for layers of >= 8 output channels. im2col + GEMM moves every
// input value ~KH * KW times through memory (the unfolding, then Eigen's packing of it) before a
// GEMM whose small N (C_out) reuses each packed value only C_out times; for NAS-Bench-201's
// narrow layers that traffic costs more than the multiplications. Here the input is copied once
// into a zero-padded plane (see direct_plan); output position p of the grid (ho rows of the
// padded width, the columns past wo discarded) then reads input p + tap offset for every tap, so
// a tile of consecutive positions x output channels accumulates in vector registers over all
// input channels and taps (32 positions x 8 channels in 16 AVX-512 registers). The input
// gradient of a stride-1 layer is such a convolution too (transposed_dx), and the weight gradient
// has kernels of its own below. The sum of each output runs over (input channel, tap) in a fixed
// order: deterministic. GCC / Clang vector extensions; elsewhere the GEMM path.

// Worth it (and possible) for this geometry: stride 1, >= 8 output channels per group, padding
// no wider than the kernel's reach (so output rows fit the padded rows), and at most 25 % of the
// grid spent on the discarded columns.
[[nodiscard]] inline bool direct_conv_fits(const conv_geometry& g) noexcept {
#ifdef NASCENT_TENSOR_VECTOR_KERNELS
    const std::size_t wp = g.w + g.padding.w;
    return g.stride == hw(1) && !g.pointwise() && g.cout_g() >= direct_channels &&
           g.padding.w <= g.dilation.w * (g.kw - 1) && g.ho > 0 && g.wo > 0 &&
           4 * (wp - g.wo) <= g.wo;
#else
    (void)g;
    return false;
#endif
}

[[nodiscard]] inline direct_plan plan_direct(const conv_geometry& g) {
    direct_plan p;
    p.hp = g.h + 2 * g.padding.h;
    p.wp = g.w + g.padding.w;
    p.grid = g.ho * p.wp;
    p.grid_stride = (p.grid + direct_positions - 1) / direct_positions * direct_positions;
    p.plane_stride = p.hp * p.wp;
    // The last tile reads up to grid_stride - 1 + the largest tap offset.
    p.input_size = g.cin_g() * p.plane_stride + (g.kw - 1) * g.dilation.w + direct_positions;
    p.blocks = (g.cout_g() + direct_channels - 1) / direct_channels;
    for (std::size_t ki = 0; ki < g.kh; ++ki) {
        for (std::size_t kj = 0; kj < g.kw; ++kj)
            p.taps.push_back(ki * g.dilation.h * p.wp + kj * g.dilation.w);
    }
    return p;
}

// Weights [groups * C_out_g, C_in_g, KH, KW] as, per group, [blocks][C_in_g][taps][8] (output
// channels innermost, zero rows past C_out_g): a tile's weights for one tap are 8 adjacent floats.
[[nodiscard]] inline ndarray::storage repack_direct(const float* w, const conv_geometry& g,
                                                    const direct_plan& p) {
    const std::size_t taps = g.kh * g.kw;
    const std::size_t per_group = p.blocks * g.cin_g() * taps * direct_channels;
    ndarray::storage out(g.groups * per_group, 0.0F);
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
        for (std::size_t co = 0; co < g.cout_g(); ++co) {
            const std::size_t b = co / direct_channels;
            const std::size_t lane = co % direct_channels;
            for (std::size_t ci = 0; ci < g.cin_g(); ++ci) {
                for (std::size_t t = 0; t < taps; ++t) {
                    out[grp * per_group + ((b * g.cin_g() + ci) * taps + t) * direct_channels +
                        lane] = w[((grp * g.cout_g() + co) * g.cin_g() + ci) * taps + t];
                }
            }
        }
    }
    return out;
}

#ifdef NASCENT_TENSOR_VECTOR_KERNELS
// Every tile, on level L: full tiles of 8 channels x 32 positions in passes of the level's
// shape; a last tile of at most 16 positions in passes of its tail shape. (On AVX-512 the tail
// takes one vector for two blocks of channels: 8x8 planes, rows of 9 with the padding, give 72
// positions, 2 tiles of 32 and a tail of 8, and a tail pass over 8 channels would do 8
// multiply-adds per load.)
template <simd_level L>
void direct_tiles_on(const float* xpad, const float* wr, const direct_plan& p, std::size_t cin,
                     float* grid) {
    using s = tile_shapes<L>;
    using full_pass = forward_tile<1, s::forward_channels, s::forward_vectors>;
    constexpr std::size_t step = simd_width<L> * s::forward_vectors;
    const std::size_t tail = p.grid % direct_positions;
    const std::size_t full = p.grid - (tail <= 16 ? tail : 0);
    for (std::size_t b = 0; b < p.blocks; ++b) {
        for (std::size_t p0 = 0; p0 < full; p0 += step) {
            for (std::size_t c0 = 0; c0 < direct_channels; c0 += s::forward_channels)
                run_on<L, full_pass>(xpad, wr, p, cin, b, c0, p0, grid);
        }
    }
    using tail_pass = forward_tile<s::tail_blocks, s::tail_channels, s::tail_vectors>;
    using last_pass = forward_tile<1, s::tail_channels, s::tail_vectors>;
    constexpr std::size_t tail_step = simd_width<L> * s::tail_vectors;
    for (std::size_t p0 = full; p0 < p.grid; p0 += tail_step) {
        std::size_t b = 0;
        for (; b + s::tail_blocks <= p.blocks; b += s::tail_blocks) {
            for (std::size_t c0 = 0; c0 < direct_channels; c0 += s::tail_channels)
                run_on<L, tail_pass>(xpad, wr, p, cin, b, c0, p0, grid);
        }
        for (; b < p.blocks; ++b) {
            for (std::size_t c0 = 0; c0 < direct_channels; c0 += s::tail_channels)
                run_on<L, last_pass>(xpad, wr, p, cin, b, c0, p0, grid);
        }
    }
}

#endif

inline void direct_tiles(const float* xpad, const float* wr, const direct_plan& p, std::size_t cin,
                         float* grid) {
#ifdef NASCENT_TENSOR_VECTOR_KERNELS
    on_simd_level([&]<simd_level L>() { direct_tiles_on<L>(xpad, wr, p, cin, grid); });
#else
    (void)xpad, (void)wr, (void)p, (void)cin, (void)grid; // unreachable: direct_conv_fits is false
#endif
}

// The C_in / groups planes at x, zero-padded, then zeros for the last tile's overrun.
inline void pad_input(const float* x, const conv_geometry& g, const direct_plan& p, float* xpad) {
    const std::size_t in_plane = g.h * g.w;
    for (std::size_t c = 0; c < g.cin_g(); ++c) {
        const float* src = x + c * in_plane;
        float* dst = xpad + c * p.plane_stride;
        std::fill_n(dst, g.padding.h * p.wp, 0.0F);
        for (std::size_t y = 0; y < g.h; ++y) {
            float* row = dst + (g.padding.h + y) * p.wp;
            std::fill_n(row, g.padding.w, 0.0F);
            std::copy_n(src + y * g.w, g.w, row + g.padding.w);
        }
        std::fill_n(dst + (g.padding.h + g.h) * p.wp, g.padding.h * p.wp, 0.0F);
    }
    std::fill(xpad + g.cin_g() * p.plane_stride, xpad + p.input_size, 0.0F);
}

// One sample: out [C_out, ho, wo] (+ bias) = conv(x [C_in, h, w]). `xpad` holds input_size
// floats, `grid` blocks * 8 * grid_stride.
inline void direct_conv_sample(const float* x, const conv_geometry& g, const direct_plan& p,
                               const float* wr, const float* bias, float* out, float* xpad,
                               float* grid) {
    const std::size_t taps = g.kh * g.kw;
    const std::size_t in_plane = g.h * g.w;
    const std::size_t out_plane = g.ho * g.wo;
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
        pad_input(x + grp * g.cin_g() * in_plane, g, p, xpad);
        direct_tiles(xpad, wr + grp * p.blocks * g.cin_g() * taps * direct_channels, p, g.cin_g(),
                     grid);
        for (std::size_t co = 0; co < g.cout_g(); ++co) {
            const float* src = grid + co * p.grid_stride;
            float* dst = out + (grp * g.cout_g() + co) * out_plane;
            const float shift = bias != nullptr ? bias[grp * g.cout_g() + co] : 0.0F;
            for (std::size_t oy = 0; oy < g.ho; ++oy) {
                for (std::size_t ox = 0; ox < g.wo; ++ox)
                    dst[oy * g.wo + ox] = src[oy * p.wp + ox] + shift;
            }
        }
    }
}

// The weight gradient of a 3x3 stride-1 convolution, directly: dW[co][ci][tap] is the sum over
// samples and grid positions p of dy[co][p] * x_padded[ci][p + tap offset], with dy laid on the
// same padded-width grid (zeros at the discarded columns and past the end). Output channels x 9
// taps accumulate in vector registers over a chunk of samples (2 x 9 on AVX-512); each weight's
// 16 lane sums are then added in a fixed tree order. (With a non-finite input value, the zeros
// at discarded positions may multiply it into NaN where a GEMM would give inf: training has
// diverged then.)
// (On planes narrower than 16, short sweeps and the lane sums per weight cost more than the
// GEMM's unfolding.)
[[nodiscard]] inline bool direct_weight_grad_fits(const conv_geometry& g) noexcept {
    const std::size_t wp = g.w + g.padding.w;
    return direct_conv_fits(g) && g.kh * g.kw == direct_dw_taps && 16 * (wp - g.wo) <= g.wo;
}

// dL/d output of one sample and group on the padded-width grid: [C_out_g][grid_stride].
inline void pad_to_grid(const float* dy, const conv_geometry& g, const direct_plan& p,
                        float* grid) {
    for (std::size_t co = 0; co < g.cout_g(); ++co) {
        float* dst = grid + co * p.grid_stride;
        const float* src = dy + co * g.ho * g.wo;
        for (std::size_t oy = 0; oy < g.ho; ++oy) {
            std::copy_n(src + oy * g.wo, g.wo, dst + oy * p.wp);
            std::fill_n(dst + oy * p.wp + g.wo, p.wp - g.wo, 0.0F);
        }
        std::fill(dst + p.grid, dst + p.grid_stride, 0.0F);
    }
}

// dW of one group (written, [C_out_g][C_in_g][3][3]) from `count` samples' padded inputs
// (input_size floats each) and gridded output gradients (C_out_g * grid_stride floats each).
inline void direct_weight_grad(const float* xpads, const float* grids, std::size_t count,
                               const conv_geometry& g, const direct_plan& p, float* dw) {
#ifdef NASCENT_TENSOR_VECTOR_KERNELS
    const std::size_t cout = g.cout_g();
    const std::size_t cin = g.cin_g();
    on_simd_level([&]<simd_level L>() {
        constexpr std::size_t channels = tile_shapes<L>::dw_channels;
        std::size_t co = 0;
        for (; co + channels <= cout; co += channels) {
            for (std::size_t ci = 0; ci < cin; ++ci)
                run_on<L, weight_tile<channels>>(xpads, grids, count, p, cin, cout, co, ci, dw);
        }
        for (; co < cout; ++co) {
            for (std::size_t ci = 0; ci < cin; ++ci)
                run_on<L, weight_tile<1>>(xpads, grids, count, p, cin, cout, co, ci, dw);
        }
    });
#else
    (void)xpads, (void)grids, (void)count, (void)g, (void)p, (void)dw;
#endif
}

// The same weight gradient vectorised over output channels instead, for layers whose C_out /
// groups is a multiple of 16: for each output position, dy over 16 or 32 output channels (one
// or two vectors, from dy transposed to [position][channel]) times the 9 input values under the
// taps, into 9 x (1 or 2) vector accumulators. Only real positions are visited and no lanes
// need adding up, which suits small planes (8x8), where the position-vectorised kernel wastes
// lanes on discarded columns and the GEMM's unfolding dominates.
[[nodiscard]] inline bool direct_weight_grad_by_channels_fits(const conv_geometry& g) noexcept {
    return direct_conv_fits(g) && g.kh * g.kw == direct_dw_taps && g.cout_g() % 16 == 0;
}

// dL/d output of one sample and group as [ho * wo][C_out_g].
inline void transpose_planes(const float* dy, const conv_geometry& g, float* gt) {
    const std::size_t plane = g.ho * g.wo;
    const std::size_t cout = g.cout_g();
    for (std::size_t co = 0; co < cout; ++co) {
        const float* src = dy + co * plane;
        for (std::size_t q = 0; q < plane; ++q)
            gt[q * cout + co] = src[q];
    }
}

// dW of one group (written, [C_out_g][C_in_g][3][3]) from `count` samples' padded inputs and
// transposed output gradients (ho * wo * C_out_g floats each).
inline void direct_weight_grad_by_channels(const float* xpads, const float* gts, std::size_t count,
                                           const conv_geometry& g, const direct_plan& p,
                                           float* dw) {
#ifdef NASCENT_TENSOR_VECTOR_KERNELS
    const std::size_t cout = g.cout_g();
    const std::size_t cin = g.cin_g();
    on_simd_level([&]<simd_level L>() {
        constexpr std::size_t width = simd_width<L>;
        constexpr std::size_t vectors = tile_shapes<L>::dw_vectors;
        using wide = weight_channels_tile<vectors>;
        using narrow = weight_channels_tile<1>;
        for (std::size_t ci = 0; ci < cin; ++ci) {
            std::size_t co = 0;
            for (; co + width * vectors <= cout; co += width * vectors)
                run_on<L, wide>(xpads, gts, count, g.ho, g.wo, cin, cout, p, ci, co, dw);
            for (; co < cout; co += width) // cout is a multiple of 16, hence of width
                run_on<L, narrow>(xpads, gts, count, g.ho, g.wo, cin, cout, p, ci, co, dw);
        }
    });
#else
    (void)xpads, (void)gts, (void)count, (void)g, (void)p, (void)dw;
#endif
}

} // namespace detail

} // namespace nascent::tensor
