#pragma once
// The vector kernels of the direct stride-1 convolution (conv_direct.hpp): the forward tile
// (also the input gradient, a convolution too) and the two weight-gradient tiles, each written
// once for vectors of W floats and compiled for every simd_level (simd.hpp).
//
// Each kernel body is a template forced inline into a small wrapper per level; only the wrapper
// carries the `target` attribute, so the body becomes AVX-512, AVX2 or baseline code there. The
// wrappers are not inlined into their callers: inlined into a large caller, GCC spills the
// accumulators. Tile shapes differ per level (32 vector registers for AVX-512, 16 below), but
// never the order in which an output's terms are added: that order is what makes results equal
// across levels with FMA.

#include <nascent/tensor/autograd/simd.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

namespace nascent::tensor::detail {

inline constexpr std::size_t direct_channels = 8;   // output channels per block of packed weights
inline constexpr std::size_t direct_positions = 32; // output positions per tile of the grid
inline constexpr std::size_t direct_dw_taps = 9;    // the weight-gradient kernels are for 3x3
inline constexpr std::size_t direct_dw_lanes = 16;  // partial sums per weight, added as a tree

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

#ifdef NASCENT_TENSOR_VECTOR_KERNELS

// Loads and stores go through single temporaries and memcpy (unaligned): taking the address of
// the accumulator arrays would keep them in memory instead of registers.

// grid[row][p0, p0 + W * Vectors) for the rows of Blocks blocks from b, lanes [c0, c0 +
// Channels) of each: output channels x positions, summed over input channels and taps.
template <std::size_t Blocks, std::size_t Channels, std::size_t Vectors>
struct forward_tile {
    template <std::size_t W>
    [[gnu::always_inline]] static void run(const float* xpad, const float* wr, const direct_plan& p,
                                           std::size_t cin, std::size_t b, std::size_t c0,
                                           std::size_t p0, float* grid) {
        using v = vec<W>;
        const std::size_t taps = p.taps.size();
        const std::size_t* offset = p.taps.data();
        const std::size_t block_size = cin * taps * direct_channels;
        const float* wb = wr + b * block_size + c0;
        v acc[Blocks * Channels][Vectors] = {};
        for (std::size_t ci = 0; ci < cin; ++ci) {
            const float* xc = xpad + ci * p.plane_stride + p0;
            const float* wc = wb + ci * taps * direct_channels;
            for (std::size_t t = 0; t < taps; ++t) {
                v xs[Vectors];
                for (std::size_t q = 0; q < Vectors; ++q) {
                    v x;
                    std::memcpy(&x, xc + offset[t] + W * q, sizeof x);
                    xs[q] = x;
                }
                for (std::size_t k = 0; k < Blocks; ++k) {
                    const float* wk = wc + k * block_size + t * direct_channels;
                    for (std::size_t c = 0; c < Channels; ++c) {
                        for (std::size_t q = 0; q < Vectors; ++q)
                            acc[k * Channels + c][q] += wk[c] * xs[q];
                    }
                }
            }
        }
        for (std::size_t k = 0; k < Blocks; ++k) {
            for (std::size_t c = 0; c < Channels; ++c) {
                float* row = grid + ((b + k) * direct_channels + c0 + c) * p.grid_stride + p0;
                for (std::size_t q = 0; q < Vectors; ++q) {
                    const v r = acc[k * Channels + c][q];
                    std::memcpy(row + W * q, &r, sizeof r);
                }
            }
        }
    }
};

// dW[co + c][ci][t] for c < Channels from `count` samples' padded inputs and gridded output
// gradients: per weight, 16 lane sums over the samples and the grid positions of that lane
// (position mod 16), added as a tree at the end. A level narrower than 16 floats computes the
// 16 lanes W at a time, in 16 / W passes, so the sums are the same at every width.
template <std::size_t Channels>
struct weight_tile {
    template <std::size_t W>
    [[gnu::always_inline]] static void
    run(const float* xpads, const float* grids, std::size_t count, const direct_plan& p,
        std::size_t cin, std::size_t cout, std::size_t co, std::size_t ci, float* dw) {
        using v = vec<W>;
        constexpr std::size_t taps = direct_dw_taps;
        constexpr std::size_t lanes = direct_dw_lanes;
        std::size_t offset[taps];
        std::copy_n(p.taps.begin(), taps, offset);
        float sums[Channels][taps][lanes];
        for (std::size_t h = 0; h < lanes; h += W) {
            v acc[Channels][taps] = {};
            for (std::size_t s = 0; s < count; ++s) {
                const float* xs = xpads + s * p.input_size + ci * p.plane_stride + h;
                const float* gs = grids + (s * cout + co) * p.grid_stride + h;
                for (std::size_t p0 = 0; p0 < p.grid; p0 += lanes) { // zeros up to grid_stride
                    v gv[Channels];
                    for (std::size_t c = 0; c < Channels; ++c) {
                        v g;
                        std::memcpy(&g, gs + c * p.grid_stride + p0, sizeof g);
                        gv[c] = g;
                    }
                    for (std::size_t t = 0; t < taps; ++t) {
                        v x;
                        std::memcpy(&x, xs + p0 + offset[t], sizeof x);
                        for (std::size_t c = 0; c < Channels; ++c)
                            acc[c][t] += gv[c] * x;
                    }
                }
            }
            for (std::size_t c = 0; c < Channels; ++c) {
                for (std::size_t t = 0; t < taps; ++t) {
                    const v r = acc[c][t];
                    std::memcpy(&sums[c][t][h], &r, sizeof r);
                }
            }
        }
        for (std::size_t c = 0; c < Channels; ++c) {
            for (std::size_t t = 0; t < taps; ++t) {
                float* l = sums[c][t];
                for (std::size_t width = lanes / 2; width > 0; width /= 2) {
                    for (std::size_t j = 0; j < width; ++j)
                        l[j] += l[j + width];
                }
                dw[((co + c) * cin + ci) * taps + t] = l[0];
            }
        }
    }
};

// dW[co, co + W * Vectors)[ci][t] vectorised over output channels, from transposed output
// gradients ([position][channel]): each lane is one output channel's sum over samples and real
// positions, in that order at any width.
template <std::size_t Vectors>
struct weight_channels_tile {
    template <std::size_t W>
    [[gnu::always_inline]] static void run(const float* xpads, const float* gts, std::size_t count,
                                           std::size_t ho, std::size_t wo, std::size_t cin,
                                           std::size_t cout, const direct_plan& p, std::size_t ci,
                                           std::size_t co, float* dw) {
        using v = vec<W>;
        constexpr std::size_t taps = direct_dw_taps;
        std::size_t offset[taps];
        std::copy_n(p.taps.begin(), taps, offset);
        const std::size_t plane = ho * wo;
        v acc[taps][Vectors] = {};
        for (std::size_t s = 0; s < count; ++s) {
            const float* xs = xpads + s * p.input_size + ci * p.plane_stride;
            const float* gs = gts + s * plane * cout + co;
            for (std::size_t oy = 0; oy < ho; ++oy) {
                for (std::size_t ox = 0; ox < wo; ++ox) {
                    const float* xq = xs + oy * p.wp + ox;
                    const float* gq = gs + (oy * wo + ox) * cout;
                    v gv[Vectors];
                    for (std::size_t q = 0; q < Vectors; ++q) {
                        v g;
                        std::memcpy(&g, gq + W * q, sizeof g);
                        gv[q] = g;
                    }
                    for (std::size_t t = 0; t < taps; ++t) {
                        const float x = xq[offset[t]];
                        for (std::size_t q = 0; q < Vectors; ++q)
                            acc[t][q] += x * gv[q];
                    }
                }
            }
        }
        for (std::size_t t = 0; t < taps; ++t) {
            for (std::size_t q = 0; q < Vectors; ++q) {
                float l[W];
                const v r = acc[t][q];
                std::memcpy(l, &r, sizeof l);
                for (std::size_t lane = 0; lane < W; ++lane)
                    dw[((co + W * q + lane) * cin + ci) * taps + t] = l[lane];
            }
        }
    }
};

// ---- tile shapes per level, and the one compiled wrapper per level -------------------------
// forward: channels x vectors of one pass over a full tile (8 channels x 32 positions); tail:
// blocks, channels and vectors of a pass over a last tile of <= 16 positions; dw_channels: output
// channels of a position-vectorised weight tile; dw_vectors: vectors of a channel-vectorised one.
// AVX-512 keeps 16-18 accumulators in its 32 registers; the 16-register levels keep 8-9.
template <simd_level L>
struct tile_shapes;
template <>
struct tile_shapes<simd_level::avx512> {
    static constexpr std::size_t forward_channels = 8, forward_vectors = 2, tail_blocks = 2,
                                 tail_channels = 8, tail_vectors = 1, dw_channels = 2,
                                 dw_vectors = 2;
};
template <>
struct tile_shapes<simd_level::avx2> {
    static constexpr std::size_t forward_channels = 4, forward_vectors = 2, tail_blocks = 1,
                                 tail_channels = 4, tail_vectors = 2, dw_channels = 1,
                                 dw_vectors = 1;
};
template <>
struct tile_shapes<simd_level::baseline> {
    static constexpr std::size_t forward_channels = 4, forward_vectors = 2, tail_blocks = 1,
                                 tail_channels = 4, tail_vectors = 2, dw_channels = 1,
                                 dw_vectors = 1;
};

#endif // NASCENT_TENSOR_VECTOR_KERNELS

} // namespace nascent::tensor::detail
