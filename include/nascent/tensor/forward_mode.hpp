#pragma once
// Forward-mode differentiation on top of the reverse mode, for Hessian-vector products (GraSP's
// H g, eval/data_proxies.hpp). The layer has no double backward, but for a loss L(W),
// H g = grad_W (g . grad_W L) = grad_W (dL/dt of L(W + t g) at t = 0): a forward pass that
// carries, next to every activation, its tangent along g (recorded with the ordinary ops, so
// that it is a differentiable function of W) ends in the scalar dL/dt, whose ordinary backward
// pass gives H g. ReLU tangents use the mask of the forward value, which is constant (ReLU's
// second derivative is 0): PyTorch's double backward does the same, so this is exactly what it
// computes, rather than a finite difference that ReLU kinks make noisy.
//
// tangent_forward knows sequential, conv2d, linear, batch_norm2d (batch statistics), relu and
// the linear maps (avg_pool2d, identity, global_avg_pool, flatten); other module kinds come
// with rules of their own (a network factory's tangent_rules(), eval/network_factory.hpp).

#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/module_state.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// A value and its tangent (a null tangent is zero).
struct dual {
    variable value;
    variable tangent;
};

/// Tangent of batch normalisation's x_hat = (x - mean) / sqrt(var + eps) (batch statistics per
/// channel) along xdot: (xdot - mean(xdot) - x_hat * m) / sigma, m = mean((xdot - mean(xdot)) *
/// x_hat). Backward: to xdot, the usual batch-norm input gradient; to x, derived by hand
/// (tests/unit/proxies.cpp checks it against finite differences).
[[nodiscard]] inline variable batch_norm_tangent(const variable& x, const variable& xdot,
                                                 double eps) {
    const auto& xs = x.shape();
    if ((xs.size() != 2 && xs.size() != 4) || xdot.shape() != xs) {
        throw std::invalid_argument("batch_norm_tangent: shapes " + to_string(xs) + " and " +
                                    to_string(xdot.shape()));
    }
    const std::size_t n = xs[0];
    const std::size_t channels = xs[1];
    const std::size_t plane = xs.size() == 4 ? xs[2] * xs[3] : 1;
    const auto count = static_cast<double>(n * plane);
    // Per channel: mean, sigma, mean(xdot), m.
    std::vector<double> mu(channels), sigma(channels), vbar(channels), mdot(channels);
    const ndarray& xv = x.value();
    const ndarray& vv = xdot.value();
    const auto for_channel = [n, channels, plane](std::size_t c, const auto& f) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t off = (i * channels + c) * plane;
            for (std::size_t p = 0; p < plane; ++p)
                f(off + p);
        }
    };
    auto out = ndarray::uninitialized(xs);
    for (std::size_t c = 0; c < channels; ++c) {
        double s = 0.0;
        double sv = 0.0;
        for_channel(c, [&](std::size_t k) {
            s += xv[k];
            sv += vv[k];
        });
        mu[c] = s / count;
        vbar[c] = sv / count;
        double var = 0.0;
        for_channel(c, [&](std::size_t k) { var += (xv[k] - mu[c]) * (xv[k] - mu[c]); });
        sigma[c] = std::sqrt(var / count + eps);
        double m = 0.0;
        for_channel(c, [&](std::size_t k) { m += (vv[k] - vbar[c]) * (xv[k] - mu[c]) / sigma[c]; });
        mdot[c] = m / count;
        for_channel(c, [&](std::size_t k) {
            const double xhat = (xv[k] - mu[c]) / sigma[c];
            out[k] = static_cast<float>((vv[k] - vbar[c] - xhat * mdot[c]) / sigma[c]);
        });
    }
    return make_result(
        std::move(out), {x, xdot},
        [channels, count, mu = std::move(mu), sigma = std::move(sigma), vbar = std::move(vbar),
         mdot = std::move(mdot), for_channel](backward_context& ctx) {
            const ndarray& a = ctx.grad();
            const ndarray& xv2 = ctx.input(0);
            const ndarray& vv2 = ctx.input(1);
            ndarray dx(xv2.shape());
            ndarray dv(xv2.shape());
            for (std::size_t c = 0; c < channels; ++c) {
                const auto xhat = [&](std::size_t k) { return (xv2[k] - mu[c]) / sigma[c]; };
                double abar = 0.0;
                double big_a = 0.0; // sum a (v - vbar)
                double big_b = 0.0; // sum a x_hat
                for_channel(c, [&](std::size_t k) {
                    abar += a[k];
                    big_a += a[k] * (vv2[k] - vbar[c]);
                    big_b += a[k] * xhat(k);
                });
                abar /= count;
                const double s2 = sigma[c] * sigma[c];
                const double m = mdot[c];
                for_channel(c, [&](std::size_t k) {
                    const double xk = xhat(k);
                    dv[k] = static_cast<float>((a[k] - abar - xk * big_b / count) / sigma[c]);
                    dx[k] = static_cast<float>((xk * (3.0 * m * big_b - big_a) / count -
                                                big_b * (vv2[k] - vbar[c]) / count -
                                                m * (a[k] - abar)) /
                                               s2);
                });
            }
            ctx.accumulate(0, std::move(dx));
            ctx.accumulate(1, std::move(dv));
        },
        "batch_norm_tangent");
}

