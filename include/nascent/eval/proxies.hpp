#pragma once
// Zero-cost proxies: scores of an untrained network that rank architectures without training
// them (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021; Mellor et al.,
// "Neural Architecture Search without Training", ICML 2021). They are computed with the built-in
// autograd layer (tensor/), following the definitions of NASLib / zero-cost-nas so that scores
// can be compared with the published ones (docs/proxies.md):
//
//   synflow    data-free: weights replaced by |w|, batch norms as identities, input of ones
//              (batch 1), R = sum of the outputs; log of sum |theta * dR/dtheta| (NASLib
//              reports the log; 0 in NASLib, -inf here, when the sum is 0)
//   grad_norm  sum over layers of ||dL/dW||_F             (L: cross-entropy of one mini-batch)
//   snip       sum |W * dL/dW|
//   grasp      sum -W * (H g), g = dL/dW, H the Hessian over the layer weights
//   fisher     sum over layers and output channels k of fan_in(layer) * mean_n(s_nk^2) / 2,
//              s_nk = sum over positions of a * dL/da, a the conv / linear output (NASLib
//              broadcasts each channel's value over the channel's weights before summing)
//   jacob_cov  -sum_i [log(v_i + k) + 1 / (v_i + k)], v the eigenvalues of the correlation
//              matrix of the rows of d(sum of logits)/d(input), k = 1e-5
//   nwot       log |det K|, K_ij = number of ReLU units on which samples i and j agree
//              (NASWOT's Hamming kernel over the inputs of every ReLU)
//   plain      sum W * dL/dW;   l2_norm  sum over layers of ||W||_F
// "Layers" are the conv2d and linear modules (their weights, not biases or batch norms). Batch
// norms use batch statistics for the data-dependent proxies (NASLib's net.train()).
//
// Two places where the layer forces another route to the same number, both tested:
// * synflow overflows float32 on the full NAS-Bench-201 network (NASLib's scores reach e^115;
//   float32 ends at e^88; NASLib runs it in float64). With |w|, non-negative inputs and identity
//   batch norms the network is a positively homogeneous (linear) map of its input, so scaling the
//   activations between the top-level layers of a `sequential` by constants (and the biases
//   after them alike) scales the output and every weight gradient by their product. We normalise
//   each layer's output to a maximum of 1 and add back the log of the factors: the score is exact
//   up to float rounding, in any range.
// * the layer has no double backward, so GraSP's Hessian-vector product H g comes from a
//   forward-mode pass on top of the reverse mode (detail::tangent_forward): exact, what PyTorch's
//   double backward computes. A central finite difference of gradients is available for modules
//   that pass does not know (hvp_method::finite_difference), but ReLU kinks crossed by the
//   perturbation make it noisy at every step size (docs/proxies.md).
//
// Every function here takes a module and leaves it as it found it: parameter values, batch-norm
// statistics, train/eval modes and requires_grad flags are restored, forward hooks removed and
// gradients cleared, also when an exception propagates.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/eval/nb201_network.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/nb201_cost.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/fashion_mnist.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
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
        if (f.name == name) return f;
    }
    std::string valid;
    for (const auto& f : proxy_fields) valid += (valid.empty() ? "" : ", ") + std::string(f.name);
    throw std::invalid_argument("unknown proxy '" + std::string(name) + "' (valid: " + valid + ")");
}

// ---------------------------------------------------------------------------------------------
// Rank correlation (to compare proxies with accuracies and with published scores)

// average_ranks and spearman live in core/stats.hpp; the proxies' tools and tests name them here.
using nascent::average_ranks;
using nascent::spearman;

namespace detail {
namespace nn = tensor::nn;

/// Puts a module back as it was on scope exit: parameter and buffer values, train/eval modes,
/// requires_grad flags; removes the hooks added through it and clears gradients.
class module_restorer {
public:
    explicit module_restorer(nn::module& net)
        : m_net(net), m_state(net.state()), m_parameters(net.parameters()) {
        net.visit([this](nn::module& m) { m_modes.push_back(m.is_training()); });
        for (const auto& p : m_parameters) m_requires_grad.push_back(p.requires_grad());
    }
    ~module_restorer() {
        remove_hooks();
        m_net.load_state(m_state); // same shapes: cannot throw
        std::size_t i = 0;
        // Pre-order: a parent's train() reaches its children, which are set right after.
        m_net.visit([&](nn::module& m) { m.train(m_modes[i++]); });
        for (std::size_t k = 0; k < m_parameters.size(); ++k) {
            m_parameters[k].set_requires_grad(m_requires_grad[k]);
            m_parameters[k].zero_grad();
        }
    }
    module_restorer(const module_restorer&) = delete;
    module_restorer& operator=(const module_restorer&) = delete;

