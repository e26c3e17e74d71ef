#pragma once
// GDAS (Dong & Yang, "Searching for a Robust Neural Architecture in Four GPU Hours", CVPR 2019)
// on a supernet, as NAS-Bench-201's reference code runs it (AutoDL-Projects, GDAS.py and
// search_model_gdas.py):
//   - per forward and per edge, Gumbel noise g = -log(E), E ~ Exp(1); probs = softmax((log_softmax
//     (alpha) + g) / tau); the op k = argmax probs runs alone; the weights are straight-through
//     (value one-hot(k), gradient that of probs), draws with an infinite value are redrawn;
//   - per step, a weight step on the weights' batch, then an alpha step on the architecture's
//     batch, each with its own sample;
//   - tau decays linearly per epoch from tau_max = 10 to tau_min = 0.1:
//     tau = tau_max - (tau_max - tau_min) * epoch / (epochs - 1) (GDAS.py's set_tau);
//   - discretisation: argmax of alpha per edge.

#include <nascent/core/rng.hpp>
#include <nascent/eval/oneshot/mixed_op.hpp>
#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/tensor/autograd.hpp>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::eval::oneshot {

/// One edge's Gumbel-softmax draw: the straight-through weights and the op that runs.
struct gumbel_draw {
    tensor::variable weights;
    std::size_t op = 0;
};

/// Draws hard straight-through weights for alpha (a [K] variable) at temperature tau.
[[nodiscard]] inline gumbel_draw gumbel_sample(const tensor::variable& alpha, double tau,
                                               rng& gen) {
    const std::size_t k_ops = alpha.size();
    std::vector<double> noise(k_ops);
    for (bool finite = false; !finite;) {
        finite = true;
        for (auto& g : noise) {
            const double e = -std::log(1.0 - uniform_real(gen)); // Exp(1), (0, inf)
            g = -std::log(e);
            finite = finite && std::isfinite(g);
        }
    }
    // logits = (log_softmax(alpha) + g) / tau, in the graph: log_softmax(alpha) = alpha - lse,
    // and softmax is shift-invariant, so softmax((alpha + g) / tau) is the same distribution.
    tensor::ndarray shift({k_ops});
    for (std::size_t k = 0; k < k_ops; ++k)
        shift[k] = static_cast<float>(noise[k]);
    const auto logits =
        tensor::scale(tensor::add(alpha, tensor::variable(shift)), static_cast<float>(1.0 / tau));
    auto probs = softmax(logits);
    std::size_t best = 0;
    for (std::size_t k = 1; k < k_ops; ++k) {
        if (probs.value()[k] > probs.value()[best])
            best = k;
    }
    tensor::ndarray hard({k_ops}, 0.0F);
    hard[best] = 1.0F;
    return {straight_through(std::move(hard), probs), best};
}

/// Gumbel paths for every edge of `net`.
template <class Space>
void set_gumbel_paths(supernet<Space>& net, double tau, rng& gen) {
    std::vector<edge_path> paths;
    for (const auto& a : net.alpha()) {
        auto d = gumbel_sample(a, tau, gen);
        paths.push_back({.mode = path_mode::gumbel, .op = d.op, .weights = d.weights});
    }
    net.set_paths(paths);
}

struct gdas {
    static constexpr bool has_alpha = true;
    double tau_max = 10.0;
    double tau_min = 0.1;
    double tau = 10.0;

    void begin_epoch(std::size_t epoch, std::size_t epochs) {
        if (!(tau_max >= tau_min && tau_min > 0)) {
            throw std::invalid_argument("gdas: need tau_max " + std::to_string(tau_max) +
                                        " >= tau_min " + std::to_string(tau_min) + " > 0");
        }
        tau = epochs <= 1 ? tau_max
                          : tau_max - (tau_max - tau_min) * static_cast<double>(epoch) /
                                          static_cast<double>(epochs - 1);
    }
    [[nodiscard]] double temperature() const noexcept { return tau; }

    template <class Space>
    step_losses step(step_context<Space>& ctx) const {
        step_losses out;
        auto& net = ctx.net;
        set_gumbel_paths(net, tau, ctx.gen);
        out.train = weight_step(ctx);
        ctx.alpha->zero_grad();
        net.zero_grad();
        set_gumbel_paths(net, tau, ctx.gen);
        const auto loss = batch_loss(net, ctx.valid_images, ctx.valid_labels);
        loss.backward();
        out.valid = loss.item();
        ctx.alpha->step();
        net.zero_grad();
        return out;
    }
};

} // namespace nascent::eval::oneshot
