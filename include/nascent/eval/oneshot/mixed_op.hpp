#pragma once
// The mixed op of weight-sharing NAS: an edge of a DAG cell that holds every candidate op, each
// with its own weights, and combines them in one of three ways, chosen per forward:
//
//   single    one op, picked by a genotype (SPOS training, and scoring a genotype with inherited
//             weights): y = op_k(x);
//   weighted  DARTS' continuous relaxation: y = sum_k w_k op_k(x), w = softmax(alpha) (or any
//             weights on the simplex: DrNAS' Dirichlet samples);
//   gumbel    GDAS: only the sampled op k runs; y = h_k op_k(x) + sum_{j != k} h_j, with h the
//             straight-through weights (value one-hot, gradient that of softmax((log_softmax(alpha)
//             + g) / tau)). The sum over the other ops adds their weight as a constant map, as the
//             reference code does (AutoDL-Projects, search_cells.py, forward_gdas): its value is 0
//             and it carries the gradient sum(dL/dy) to the unchosen weights.
//
// The weights are computed from alpha by the small ops below (softmax, straight_through,
// simplex_map); the mixed op only reads them, so its gradient reaches alpha through the graph.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::eval::oneshot {

/// How mixed ops combine their candidates in the next forward.
enum class path_mode : std::uint8_t { single, weighted, gumbel };

