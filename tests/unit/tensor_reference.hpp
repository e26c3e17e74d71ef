#pragma once
// Double-precision reference implementations of the tensor layer's ops for its gradient checks:
// plain loops, written from the definitions and sharing no code with the library.

#include <nascent/tensor/autograd.hpp>

#include "gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace nascent::test {

namespace t = nascent::tensor;
using t::shape_t;

// NumPy broadcasting of a binary op.
inline dt ref_broadcast(const dt& a, const dt& b, const std::function<double(double, double)>& f) {
    const std::size_t rank = std::max(a.shape.size(), b.shape.size());
    const auto padded = [rank](const shape_t& s) {
        shape_t p(rank - s.size(), 1);
        p.insert(p.end(), s.begin(), s.end());
        return p;
    };
    const shape_t pa = padded(a.shape);
    const shape_t pb = padded(b.shape);
    shape_t out(rank);
    for (std::size_t i = 0; i < rank; ++i)
        out[i] = std::max(pa[i], pb[i]);
    dt r = zeros(out);
    std::vector<std::size_t> idx(rank, 0);
    for (std::size_t o = 0; o < r.size(); ++o) {
        std::size_t rem = o;
        for (std::size_t i = rank; i-- > 0;) {
            idx[i] = rem % out[i];
            rem /= out[i];
        }
        std::size_t ia = 0;
        std::size_t ib = 0;
        for (std::size_t i = 0; i < rank; ++i) {
            ia = ia * pa[i] + (pa[i] == 1 ? 0 : idx[i]);
            ib = ib * pb[i] + (pb[i] == 1 ? 0 : idx[i]);
        }
        r.v[o] = f(a.v[ia], b.v[ib]);
    }
    return r;
}

inline dt ref_matmul(const dt& a, const dt& b) {
    const std::size_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
    dt r = zeros({m, n});
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t l = 0; l < k; ++l)
                r.v[i * n + j] += a.v[i * k + l] * b.v[l * n + j];
    return r;
}

inline dt ref_linear(const dt& x, const dt& w, const dt* b) {
    const std::size_t n = x.shape[0], in = x.shape[1], out = w.shape[0];
    dt r = zeros({n, out});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t o = 0; o < out; ++o) {
            double acc = b != nullptr ? b->v[o] : 0.0;
            for (std::size_t l = 0; l < in; ++l)
                acc += x.v[i * in + l] * w.v[o * in + l];
            r.v[i * out + o] = acc;
        }
    return r;
}

inline dt ref_conv2d(const dt& x, const dt& w, const dt* b, const t::conv2d_options& o) {
    const std::size_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
    const std::size_t oc = w.shape[0], cg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
    const std::size_t ocg = oc / o.groups;
    const auto ho = static_cast<std::size_t>(
        (static_cast<long>(h + 2 * o.padding.h) - static_cast<long>(o.dilation.h * (kh - 1) + 1)) /
            static_cast<long>(o.stride.h) +
        1);
    const auto wo = static_cast<std::size_t>(
        (static_cast<long>(wd + 2 * o.padding.w) - static_cast<long>(o.dilation.w * (kw - 1) + 1)) /
            static_cast<long>(o.stride.w) +
        1);
    dt r = zeros({n, oc, ho, wo});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t oo = 0; oo < oc; ++oo) {
            const std::size_t grp = oo / ocg;
            for (std::size_t oy = 0; oy < ho; ++oy)
                for (std::size_t ox = 0; ox < wo; ++ox) {
                    double acc = b != nullptr ? b->v[oo] : 0.0;
                    for (std::size_t ci = 0; ci < cg; ++ci)
                        for (std::size_t ky = 0; ky < kh; ++ky)
                            for (std::size_t kx = 0; kx < kw; ++kx) {
                                const long iy =
                                    static_cast<long>(oy * o.stride.h + ky * o.dilation.h) -
                                    static_cast<long>(o.padding.h);
                                const long ix =
                                    static_cast<long>(ox * o.stride.w + kx * o.dilation.w) -
                                    static_cast<long>(o.padding.w);
                                if (iy < 0 || ix < 0 || iy >= static_cast<long>(h) ||
                                    ix >= static_cast<long>(wd))
                                    continue;
                                const std::size_t ch = grp * cg + ci;
                                acc += x.v[((i * c + ch) * h + static_cast<std::size_t>(iy)) * wd +
                                           static_cast<std::size_t>(ix)] *
                                       w.v[((oo * cg + ci) * kh + ky) * kw + kx];
                            }
                    r.v[((i * oc + oo) * ho + oy) * wo + ox] = acc;
                }
        }
    return r;
}

