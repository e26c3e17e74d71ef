#pragma once
// DARTS (Liu, Simonyan & Yang, ICLR 2019) on a supernet: the weighted mode with softmax(alpha)
// per edge; per step one alpha step on a batch of the architecture's half (Adam), then one weight
// step on a batch of the weights' half (SGD), as the paper's Algorithm 1 and code
// (quark0/darts, train_search.py: architect.step before the weight update).
//
// First order: grad_alpha L_val(w, alpha).
// Second order: the gradient of the unrolled objective L_val(w', alpha) with
//     w' = w - xi (mu b + grad_w L_train(w, alpha) + lambda w)
// (one virtual SGD step with the optimiser's momentum buffer b, momentum mu and weight decay
// lambda, xi the current weight learning rate: architect.py's _compute_unrolled_model), i.e.
//     grad_alpha L_val(w', alpha) - xi grad^2_{alpha,w} L_train(w, alpha) grad_w' L_val(w', alpha)
// with the Hessian-vector product by central differences (architect.py's
// _hessian_vector_product): eps = 0.01 / |v|, (grad_alpha L_train(w + eps v) -
// grad_alpha L_train(w - eps v)) / (2 eps), v = grad_w' L_val(w', alpha).
//
// Discretisation: argmax of alpha on each edge, `none` included (as NAS-Bench-201 does for its
// cells, which have no top-k inputs).

#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nascent::eval::oneshot {

namespace detail {

// The weights w and their momentum buffers b, as plain values, in parameters() order.
template <class Space>
[[nodiscard]] std::vector<tensor::ndarray> parameter_values(const supernet<Space>& net) {
    std::vector<tensor::ndarray> out;
    for (const auto& p : net.parameters())
        out.push_back(p.value());
    return out;
}

template <class Space>
void set_parameter_values(const supernet<Space>& net, const std::vector<tensor::ndarray>& values) {
    const auto params = net.parameters();
    for (std::size_t i = 0; i < params.size(); ++i)
        params[i].mutable_value() = values[i];
}

// grad_alpha of loss(images, labels) at the net's current weights (weighted mode, softmax).
template <class Space>
[[nodiscard]] std::vector<tensor::ndarray> alpha_gradient(supernet<Space>& net,
                                                          const tensor::ndarray& images,
                                                          const std::vector<std::int32_t>& labels) {
    net.zero_grad();
    for (const auto& a : net.alpha())
        a.zero_grad();
    net.set_weights(softmax_weights(net));
    batch_loss(net, images, labels).backward();
    std::vector<tensor::ndarray> out;
    for (const auto& a : net.alpha())
        out.push_back(a.grad());
    return out;
}

} // namespace detail

/// The settings of the virtual step w' = w - xi (mu b + g + lambda w).
struct unrolled_step {
    double xi = 0.025;                             ///< the weight learning rate
    double momentum = 0.9;                         ///< mu
    double weight_decay = 3e-4;                    ///< lambda
    std::vector<tensor::ndarray> momentum_buffers; ///< b per parameter (empty: zeros)
    double hvp_scale = 0.01;                       ///< eps = hvp_scale / |v| (DARTS: 0.01)
};

namespace detail {
// w <- w - xi (mu b + grad_w L_train(w, alpha) + lambda w), in place.
template <class Space>
void virtual_step(supernet<Space>& net, const tensor::ndarray& xt,
                  const std::vector<std::int32_t>& yt, const unrolled_step& u) {
    const auto params = net.parameters();
    net.zero_grad();
    net.set_weights(softmax_weights(net));
    batch_loss(net, xt, yt).backward();
    for (std::size_t i = 0; i < params.size(); ++i) {
        auto& w = params[i].mutable_value();
        const auto& g = params[i].grad();
        for (std::size_t k = 0; k < w.size(); ++k) {
            const double b = u.momentum_buffers.empty() || u.momentum_buffers[i].empty()
                                 ? 0.0
                                 : u.momentum_buffers[i][k];
            w[k] =
                static_cast<float>(w[k] - u.xi * (u.momentum * b + g[k] + u.weight_decay * w[k]));
        }
    }
}
} // namespace detail

