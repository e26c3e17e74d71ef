#pragma once
// The geometry of a 2-d convolution (options, output extents, valid ranges), the unfolding
// (im2col / col2im) and the transposed convolution that gives a stride-1 layer's input gradient.

#include <nascent/tensor/autograd/core.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

namespace nascent::tensor {

/// A (height, width) pair; a single number means both: `.padding = 1` or `.padding = {0, 3}`.
struct hw {
    std::size_t h = 0;
    std::size_t w = 0;
    constexpr hw() noexcept = default;
    constexpr hw(std::size_t both) noexcept : h(both), w(both) {} // NOLINT: implicit on purpose
    constexpr hw(std::size_t height, std::size_t width) noexcept : h(height), w(width) {}
    friend constexpr bool operator==(const hw&, const hw&) = default;
};

[[nodiscard]] inline std::string to_string(const hw& v) {
    return v.h == v.w ? std::to_string(v.h) : std::to_string(v.h) + "x" + std::to_string(v.w);
}

struct conv2d_options {
    hw stride = 1;
    hw padding = 0;
    hw dilation = 1;
    std::size_t groups = 1; ///< groups == in channels == out channels: depthwise
};

namespace detail {

struct conv_geometry {
    std::size_t n = 0, cin = 0, h = 0, w = 0, cout = 0, kh = 0, kw = 0, groups = 1;
    std::size_t ho = 0, wo = 0;
    hw stride, padding, dilation;

