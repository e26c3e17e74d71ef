#pragma once
// Adam (Kingma & Ba, 2015) as torch.optim.Adam computes it (bias-corrected moments, L2 weight
// decay added to the gradient). The small predictors of model-based search train with it.

#include <nascent/tensor/autograd.hpp>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::tensor::optim {

struct adam_options {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
};

class adam {
public:
    adam(std::vector<variable> parameters, const adam_options& options)
        : m_parameters(std::move(parameters)), m_options(options), m_m(m_parameters.size()),
          m_v(m_parameters.size()) {
        if (!(options.lr > 0) || !std::isfinite(options.lr)) {
            throw std::invalid_argument("adam: lr must be positive and finite, got " +
                                        std::to_string(options.lr));
        }
        if (!(options.beta1 >= 0 && options.beta1 < 1) ||
            !(options.beta2 >= 0 && options.beta2 < 1)) {
            throw std::invalid_argument("adam: betas must lie in [0, 1)");
        }
    }

    void step() {
        ++m_t;
        const double c1 = 1.0 - std::pow(m_options.beta1, static_cast<double>(m_t));
        const double c2 = 1.0 - std::pow(m_options.beta2, static_cast<double>(m_t));
        const auto b1 = static_cast<float>(m_options.beta1);
        const auto b2 = static_cast<float>(m_options.beta2);
        const auto step = static_cast<float>(m_options.lr / c1);
        const auto root_c2 = static_cast<float>(std::sqrt(c2));
        const auto eps = static_cast<float>(m_options.eps);
        const auto wd = static_cast<float>(m_options.weight_decay);
        for (std::size_t i = 0; i < m_parameters.size(); ++i) {
            const variable& p = m_parameters[i];
            if (!p.has_grad())
                continue;
            ndarray& value = p.mutable_value();
            const ndarray& grad = p.grad();
            if (m_m[i].empty()) {
                m_m[i] = ndarray(value.shape());
                m_v[i] = ndarray(value.shape());
            }
            float* w = value.data();
            const float* dw = grad.data();
            float* m = m_m[i].data();
            float* v = m_v[i].data();
            for (std::size_t k = 0; k < value.size(); ++k) {
                const float g = dw[k] + wd * w[k];
                // Moments of parameters whose gradient stays 0 (dead ReLUs) decay geometrically
                // into denormals, which are ~100x slower to compute with: flush them to 0.
                m[k] = flush(b1 * m[k] + (1 - b1) * g);
                v[k] = flush(b2 * v[k] + (1 - b2) * g * g);
                w[k] -= step * m[k] / (std::sqrt(v[k]) / root_c2 + eps);
            }
        }
    }

    void zero_grad() const {
        for (const auto& p : m_parameters)
            p.zero_grad();
    }

private:
    static float flush(float x) noexcept { return std::abs(x) < 1e-30F ? 0.0F : x; }

    std::vector<variable> m_parameters;
    adam_options m_options;
    std::vector<ndarray> m_m;
    std::vector<ndarray> m_v;
    std::size_t m_t = 0;
};

} // namespace nascent::tensor::optim
