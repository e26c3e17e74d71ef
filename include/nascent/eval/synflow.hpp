#pragma once
// The data-free proxies: synflow (Tanaka et al., "Pruning neural networks without any data by
// iteratively conserving synaptic flow", NeurIPS 2020, as NASLib computes it) and l2_norm.
//
// synflow overflows float32 on the full NAS-Bench-201 network (NASLib's scores reach e^115;
// float32 ends at e^88; NASLib runs it in float64). With |w|, non-negative inputs and identity
// batch norms the network is a positively homogeneous (linear) map of its input, so scaling the
// activations between the top-level layers of a `sequential` by constants (and the biases after
// them alike) scales the output and every weight gradient by their product. We normalise each
// layer's output to a maximum of 1 and add back the log of the factors: the score is exact up to
// float rounding, in any range (tested).
//
// Both leave the module as they found it (tensor/module_state.hpp).

#include <nascent/eval/proxy_scores.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/module_state.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace nascent::eval {

/// Sum over conv2d / linear layers of ||W||_F (NASLib's l2_norm).
[[nodiscard]] inline double l2_norm(tensor::nn::module& net) {
    double total = 0.0;
    for (const auto& l : detail::weighted_layers(net)) {
        double sq = 0.0;
        for (const float w : l.weight.value().values())
            sq += static_cast<double>(w) * w;
        total += std::sqrt(sq);
    }
    return total;
}

struct synflow_options {
    /// Normalise the activations between the top-level layers of a `sequential` (exact, and
    /// needed against float32 overflow); false runs the network as it is (for tests).
    bool rescale = true;
};

/// synflow of `net` for inputs of shape `sample_shape` (one sample, e.g. {3, 32, 32}): the
/// natural log of sum |theta * dR/dtheta| over conv2d / linear weights, with every parameter
/// replaced by its absolute value, batch norms as identities and R the sum of the outputs for an
/// input of ones. -inf when the sum is 0 (no path from the input to the output).
[[nodiscard]] inline double synflow(tensor::nn::module& net, const tensor::shape_t& sample_shape,
                                    const synflow_options& options = {}) {
    namespace nn = tensor::nn;
    if (sample_shape.empty() || tensor::element_count(sample_shape) == 0) {
        throw std::invalid_argument("synflow: sample shape " + tensor::to_string(sample_shape) +
                                    " is empty");
    }
    tensor::nn::module_restorer restore(net);
    for (const auto& p : restore.parameters()) {
        p.set_requires_grad(true);
        for (auto& v : p.mutable_value().values())
            v = std::abs(v);
    }
    net.visit([](nn::module& m) {
        if (auto* bn = dynamic_cast<nn::batch_norm2d*>(&m))
            tensor::nn::make_identity(*bn);
    });
    net.zero_grad();
    tensor::shape_t shape{1};
    shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
    tensor::variable y(tensor::ndarray(shape, 1.0F));
    double log_scale = 0.0; // log of the product of the factors divided out
    auto* seq = options.rescale ? dynamic_cast<nn::sequential*>(&net) : nullptr;
    if (seq != nullptr) {
        double applied = 1.0; // product of the factors applied so far
        for (std::size_t i = 0; i < seq->size(); ++i) {
            nn::module& layer = (*seq)[i];
            // Biases add to activations that are already scaled: scale them alike.
            if (applied != 1.0) {
                for (const auto& l : detail::weighted_layers(layer)) {
                    if (!l.bias.defined())
                        continue;
                    for (auto& b : l.bias.mutable_value().values()) {
                        b = static_cast<float>(b * applied);
                    }
                }
            }
            y = layer(y);
            float top = 0.0F;
            for (const float v : y.value().values())
                top = std::max(top, std::abs(v));
            if (top > 0.0F && std::isfinite(top) && i + 1 < seq->size()) {
                const float factor = 1.0F / top;
                y = tensor::scale(y, factor);
                applied *= factor;
                log_scale -= std::log(static_cast<double>(factor));
            }
        }
    } else {
        y = net(y);
    }
    tensor::sum(y).backward();
    double total = 0.0;
    for (const auto& l : detail::weighted_layers(net)) {
        const float* w = l.weight.value().data();
        const float* g = l.weight.grad().data();
        for (std::size_t i = 0; i < l.weight.size(); ++i) {
            total += std::abs(static_cast<double>(w[i]) * static_cast<double>(g[i]));
        }
    }
    if (std::isnan(total))
        return total;
    return total > 0.0 ? std::log(total) + log_scale : -std::numeric_limits<double>::infinity();
}

} // namespace nascent::eval
