#pragma once
// Single-precision matrix products for the convolution's GEMM path (im2col, pointwise and
// strided layers), on the SIMD level chosen at run time (simd.hpp).
//
// Eigen picks its vector width when it is compiled, so a build without -m flags multiplied
// with 4-float SSE kernels even on an AVX-512 CPU; this GEMM runs 16-, 8- or 4-float micro
// kernels chosen at run time instead. It blocks like BLIS: K in slices of gemm_kc, B packed
// once per slice into panels of NR columns, A into panels of MR rows, an MR x NR register tile
// per pair of panels. Each C element is the sum of its slices' partial sums added in slice
// order, each partial sum accumulated over k in order from zero: the same operations at every
// width, hence the same results on AVX2 and AVX-512 (with FMA), for any thread count.
//
// Row-major operands with leading dimensions, as the layer stores them: A is M x K (or K x M
// when trans_a), B is K x N (or N x K when trans_b), C is M x N.

#include <nascent/tensor/autograd/simd.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

namespace nascent::tensor::detail {

struct gemm_operand {
    const float* data = nullptr;
    std::size_t ld = 0;      ///< floats between consecutive rows as stored
    bool transposed = false; ///< stored as the transpose of the operand
    [[nodiscard]] float at(std::size_t row, std::size_t col) const noexcept {
        return transposed ? data[col * ld + row] : data[row * ld + col];
    }
};

inline constexpr std::size_t gemm_kc = 256; // depth of a slice: a panel of A stays in L1
inline constexpr std::size_t gemm_nc = 512; // columns of B packed at once (512 KiB at most)
inline constexpr std::size_t gemm_mc = 96;  // rows of A packed at once

#ifdef NASCENT_TENSOR_VECTOR_KERNELS

// c[MR x cols] (+)= sum over kk < kc of pa[kk][MR] (x) pb[kk][NV * W], for rows <= MR and
// cols <= NV * W of it in C.
template <std::size_t MR, std::size_t NV>
struct gemm_tile {
    template <std::size_t W>
    [[gnu::always_inline]] static void run(const float* pa, const float* pb, std::size_t kc,
                                           float* c, std::size_t ldc, std::size_t rows,
                                           std::size_t cols, bool add) {
        using v = vec<W>;
        constexpr std::size_t nr = NV * W;
        v acc[MR][NV] = {};
        for (std::size_t kk = 0; kk < kc; ++kk) {
            v b[NV];
            for (std::size_t q = 0; q < NV; ++q) {
                v x;
                std::memcpy(&x, pb + kk * nr + W * q, sizeof x);
                b[q] = x;
            }
            const float* a = pa + kk * MR;
            for (std::size_t r = 0; r < MR; ++r) {
                for (std::size_t q = 0; q < NV; ++q)
                    acc[r][q] += a[r] * b[q];
            }
        }
        if (rows == MR && cols == nr) {
            for (std::size_t r = 0; r < MR; ++r) {
                for (std::size_t q = 0; q < NV; ++q) {
                    float* dst = c + r * ldc + W * q;
                    v out = acc[r][q];
                    if (add) {
                        v old;
                        std::memcpy(&old, dst, sizeof old);
                        out = old + out;
                    }
                    std::memcpy(dst, &out, sizeof out);
                }
            }
            return;
        }
        for (std::size_t r = 0; r < rows; ++r) {
            float row[nr];
            for (std::size_t q = 0; q < NV; ++q) {
                const v out = acc[r][q];
                std::memcpy(row + W * q, &out, sizeof out);
            }
            float* dst = c + r * ldc;
            for (std::size_t j = 0; j < cols; ++j)
                dst[j] = add ? dst[j] + row[j] : row[j];
        }
    }
};

// Register tiles: rows of A x vectors of B per level (AVX-512: 8 x 32 in 16 of its 32
// registers; AVX2: 4 x 24 in 12 of 16; baseline: 4 x 8, no FMA, a product needs a register).
template <simd_level L>
struct gemm_shape;
template <>
struct gemm_shape<simd_level::avx512> {
    static constexpr std::size_t mr = 8, nv = 2;
};
template <>
struct gemm_shape<simd_level::avx2> {
    static constexpr std::size_t mr = 4, nv = 3;
};
template <>
struct gemm_shape<simd_level::baseline> {
    static constexpr std::size_t mr = 4, nv = 2;
};

// Panels of `width` rows (A) or columns (B) of op(X)[i0, i0 + n) x [k0, k0 + kc), zero-padded
// to whole panels: out[panel][kk][width].
inline void pack_panels(const gemm_operand& x, bool rows_of_op, std::size_t i0, std::size_t n,
                        std::size_t k0, std::size_t kc, std::size_t width, float* out) {
    for (std::size_t p = 0; p < n; p += width) {
        const std::size_t w = std::min(width, n - p);
        float* panel = out + p * kc;
        for (std::size_t kk = 0; kk < kc; ++kk) {
            float* dst = panel + kk * width;
            // op(X)(i, k) for rows of op, op(X)(k, i) for columns: contiguous when the
            // storage runs along i.
            const bool contiguous = rows_of_op == x.transposed;
            if (contiguous) {
                std::copy_n(x.data + (k0 + kk) * x.ld + i0 + p, w, dst);
            } else {
                for (std::size_t j = 0; j < w; ++j) {
                    dst[j] = rows_of_op ? x.at(i0 + p + j, k0 + kk) : x.at(k0 + kk, i0 + p + j);
                }
            }
            std::fill(dst + w, dst + width, 0.0F);
        }
    }
}

template <simd_level L>
void gemm_on(std::size_t m, std::size_t n, std::size_t k, const gemm_operand& a,
             const gemm_operand& b, float* c, std::size_t ldc, bool accumulate) {
    constexpr std::size_t mr = gemm_shape<L>::mr;
    constexpr std::size_t nr = gemm_shape<L>::nv * simd_width<L>;
    using tile = gemm_tile<mr, gemm_shape<L>::nv>;
    thread_local std::vector<float> packed_a;
    thread_local std::vector<float> packed_b;
    const std::size_t nc_max = std::min(n, gemm_nc);
    const std::size_t mc_max = std::min(m, gemm_mc);
    packed_b.resize((nc_max + nr - 1) / nr * nr * std::min(k, gemm_kc));
    packed_a.resize((mc_max + mr - 1) / mr * mr * std::min(k, gemm_kc));
    for (std::size_t j0 = 0; j0 < n; j0 += gemm_nc) {
        const std::size_t nc = std::min(gemm_nc, n - j0);
        for (std::size_t k0 = 0; k0 < k; k0 += gemm_kc) {
            const std::size_t kc = std::min(gemm_kc, k - k0);
            const bool add = accumulate || k0 > 0;
            pack_panels(b, false, j0, nc, k0, kc, nr, packed_b.data());
            for (std::size_t i0 = 0; i0 < m; i0 += gemm_mc) {
                const std::size_t mc = std::min(gemm_mc, m - i0);
                pack_panels(a, true, i0, mc, k0, kc, mr, packed_a.data());
                for (std::size_t jr = 0; jr < nc; jr += nr) {
                    for (std::size_t ir = 0; ir < mc; ir += mr) {
                        run_on<L, tile>(packed_a.data() + ir * kc, packed_b.data() + jr * kc, kc,
                                        c + (i0 + ir) * ldc + j0 + jr, ldc, std::min(mr, mc - ir),
                                        std::min(nr, nc - jr), add);
                    }
                }
            }
        }
    }
}

#endif // NASCENT_TENSOR_VECTOR_KERNELS

/// C (+)= op(A) op(B): C is m x n with leading dimension ldc; op(A) m x k, op(B) k x n. Without
/// `accumulate` C is overwritten (it may hold anything before). k == 0 gives zeros.
inline void gemm(std::size_t m, std::size_t n, std::size_t k, const gemm_operand& a,
                 const gemm_operand& b, float* c, std::size_t ldc, bool accumulate = false) {
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        for (std::size_t i = 0; !accumulate && i < m; ++i)
            std::fill_n(c + i * ldc, n, 0.0F);
        return;
    }
#ifdef NASCENT_TENSOR_VECTOR_KERNELS
    on_simd_level([&]<simd_level L>() { gemm_on<L>(m, n, k, a, b, c, ldc, accumulate); });
#else
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            float s = 0.0F;
            for (std::size_t kk = 0; kk < k; ++kk)
                s += a.at(i, kk) * b.at(kk, j);
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
        }
    }
#endif
}

} // namespace nascent::tensor::detail