/// d/dt of the mean cross-entropy along logit tangents: mean_n (softmax(z_n) - onehot(y_n)) .
/// zdot_n, a scalar. Backward: to zdot, (p - onehot) / N; to z, (diag(p) - p p^T) zdot_n / N.
[[nodiscard]] inline variable cross_entropy_tangent(const variable& logits, const variable& zdot,
                                                    std::span<const std::int32_t> labels) {
    const auto& s = logits.shape();
    if (s.size() != 2 || zdot.shape() != s || labels.size() != s[0]) {
        throw std::invalid_argument("cross_entropy_tangent: logits " + to_string(s) + ", tangent " +
                                    to_string(zdot.shape()) + ", " + std::to_string(labels.size()) +
                                    " labels");
    }
    const std::size_t n = s[0];
    const std::size_t classes = s[1];
    std::vector<double> p(n * classes);
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const float* z = logits.value().data() + i * classes;
        const double top = *std::max_element(z, z + classes);
        double norm = 0.0;
        for (std::size_t c = 0; c < classes; ++c)
            norm += std::exp(z[c] - top);
        for (std::size_t c = 0; c < classes; ++c) {
            p[i * classes + c] = std::exp(z[c] - top) / norm;
            const double target = static_cast<std::size_t>(labels[i]) == c ? 1.0 : 0.0;
            total += (p[i * classes + c] - target) * zdot.value()[i * classes + c];
        }
    }
    std::vector<std::int32_t> kept(labels.begin(), labels.end());
    return make_result(
        ndarray::scalar(static_cast<float>(total / static_cast<double>(n))), {logits, zdot},
        [p = std::move(p), kept = std::move(kept), n, classes](backward_context& ctx) {
            const double f = ctx.grad()[0] / static_cast<double>(n);
            const ndarray& zd = ctx.input(1);
            ndarray dz({n, classes});
            ndarray dzd({n, classes});
            for (std::size_t i = 0; i < n; ++i) {
                double dot = 0.0;
                for (std::size_t c = 0; c < classes; ++c)
                    dot += p[i * classes + c] * zd[i * classes + c];
                for (std::size_t c = 0; c < classes; ++c) {
                    const std::size_t k = i * classes + c;
                    const double target = static_cast<std::size_t>(kept[i]) == c ? 1.0 : 0.0;
                    dz[k] = static_cast<float>(f * p[k] * (zd[k] - dot));
                    dzd[k] = static_cast<float>(f * (p[k] - target));
                }
            }
            ctx.accumulate(0, std::move(dz));
            ctx.accumulate(1, std::move(dzd));
        },
        "cross_entropy_tangent");
}

class tangent_forward;

/// The forward-mode rule of one module kind: its dual output for a dual input; `forward`
/// continues the pass through the module's children.
using tangent_rule = std::function<dual(tangent_forward& forward, nn::module& m, const dual& in)>;

struct named_tangent_rule {
    std::string kind; ///< nn::module::kind()
    tangent_rule rule;
};

/// Forward pass of a module on a dual input, the tangent taken along `directions` of `weights`
/// (same order; other parameters have tangent zero). Throws std::invalid_argument naming a
/// module kind it has no rule for.
class tangent_forward {
public:
    tangent_forward(std::span<const variable> weights, std::span<const ndarray> directions,
                    std::vector<named_tangent_rule> rules = {})
        : m_rules(std::move(rules)) {
        if (weights.size() != directions.size()) {
            throw std::invalid_argument("tangent_forward: " + std::to_string(weights.size()) +
                                        " weights but " + std::to_string(directions.size()) +
                                        " directions");
        }
        for (std::size_t l = 0; l < weights.size(); ++l) {
            m_direction.emplace_back(weights[l].id(), variable(directions[l]));
        }
    }