/// The unrolled objective L_val(w', alpha) at the net's current alpha and weights (which it
/// leaves unchanged, running statistics included): what the second-order gradient
/// differentiates, for tests by finite differences.
template <class Space>
[[nodiscard]] double
unrolled_objective(supernet<Space>& net, const tensor::ndarray& xt,
                   const std::vector<std::int32_t>& yt, const tensor::ndarray& xv,
                   const std::vector<std::int32_t>& yv, const unrolled_step& u) {
    const auto state = net.state();
    detail::virtual_step(net, xt, yt, u);
    double value = 0.0;
    {
        const tensor::no_grad_guard guard;
        net.set_weights(softmax_weights(net));
        value = batch_loss(net, xv, yv).item();
    }
    net.zero_grad();
    for (const auto& a : net.alpha())
        a.zero_grad();
    net.load_state(state);
    return value;
}

/// The second-order alpha gradient (see the top of this header); leaves weights, statistics and
/// gradients of the net as they were, except alpha's, which receive the result. Returns the
/// unrolled validation loss.
template <class Space>
double second_order_alpha_gradient(supernet<Space>& net, const tensor::ndarray& xt,
                                   const std::vector<std::int32_t>& yt, const tensor::ndarray& xv,
                                   const std::vector<std::int32_t>& yv, const unrolled_step& u) {
    const auto state = net.state();
    const auto params = net.parameters();
    const auto w0 = detail::parameter_values(net);
    // w' = w - xi (mu b + grad_w L_train + lambda w)
    detail::virtual_step(net, xt, yt, u);
    // grad_alpha L_val(w', alpha) and v = grad_w' L_val(w', alpha)
    const auto direct = detail::alpha_gradient(net, xv, yv);
    double unrolled_loss = 0.0;
    {
        const tensor::no_grad_guard guard;
        unrolled_loss = batch_loss(net, xv, yv).item();
    }
    std::vector<tensor::ndarray> v;
    double norm2 = 0.0;
    for (const auto& p : params) {
        v.push_back(p.grad());
        for (const float g : p.grad().values())
            norm2 += static_cast<double>(g) * g;
    }
    const double eps = u.hvp_scale / std::max(std::sqrt(norm2), 1e-12);
    const auto shifted = [&](double sign) {
        auto w = w0;
        for (std::size_t i = 0; i < w.size(); ++i)
            w[i].add_scaled(v[i], static_cast<float>(sign * eps));
        detail::set_parameter_values(net, w);
        return detail::alpha_gradient(net, xt, yt);
    };
    const auto plus = shifted(1.0);
    const auto minus = shifted(-1.0);
    net.zero_grad();
    net.load_state(state);
    const auto& alpha = net.alpha();
    for (std::size_t e = 0; e < alpha.size(); ++e) {
        tensor::ndarray g = direct[e];
        for (std::size_t k = 0; k < g.size(); ++k) {
            g[k] = static_cast<float>(g[k] - u.xi * (plus[e][k] - minus[e][k]) / (2 * eps));
        }
        alpha[e].mutable_grad() = std::move(g);
    }
    return unrolled_loss;
}

/// DARTS; `second_order` selects the unrolled gradient ("darts2").
struct darts {
    static constexpr bool has_alpha = true;
    bool second_order = false;

    void begin_epoch(std::size_t, std::size_t) const noexcept {}

    template <class Space>
    step_losses step(step_context<Space>& ctx) const {
        step_losses out;
        auto& net = ctx.net;
        // alpha step on the architecture's batch
        ctx.alpha->zero_grad();
        if (second_order) {
            unrolled_step u{.xi = ctx.weights.lr(),
                            .momentum = ctx.options.w_momentum,
                            .weight_decay = ctx.options.w_weight_decay,
                            .momentum_buffers = {}};
            for (std::size_t i = 0; i < ctx.weights.parameters().size(); ++i)
                u.momentum_buffers.push_back(ctx.weights.momentum_buffer(i));
            out.valid = second_order_alpha_gradient(net, ctx.train_images, ctx.train_labels,
                                                    ctx.valid_images, ctx.valid_labels, u);
            net.zero_grad();
        } else {
            net.zero_grad();
            net.set_weights(softmax_weights(net));
            const auto loss = batch_loss(net, ctx.valid_images, ctx.valid_labels);
            loss.backward();
            out.valid = loss.item();
            net.zero_grad();
        }
        ctx.alpha->step();
        // weight step on the weights' batch with the updated alpha (held fixed)
        {
            std::vector<tensor::variable> w;
            for (const auto& a : net.alpha())
                w.push_back(softmax(a.detach()));
            net.set_weights(w);
        }
        out.train = weight_step(ctx);
        return out;
    }
};

} // namespace nascent::eval::oneshot