    [[nodiscard]] std::size_t cin_g() const noexcept { return cin / groups; }
    [[nodiscard]] std::size_t cout_g() const noexcept { return cout / groups; }
    [[nodiscard]] std::size_t k() const noexcept { return cin_g() * kh * kw; }
    [[nodiscard]] std::size_t out_plane() const noexcept { return ho * wo; }
    // A 1x1 convolution without stride or padding multiplies by the input as it is.
    [[nodiscard]] bool pointwise() const noexcept {
        return kh == 1 && kw == 1 && stride == hw(1) && padding == hw(0);
    }
};

// Output extent of a sliding window, or 0 when the window does not fit.
[[nodiscard]] inline std::size_t window_extent(std::size_t in, std::size_t kernel,
                                               std::size_t stride, std::size_t pad,
                                               std::size_t dilation) noexcept {
    const std::size_t span = dilation * (kernel - 1) + 1;
    if (in + 2 * pad < span)
        return 0;
    return (in + 2 * pad - span) / stride + 1;
}

// Outputs [lo, hi) along one axis whose input o * stride + k * dilation - padding lies inside
// [0, in): the rest read padding.
struct column_range {
    std::size_t lo = 0;
    std::size_t hi = 0;
};
[[nodiscard]] inline column_range valid_outputs(std::size_t in, std::size_t out, std::size_t k,
                                                std::size_t stride, std::size_t pad,
                                                std::size_t dilation) noexcept {
    const std::size_t offset = k * dilation;
    column_range r;
    // smallest o with o * s + offset >= padding
    r.lo = offset >= pad ? 0 : (pad - offset + stride - 1) / stride;
    // o * s + offset < in + padding  <=>  o < (in + padding - offset) / s (rounded up)
    r.hi = in + pad > offset ? std::min(out, (in + pad - offset + stride - 1) / stride) : 0;
    r.lo = std::min(r.lo, r.hi);
    return r;
}
[[nodiscard]] inline column_range valid_columns(const conv_geometry& g, std::size_t kj) {
    return valid_outputs(g.w, g.wo, kj, g.stride.w, g.padding.w, g.dilation.w);
}
[[nodiscard]] inline column_range valid_rows(const conv_geometry& g, std::size_t ki) {
    return valid_outputs(g.h, g.ho, ki, g.stride.h, g.padding.h, g.dilation.h);
}

// With stride 1 and output rows as wide as input rows (a "same" convolution), the unfolded row
// of kernel tap (ki, kj) is the input plane shifted by one offset: output position j reads input
// position j + shift, apart from the columns that wrap into the neighbouring row. The unfolding
// is then one long copy plus a few zeroed columns instead of a short copy per output row.
[[nodiscard]] inline bool flat_rows(const conv_geometry& g) noexcept {
    return g.stride == hw(1) && g.wo == g.w;
}
[[nodiscard]] inline std::ptrdiff_t flat_shift(const conv_geometry& g, std::size_t ki,
                                               std::size_t kj) noexcept {
    const auto s = [](std::size_t v) { return static_cast<std::ptrdiff_t>(v); };
    return (s(ki * g.dilation.h) - s(g.padding.h)) * s(g.w) + s(kj * g.dilation.w) - s(g.padding.w);
}
// Output positions [lo, hi) of rows `rows` whose shifted input lies inside the plane.
[[nodiscard]] inline column_range flat_span(const conv_geometry& g, column_range rows,
                                            std::ptrdiff_t shift) noexcept {
    const auto plane = static_cast<std::ptrdiff_t>(g.h * g.w);
    const auto lo = std::max(static_cast<std::ptrdiff_t>(rows.lo * g.w), -shift);
    const auto hi = std::min(static_cast<std::ptrdiff_t>(rows.hi * g.w), plane - shift);
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(std::max(lo, hi))};
}
// Zeroes the columns of output rows `rows` that read padding (with a flat shift they would read
// the neighbouring input row). Column by column: a row-wise loop of one or two elements becomes
// a memset call per row.
inline void zero_wrapped_columns(float* row, const conv_geometry& g, column_range rows,
                                 column_range cols) noexcept {
    const auto zero_column = [&](std::size_t ox) {
        for (std::size_t oy = rows.lo; oy < rows.hi; ++oy)
            row[oy * g.wo + ox] = 0.0F;
    };
    for (std::size_t ox = 0; ox < cols.lo; ++ox)
        zero_column(ox);
    for (std::size_t ox = cols.hi; ox < g.wo; ++ox)
        zero_column(ox);
}

// Unfolds `channels` planes of x (h x w) into rows (c, ki, kj) x columns (oy, ox); row r starts
// at col + r * ld (ld >= out_plane: several samples share the rows of one batch).
inline void im2col(const float* x, std::size_t channels, const conv_geometry& g, float* col,
                   std::size_t ld) {
    const std::size_t plane = g.out_plane();
    const std::size_t in_plane = g.h * g.w;
    const bool flat = flat_rows(g);
    for (std::size_t c = 0; c < channels; ++c) {
        const float* xc = x + c * in_plane;
        for (std::size_t ki = 0; ki < g.kh; ++ki) {
            const auto rows = valid_rows(g, ki);
            for (std::size_t kj = 0; kj < g.kw; ++kj) {
                float* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
                const auto cols = valid_columns(g, kj);
                if (rows.lo == rows.hi || cols.lo == cols.hi) {
                    std::fill_n(row, plane, 0.0F);
                    continue;
                }
                std::fill_n(row, rows.lo * g.wo, 0.0F);
                std::fill_n(row + rows.hi * g.wo, (g.ho - rows.hi) * g.wo, 0.0F);
                if (flat) {
                    const std::ptrdiff_t shift = flat_shift(g, ki, kj);
                    const auto span = flat_span(g, rows, shift);
                    std::fill(row + rows.lo * g.wo, row + span.lo, 0.0F);
                    std::copy(xc + (static_cast<std::ptrdiff_t>(span.lo) + shift),
                              xc + (static_cast<std::ptrdiff_t>(span.hi) + shift), row + span.lo);
                    std::fill(row + span.hi, row + rows.hi * g.wo, 0.0F);
                    zero_wrapped_columns(row, g, rows, cols);
                    continue;
                }
                for (std::size_t oy = rows.lo; oy < rows.hi; ++oy) {
                    const std::size_t iy = oy * g.stride.h + ki * g.dilation.h - g.padding.h;
                    float* dst = row + oy * g.wo;
                    std::fill_n(dst, cols.lo, 0.0F);
                    std::fill_n(dst + cols.hi, g.wo - cols.hi, 0.0F);
                    // Input column of output column cols.lo; the range keeps it inside the row.
                    const float* src =
                        xc + iy * g.w + (cols.lo * g.stride.w + kj * g.dilation.w - g.padding.w);
                    if (g.stride.w == 1) {
                        std::copy_n(src, cols.hi - cols.lo, dst + cols.lo);
                    } else {
                        for (std::size_t ox = cols.lo; ox < cols.hi; ++ox)
                            dst[ox] = src[(ox - cols.lo) * g.stride.w];
                    }
                }
            }
        }
    }
}

// The adjoint of im2col: adds the columns back into the planes of dx. `col` is scratch: the
// flat path zeroes its wrapped columns first (so that one long add per row is exact).
inline void col2im(float* col, std::size_t channels, const conv_geometry& g, float* dx,
                   std::size_t ld) {
    const std::size_t in_plane = g.h * g.w;
    const bool flat = flat_rows(g);
    for (std::size_t c = 0; c < channels; ++c) {
        float* dxc = dx + c * in_plane;
        for (std::size_t ki = 0; ki < g.kh; ++ki) {
            const auto rows = valid_rows(g, ki);
            for (std::size_t kj = 0; kj < g.kw; ++kj) {
                float* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
                const auto cols = valid_columns(g, kj);
                if (rows.lo == rows.hi || cols.lo == cols.hi)
                    continue;
                if (flat) {
                    const std::ptrdiff_t shift = flat_shift(g, ki, kj);
                    const auto span = flat_span(g, rows, shift);
                    zero_wrapped_columns(row, g, rows, cols);
                    float* dst = dxc + shift;
                    for (std::size_t j = span.lo; j < span.hi; ++j)
                        dst[j] += row[j];
                    continue;
                }
                for (std::size_t oy = rows.lo; oy < rows.hi; ++oy) {
                    const std::size_t iy = oy * g.stride.h + ki * g.dilation.h - g.padding.h;
                    const float* src = row + oy * g.wo;
                    float* dst =
                        dxc + iy * g.w + (cols.lo * g.stride.w + kj * g.dilation.w - g.padding.w);
                    for (std::size_t ox = cols.lo; ox < cols.hi; ++ox)
                        dst[(ox - cols.lo) * g.stride.w] += src[ox];
                }
            }
        }
    }
}

// The input gradient of a stride-1 convolution is itself a convolution: of dL/d output padded by
// dilation * (k - 1) - padding, with the kernel flipped and its channel axes swapped. Unfolding
// dL/d output and one GEMM with K = C_out * KH * KW / groups then writes dx in place, where the
// col2im route multiplies with K = C_out / groups (a poor GEMM shape for narrow layers) and
// scatter-adds every tap.
[[nodiscard]] inline bool transposed_dx(const conv_geometry& g) noexcept {
    return g.stride == hw(1) && !g.pointwise() && g.padding.h <= g.dilation.h * (g.kh - 1) &&
           g.padding.w <= g.dilation.w * (g.kw - 1);
}
[[nodiscard]] inline conv_geometry transposed_geometry(const conv_geometry& g) noexcept {
    conv_geometry t = g;
    t.cin = g.cout;
    t.h = g.ho;
    t.w = g.wo;
    t.cout = g.cin;
    t.ho = g.h;
    t.wo = g.w;
    const auto flip_pad = [](std::size_t d, std::size_t k, std::size_t p) {
        return d * (k - 1) >= p ? d * (k - 1) - p : 0; // only used where transposed_dx holds
    };
    t.padding = {flip_pad(g.dilation.h, g.kh, g.padding.h),
                 flip_pad(g.dilation.w, g.kw, g.padding.w)};
    return t;
}
// Weights of that convolution: per group [C_in / groups, C_out / groups, KH, KW], flipped.
[[nodiscard]] inline ndarray::storage transposed_weights(const float* w, const conv_geometry& g) {
    ndarray::storage out(g.cout * g.k());
    const std::size_t cin_g = g.cin_g();
    const std::size_t cout_g = g.cout_g();
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
        for (std::size_t co = 0; co < cout_g; ++co) {
            for (std::size_t ci = 0; ci < cin_g; ++ci) {
                for (std::size_t ki = 0; ki < g.kh; ++ki) {
                    for (std::size_t kj = 0; kj < g.kw; ++kj) {
                        out[(((grp * cin_g + ci) * cout_g + co) * g.kh + (g.kh - 1 - ki)) * g.kw +
                            (g.kw - 1 - kj)] =
                            w[(((grp * cout_g + co) * cin_g + ci) * g.kh + ki) * g.kw + kj];
                    }
                }
            }
        }
    }
    return out;
}

} // namespace detail

} // namespace nascent::tensor
