#pragma once
// Direct stride-1 convolution kernels (forward, input and weight gradients) for layers of >= 8
// output channels; see the comment at direct_channels.

#include <nascent/tensor/autograd/conv_geometry.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

namespace nascent::tensor {

namespace detail {

#if defined(__GNUC__) || defined(__clang__)
#define NASCENT_TENSOR_DIRECT_CONV 1
#endif

// Direct stride-1 convolution for layers of >= 8 output channels. im2col + GEMM moves every
// input value ~KH * KW times through memory (the unfolding, then Eigen's packing of it) before a
// GEMM whose small N (C_out) reuses each packed value only C_out times; for NAS-Bench-201's
// narrow layers that traffic costs more than the multiplications. Here the input is copied once
// into a zero-padded plane (see direct_plan); output position p of the grid (ho rows of the
// padded width, the columns past wo discarded) then reads input p + tap offset for every tap, so
// a tile of 32 consecutive positions x 8 output channels accumulates in 16 vector registers over
// all input channels and taps. The input gradient of a stride-1 layer is such a convolution too
// (transposed_dx), and the weight gradient has kernels of its own below. The sum of each output
// runs over (input channel, tap) in a fixed order: deterministic. GCC / Clang vector
// extensions; elsewhere the GEMM path.
inline constexpr std::size_t direct_channels = 8; // output channels per tile
inline constexpr std::size_t direct_vectors = 2;  // vectors of 16 positions per tile
inline constexpr std::size_t direct_positions = 16 * direct_vectors;

// The padded rows are w + padding wide: a row's right padding is the next row's left padding
// (zeros either way), so 8x8 planes with padding 1 give rows of 9, not 10.
struct direct_plan {
    std::size_t hp = 0, wp = 0;    // padded input plane
    std::size_t grid = 0;          // ho * wp output positions
    std::size_t grid_stride = 0;   // grid rounded up to whole tiles
    std::size_t plane_stride = 0;  // hp * wp
    std::size_t input_size = 0;    // padded planes of one group, with slack for the last tile
    std::size_t blocks = 0;        // tiles of output channels per group
    std::vector<std::size_t> taps; // offset of each (ki, kj) in the padded plane
};

// Worth it (and possible) for this geometry: stride 1, >= 8 output channels per group, padding
// no wider than the kernel's reach (so output rows fit the padded rows), and at most 25 % of the
// grid spent on the discarded columns.
[[nodiscard]] inline bool direct_conv_fits(const conv_geometry& g) noexcept {
#ifdef NASCENT_TENSOR_DIRECT_CONV
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

#ifdef NASCENT_TENSOR_DIRECT_CONV
using vec16 = float __attribute__((vector_size(64)));
#else
struct vec16 { // never used (direct_conv_fits is false): keeps direct_tiles compiling
    float v[16];
    vec16& operator+=(const vec16& o) {
        for (int i = 0; i < 16; ++i)
            v[i] += o.v[i];
        return *this;
    }
    friend vec16 operator*(float s, vec16 a) {
        for (auto& e : a.v)
            e *= s;
        return a;
    }
    friend vec16 operator*(vec16 a, const vec16& b) {
        for (int i = 0; i < 16; ++i)
            a.v[i] *= b.v[i];
        return a;
    }
};
#endif

// grid[(b + k) * 8 + lane][p0, p0 + 16 * Vectors) for k < Blocks: one tile of output channels
// and positions, summed over input channels and taps. Not inlined: inlined into a large caller,
// GCC spills the accumulators.
template <std::size_t Blocks, std::size_t Vectors>
[[gnu::noinline]] void direct_tile(const float* xpad, const float* wr, const direct_plan& p,
                                   std::size_t cin, std::size_t b, std::size_t p0, float* grid) {
    const std::size_t taps = p.taps.size();
    const std::size_t* offset = p.taps.data();
    const std::size_t block_size = cin * taps * direct_channels;
    const float* wb = wr + b * block_size;
    vec16 acc[Blocks * direct_channels][Vectors] = {};
    for (std::size_t ci = 0; ci < cin; ++ci) {
        const float* xc = xpad + ci * p.plane_stride + p0;
        const float* wc = wb + ci * taps * direct_channels;
        for (std::size_t t = 0; t < taps; ++t) {
            // Loads and stores go through single temporaries: taking the address of the
            // arrays would keep the accumulators in memory instead of registers.
            vec16 xs[Vectors];
            for (std::size_t q = 0; q < Vectors; ++q) {
                vec16 v;
                std::memcpy(&v, xc + offset[t] + 16 * q, sizeof v); // unaligned load
                xs[q] = v;
            }
            for (std::size_t k = 0; k < Blocks; ++k) {
                const float* wk = wc + k * block_size + t * direct_channels;
                for (std::size_t c = 0; c < direct_channels; ++c) {
                    for (std::size_t q = 0; q < Vectors; ++q)
                        acc[k * direct_channels + c][q] += wk[c] * xs[q];
                }
            }
        }
    }
    for (std::size_t c = 0; c < Blocks * direct_channels; ++c) {
        for (std::size_t q = 0; q < Vectors; ++q) {
            const vec16 v = acc[c][q];
            std::memcpy(grid + (b * direct_channels + c) * p.grid_stride + p0 + 16 * q, &v,
                        sizeof v);
        }
    }
}

// Every tile. A last tile of at most 16 positions takes one vector for two blocks of channels:
// 8x8 planes (rows of 9 with the padding) give 72 positions, 2 tiles of 32 and a tail of 8, and
// a tail tile of 8 channels would do 8 multiply-adds per load.
inline void direct_tiles(const float* xpad, const float* wr, const direct_plan& p, std::size_t cin,
                         float* grid) {
    const std::size_t tail = p.grid % direct_positions;
    const std::size_t full = p.grid - (tail <= 16 ? tail : 0);
    for (std::size_t b = 0; b < p.blocks; ++b) {
        for (std::size_t p0 = 0; p0 < full; p0 += direct_positions)
            direct_tile<1, direct_vectors>(xpad, wr, p, cin, b, p0, grid);
    }
    if (full == p.grid)
        return;
    std::size_t b = 0;
    for (; b + 2 <= p.blocks; b += 2)
        direct_tile<2, 1>(xpad, wr, p, cin, b, full, grid);
    if (b < p.blocks)
        direct_tile<1, 1>(xpad, wr, p, cin, b, full, grid);
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
// same padded-width grid (zeros at the discarded columns and past the end). Two output channels
// x 9 taps accumulate in 18 vector registers over a chunk of samples; each accumulator's lanes are
// then added in a fixed tree order. (With a non-finite input value, the zeros at discarded
// positions may multiply it into NaN where a GEMM would give inf: training has diverged then.)
inline constexpr std::size_t direct_dw_taps = 9;

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

template <std::size_t Channels>
[[gnu::noinline]] inline void
direct_weight_tile(const float* xpads, const float* grids, std::size_t count, const direct_plan& p,
                   std::size_t cin, std::size_t cout, std::size_t co, std::size_t ci, float* dw) {
    constexpr std::size_t taps = direct_dw_taps;
    std::size_t offset[taps];
    std::copy_n(p.taps.begin(), taps, offset);
    vec16 acc[Channels][taps] = {};
    for (std::size_t s = 0; s < count; ++s) {
        const float* xs = xpads + s * p.input_size + ci * p.plane_stride;
        const float* gs = grids + (s * cout + co) * p.grid_stride;
        for (std::size_t p0 = 0; p0 < p.grid; p0 += 16) { // zeros from grid to grid_stride
            vec16 gv[Channels];
            for (std::size_t c = 0; c < Channels; ++c) {
                vec16 v;
                std::memcpy(&v, gs + c * p.grid_stride + p0, sizeof v);
                gv[c] = v;
            }
            for (std::size_t t = 0; t < taps; ++t) {
                vec16 xv;
                std::memcpy(&xv, xs + p0 + offset[t], sizeof xv);
                for (std::size_t c = 0; c < Channels; ++c)
                    acc[c][t] += gv[c] * xv;
            }
        }
    }
    for (std::size_t c = 0; c < Channels; ++c) {
        for (std::size_t t = 0; t < taps; ++t) {
            float lanes[16];
            const vec16 v = acc[c][t];
            std::memcpy(lanes, &v, sizeof lanes);
            for (std::size_t width = 8; width > 0; width /= 2) {
                for (std::size_t j = 0; j < width; ++j)
                    lanes[j] += lanes[j + width];
            }
            dw[((co + c) * cin + ci) * taps + t] = lanes[0];
        }
    }
}

// dW of one group (written, [C_out_g][C_in_g][3][3]) from `count` samples' padded inputs
// (input_size floats each) and gridded output gradients (C_out_g * grid_stride floats each).
inline void direct_weight_grad(const float* xpads, const float* grids, std::size_t count,
                               const conv_geometry& g, const direct_plan& p, float* dw) {
    const std::size_t cout = g.cout_g();
    const std::size_t cin = g.cin_g();
    std::size_t co = 0;
    for (; co + 2 <= cout; co += 2) {
        for (std::size_t ci = 0; ci < cin; ++ci)
            direct_weight_tile<2>(xpads, grids, count, p, cin, cout, co, ci, dw);
    }
    for (; co < cout; ++co) {
        for (std::size_t ci = 0; ci < cin; ++ci)
            direct_weight_tile<1>(xpads, grids, count, p, cin, cout, co, ci, dw);
    }
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

template <std::size_t Vectors>
[[gnu::noinline]] void direct_weight_channels_tile(const float* xpads, const float* gts,
                                                   std::size_t count, const conv_geometry& g,
                                                   const direct_plan& p, std::size_t ci,
                                                   std::size_t co, float* dw) {
    constexpr std::size_t taps = direct_dw_taps;
    std::size_t offset[taps];
    std::copy_n(p.taps.begin(), taps, offset);
    const std::size_t cout = g.cout_g();
    const std::size_t plane = g.ho * g.wo;
    vec16 acc[taps][Vectors] = {};
    for (std::size_t s = 0; s < count; ++s) {
        const float* xs = xpads + s * p.input_size + ci * p.plane_stride;
        const float* gs = gts + s * plane * cout + co;
        for (std::size_t oy = 0; oy < g.ho; ++oy) {
            for (std::size_t ox = 0; ox < g.wo; ++ox) {
                const float* xq = xs + oy * p.wp + ox;
                const float* gq = gs + (oy * g.wo + ox) * cout;
                vec16 gv[Vectors];
                for (std::size_t v = 0; v < Vectors; ++v) {
                    vec16 r;
                    std::memcpy(&r, gq + 16 * v, sizeof r);
                    gv[v] = r;
                }
                for (std::size_t t = 0; t < taps; ++t) {
                    const float xv = xq[offset[t]];
                    for (std::size_t v = 0; v < Vectors; ++v)
                        acc[t][v] += xv * gv[v];
                }
            }
        }
    }
    const std::size_t cin = g.cin_g();
    for (std::size_t t = 0; t < taps; ++t) {
        for (std::size_t v = 0; v < Vectors; ++v) {
            float lanes[16];
            const vec16 r = acc[t][v];
            std::memcpy(lanes, &r, sizeof lanes);
            for (std::size_t lane = 0; lane < 16; ++lane)
                dw[((co + 16 * v + lane) * cin + ci) * taps + t] = lanes[lane];
        }
    }
}

// dW of one group (written, [C_out_g][C_in_g][3][3]) from `count` samples' padded inputs and
// transposed output gradients (ho * wo * C_out_g floats each).
inline void direct_weight_grad_by_channels(const float* xpads, const float* gts, std::size_t count,
                                           const conv_geometry& g, const direct_plan& p,
                                           float* dw) {
    const std::size_t cout = g.cout_g();
    for (std::size_t ci = 0; ci < g.cin_g(); ++ci) {
        std::size_t co = 0;
        for (; co + 32 <= cout; co += 32)
            direct_weight_channels_tile<2>(xpads, gts, count, g, p, ci, co, dw);
        for (; co < cout; co += 16)
            direct_weight_channels_tile<1>(xpads, gts, count, g, p, ci, co, dw);
    }
}

} // namespace detail

} // namespace nascent::tensor
