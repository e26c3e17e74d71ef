#pragma once
// Optimisers and learning-rate schedules: SGD with momentum / Nesterov and weight decay exactly
// as torch.optim.SGD computes them, a cosine schedule with optional linear warmup, and gradient
// norm clipping. State (momentum buffers) is per parameter, in the order the parameters were
// given.

#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor::optim {

struct sgd_options {
    double lr = 0.01;
    double momentum = 0.0;
    double dampening = 0.0;
    double weight_decay = 0.0; ///< L2 penalty added to the gradient (coupled, as torch's SGD)
    bool nesterov = false;
};

/// torch.optim.SGD: d = g + wd * p; b = mu * b + (1 - dampening) * d (b = d on the first step);
/// d = nesterov ? d + mu * b : b; p -= lr * d. Parameters without a gradient are skipped.
class sgd {
public:
    sgd(std::vector<variable> parameters, const sgd_options& options)
        : m_parameters(std::move(parameters)), m_options(options), m_buffers(m_parameters.size()) {
        const auto& o = options;
        if (!(o.lr >= 0.0) || !std::isfinite(o.lr))
            bad("lr", o.lr);
        if (!(o.momentum >= 0.0 && o.momentum < 1.0))
            bad("momentum", o.momentum);
        if (!(o.dampening >= 0.0 && o.dampening <= 1.0))
            bad("dampening", o.dampening);
        if (!(o.weight_decay >= 0.0) || !std::isfinite(o.weight_decay)) {
            bad("weight_decay", o.weight_decay);
        }
        if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0)) {
            throw std::invalid_argument("sgd: nesterov needs momentum > 0 and dampening 0, got "
                                        "momentum " +
                                        std::to_string(o.momentum) + " and dampening " +
                                        std::to_string(o.dampening));
        }
        for (std::size_t i = 0; i < m_parameters.size(); ++i) {
            if (!m_parameters[i].defined() || !m_parameters[i].is_leaf()) {
                throw std::invalid_argument("sgd: parameter " + std::to_string(i) +
                                            " is not a leaf variable");
            }
        }
    }

    void step() {
        const auto lr = static_cast<float>(m_options.lr);
        const auto mu = static_cast<float>(m_options.momentum);
        const auto damp = static_cast<float>(1.0 - m_options.dampening);
        const auto wd = static_cast<float>(m_options.weight_decay);
        for (std::size_t i = 0; i < m_parameters.size(); ++i) {
            const variable& p = m_parameters[i];
            if (!p.has_grad())
                continue;
            ndarray& value = p.mutable_value();
            const ndarray& grad = p.grad();
            ndarray& buf = m_buffers[i];
            const bool first = buf.empty();
            if (mu != 0.0F && first)
                buf = ndarray(value.shape());
            for (std::size_t k = 0; k < value.size(); ++k) {
                float d = grad[k] + wd * value[k];
                if (mu != 0.0F) {
                    buf[k] = first ? d : mu * buf[k] + damp * d;
                    d = m_options.nesterov ? d + mu * buf[k] : buf[k];
                }
                value[k] -= lr * d;
            }
        }
    }

    /// Drops every parameter's gradient.
    void zero_grad() const {
        for (const auto& p : m_parameters)
            p.zero_grad();
    }

    [[nodiscard]] double lr() const noexcept { return m_options.lr; }
    void set_lr(double lr) {
        if (!(lr >= 0.0) || !std::isfinite(lr))
            bad("lr", lr);
        m_options.lr = lr;
    }
    [[nodiscard]] const std::vector<variable>& parameters() const noexcept { return m_parameters; }
    /// Momentum buffer of parameter i (empty before its first step).
    [[nodiscard]] const ndarray& momentum_buffer(std::size_t i) const { return m_buffers.at(i); }

private:
    [[noreturn]] static void bad(const char* name, double value) {
        throw std::invalid_argument(std::string("sgd: ") + name + " " + std::to_string(value) +
                                    " is out of range");
    }

    std::vector<variable> m_parameters;
    sgd_options m_options;
    std::vector<ndarray> m_buffers;
};

struct cosine_schedule_options {
    double base_lr = 0.1;
    std::size_t total_steps = 0;  ///< warmup included; lr reaches min_lr here
    std::size_t warmup_steps = 0; ///< linear ramp base_lr * (step + 1) / warmup_steps
    double min_lr = 0.0;
};

/// lr(step) = min + (base - min) (1 + cos(pi t)) / 2 with t = (step - warmup) / (total - warmup),
/// after a linear warmup; min_lr from total_steps on.
class cosine_schedule {
public:
    explicit cosine_schedule(const cosine_schedule_options& options) : m_options(options) {
        const auto& o = options;
        if (o.total_steps == 0 || o.warmup_steps > o.total_steps) {
            throw std::invalid_argument("cosine_schedule: total_steps " +
                                        std::to_string(o.total_steps) +
                                        " must be positive and "
                                        "at least warmup_steps " +
                                        std::to_string(o.warmup_steps));
        }
        if (!(o.base_lr >= 0.0) || !(o.min_lr >= 0.0) || o.min_lr > o.base_lr ||
            !std::isfinite(o.base_lr)) {
            throw std::invalid_argument("cosine_schedule: need 0 <= min_lr " +
                                        std::to_string(o.min_lr) + " <= base_lr " +
                                        std::to_string(o.base_lr));
        }
    }

    [[nodiscard]] double lr(std::size_t step) const noexcept {
        const auto& o = m_options;
        if (step < o.warmup_steps) {
            return o.base_lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
        }
        if (step >= o.total_steps)
            return o.min_lr;
        const std::size_t span = o.total_steps - o.warmup_steps;
        const double t = static_cast<double>(step - o.warmup_steps) / static_cast<double>(span);
        return o.min_lr + (o.base_lr - o.min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
    }

    [[nodiscard]] const cosine_schedule_options& options() const noexcept { return m_options; }

private:
    cosine_schedule_options m_options;
};

/// The L2 norm of all gradients together (parameters without a gradient count as zero).
[[nodiscard]] inline double grad_norm(std::span<const variable> parameters) {
    double total = 0.0;
    for (const auto& p : parameters) {
        if (!p.has_grad())
            continue;
        for (const float g : p.grad().values())
            total += static_cast<double>(g) * g;
    }
    return std::sqrt(total);
}

/// torch.nn.utils.clip_grad_norm_: scales all gradients by max_norm / (norm + 1e-6) when their
/// joint norm exceeds max_norm. Returns the norm before clipping.
inline double clip_grad_norm(std::span<const variable> parameters, double max_norm) {
    if (!(max_norm > 0.0)) {
        throw std::invalid_argument("clip_grad_norm: max_norm " + std::to_string(max_norm) +
                                    " must be positive");
    }
    const double norm = grad_norm(parameters);
    if (norm > max_norm) {
        const auto f = static_cast<float>(max_norm / (norm + 1e-6));
        for (const auto& p : parameters) {
            if (!p.has_grad())
                continue;
            for (auto& g : p.mutable_grad().values())
                g *= f;
        }
    }
    return norm;
}

} // namespace nascent::tensor::optim
