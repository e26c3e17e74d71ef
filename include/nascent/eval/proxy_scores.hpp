#pragma once
// The scores of the zero-cost proxies (eval/proxies.hpp), their names, and the layers they score.

#include <nascent/core/stats.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <array>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nascent::eval {

// ---------------------------------------------------------------------------------------------
// Scores

/// The proxies of one network. NaN marks a proxy that was not computed (or, for jacob_cov, whose
/// correlation matrix is undefined: a sample with a constant input gradient).
struct proxy_scores {
    static constexpr double not_computed = std::numeric_limits<double>::quiet_NaN();
    double synflow = not_computed;
    double grad_norm = not_computed;
    double snip = not_computed;
    double grasp = not_computed;
    double fisher = not_computed;
    double jacob_cov = not_computed;
    double nwot = not_computed;
    double plain = not_computed;
    double l2_norm = not_computed;
    double params = not_computed; ///< trainable parameters (NB201: the exact cost model)
    double flops = not_computed;  ///< multiply-accumulates of one input (NB201: the cost model)
};

/// A proxy's name and where proxy_scores keeps it, in the order of reports.
struct proxy_field {
    std::string_view name;
    double proxy_scores::*value;
    bool data_dependent;
};

inline constexpr std::array<proxy_field, 11> proxy_fields{{
    {"synflow", &proxy_scores::synflow, false},
    {"grad_norm", &proxy_scores::grad_norm, true},
    {"snip", &proxy_scores::snip, true},
    {"grasp", &proxy_scores::grasp, true},
    {"fisher", &proxy_scores::fisher, true},
    {"jacob_cov", &proxy_scores::jacob_cov, true},
    {"nwot", &proxy_scores::nwot, true},
    {"plain", &proxy_scores::plain, true},
    {"l2_norm", &proxy_scores::l2_norm, false},
    {"params", &proxy_scores::params, false},
    {"flops", &proxy_scores::flops, false},
}};

/// The field of a proxy name; throws std::invalid_argument naming it and the valid names.
[[nodiscard]] inline const proxy_field& find_proxy(std::string_view name) {
    for (const auto& f : proxy_fields) {
        if (f.name == name)
            return f;
    }
    std::string valid;
    for (const auto& f : proxy_fields)
        valid += (valid.empty() ? "" : ", ") + std::string(f.name);
    throw std::invalid_argument("unknown proxy '" + std::string(name) + "' (valid: " + valid + ")");
}

// ---------------------------------------------------------------------------------------------
// Rank correlation (to compare proxies with accuracies and with published scores)

// average_ranks and spearman live in core/stats.hpp; the proxies' tools and tests name them here.
using nascent::average_ranks;
using nascent::spearman;

namespace detail {
namespace nn = tensor::nn;

/// A conv2d or linear module: the layers whose weights the proxies score.
struct weighted_layer {
    nn::module* module;
    tensor::variable weight;
    tensor::variable bias; ///< null without bias
};

[[nodiscard]] inline std::vector<weighted_layer> weighted_layers(nn::module& net) {
    std::vector<weighted_layer> out;
    net.visit([&](nn::module& m) {
        if (auto* c = dynamic_cast<nn::conv2d*>(&m)) {
            out.push_back({&m, c->weight(), c->bias()});
        } else if (auto* l = dynamic_cast<nn::linear*>(&m)) {
            out.push_back({&m, l->weight(), l->bias()});
        }
    });
    return out;
}

/// Copies of the layers' weight gradients.
[[nodiscard]] inline std::vector<tensor::ndarray>
weight_grads(const std::vector<weighted_layer>& layers) {
    std::vector<tensor::ndarray> out;
    out.reserve(layers.size());
    for (const auto& l : layers)
        out.push_back(l.weight.grad());
    return out;
}

} // namespace detail

} // namespace nascent::eval
