#pragma once
// The data-dependent zero-cost proxies of a network on one labelled mini-batch (definitions at
// the top of eval/proxies.hpp): grad_norm, snip, grasp, fisher, jacob_cov, nwot, plain.
//
// The layer has no double backward, so GraSP's Hessian-vector product H g comes from a
// forward-mode pass on top of the reverse mode (tensor/forward_mode.hpp): exact, what PyTorch's
// double backward computes. A central finite difference of gradients is available for modules
// that pass has no rule for (hvp_method::finite_difference), but ReLU kinks crossed by the
// perturbation make it noisy at every step size (docs/proxies.md).
//
// data_proxies leaves the module as it found it (tensor/module_state.hpp), also when an
// exception propagates.

#include <nascent/eval/nb201_network.hpp>
#include <nascent/eval/proxy_scores.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/forward_mode.hpp>
#include <nascent/tensor/module_state.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::eval {

namespace detail {

/// NASWOT's kernel: K_ij = number of units whose binary codes (x > 0) agree in samples i and j,
/// accumulated over the inputs of every ReLU. Counts are integers: exact and order-free.
class hamming_kernel {
public:
    explicit hamming_kernel(std::size_t samples) : m_n(samples), m_agree(samples * samples, 0) {}

    void add(const tensor::ndarray& x) {
        if (x.rank() == 0 || x.dim(0) != m_n) {
            throw std::invalid_argument("nwot: a ReLU input of shape " +
                                        tensor::to_string(x.shape()) + " for a batch of " +
                                        std::to_string(m_n));
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
                for (std::size_t w = 0; w < words; ++w)
                    differ += std::popcount(a[w] ^ b[w]);
                m_agree[i * m_n + j] += units - differ;
                if (j != i)
                    m_agree[j * m_n + i] += units - differ;
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
            if (d == 0.0)
                return -std::numeric_limits<double>::infinity();
            total += std::log(d);
        }
        return total;
    }

private:
    std::size_t m_n;
    std::vector<std::uint64_t> m_agree;
    std::vector<std::uint64_t> m_bits;
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
        for (Eigen::Index j = 0; j < d; ++j)
            z(i, j) = jacobian[static_cast<std::size_t>(i * d + j)];
    }
    z.colwise() -= z.rowwise().mean();
    const Eigen::VectorXd norms = z.rowwise().norm();
    if ((norms.array() == 0.0).any())
        return std::numeric_limits<double>::quiet_NaN();
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

/// How GraSP's Hessian-vector product is computed.
enum class hvp_method {
    forward_over_reverse, ///< exact (PyTorch's double backward): NAS-Bench-201 modules, plain
                          ///< layers
    finite_difference,    ///< any module, but ReLU kinks make it noisy (docs/proxies.md)
};

struct data_proxy_options {
    bool grasp = true; ///< costs about two more forward / backward passes
    hvp_method grasp_hvp = hvp_method::forward_over_reverse;
    double grasp_step = 1e-3; ///< finite_difference: e * ||g|| = grasp_step * ||W||
    /// Modules whose input is a ReLU's input (NASWOT codes): ReLU modules, and NAS-Bench-201's
    /// ReLU-conv-BN, which applies tensor::relu first.
    std::vector<std::string> relu_kinds{"relu", "relu_conv_bn"};
    /// Forward-mode rules for module kinds tensor::tangent_forward does not know (the exact
    /// grasp): NAS-Bench-201's modules by default; a factory's tangent_rules() are added to them
    /// by the proxy evaluator.
    std::vector<tensor::named_tangent_rule> tangent_rules = nb201_tangent_rules();
};

namespace detail {

/// -sum W * (H g) with H g from the forward-over-reverse pass (see tangent_forward).
[[nodiscard]] inline double grasp_exact(nn::module& net, const std::vector<weighted_layer>& layers,
                                        const std::vector<tensor::ndarray>& grads,
                                        const tensor::ndarray& images,
                                        std::span<const std::int32_t> labels,
                                        const std::vector<tensor::named_tangent_rule>& rules) {
    net.zero_grad();
    std::vector<tensor::variable> weights;
    for (const auto& l : layers)
        weights.push_back(l.weight);
    tensor::tangent_forward forward(weights, grads, rules);
    tensor::dual out;
    try {
        out = forward(net, {tensor::variable(images), {}});
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("grasp: ") + e.what() +
                                    " (use hvp_method::finite_difference)");
    }
    if (!out.tangent.defined())
        return 0.0; // no weight reaches the output
    tensor::cross_entropy_tangent(out.value, out.tangent, labels).backward();
    double total = 0.0;
    for (const auto& l : layers) {
        const float* w = l.weight.value().data();
        const float* hg = l.weight.grad().data();
        for (std::size_t i = 0; i < l.weight.size(); ++i)
            total -= static_cast<double>(w[i]) * hg[i];
    }
    return total;
}

/// -sum W * (H g) with H g ~ (grad L(W + e g) - grad L(W - e g)) / (2 e).
[[nodiscard]] inline double
grasp_finite_difference(nn::module& net, const std::vector<weighted_layer>& layers,
                        const std::vector<tensor::ndarray>& grads, const tensor::ndarray& images,
                        std::span<const std::int32_t> labels, double relative_step) {
    double w_sq = 0.0;
    double g_sq = 0.0;
    std::vector<tensor::ndarray> original;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        original.push_back(layers[l].weight.value());
        for (const float v : original.back().values())
            w_sq += static_cast<double>(v) * v;
        for (const float v : grads[l].values())
            g_sq += static_cast<double>(v) * v;
    }
    if (g_sq == 0.0)
        return 0.0; // H 0 = 0
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
[[nodiscard]] inline proxy_scores data_proxies(tensor::nn::module& net,
                                               const tensor::ndarray& images,
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
    tensor::nn::module_restorer restore(net);
    for (const auto& p : restore.parameters())
        p.set_requires_grad(true);
    net.train();
    net.zero_grad();
    const auto layers = detail::weighted_layers(net);

    // Forward hooks: conv / linear outputs (fisher needs their gradients), ReLU inputs (nwot).
    std::vector<std::pair<std::size_t, variable>> activations; // (layer, output)
    detail::hamming_kernel kernel(n);
    for (std::size_t l = 0; l < layers.size(); ++l) {
        restore.add_hook(*layers[l].module,
                         [&activations, l](nn::module&, const variable&, const variable& y) {
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
    for (const auto& p : restore.parameters())
        p.set_requires_grad(false);
    x.zero_grad();
    logits.zero_grad(); // a linear layer's output: fisher's hook retained its gradient
    logits.backward(ndarray(logits.shape(), 1.0F));
    s.jacob_cov = jacob_cov_score(x.grad());
    s.nwot = kernel.log_abs_det();

    if (options.grasp) {
        for (const auto& l : layers)
            l.weight.set_requires_grad(true);
        s.grasp =
            options.grasp_hvp == hvp_method::forward_over_reverse
                ? detail::grasp_exact(net, layers, grads, images, labels, options.tangent_rules)
                : detail::grasp_finite_difference(net, layers, grads, images, labels,
                                                  options.grasp_step);
    }
    return s;
}

} // namespace nascent::eval
