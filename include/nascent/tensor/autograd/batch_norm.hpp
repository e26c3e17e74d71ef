#pragma once
// Batch normalisation over N, H, W per channel, in training (batch statistics, running
// averages updated) and evaluation mode.

#include <nascent/tensor/autograd/core.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

struct batch_norm_options {
    bool training = true;  ///< batch statistics (and running-average update) vs running stats
    float momentum = 0.1F; ///< running = (1 - momentum) * running + momentum * batch
    float eps = 1e-5F;
};

/// Batch normalisation over all axes but 1 (channels) of x [N, C] or [N, C, H, W].
/// weight (gamma) and bias (beta) [C] may be null handles (no affine transform). In training
/// mode the batch mean and biased variance normalise, and running_mean / running_var (when not
/// null) are updated with the unbiased variance, as PyTorch does. In eval mode the running
/// statistics normalise and must be given.
[[nodiscard]] inline variable batch_norm(const variable& x, const variable& weight,
                                         const variable& bias, ndarray* running_mean,
                                         ndarray* running_var,
                                         const batch_norm_options& options = {}) {
    const shape_t& xs = x.shape();
    if (xs.size() != 2 && xs.size() != 4) {
        detail::fail("batch_norm", "input must be [N, C] or [N, C, H, W], got " + to_string(xs));
    }
    const std::size_t n = xs[0];
    const std::size_t channels = xs[1];
    const std::size_t plane = xs.size() == 4 ? xs[2] * xs[3] : 1;
    const std::size_t m = n * plane;
    const shape_t cshape{channels};
    for (const auto* v : {&weight, &bias}) {
        if (v->defined() && v->shape() != cshape) {
            detail::fail("batch_norm", "affine parameter of shape " + to_string(v->shape()) +
                                           ", needs " + to_string(cshape));
        }
    }
    if ((running_mean == nullptr) != (running_var == nullptr)) {
        detail::fail("batch_norm", "running_mean and running_var must both be given or both null");
    }
    if (running_mean != nullptr &&
        (running_mean->shape() != cshape || running_var->shape() != cshape)) {
        detail::fail("batch_norm",
                     "running statistics of shapes " + to_string(running_mean->shape()) + " and " +
                         to_string(running_var->shape()) + ", need " + to_string(cshape));
    }
    if (!options.training && running_mean == nullptr) {
        detail::fail("batch_norm", "eval mode needs running statistics");
    }
    if (options.training && m < 2) {
        detail::fail("batch_norm",
                     "training needs more than one value per channel, got input " + to_string(xs));
    }
    if (!(options.eps > 0.0F) || !(options.momentum >= 0.0F && options.momentum <= 1.0F)) {
        detail::fail("batch_norm", "eps " + std::to_string(options.eps) +
                                       " must be > 0 and momentum " +
                                       std::to_string(options.momentum) + " in [0, 1]");
    }

    std::vector<float> mean_c(channels);
    std::vector<float> invstd_c(channels);
    std::vector<double> batch_var(channels, 0.0);
    const float* xp = x.value().data();
    const float* gamma = weight.defined() ? weight.value().data() : nullptr;
    const float* beta = bias.defined() ? bias.value().data() : nullptr;
    auto out = ndarray::uninitialized(xs);
    float* op = out.data();
    detail::parallel_chunks(channels, 1, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t c = lo; c < hi; ++c) {
            // Float sums within a plane, double across planes: vectorised and accurate enough.
            double mu = 0.0;
            double var = 0.0;
            if (options.training) {
                for (std::size_t i = 0; i < n; ++i) {
                    const float* src = xp + (i * channels + c) * plane;
                    mu += detail::sum32(plane, [src](std::size_t j) { return src[j]; });
                }
                mu /= static_cast<double>(m);
                const auto muf = static_cast<float>(mu);
                for (std::size_t i = 0; i < n; ++i) {
                    const float* src = xp + (i * channels + c) * plane;
                    var += detail::sum32(plane, [src, muf](std::size_t j) {
                        const float d = src[j] - muf;
                        return d * d;
                    });
                }
                var /= static_cast<double>(m);
                batch_var[c] = var;
            } else {
                mu = (*running_mean)[c];
                var = (*running_var)[c];
            }
            const double invstd = 1.0 / std::sqrt(var + static_cast<double>(options.eps));
            mean_c[c] = static_cast<float>(mu);
            invstd_c[c] = static_cast<float>(invstd);
            const double scale_c = invstd * (gamma != nullptr ? gamma[c] : 1.0F);
            const double shift_c = (beta != nullptr ? beta[c] : 0.0F) - mu * scale_c;
            const auto s = static_cast<float>(scale_c);
            const auto t = static_cast<float>(shift_c);
            for (std::size_t i = 0; i < n; ++i) {
                const float* src = xp + (i * channels + c) * plane;
                float* dst = op + (i * channels + c) * plane;
                for (std::size_t j = 0; j < plane; ++j)
                    dst[j] = src[j] * s + t;
            }
        }
    });
    if (options.training && running_mean != nullptr) {
        const double mom = options.momentum;
        const double unbias = static_cast<double>(m) / static_cast<double>(m - 1);
        for (std::size_t c = 0; c < channels; ++c) {
            (*running_mean)[c] =
                static_cast<float>((1.0 - mom) * (*running_mean)[c] + mom * mean_c[c]);
            (*running_var)[c] =
                static_cast<float>((1.0 - mom) * (*running_var)[c] + mom * batch_var[c] * unbias);
        }
    }

    const bool training = options.training;
    return make_result(
        std::move(out), {x, weight, bias},
        [n, channels, plane, m, training, mean_c = std::move(mean_c),
         invstd_c = std::move(invstd_c)](backward_context& ctx) {
            const bool need_x = ctx.needs_grad(0);
            // dx overwrites dy in place when this node's gradient is not kept: each channel
            // reads its own planes (the sums) before writing them.
            ndarray dx = need_x ? detail::take_grad(ctx) : ndarray{};
            const float* gp = need_x ? dx.data() : ctx.grad().data();
            const float* xp2 = ctx.input(0).data();
            const float* gm = ctx.input_defined(1) ? ctx.input(1).data() : nullptr;
            std::vector<double> sum_dy(channels, 0.0);
            std::vector<double> sum_dy_xhat(channels, 0.0);
            detail::parallel_chunks(channels, 1, [&](std::size_t lo, std::size_t hi) {
                for (std::size_t c = lo; c < hi; ++c) {
                    const float mu = mean_c[c];
                    const float is = invstd_c[c];
                    double a = 0.0;
                    double b = 0.0; // sum of dy * (x - mean); times invstd: sum of dy * xhat
                    for (std::size_t i = 0; i < n; ++i) {
                        const float* gsrc = gp + (i * channels + c) * plane;
                        const float* xsrc = xp2 + (i * channels + c) * plane;
                        const auto [sa, sb] = detail::sum32_pair(
                            plane, [gsrc](std::size_t j) { return gsrc[j]; },
                            [gsrc, xsrc, mu](std::size_t j) { return gsrc[j] * (xsrc[j] - mu); });
                        a += sa;
                        b += sb;
                    }
                    b *= static_cast<double>(is);
                    sum_dy[c] = a;
                    sum_dy_xhat[c] = b;
                    if (!need_x)
                        continue;
                    const float gam = gm != nullptr ? gm[c] : 1.0F;
                    float* dst = dx.data();
                    if (training) {
                        // dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
                        //    = f * dy + slope * (x - mean) + offset
                        const double k1 = a / static_cast<double>(m);
                        const double k2 = b / static_cast<double>(m);
                        const double f = static_cast<double>(gam) * is;
                        const auto ff = static_cast<float>(f);
                        const auto slope = static_cast<float>(-f * k2 * is);
                        const auto offset = static_cast<float>(-f * k1);
                        for (std::size_t i = 0; i < n; ++i) {
                            const std::size_t off = (i * channels + c) * plane;
                            for (std::size_t j = 0; j < plane; ++j) {
                                dst[off + j] =
                                    ff * gp[off + j] + (slope * (xp2[off + j] - mu) + offset);
                            }
                        }
                    } else {
                        const float f = gam * is;
                        for (std::size_t i = 0; i < n; ++i) {
                            const std::size_t off = (i * channels + c) * plane;
                            for (std::size_t j = 0; j < plane; ++j)
                                dst[off + j] = gp[off + j] * f;
                        }
                    }
                }
            });
            if (need_x)
                ctx.accumulate(0, std::move(dx));
            if (ctx.needs_grad(1)) {
                auto d = ndarray::uninitialized({channels});
                for (std::size_t c = 0; c < channels; ++c)
                    d[c] = static_cast<float>(sum_dy_xhat[c]);
                ctx.accumulate(1, std::move(d));
            }
            if (ctx.needs_grad(2)) {
                auto d = ndarray::uninitialized({channels});
                for (std::size_t c = 0; c < channels; ++c)
                    d[c] = static_cast<float>(sum_dy[c]);
                ctx.accumulate(2, std::move(d));
            }
        },
        "batch_norm");
}

} // namespace nascent::tensor