[[nodiscard]] constexpr std::string_view to_string(path_mode m) noexcept {
    switch (m) {
    case path_mode::single:
        return "single";
    case path_mode::weighted:
        return "weighted";
    case path_mode::gumbel:
        return "gumbel";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Ops on the architecture weights (vectors of K values)

/// softmax over a vector [K] (max-shifted, double accumulation).
[[nodiscard]] inline tensor::variable softmax(const tensor::variable& logits) {
    const auto& a = logits.value();
    if (a.rank() != 1 || a.size() == 0) {
        throw std::invalid_argument("oneshot::softmax: needs a non-empty vector, got " +
                                    tensor::to_string(a.shape()));
    }
    double top = -std::numeric_limits<double>::infinity();
    for (const float v : a.values())
        top = std::max(top, static_cast<double>(v));
    std::vector<double> e(a.size());
    double total = 0.0;
    for (std::size_t k = 0; k < a.size(); ++k)
        total += e[k] = std::exp(a[k] - top);
    auto out = tensor::ndarray::uninitialized(a.shape());
    for (std::size_t k = 0; k < a.size(); ++k)
        out[k] = static_cast<float>(e[k] / total);
    return tensor::make_result(
        std::move(out), {logits},
        [](tensor::backward_context& ctx) {
            const auto& p = ctx.output();
            const auto& g = ctx.grad();
            double dot = 0.0;
            for (std::size_t k = 0; k < p.size(); ++k)
                dot += static_cast<double>(g[k]) * p[k];
            auto d = tensor::ndarray::uninitialized(p.shape());
            for (std::size_t k = 0; k < p.size(); ++k)
                d[k] = static_cast<float>(p[k] * (g[k] - dot));
            ctx.accumulate(0, std::move(d));
        },
        "softmax");
}

/// The straight-through estimator: the value is `hard`, the gradient passes to `soft` unchanged
/// (hard - soft.detach() + soft, without its rounding).
[[nodiscard]] inline tensor::variable straight_through(tensor::ndarray hard,
                                                       const tensor::variable& soft) {
    if (hard.shape() != soft.shape()) {
        throw std::invalid_argument("oneshot::straight_through: hard " +
                                    tensor::to_string(hard.shape()) + " and soft " +
                                    tensor::to_string(soft.shape()) + " differ");
    }
    return tensor::make_result(
        std::move(hard), {soft},
        [](tensor::backward_context& ctx) { ctx.accumulate(0, tensor::detail::take_grad(ctx)); },
        "straight_through");
}

/// w = f(alpha) for a smooth map f of small vectors computed in double (DrNAS' reparameterised
/// Dirichlet sample given its noise). Its Jacobian, K x K, comes from central differences of f
/// in double (step 1e-6, error ~1e-10 relative, far below float rounding): exact enough for
/// any f the caller can write, and no hand-derived backward to get wrong.
[[nodiscard]] inline tensor::variable
simplex_map(const tensor::variable& alpha,
            std::function<std::vector<double>(const std::vector<double>&)> f) {
    const auto& a = alpha.value();
    const std::vector<double> x(a.begin(), a.end());
    const std::vector<double> y = f(x);
    if (y.size() != x.size()) {
        throw std::invalid_argument("oneshot::simplex_map: f maps " + std::to_string(x.size()) +
                                    " values to " + std::to_string(y.size()));
    }
    auto out = tensor::ndarray::uninitialized(a.shape());
    for (std::size_t k = 0; k < y.size(); ++k)
        out[k] = static_cast<float>(y[k]);
    return tensor::make_result(
        std::move(out), {alpha},
        [x, f = std::move(f)](tensor::backward_context& ctx) {
            const auto& g = ctx.grad();
            std::vector<double> d(x.size(), 0.0);
            constexpr double h = 1e-6;
            for (std::size_t j = 0; j < x.size(); ++j) {
                auto xs = x;
                xs[j] = x[j] + h;
                const auto up = f(xs);
                xs[j] = x[j] - h;
                const auto down = f(xs);
                for (std::size_t k = 0; k < x.size(); ++k)
                    d[j] += static_cast<double>(g[k]) * (up[k] - down[k]) / (2 * h);
            }
            auto dx = tensor::ndarray::uninitialized(ctx.input(0).shape());
            for (std::size_t j = 0; j < x.size(); ++j)
                dx[j] = static_cast<float>(d[j]);
            ctx.accumulate(0, std::move(dx));
        },
        "simplex_map");
}

namespace detail {

/// What one candidate contributes to an edge's sum.
enum class term : std::uint8_t {
    output,   ///< w_k * y_k
    zero,     ///< nothing (the zero op, or a weight of exactly 0 in single mode)
    constant, ///< w_k, broadcast (GDAS' unchosen ops)
};

/// y = sum over outputs of w_k y_k + sum over constants of w_k, of shape `shape`. `ys[k]` is
/// defined exactly where terms[k] is output.
[[nodiscard]] inline tensor::variable edge_sum(const tensor::shape_t& shape,
                                               const std::vector<tensor::variable>& ys,
                                               const std::vector<term>& terms,
                                               const tensor::variable& w) {
    const std::size_t k_ops = terms.size();
    if (w.shape() != tensor::shape_t{k_ops} || ys.size() != k_ops) {
        throw std::invalid_argument("oneshot::edge_sum: " + std::to_string(k_ops) +
                                    " terms, weights " + tensor::to_string(w.shape()) + ", " +
                                    std::to_string(ys.size()) + " outputs");
    }
    const auto& wv = w.value();
    float constant = 0.0F;
    tensor::ndarray out(shape, 0.0F);
    float* op = out.data();
    for (std::size_t k = 0; k < k_ops; ++k) {
        if (terms[k] == term::constant) {
            constant += wv[k];
        } else if (terms[k] == term::output) {
            if (ys[k].shape() != shape) {
                throw std::invalid_argument("oneshot::edge_sum: output " + std::to_string(k) +
                                            " of shape " + tensor::to_string(ys[k].shape()) +
                                            ", expected " + tensor::to_string(shape));
            }
            const float* yp = ys[k].value().data();
            const float wk = wv[k];
            for (std::size_t i = 0; i < out.size(); ++i)
                op[i] += wk * yp[i];
        }
    }
    if (constant != 0.0F) {
        for (auto& v : out.values())
            v += constant;
    }
    std::vector<tensor::variable> inputs{w};
    inputs.insert(inputs.end(), ys.begin(), ys.end());
    return tensor::make_result(
        std::move(out), std::move(inputs),
        [terms](tensor::backward_context& ctx) {
            const auto& g = ctx.grad();
            const auto& weights = ctx.input(0);
            double total = 0.0;
            bool need_total = false;
            for (const auto t : terms)
                need_total = need_total || t == term::constant;
            if (need_total) {
                for (const float v : g.values())
                    total += v;
            }
            tensor::ndarray dw(weights.shape(), 0.0F);
            for (std::size_t k = 0; k < terms.size(); ++k) {
                if (terms[k] == term::constant) {
                    dw[k] = static_cast<float>(total);
                } else if (terms[k] == term::output) {
                    const auto& y = ctx.input(k + 1);
                    if (ctx.needs_grad(0)) {
                        double dot = 0.0;
                        for (std::size_t i = 0; i < y.size(); ++i)
                            dot += static_cast<double>(g[i]) * y[i];
                        dw[k] = static_cast<float>(dot);
                    }
                    if (ctx.needs_grad(k + 1)) {
                        auto dy = tensor::ndarray::uninitialized(g.shape());
                        const float wk = weights[k];
                        for (std::size_t i = 0; i < g.size(); ++i)
                            dy[i] = wk * g[i];
                        ctx.accumulate(k + 1, std::move(dy));
                    }
                }
            }
            ctx.accumulate(0, std::move(dw));
        },
        "edge_sum");
}

} // namespace detail

/// What a mixed op does in its next forward: the mode, the op of single and gumbel mode, and
/// the weights [K] of weighted and gumbel mode (a variable in alpha's graph).
struct edge_path {
    path_mode mode = path_mode::single;
    std::size_t op = 0;
    tensor::variable weights{};
};

/// An edge holding every candidate op. Candidates are modules, null for the zero op (`none`),
/// registered as children "op<k>".
class mixed_op final : public tensor::nn::module {
public:
    explicit mixed_op(std::vector<std::shared_ptr<tensor::nn::module>> candidates)
        : m_candidates(std::move(candidates)) {
        if (m_candidates.empty())
            throw std::invalid_argument("oneshot::mixed_op: no candidate ops");
        for (std::size_t k = 0; k < m_candidates.size(); ++k) {
            if (m_candidates[k])
                register_module("op" + std::to_string(k), m_candidates[k]);
        }
    }

    [[nodiscard]] std::size_t candidates() const noexcept { return m_candidates.size(); }
    [[nodiscard]] const std::shared_ptr<tensor::nn::module>& candidate(std::size_t k) const {
        return m_candidates.at(k);
    }

    /// Sets what the next forwards do; checks the op index and the weights' shape.
    void set_path(edge_path path) {
        if (path.mode != path_mode::weighted && path.op >= m_candidates.size()) {
            throw std::invalid_argument("oneshot::mixed_op: op " + std::to_string(path.op) +
                                        " of " + std::to_string(m_candidates.size()));
        }
        if (path.mode != path_mode::single &&
            (!path.weights.defined() ||
             path.weights.shape() != tensor::shape_t{m_candidates.size()})) {
            throw std::invalid_argument("oneshot::mixed_op: " + std::string(to_string(path.mode)) +
                                        " mode needs weights of shape [" +
                                        std::to_string(m_candidates.size()) + "]");
        }
        m_path = std::move(path);
    }
    [[nodiscard]] const edge_path& path() const noexcept { return m_path; }

    tensor::variable forward(const tensor::variable& x) override {
        const std::size_t k_ops = m_candidates.size();
        switch (m_path.mode) {
        case path_mode::single: {
            const auto& op = m_candidates[m_path.op];
            return op ? (*op)(x) : tensor::scale(x, 0.0F);
        }
        case path_mode::weighted: {
            std::vector<tensor::variable> ys(k_ops);
            std::vector<detail::term> terms(k_ops, detail::term::zero);
            for (std::size_t k = 0; k < k_ops; ++k) {
                if (m_candidates[k]) {
                    ys[k] = (*m_candidates[k])(x);
                    terms[k] = detail::term::output;
                }
            }
            return detail::edge_sum(x.shape(), ys, terms, m_path.weights);
        }
        case path_mode::gumbel: {
            std::vector<tensor::variable> ys(k_ops);
            std::vector<detail::term> terms(k_ops, detail::term::constant);
            const std::size_t k = m_path.op;
            if (m_candidates[k]) {
                ys[k] = (*m_candidates[k])(x);
                terms[k] = detail::term::output;
            } else {
                terms[k] = detail::term::zero; // w_k * zeros: no value, no gradient
            }
            return detail::edge_sum(x.shape(), ys, terms, m_path.weights);
        }
        }
        throw std::invalid_argument("oneshot::mixed_op: unknown mode");
    }
    [[nodiscard]] std::string_view kind() const override { return "mixed_op"; }

private:
    std::vector<std::shared_ptr<tensor::nn::module>> m_candidates;
    edge_path m_path{};
};

} // namespace nascent::eval::oneshot