// Batch norm with given (eval) or batch (train) statistics.
inline dt ref_batch_norm(const dt& x, const dt* gamma, const dt* beta, const dt* mean,
                         const dt* var, double eps) {
    const std::size_t n = x.shape[0], c = x.shape[1];
    const std::size_t plane = x.shape.size() == 4 ? x.shape[2] * x.shape[3] : 1;
    dt r = zeros(x.shape);
    for (std::size_t ch = 0; ch < c; ++ch) {
        double mu = 0.0, s2 = 0.0;
        if (mean != nullptr) {
            mu = mean->v[ch];
            s2 = var->v[ch];
        } else {
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < plane; ++j)
                    mu += x.v[(i * c + ch) * plane + j];
            mu /= static_cast<double>(n * plane);
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < plane; ++j) {
                    const double d = x.v[(i * c + ch) * plane + j] - mu;
                    s2 += d * d;
                }
            s2 /= static_cast<double>(n * plane);
        }
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < plane; ++j) {
                const std::size_t k = (i * c + ch) * plane + j;
                const double y = (x.v[k] - mu) / std::sqrt(s2 + eps);
                r.v[k] = y * (gamma != nullptr ? gamma->v[ch] : 1.0) +
                         (beta != nullptr ? beta->v[ch] : 0.0);
            }
    }
    return r;
}

inline dt ref_relu(dt x) {
    for (auto& v : x.v)
        v = std::max(v, 0.0);
    return x;
}

// Pooling over windows clipped to the image; `avg` divides by the real pixels or by k*k.
inline dt ref_pool(const dt& x, t::hw k, t::hw s, t::hw p, bool is_max, bool include_pad) {
    if (s == t::hw(0))
        s = k;
    const std::size_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
    const std::size_t ho = (h + 2 * p.h - k.h) / s.h + 1, wo = (w + 2 * p.w - k.w) / s.w + 1;
    dt r = zeros({n, c, ho, wo});
    for (std::size_t pl = 0; pl < n * c; ++pl)
        for (std::size_t oy = 0; oy < ho; ++oy)
            for (std::size_t ox = 0; ox < wo; ++ox) {
                double best = -std::numeric_limits<double>::infinity(), acc = 0.0;
                std::size_t count = 0;
                for (std::size_t ky = 0; ky < k.h; ++ky)
                    for (std::size_t kx = 0; kx < k.w; ++kx) {
                        const long iy = static_cast<long>(oy * s.h + ky) - static_cast<long>(p.h);
                        const long ix = static_cast<long>(ox * s.w + kx) - static_cast<long>(p.w);
                        if (iy < 0 || ix < 0 || iy >= static_cast<long>(h) ||
                            ix >= static_cast<long>(w))
                            continue;
                        const double v = x.v[(pl * h + static_cast<std::size_t>(iy)) * w +
                                             static_cast<std::size_t>(ix)];
                        best = std::max(best, v);
                        acc += v;
                        ++count;
                    }
                r.v[(pl * ho + oy) * wo + ox] =
                    is_max ? best : acc / static_cast<double>(include_pad ? k.h * k.w : count);
            }
    return r;
}

inline dt ref_global_avg_pool(const dt& x) {
    const std::size_t planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3];
    dt r = zeros({x.shape[0], x.shape[1]});
    for (std::size_t p = 0; p < planes; ++p) {
        for (std::size_t j = 0; j < plane; ++j)
            r.v[p] += x.v[p * plane + j];
        r.v[p] /= static_cast<double>(plane);
    }
    return r;
}

inline dt ref_softmax_ce(const dt& z, const std::vector<std::int32_t>& labels) {
    const std::size_t n = z.shape[0], c = z.shape[1];
    double loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        double total = 0.0;
        for (std::size_t j = 0; j < c; ++j)
            total += std::exp(z.v[i * c + j]);
        loss += std::log(total) - z.v[i * c + static_cast<std::size_t>(labels[i])];
    }
    return {{}, {loss / static_cast<double>(n)}};
}

inline dt ref_concat1(const std::vector<dt>& xs) {
    shape_t s = xs[0].shape;
    s[1] = 0;
    for (const auto& x : xs)
        s[1] += x.shape[1];
    dt r = zeros(s);
    const std::size_t inner = t::element_count(s) / (s[0] * s[1]);
    for (std::size_t i = 0; i < s[0]; ++i) {
        std::size_t ch0 = 0;
        for (const auto& x : xs) {
            for (std::size_t ch = 0; ch < x.shape[1]; ++ch)
                for (std::size_t j = 0; j < inner; ++j)
                    r.v[(i * s[1] + ch0 + ch) * inner + j] = x.v[(i * x.shape[1] + ch) * inner + j];
            ch0 += x.shape[1];
        }
    }
    return r;
}

} // namespace nascent::test