    void add_hook(nn::module& m, nn::module::forward_hook hook) {
        m_hooks.emplace_back(&m, m.add_forward_hook(std::move(hook)));
    }
    void remove_hooks() {
        for (auto& [m, handle] : m_hooks) m->remove_forward_hook(handle);
        m_hooks.clear();
    }
    [[nodiscard]] const std::vector<tensor::variable>& parameters() const noexcept {
        return m_parameters;
    }

private:
    nn::module& m_net;
    std::vector<tensor::ndarray> m_state;
    std::vector<tensor::variable> m_parameters;
    std::vector<bool> m_modes;
    std::vector<bool> m_requires_grad;
    std::vector<std::pair<nn::module*, std::size_t>> m_hooks;
};

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

/// Turns a batch norm into an exact identity (what NASLib's bn=False copy does for synflow): eval
/// mode, gamma 1, beta 0, running mean 0 and a running variance v with 1 / sqrt(v + eps) == 1 in
/// the op's arithmetic. The module's eps is private, so v is found by probing the op itself:
/// the ratio out/in at v = 1 gives eps, then the floats around 1 - eps are tried. Should the op's
/// arithmetic ever allow no exact identity, the closest one stays (a factor within 1e-7).
inline void make_identity(nn::batch_norm2d& bn) {
    bn.train(false);
    if (bn.weight().defined()) bn.weight().mutable_value().fill(1.0F);
    if (bn.bias().defined()) bn.bias().mutable_value().fill(0.0F);
    const auto buffers = bn.named_buffers();
    if (buffers.size() != 2) {
        throw std::invalid_argument(
            "synflow: a batch norm without running statistics normalises by the batch in every "
            "mode and cannot be made an identity");
    }
    tensor::ndarray& mean = *buffers[0].second;
    tensor::ndarray& var = *buffers[1].second;
    mean.fill(0.0F);
    const tensor::no_grad_guard no_grad;
    const tensor::variable probe(tensor::ndarray({1, mean.size()}, 1.0F));
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

/// NASWOT's kernel: K_ij = number of units whose binary codes (x > 0) agree in samples i and j,
/// accumulated over the inputs of every ReLU. Counts are integers: exact and order-free.
class hamming_kernel {
public:
    explicit hamming_kernel(std::size_t samples) : m_n(samples), m_agree(samples * samples, 0) {}

    void add(const tensor::ndarray& x) {
        if (x.rank() == 0 || x.dim(0) != m_n) {
            throw std::invalid_argument("nwot: a ReLU input of shape " + tensor::to_string(x.shape()) +
                                        " for a batch of " + std::to_string(m_n));
        }
        const std::size_t units = x.size() / m_n;
        const std::size_t words = (units + 63) / 64;
        m_bits.assign(m_n * words, 0);
        for (std::size_t s = 0; s < m_n; ++s) {
            const float* v = x.data() + s * units;
            std::uint64_t* b = m_bits.data() + s * words;
            for (std::size_t u = 0; u < units; ++u) {
                b[u / 64] |= static_cast<std::uint64_t>(v[u] > 0.0F) << (u % 64);
            }
        }
        for (std::size_t i = 0; i < m_n; ++i) {
            for (std::size_t j = i; j < m_n; ++j) {
                const std::uint64_t* a = m_bits.data() + i * words;
                const std::uint64_t* b = m_bits.data() + j * words;
                std::uint64_t differ = 0;
                for (std::size_t w = 0; w < words; ++w) differ += std::popcount(a[w] ^ b[w]);
                m_agree[i * m_n + j] += units - differ;
                if (j != i) m_agree[j * m_n + i] += units - differ;
            }
        }
    }

    [[nodiscard]] const std::vector<std::uint64_t>& counts() const noexcept { return m_agree; }

    /// log |det K| by LU with partial pivoting (numpy's slogdet); -inf when K is singular.
    [[nodiscard]] double log_abs_det() const {
        Eigen::MatrixXd k(static_cast<Eigen::Index>(m_n), static_cast<Eigen::Index>(m_n));
        for (std::size_t i = 0; i < m_n; ++i) {
            for (std::size_t j = 0; j < m_n; ++j) {
                k(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
                    static_cast<double>(m_agree[i * m_n + j]);
            }
        }
        const Eigen::PartialPivLU<Eigen::MatrixXd> lu(k);
        double total = 0.0;
        for (Eigen::Index i = 0; i < k.rows(); ++i) {
            const double d = std::abs(lu.matrixLU()(i, i));
            if (d == 0.0) return -std::numeric_limits<double>::infinity();
            total += std::log(d);
        }
        return total;
    }

private:
    std::size_t m_n;
    std::vector<std::uint64_t> m_agree;
    std::vector<std::uint64_t> m_bits;
};

/// Copies of the layers' weight gradients.
[[nodiscard]] inline std::vector<tensor::ndarray>
weight_grads(const std::vector<weighted_layer>& layers) {
    std::vector<tensor::ndarray> out;
    out.reserve(layers.size());
    for (const auto& l : layers) out.push_back(l.weight.grad());
    return out;
}

// ---------------------------------------------------------------------------------------------
// GraSP's Hessian-vector product by forward-over-reverse differentiation. The layer has no
// double backward, but H g = grad_W (g . grad_W L) = grad_W (dL/dt of L(W + t g) at t = 0): a
// forward pass that carries, next to every activation, its tangent along g (recorded with the
// ordinary ops, so that it is a differentiable function of W) ends in the scalar dL/dt, whose
// ordinary backward pass gives H g. ReLU tangents use the mask of the forward value, which is
// constant (ReLU's second derivative is 0): PyTorch's double backward does the same, so this is
// the H g of NASLib's code, exactly, rather than a finite difference that ReLU kinks make noisy.

/// A value and its tangent (a null tangent is zero).
struct dual {
    tensor::variable value;
    tensor::variable tangent;
};

/// Tangent of batch normalisation's x_hat = (x - mean) / sqrt(var + eps) (batch statistics per
/// channel) along xdot: (xdot - mean(xdot) - x_hat * m) / sigma, m = mean((xdot - mean(xdot)) *
/// x_hat). Backward: to xdot, the usual batch-norm input gradient; to x, derived by hand
/// (tests/unit/proxies.cpp checks it against finite differences).
[[nodiscard]] inline tensor::variable batch_norm_tangent(const tensor::variable& x,
                                                         const tensor::variable& xdot, double eps) {
    using tensor::ndarray;
    const auto& xs = x.shape();
    if ((xs.size() != 2 && xs.size() != 4) || xdot.shape() != xs) {
        throw std::invalid_argument("batch_norm_tangent: shapes " + tensor::to_string(xs) +
                                    " and " + tensor::to_string(xdot.shape()));
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
            for (std::size_t p = 0; p < plane; ++p) f(off + p);
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
    return tensor::make_result(
        std::move(out), {x, xdot},
        [channels, count, mu = std::move(mu), sigma = std::move(sigma),
         vbar = std::move(vbar), mdot = std::move(mdot), for_channel](tensor::backward_context& ctx) {
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
[[nodiscard]] inline tensor::variable cross_entropy_tangent(const tensor::variable& logits,
                                                            const tensor::variable& zdot,
                                                            std::span<const std::int32_t> labels) {
    using tensor::ndarray;
    const auto& s = logits.shape();
    if (s.size() != 2 || zdot.shape() != s || labels.size() != s[0]) {
        throw std::invalid_argument("cross_entropy_tangent: logits " + tensor::to_string(s) +
                                    ", tangent " + tensor::to_string(zdot.shape()) + ", " +
                                    std::to_string(labels.size()) + " labels");
    }
    const std::size_t n = s[0];
    const std::size_t classes = s[1];
    std::vector<double> p(n * classes);
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const float* z = logits.value().data() + i * classes;
        const double top = *std::max_element(z, z + classes);
        double norm = 0.0;
        for (std::size_t c = 0; c < classes; ++c) norm += std::exp(z[c] - top);
        for (std::size_t c = 0; c < classes; ++c) {
            p[i * classes + c] = std::exp(z[c] - top) / norm;
            const double target = static_cast<std::size_t>(labels[i]) == c ? 1.0 : 0.0;
            total += (p[i * classes + c] - target) * zdot.value()[i * classes + c];
        }
    }
    std::vector<std::int32_t> kept(labels.begin(), labels.end());
    return tensor::make_result(
        ndarray::scalar(static_cast<float>(total / static_cast<double>(n))), {logits, zdot},
        [p = std::move(p), kept = std::move(kept), n, classes](tensor::backward_context& ctx) {
            const double f = ctx.grad()[0] / static_cast<double>(n);
            const ndarray& zd = ctx.input(1);
            ndarray dz({n, classes});
            ndarray dzd({n, classes});
            for (std::size_t i = 0; i < n; ++i) {
                double dot = 0.0;
                for (std::size_t c = 0; c < classes; ++c) dot += p[i * classes + c] * zd[i * classes + c];
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

/// The eps of a batch norm module (its options are private): probed in training mode on the
/// input {+1, -1} per channel, which has mean 0 and variance 1, so out = +-1 / sqrt(1 + eps)
/// with gamma 1 and beta 0. The module's values are put back.
[[nodiscard]] inline double batch_norm_eps(tensor::nn::batch_norm2d& bn, std::size_t channels) {
    const tensor::no_grad_guard no_grad;
    const bool training = bn.is_training();
    std::vector<tensor::ndarray> saved = bn.state();
    if (bn.weight().defined()) bn.weight().mutable_value().fill(1.0F);
    if (bn.bias().defined()) bn.bias().mutable_value().fill(0.0F);
    tensor::ndarray probe({2, channels}, 1.0F);
    for (std::size_t c = 0; c < channels; ++c) probe[channels + c] = -1.0F;
    bn.train(true);
    const double r = bn.forward(tensor::variable(probe)).value()[0];
    bn.train(training);
    bn.load_state(saved);
    return 1.0 / (r * r) - 1.0;
}

/// Forward pass of `m` on a dual input. Knows the modules of NAS-Bench-201 networks and plain
/// layers; throws std::invalid_argument naming any other kind. `direction` maps a weight's id to
/// its tangent (g).
class tangent_forward {
public:
    tangent_forward(const std::vector<weighted_layer>& layers, const std::vector<tensor::ndarray>& g) {
        for (std::size_t l = 0; l < layers.size(); ++l) {
            m_direction.emplace_back(layers[l].weight.id(), tensor::variable(g[l]));
        }
    }

    [[nodiscard]] dual operator()(nn::module& m, const dual& in) {
        namespace t = tensor;
        const std::string_view kind = m.kind();
        if (kind == "sequential") {
            dual d = in;
            for (const auto& [name, child] : m.children()) d = (*this)(*child, d);
            return d;
        }
        if (auto* conv = dynamic_cast<nn::conv2d*>(&m)) {
            const auto& o = conv->options();
            const t::conv2d_options co{.stride = o.stride, .padding = o.padding,
                                       .dilation = o.dilation, .groups = o.groups};
            t::variable value = t::conv2d(in.value, conv->weight(), conv->bias(), co);
            t::variable tangent = t::conv2d(in.value, direction(conv->weight()), {}, co);
            if (in.tangent.defined()) {
                tangent = t::add(tangent, t::conv2d(in.tangent, conv->weight(), {}, co));
            }
            return {value, tangent};
        }
        if (auto* lin = dynamic_cast<nn::linear*>(&m)) {
            t::variable value = t::linear(in.value, lin->weight(), lin->bias());
            t::variable tangent = t::linear(in.value, direction(lin->weight()), {});
            if (in.tangent.defined()) {
                tangent = t::add(tangent, t::linear(in.tangent, lin->weight(), {}));
            }
            return {value, tangent};
        }
        if (auto* bn = dynamic_cast<nn::batch_norm2d*>(&m)) {
            if (!bn->is_training()) {
                throw std::invalid_argument("grasp: batch norm in eval mode (proxies use batch "
                                            "statistics)");
            }
            const double eps = batch_norm_eps(*bn, in.value.dim(1));
            t::variable value = bn->forward(in.value);
            if (!in.tangent.defined()) return {value, {}};
            t::variable tangent = batch_norm_tangent(in.value, in.tangent, eps);
            if (bn->weight().defined()) {
                t::shape_t gs{bn->weight().size()};
                if (in.value.shape().size() == 4) gs = {bn->weight().size(), 1, 1};
                tangent = t::mul(tangent, t::reshape(bn->weight(), gs));
            }
            return {value, tangent};
        }
        if (kind == "relu") return relu(in);
        if (kind == "avg_pool2d" || kind == "identity" || kind == "global_avg_pool" ||
            kind == "flatten") {
            // Linear maps: the tangent goes through the same map.
            return {m.forward(in.value), in.tangent.defined() ? m.forward(in.tangent) : t::variable{}};
        }
        if (kind == "relu_conv_bn") {
            dual d = relu(in);
            for (const auto& [name, child] : m.children()) d = (*this)(*child, d);
            return d;
        }
        if (kind == "nb201_cell") return cell(m, in);
        if (kind == "reduction_block") {
            nn::module& a = child(m, "conv_a");
            nn::module& b = child(m, "conv_b");
            nn::module& shortcut = child(m, "downsample");
            const t::avg_pool2d_options pool{.kernel = 2, .stride = 2, .padding = 0};
            const dual main = (*this)(b, (*this)(a, in));
            const dual pooled{t::avg_pool2d(in.value, pool),
                              in.tangent.defined() ? t::avg_pool2d(in.tangent, pool) : t::variable{}};
            return add((*this)(shortcut, pooled), main);
        }
        throw std::invalid_argument("grasp: no forward-mode rule for module kind '" +
                                    std::string(kind) + "' (use hvp_method::finite_difference)");
    }

private:
    [[nodiscard]] const tensor::variable& direction(const tensor::variable& weight) const {
        for (const auto& [id, v] : m_direction) {
            if (id == weight.id()) return v;
        }
        throw std::invalid_argument("grasp: a layer weight without a direction");
    }
    static dual relu(const dual& in) {
        tensor::variable value = tensor::relu(in.value);
        if (!in.tangent.defined()) return {value, {}};
        tensor::ndarray mask(in.value.shape());
        const float* x = in.value.value().data();
        for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = x[i] > 0.0F ? 1.0F : 0.0F;
        return {value, tensor::mul(in.tangent, tensor::variable(std::move(mask)))};
    }
    static dual add(const dual& a, const dual& b) {
        tensor::variable tangent = !a.tangent.defined()   ? b.tangent
                                   : !b.tangent.defined() ? a.tangent
                                                          : tensor::add(a.tangent, b.tangent);
        return {tensor::add(a.value, b.value), tangent};
    }
    static nn::module& child(nn::module& m, std::string_view name) {
        for (const auto& [n, c] : m.children()) {
            if (n == name) return *c;
        }
        throw std::invalid_argument("grasp: module '" + std::string(m.kind()) + "' has no child '" +
                                    std::string(name) + "'");
    }
    // nb201_cell_module: node j sums op_ij(node i); an edge's module is the child "edge<e>"
    // (none edges have none); an output node without inputs is zero.
    dual cell(nn::module& m, const dual& in) {
        std::array<std::optional<dual>, nb201::num_nodes> nodes;
        nodes[0] = in;
        std::array<nn::module*, nb201::num_edges> ops{};
        for (const auto& [name, c] : m.children()) {
            std::size_t e = nb201::num_edges;
            if (name.size() == 5 && name.starts_with("edge")) e = static_cast<std::size_t>(name[4] - '0');
            if (e >= nb201::num_edges) {
                throw std::invalid_argument("grasp: unexpected cell child '" + name + "'");
            }
            ops[e] = c.get();
        }
        for (std::size_t e = 0; e < nb201::num_edges; ++e) {
            const auto [from, to] = nb201::edge_nodes[e];
            if (ops[e] == nullptr || !nodes[from]) continue;
            dual y = (*this)(*ops[e], *nodes[from]);
            nodes[to] = nodes[to] ? add(*nodes[to], y) : y;
        }
        if (nodes[nb201::num_nodes - 1]) return *nodes[nb201::num_nodes - 1];
        return {tensor::scale(in.value, 0.0F), {}};
    }

    std::vector<std::pair<const void*, tensor::variable>> m_direction;
};

} // namespace detail

/// jacob_cov from a Jacobian [N, ...] (one row per sample): the correlation matrix of the rows
/// (numpy's corrcoef), its eigenvalues v, and -sum(log(v + k) + 1 / (v + k)), k = 1e-5. NaN when
/// a row is constant (its correlation is undefined, as in numpy).
[[nodiscard]] inline double jacob_cov_score(const tensor::ndarray& jacobian) {
    if (jacobian.rank() == 0 || jacobian.dim(0) == 0) {
        throw std::invalid_argument("jacob_cov: needs a Jacobian [N, ...], got shape " +
                                    tensor::to_string(jacobian.shape()));
    }
    const auto n = static_cast<Eigen::Index>(jacobian.dim(0));
    const auto d = static_cast<Eigen::Index>(jacobian.size() / jacobian.dim(0));
    Eigen::MatrixXd z(n, d);
    for (Eigen::Index i = 0; i < n; ++i) {
        for (Eigen::Index j = 0; j < d; ++j) z(i, j) = jacobian[static_cast<std::size_t>(i * d + j)];
    }
    z.colwise() -= z.rowwise().mean();
    const Eigen::VectorXd norms = z.rowwise().norm();
    if ((norms.array() == 0.0).any()) return std::numeric_limits<double>::quiet_NaN();
    z = norms.asDiagonal().inverse() * z;
    const Eigen::MatrixXd corr = (z * z.transpose()).cwiseMax(-1.0).cwiseMin(1.0);
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(corr, Eigen::EigenvaluesOnly);
    constexpr double k = 1e-5;
    double score = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const double v = eig.eigenvalues()(i) + k;
        score -= std::log(v) + 1.0 / v; // NaN for v <= 0, as numpy's log gives
    }
    return score;
}

/// Sum over conv2d / linear layers of ||W||_F (NASLib's l2_norm).
[[nodiscard]] inline double l2_norm(tensor::nn::module& net) {
    double total = 0.0;
    for (const auto& l : detail::weighted_layers(net)) {
        double sq = 0.0;
        for (const float w : l.weight.value().values()) sq += static_cast<double>(w) * w;
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
    detail::module_restorer restore(net);
    for (const auto& p : restore.parameters()) {
        p.set_requires_grad(true);
        for (auto& v : p.mutable_value().values()) v = std::abs(v);
    }
    net.visit([](nn::module& m) {
        if (auto* bn = dynamic_cast<nn::batch_norm2d*>(&m)) detail::make_identity(*bn);
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
                    if (!l.bias.defined()) continue;
                    for (auto& b : l.bias.mutable_value().values()) {
                        b = static_cast<float>(b * applied);
                    }
                }
            }
            y = layer(y);
            float top = 0.0F;
            for (const float v : y.value().values()) top = std::max(top, std::abs(v));
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
    if (std::isnan(total)) return total;
    return total > 0.0 ? std::log(total) + log_scale : -std::numeric_limits<double>::infinity();
}

/// How GraSP's Hessian-vector product is computed.
enum class hvp_method {
    forward_over_reverse, ///< exact (PyTorch's double backward): NAS-Bench-201 modules, plain layers
    finite_difference,    ///< any module, but ReLU kinks make it noisy (docs/proxies.md)
};

struct data_proxy_options {
    bool grasp = true; ///< costs about two more forward / backward passes
    hvp_method grasp_hvp = hvp_method::forward_over_reverse;
    double grasp_step = 1e-3; ///< finite_difference: e * ||g|| = grasp_step * ||W||
    /// Modules whose input is a ReLU's input (NASWOT codes): ReLU modules, and NAS-Bench-201's
    /// ReLU-conv-BN, which applies tensor::relu first.
    std::vector<std::string> relu_kinds{"relu", "relu_conv_bn"};
};

namespace detail {

/// -sum W * (H g) with H g from the forward-over-reverse pass (see tangent_forward).
[[nodiscard]] inline double grasp_exact(nn::module& net, const std::vector<weighted_layer>& layers,
                                        const std::vector<tensor::ndarray>& grads,
                                        const tensor::ndarray& images,
                                        std::span<const std::int32_t> labels) {
    net.zero_grad();
    tangent_forward forward(layers, grads);
    const dual out = forward(net, {tensor::variable(images), {}});
    if (!out.tangent.defined()) return 0.0; // no weight reaches the output
    cross_entropy_tangent(out.value, out.tangent, labels).backward();
    double total = 0.0;
    for (const auto& l : layers) {
        const float* w = l.weight.value().data();
        const float* hg = l.weight.grad().data();
        for (std::size_t i = 0; i < l.weight.size(); ++i) total -= static_cast<double>(w[i]) * hg[i];
    }
    return total;
}

/// -sum W * (H g) with H g ~ (grad L(W + e g) - grad L(W - e g)) / (2 e).
[[nodiscard]] inline double grasp_finite_difference(nn::module& net,
                                                    const std::vector<weighted_layer>& layers,
                                                    const std::vector<tensor::ndarray>& grads,
                                                    const tensor::ndarray& images,
                                                    std::span<const std::int32_t> labels,
                                                    double relative_step) {
    double w_sq = 0.0;
    double g_sq = 0.0;
    std::vector<tensor::ndarray> original;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        original.push_back(layers[l].weight.value());
        for (const float v : original.back().values()) w_sq += static_cast<double>(v) * v;
        for (const float v : grads[l].values()) g_sq += static_cast<double>(v) * v;
    }
    if (g_sq == 0.0) return 0.0; // H 0 = 0
    const double step = relative_step * std::sqrt(w_sq / g_sq);
    const tensor::variable input(images);
    const auto gradient_at = [&](double sign) {
        for (std::size_t l = 0; l < layers.size(); ++l) {
            tensor::ndarray& w = layers[l].weight.mutable_value();
            for (std::size_t i = 0; i < w.size(); ++i) {
                w[i] = static_cast<float>(original[l][i] + sign * step * grads[l][i]);
            }
            layers[l].weight.zero_grad();
        }
        tensor::softmax_cross_entropy(net(input), labels).backward();
        return weight_grads(layers);
    };
    const auto plus = gradient_at(1.0);
    const auto minus = gradient_at(-1.0);
    double total = 0.0;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        layers[l].weight.mutable_value() = original[l];
        for (std::size_t i = 0; i < original[l].size(); ++i) {
            const double hg = (static_cast<double>(plus[l][i]) - minus[l][i]) / (2.0 * step);
            total -= static_cast<double>(original[l][i]) * hg;
        }
    }
    return total;
}

} // namespace detail

/// The data-dependent proxies (grad_norm, snip, grasp, fisher, jacob_cov, nwot, plain) of `net`
/// on one mini-batch: `images` [N, ...] and their labels; the network must output logits [N, C].
/// One forward pass serves all but grasp: the loss's backward pass gives the weight gradients and
/// the activation gradients (fisher), a second backward pass from the logits (seed 1) the input
/// gradient (jacob_cov), and forward hooks collect the ReLU codes (nwot). Other fields stay NaN.
[[nodiscard]] inline proxy_scores data_proxies(tensor::nn::module& net, const tensor::ndarray& images,
                                               std::span<const std::int32_t> labels,
                                               const data_proxy_options& options = {}) {
    namespace nn = tensor::nn;
    using tensor::ndarray;
    using tensor::variable;
    if (images.rank() < 2 || images.dim(0) != labels.size() || labels.empty()) {
        throw std::invalid_argument("data proxies: " + std::to_string(labels.size()) +
                                    " labels for images of shape " +
                                    tensor::to_string(images.shape()));
    }
    if (!(options.grasp_step > 0.0) || !std::isfinite(options.grasp_step)) {
        throw std::invalid_argument("data proxies: grasp_step " +
                                    std::to_string(options.grasp_step) + " must be positive");
    }
    const std::size_t n = labels.size();
    detail::module_restorer restore(net);
    for (const auto& p : restore.parameters()) p.set_requires_grad(true);
    net.train();
    net.zero_grad();
    const auto layers = detail::weighted_layers(net);

    // Forward hooks: conv / linear outputs (fisher needs their gradients), ReLU inputs (nwot).
    std::vector<std::pair<std::size_t, variable>> activations; // (layer, output)
    detail::hamming_kernel kernel(n);
    for (std::size_t l = 0; l < layers.size(); ++l) {
        restore.add_hook(*layers[l].module, [&activations, l](nn::module&, const variable&,
                                                              const variable& y) {
            y.retain_grad();
            activations.emplace_back(l, y);
        });
    }
    net.visit([&](nn::module& m) {
        const auto kind = m.kind();
        if (std::find(options.relu_kinds.begin(), options.relu_kinds.end(), kind) !=
            options.relu_kinds.end()) {
            restore.add_hook(m, [&kernel](nn::module&, const variable& x, const variable&) {
                kernel.add(x.value());
            });
        }
    });
    variable x(images, true);
    const variable logits = net(x);
    restore.remove_hooks();
    if (logits.shape().size() != 2 || logits.dim(0) != n) {
        throw std::invalid_argument("data proxies: the network's output has shape " +
                                    tensor::to_string(logits.shape()) + ", not [" +
                                    std::to_string(n) + ", classes]");
    }
    tensor::softmax_cross_entropy(logits, labels).backward();

    proxy_scores s;
    s.grad_norm = 0.0;
    s.snip = 0.0;
    s.plain = 0.0;
    const auto grads = detail::weight_grads(layers);
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const float* w = layers[l].weight.value().data();
        const float* g = grads[l].data();
        double sq = 0.0;
        for (std::size_t i = 0; i < grads[l].size(); ++i) {
            const double wg = static_cast<double>(w[i]) * static_cast<double>(g[i]);
            sq += static_cast<double>(g[i]) * g[i];
            s.snip += std::abs(wg);
            s.plain += wg;
        }
        s.grad_norm += std::sqrt(sq);
    }

    s.fisher = 0.0;
    for (const auto& [l, y] : activations) {
        const ndarray& a = y.value();
        const ndarray& g = y.grad();
        const std::size_t channels = a.rank() >= 2 ? a.dim(1) : 1;
        const std::size_t plane = a.size() / (n * channels);
        double layer_sum = 0.0;
        for (std::size_t k = 0; k < channels; ++k) {
            double mean_sq = 0.0;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t off = (i * channels + k) * plane;
                double dot = 0.0;
                for (std::size_t p = 0; p < plane; ++p) {
                    dot += static_cast<double>(a[off + p]) * static_cast<double>(g[off + p]);
                }
                mean_sq += dot * dot;
            }
            layer_sum += 0.5 * mean_sq / static_cast<double>(n);
        }
        const auto& w = layers[l].weight;
        s.fisher += layer_sum * static_cast<double>(w.size() / w.dim(0)); // per-channel broadcast
    }

    // jacob_cov: the same graph, seeded with ones at the logits; weight gradients are not needed.
    for (const auto& p : restore.parameters()) p.set_requires_grad(false);
    x.zero_grad();
    logits.zero_grad(); // a linear layer's output: fisher's hook retained its gradient
    logits.backward(ndarray(logits.shape(), 1.0F));
    s.jacob_cov = jacob_cov_score(x.grad());
    s.nwot = kernel.log_abs_det();

    if (options.grasp) {
        for (const auto& l : layers) l.weight.set_requires_grad(true);
        s.grasp = options.grasp_hvp == hvp_method::forward_over_reverse
                      ? detail::grasp_exact(net, layers, grads, images, labels)
                      : detail::grasp_finite_difference(net, layers, grads, images, labels,
                                                        options.grasp_step);
    }
    return s;
}

// ---------------------------------------------------------------------------------------------
// NAS-Bench-201

/// A labelled mini-batch [B, C, H, W] for the data-dependent proxies.
struct proxy_batch {
    tensor::ndarray images;
    std::vector<std::int32_t> labels;
};

/// `size` distinct Fashion-MNIST training images drawn with `seed` (the same batch for every
/// architecture), padded to 32 x 32 and replicated to 3 channels as NAS-Bench-201 networks take
/// them, normalised with the training set's mean and std. Loads the whole training split once.
[[nodiscard]] inline proxy_batch fashion_mnist_batch(
    std::size_t size, std::uint64_t seed,
    const std::filesystem::path& dir = tensor::fashion_mnist_default_dir) {
    if (size == 0) throw std::invalid_argument("fashion_mnist_batch: size 0");
    const auto data = tensor::fashion_mnist::load(
        {.dir = dir, .format = {.pad_to_32 = true, .three_channels = true}});
    const auto& train = data.train;
    if (size > train.size()) {
        throw std::invalid_argument("fashion_mnist_batch: size " + std::to_string(size) +
                                    " exceeds the " + std::to_string(train.size()) +
                                    " training images");
    }
    // A partial Fisher-Yates shuffle: the first `size` positions are a uniform sample.
    std::vector<std::size_t> order(train.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng gen(seed);
    for (std::size_t i = 0; i < size; ++i) {
        std::swap(order[i], order[i + uniform_index(gen, order.size() - i)]);
    }
    order.resize(size);
    return {train.images(order), train.labels(order)};
}

struct proxy_options {
    /// Weights of cell c are drawn from rng(derive_seed(seed, nb201::space::id(c))): a cell's
    /// scores do not depend on which other cells are scored, in which order or on which thread.
    std::uint64_t seed = 0;
    bool data_dependent = true; ///< false: synflow, l2_norm, params, flops only (no data)
    data_proxy_options data{};
    nb201_network_options network{}; ///< the benchmark's network by default
};

/// Input resolution of the NAS-Bench-201 networks.
inline constexpr std::size_t nb201_resolution = 32;

/// All proxies of the NAS-Bench-201 network of `cell`. `batch` is required when
/// options.data_dependent (std::invalid_argument otherwise).
[[nodiscard]] inline proxy_scores nb201_proxies(const nb201::cell& cell, const proxy_options& options,
                                                const proxy_batch* batch = nullptr) {
    if (options.data_dependent && batch == nullptr) {
        throw std::invalid_argument("nb201_proxies: data-dependent proxies need a batch");
    }
    rng gen(derive_seed(options.seed, nb201::space::id(cell)));
    const auto net = make_nb201_network(cell, options.network, gen);
    proxy_scores s;
    if (options.data_dependent) s = data_proxies(*net, batch->images, batch->labels, options.data);
    const auto& o = options.network;
    const auto cost = nb201::network_cost(
        cell, {.channels = static_cast<std::int64_t>(o.channels),
               .cells_per_stage = static_cast<std::int64_t>(o.cells_per_stage),
               .classes = static_cast<std::int64_t>(o.classes),
               .resolution = static_cast<std::int64_t>(nb201_resolution)});
    s.params = cost.params;
    s.flops = cost.flops;
    s.l2_norm = l2_norm(*net);
    s.synflow = synflow(*net, {o.input_channels, nb201_resolution, nb201_resolution});
    return s;
}

struct proxy_evaluator_options {
    std::string reward = "synflow"; ///< the proxy returned as the reward (any of proxy_fields)
    proxy_options proxies{};
    std::size_t batch_size = 32;    ///< images in the mini-batch (NASLib's NB201 scores used 32)
    std::uint64_t data_seed = 0;    ///< which Fashion-MNIST training images form it
    std::filesystem::path fashion_mnist_dir{tensor::fashion_mnist_default_dir};
};

/// Zero-cost proxies as an Evaluator over NAS-Bench-201 cells: every computed proxy is a metric,
/// one of them the reward. A cheap search objective or warm start: synflow alone (data_dependent
/// = false) costs one forward / backward pass at batch 1.
///
/// Thread-safe for concurrent use: each evaluation builds its own network; the batch is shared
/// read-only. An evaluation whose reward is not finite (e.g. synflow of a cell whose output gets
/// only `none` edges, log 0) is failed, with the metrics kept.
class proxy_evaluator {
public:
    static constexpr auto thread_safety = nascent::thread_safety::constant;

    /// Loads the mini-batch from options.fashion_mnist_dir when data-dependent proxies are on.
    explicit proxy_evaluator(proxy_evaluator_options options = {})
        : proxy_evaluator(prepare(std::move(options)), nullptr) {}

    /// Uses `batch` as the mini-batch (options.batch_size, data_seed and the directory are unused).
    proxy_evaluator(proxy_evaluator_options options, proxy_batch batch)
        : proxy_evaluator(prepare(std::move(options)),
                          std::make_shared<const proxy_batch>(std::move(batch))) {}

    [[nodiscard]] evaluation evaluate(const nb201::cell& c) const {
        proxy_scores s;
        try {
            s = nb201_proxies(c, m_options.proxies, m_batch.get());
        } catch (const std::exception&) {
            return evaluation::failure("zero-cost proxy computation failed");
        }
        metrics m;
        for (const auto& f : proxy_fields) {
            if (!f.data_dependent || m_options.proxies.data_dependent) m.append(f.name, s.*f.value);
        }
        return evaluation::success(s.*m_reward->value, m);
    }

    [[nodiscard]] std::string_view reward() const noexcept { return m_reward->name; }
    [[nodiscard]] const proxy_evaluator_options& options() const noexcept { return m_options; }
    [[nodiscard]] const proxy_batch* batch() const noexcept { return m_batch.get(); }

private:
    struct prepared {
        proxy_evaluator_options options;
        const proxy_field* reward;
    };
    static prepared prepare(proxy_evaluator_options options) {
        const proxy_field& f = find_proxy(options.reward);
        if (f.data_dependent && !options.proxies.data_dependent) {
            throw std::invalid_argument("proxy_evaluator: reward '" + options.reward +
                                        "' needs data, but data_dependent is off");
        }
        if (f.name == "grasp" && !options.proxies.data.grasp) {
            throw std::invalid_argument("proxy_evaluator: reward 'grasp' but grasp is off");
        }
        if (options.proxies.data_dependent && options.batch_size == 0) {
            throw std::invalid_argument("proxy_evaluator: batch_size 0");
        }
        return {std::move(options), &f};
    }
    proxy_evaluator(prepared p, std::shared_ptr<const proxy_batch> batch)
        : m_options(std::move(p.options)), m_reward(p.reward), m_batch(std::move(batch)) {
        if (m_options.proxies.data_dependent && !m_batch) {
            m_batch = std::make_shared<const proxy_batch>(fashion_mnist_batch(
                m_options.batch_size, m_options.data_seed, m_options.fashion_mnist_dir));
        }
    }

    proxy_evaluator_options m_options;
    const proxy_field* m_reward;
    std::shared_ptr<const proxy_batch> m_batch;
};

static_assert(Evaluator<proxy_evaluator, nb201::cell>);

} // namespace nascent::eval
