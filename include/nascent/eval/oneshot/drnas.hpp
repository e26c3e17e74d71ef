#pragma once
// DrNAS (Chen, Wang, Cheng, Tang & Hsieh, "DrNAS: Dirichlet Neural Architecture Search", ICLR
// 2021) on a supernet: the weights of each edge are a sample of Dirichlet(beta), beta =
// elu(alpha) + 1 (the reference code's concentration), drawn afresh for every forward and
// differentiated through the sample (pathwise gradient); otherwise DARTS' first-order bilevel
// loop (an alpha step on the architecture's batch, then a weight step). The paper's argument:
// the sampling noise regularises, so that the search does not collapse onto parameter-free ops
// as DARTS does on NAS-Bench-201. Discretisation: argmax of beta (that of alpha) per edge.
//
// The sample is exact and its gradient exact to ~1e-9: x_k = F^-1(u_k; beta_k), the inverse
// CDF of Gamma(beta_k, 1) at a uniform u_k drawn once, w = x / sum(x). For fixed u this is a
// smooth function of beta (the implicit reparameterisation that PyTorch's rsample computes),
// differentiated by oneshot::simplex_map. Not reproduced from the paper's code: its progressive
// channel shrinking and its regulariser on beta (we train at full width without one).

#include <nascent/core/rng.hpp>
#include <nascent/eval/oneshot/mixed_op.hpp>
#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/supernet.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace nascent::eval::oneshot {

namespace detail {

/// The regularised lower incomplete gamma function P(a, x), by its series for x < a + 1 and by
/// the continued fraction of Q = 1 - P (modified Lentz) otherwise.
[[nodiscard]] inline double gamma_p(double a, double x) {
    if (x <= 0)
        return 0.0;
    const double log_front = -x + a * std::log(x) - std::lgamma(a);
    if (x < a + 1) {
        double term = 1.0 / a;
        double sum = term;
        for (int n = 1; n < 1000; ++n) {
            term *= x / (a + n);
            sum += term;
            if (std::abs(term) < std::abs(sum) * 1e-16)
                break;
        }
        return std::min(1.0, sum * std::exp(log_front));
    }
    constexpr double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < 1000; ++i) {
        const double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (std::abs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (std::abs(c) < tiny)
            c = tiny;
        d = 1 / d;
        const double delta = d * c;
        h *= delta;
        if (std::abs(delta - 1) < 1e-16)
            break;
    }
    return std::max(0.0, 1.0 - std::exp(log_front) * h);
}

/// F^-1(u; a), the quantile of Gamma(a, 1), by bisection on log x (to double precision).
[[nodiscard]] inline double gamma_quantile(double a, double u) {
    double lo = -745.0;
    double hi = std::log(std::max(1.0, a)) + 1.0;
    while (gamma_p(a, std::exp(hi)) < u)
        hi += 1.0;
    for (int i = 0; i < 100; ++i) {
        const double mid = 0.5 * (lo + hi);
        (gamma_p(a, std::exp(mid)) < u ? lo : hi) = mid;
    }
    return std::exp(0.5 * (lo + hi));
}

} // namespace detail

/// elu(alpha) + 1, the concentration.
[[nodiscard]] inline double drnas_concentration(double alpha) noexcept {
    return alpha > 0 ? alpha + 1.0 : std::exp(alpha);
}

/// A Dirichlet(elu(alpha) + 1) sample for one edge, differentiable in alpha.
[[nodiscard]] inline tensor::variable dirichlet_sample(const tensor::variable& alpha, rng& gen) {
    std::vector<double> u(alpha.size());
    for (auto& v : u) // (0, 1): quantiles stay finite
        v = std::clamp(uniform_real(gen), 1e-12, 1.0 - 1e-12);
    return simplex_map(alpha, [u](const std::vector<double>& a) {
        std::vector<double> x(a.size());
        double total = 0.0;
        for (std::size_t k = 0; k < a.size(); ++k)
            total += x[k] = std::max(detail::gamma_quantile(drnas_concentration(a[k]), u[k]),
                                     std::numeric_limits<double>::min());
        for (auto& v : x)
            v /= total;
        return x;
    });
}

struct drnas {
    static constexpr bool has_alpha = true;

    void begin_epoch(std::size_t, std::size_t) const noexcept {}

    /// The trace shows the Dirichlet mean beta / sum(beta).
    [[nodiscard]] static std::vector<double> probabilities(const tensor::ndarray& alpha) {
        std::vector<double> p(alpha.size());
        double total = 0.0;
        for (std::size_t k = 0; k < p.size(); ++k)
            total += p[k] = drnas_concentration(alpha[k]);
        for (auto& v : p)
            v /= total;
        return p;
    }

    template <class Space>
    static void sample_paths(supernet<Space>& net, rng& gen, bool through_alpha) {
        std::vector<tensor::variable> w;
        for (const auto& a : net.alpha()) // the weight step needs no gradient for alpha
            w.push_back(dirichlet_sample(through_alpha ? a : a.detach(), gen));
        net.set_weights(w);
    }

    template <class Space>
    step_losses step(step_context<Space>& ctx) const {
        step_losses out;
        auto& net = ctx.net;
        ctx.alpha->zero_grad();
        net.zero_grad();
        sample_paths(net, ctx.gen, true);
        const auto loss = batch_loss(net, ctx.valid_images, ctx.valid_labels);
        loss.backward();
        out.valid = loss.item();
        ctx.alpha->step();
        net.zero_grad();
        sample_paths(net, ctx.gen, false);
        out.train = weight_step(ctx);
        return out;
    }
};

} // namespace nascent::eval::oneshot
