#pragma once
// Losses and regularisation: softmax cross-entropy, dropout.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd/core.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// Mean over the batch of -log softmax(logits)[label]: logits [N, C], labels in [0, C).
[[nodiscard]] inline variable softmax_cross_entropy(const variable& logits,
                                                    std::span<const std::int32_t> labels) {
    const shape_t& s = logits.shape();
    if (s.size() != 2) {
        detail::fail("softmax_cross_entropy", "logits must be [N, C], got " + to_string(s));
    }
    const std::size_t n = s[0];
    const std::size_t classes = s[1];
    if (labels.size() != n || n == 0) {
        detail::fail("softmax_cross_entropy", std::to_string(labels.size()) + " labels for " +
                                                  std::to_string(n) + " rows of logits");
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= classes) {
            detail::fail("softmax_cross_entropy",
                         "label " + std::to_string(labels[i]) + " of row " + std::to_string(i) +
                             " outside [0, " + std::to_string(classes) + ")");
        }
    }
    auto probs = ndarray::uninitialized({n, classes});
    const float* zp = logits.value().data();
    double loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const float* z = zp + i * classes;
        const float top = *std::max_element(z, z + classes);
        double total = 0.0;
        for (std::size_t c = 0; c < classes; ++c)
            total += std::exp(static_cast<double>(z[c] - top));
        const double log_total = std::log(total);
        for (std::size_t c = 0; c < classes; ++c) {
            probs[i * classes + c] = static_cast<float>(std::exp(z[c] - top - log_total));
        }
        loss += log_total - static_cast<double>(z[labels[i]] - top);
    }
    loss /= static_cast<double>(n);
    std::vector<std::int32_t> kept(labels.begin(), labels.end());
    return make_result(
        ndarray::scalar(static_cast<float>(loss)), {logits},
        [probs = std::move(probs), kept = std::move(kept), n, classes](backward_context& ctx) {
            ndarray d = probs;
            for (std::size_t i = 0; i < n; ++i) {
                d[i * classes + static_cast<std::size_t>(kept[i])] -= 1.0F;
            }
            const float f = ctx.grad()[0] / static_cast<float>(n);
            for (auto& v : d.values())
                v *= f;
            ctx.accumulate(0, std::move(d));
        },
        "softmax_cross_entropy");
}

/// Inverted dropout: in training, zeroes each element with probability p (one draw of
/// uniform_real(gen) per element, in order) and scales the rest by 1 / (1 - p); otherwise, or
/// with p = 0, returns x itself.
template <RandomGenerator G>
[[nodiscard]] variable dropout(const variable& x, double p, G& gen, bool training = true) {
    if (!(p >= 0.0 && p < 1.0)) {
        detail::fail("dropout", "probability " + std::to_string(p) + " outside [0, 1)");
    }
    if (!training || p == 0.0)
        return x;
    const auto keep_scale = static_cast<float>(1.0 / (1.0 - p));
    auto mask = ndarray::uninitialized(x.shape());
    for (auto& v : mask.values())
        v = uniform_real(gen) < p ? 0.0F : keep_scale;
    ndarray out = x.value();
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] *= mask[i];
    return make_result(
        std::move(out), {x},
        [mask = std::move(mask)](backward_context& ctx) {
            ndarray d = detail::take_grad(ctx);
            for (std::size_t i = 0; i < d.size(); ++i)
                d[i] *= mask[i];
            ctx.accumulate(0, std::move(d));
        },
        "dropout");
}

} // namespace nascent::tensor