    [[nodiscard]] dual operator()(nn::module& m, const dual& in) {
        const std::string_view kind = m.kind();
        for (const auto& r : m_rules) { // the caller's rules first: they may refine the defaults
            if (r.kind == kind)
                return r.rule(*this, m, in);
        }
        if (kind == "sequential") {
            dual d = in;
            for (const auto& [name, child] : m.children())
                d = (*this)(*child, d);
            return d;
        }
        if (auto* conv = dynamic_cast<nn::conv2d*>(&m)) {
            const auto& o = conv->options();
            const conv2d_options co{.stride = o.stride,
                                    .padding = o.padding,
                                    .dilation = o.dilation,
                                    .groups = o.groups};
            variable value = conv2d(in.value, conv->weight(), conv->bias(), co);
            variable tangent = conv2d(in.value, direction(conv->weight()), {}, co);
            if (in.tangent.defined()) {
                tangent = tensor::add(tangent, conv2d(in.tangent, conv->weight(), {}, co));
            }
            return {value, tangent};
        }
        if (auto* lin = dynamic_cast<nn::linear*>(&m)) {
            variable value = linear(in.value, lin->weight(), lin->bias());
            variable tangent = linear(in.value, direction(lin->weight()), {});
            if (in.tangent.defined()) {
                tangent = tensor::add(tangent, linear(in.tangent, lin->weight(), {}));
            }
            return {value, tangent};
        }
        if (auto* bn = dynamic_cast<nn::batch_norm2d*>(&m)) {
            if (!bn->is_training()) {
                throw std::invalid_argument("tangent_forward: batch norm in eval mode (the "
                                            "tangent rule uses batch statistics)");
            }
            const double eps = nn::batch_norm_eps(*bn, in.value.dim(1));
            variable value = bn->forward(in.value);
            if (!in.tangent.defined())
                return {value, {}};
            variable tangent = batch_norm_tangent(in.value, in.tangent, eps);
            if (bn->weight().defined()) {
                shape_t gs{bn->weight().size()};
                if (in.value.shape().size() == 4)
                    gs = {bn->weight().size(), 1, 1};
                tangent = mul(tangent, reshape(bn->weight(), gs));
            }
            return {value, tangent};
        }
        if (kind == "relu")
            return relu(in);
        if (kind == "avg_pool2d" || kind == "identity" || kind == "global_avg_pool" ||
            kind == "flatten") {
            // Linear maps: the tangent goes through the same map.
            return {m.forward(in.value), in.tangent.defined() ? m.forward(in.tangent) : variable{}};
        }
        throw std::invalid_argument("no forward-mode rule for module kind '" + std::string(kind) +
                                    "'");
    }

    /// ReLU of a dual: the tangent masked by the value's sign.
    [[nodiscard]] static dual relu(const dual& in) {
        variable value = tensor::relu(in.value);
        if (!in.tangent.defined())
            return {value, {}};
        ndarray mask(in.value.shape());
        const float* x = in.value.value().data();
        for (std::size_t i = 0; i < mask.size(); ++i)
            mask[i] = x[i] > 0.0F ? 1.0F : 0.0F;
        return {value, mul(in.tangent, variable(std::move(mask)))};
    }
    [[nodiscard]] static dual add(const dual& a, const dual& b) {
        variable tangent = !a.tangent.defined()   ? b.tangent
                           : !b.tangent.defined() ? a.tangent
                                                  : tensor::add(a.tangent, b.tangent);
        return {tensor::add(a.value, b.value), tangent};
    }
    /// The child `name` of `m`; throws std::invalid_argument naming both.
    [[nodiscard]] static nn::module& child(nn::module& m, std::string_view name) {
        for (const auto& [n, c] : m.children()) {
            if (n == name)
                return *c;
        }
        throw std::invalid_argument("tangent_forward: module '" + std::string(m.kind()) +
                                    "' has no child '" + std::string(name) + "'");
    }

private:
    [[nodiscard]] const variable& direction(const variable& weight) const {
        for (const auto& [id, v] : m_direction) {
            if (id == weight.id())
                return v;
        }
        throw std::invalid_argument("tangent_forward: a layer weight without a direction");
    }

    std::vector<named_tangent_rule> m_rules;
    std::vector<std::pair<const void*, variable>> m_direction;
};

} // namespace nascent::tensor
