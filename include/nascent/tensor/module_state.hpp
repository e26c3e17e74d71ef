#pragma once
// Helpers for code that works on a module and must leave it as it found it (the zero-cost
// proxies, eval/proxies.hpp): a scope guard that restores a module's state, batch norms turned
// into exact identities, and the eps of a batch norm, which the module keeps private.

#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

namespace nascent::tensor::nn {

/// Puts a module back as it was on scope exit: parameter and buffer values, train/eval modes,
/// requires_grad flags; removes the hooks added through it and clears gradients.
class module_restorer {
public:
    explicit module_restorer(module& net)
        : m_net(net), m_state(net.state()), m_parameters(net.parameters()) {
        net.visit([this](module& m) { m_modes.push_back(m.is_training()); });
        for (const auto& p : m_parameters)
            m_requires_grad.push_back(p.requires_grad());
    }
    ~module_restorer() {
        remove_hooks();
        m_net.load_state(m_state); // same shapes: cannot throw
        std::size_t i = 0;
        // Pre-order: a parent's train() reaches its children, which are set right after.
        m_net.visit([&](module& m) { m.train(m_modes[i++]); });
        for (std::size_t k = 0; k < m_parameters.size(); ++k) {
            m_parameters[k].set_requires_grad(m_requires_grad[k]);
            m_parameters[k].zero_grad();
        }
    }
    module_restorer(const module_restorer&) = delete;
    module_restorer& operator=(const module_restorer&) = delete;

    void add_hook(module& m, module::forward_hook hook) {
        m_hooks.emplace_back(&m, m.add_forward_hook(std::move(hook)));
    }
    void remove_hooks() {
        for (auto& [m, handle] : m_hooks)
            m->remove_forward_hook(handle);
        m_hooks.clear();
    }
    [[nodiscard]] const std::vector<variable>& parameters() const noexcept { return m_parameters; }

private:
    module& m_net;
    std::vector<ndarray> m_state;
    std::vector<variable> m_parameters;
    std::vector<bool> m_modes;
    std::vector<bool> m_requires_grad;
    std::vector<std::pair<module*, std::size_t>> m_hooks;
};

/// Turns a batch norm into an exact identity (what NASLib's bn=False copy does for synflow): eval
/// mode, gamma 1, beta 0, running mean 0 and a running variance v with 1 / sqrt(v + eps) == 1 in
/// the op's arithmetic. The module's eps is private, so v is found by probing the op itself:
/// the ratio out/in at v = 1 gives eps, then the floats around 1 - eps are tried. Should the op's
/// arithmetic ever allow no exact identity, the closest one stays (a factor within 1e-7).
inline void make_identity(batch_norm2d& bn) {
    bn.train(false);
    if (bn.weight().defined())
        bn.weight().mutable_value().fill(1.0F);
    if (bn.bias().defined())
        bn.bias().mutable_value().fill(0.0F);
    const auto buffers = bn.named_buffers();
    if (buffers.size() != 2) {
        throw std::invalid_argument(
            "synflow: a batch norm without running statistics normalises by the batch in every "
            "mode and cannot be made an identity");
    }
    ndarray& mean = *buffers[0].second;
    ndarray& var = *buffers[1].second;
    mean.fill(0.0F);
    const no_grad_guard no_grad;
    const variable probe(ndarray({1, mean.size()}, 1.0F));
    const auto gain = [&](float v) {
        var.fill(v);
        return bn.forward(probe).value()[0]; // forward, not operator(): no hooks
    };
    const double ratio = gain(1.0F);
    const float start = static_cast<float>(2.0 - 1.0 / (ratio * ratio)); // 1 - eps
    float best = start;
    float best_error = std::abs(gain(start) - 1.0F);
    float up = start;
    float down = start;
    const auto consider = [&](float v) {
        const float error = std::abs(gain(v) - 1.0F);
        if (error < best_error) {
            best = v;
            best_error = error;
        }
    };
    for (int step = 0; step < 16 && best_error != 0.0F; ++step) {
        up = std::nextafter(up, 2.0F);
        down = std::nextafter(down, 0.0F);
        consider(up);
        consider(down);
    }
    var.fill(best);
}

/// The eps of a batch norm module (its options are private): probed in training mode on the
/// input {+1, -1} per channel, which has mean 0 and variance 1, so out = +-1 / sqrt(1 + eps)
/// with gamma 1 and beta 0. The module's values are put back.
[[nodiscard]] inline double batch_norm_eps(batch_norm2d& bn, std::size_t channels) {
    const no_grad_guard no_grad;
    const bool training = bn.is_training();
    std::vector<ndarray> saved = bn.state();
    if (bn.weight().defined())
        bn.weight().mutable_value().fill(1.0F);
    if (bn.bias().defined())
        bn.bias().mutable_value().fill(0.0F);
    ndarray probe({2, channels}, 1.0F);
    for (std::size_t c = 0; c < channels; ++c)
        probe[channels + c] = -1.0F;
    bn.train(true);
    const double r = bn.forward(variable(probe)).value()[0];
    bn.train(training);
    bn.load_state(saved);
    return 1.0 / (r * r) - 1.0;
}

} // namespace nascent::tensor::nn
