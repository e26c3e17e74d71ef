#pragma once
// A small box-constrained quasi-Newton minimiser for GP hyper-parameters (a handful to a few
// dozen variables, an objective that costs a Cholesky factorisation): projected L-BFGS.
//
// Each iteration takes the L-BFGS direction (two-loop recursion over the last `memory` pairs) on
// the free variables (those not held at a bound by the gradient), and backtracks along the
// projected path P(x + t d) until the Armijo condition holds. A failed objective (non-finite
// value, e.g. a Cholesky that failed) counts as "too far" and shrinks the step. It stops when the
// projected gradient's largest entry falls below `gradient_tolerance`, when the relative decrease
// of one step falls below `relative_tolerance` (the two tests of SciPy's L-BFGS-B, pgtol and
// factr * eps), or after `max_iterations`.

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

namespace nascent::surrogate {

struct lbfgs_options {
    std::size_t max_iterations = 200;
    std::size_t memory = 10;
    double gradient_tolerance = 1e-5;   ///< on the projected gradient's infinity norm
    double relative_tolerance = 2.2e-9; ///< (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1): SciPy's default
    std::size_t max_backtracks = 30;
};

struct lbfgs_result {
    Eigen::VectorXd x;
    double value = std::numeric_limits<double>::infinity();
    std::size_t iterations = 0;
    std::size_t evaluations = 0;
    bool converged = false;
};

/// Minimises f within [lower, upper]. `f(x, gradient)` returns the value and writes the gradient;
/// it may return a non-finite value where it cannot be evaluated. Returns value = +inf if f is
/// not finite at the (clamped) start.
template <class F>
[[nodiscard]] lbfgs_result minimise_box(F&& f, Eigen::VectorXd x0, const Eigen::VectorXd& lower,
                                        const Eigen::VectorXd& upper,
                                        const lbfgs_options& options = {}) {
    const Eigen::Index n = x0.size();
    auto project = [&](Eigen::VectorXd v) { return v.cwiseMax(lower).cwiseMin(upper).eval(); };
    lbfgs_result r;
    r.x = project(std::move(x0));
    Eigen::VectorXd g(n);
    double fx = f(r.x, g);
    r.evaluations = 1;
    if (!std::isfinite(fx) || !g.allFinite())
        return r;
    r.value = fx;

    std::deque<std::pair<Eigen::VectorXd, Eigen::VectorXd>> pairs; // (s, y), newest last
    Eigen::VectorXd gn(n);
    for (; r.iterations < options.max_iterations; ++r.iterations) {
        // Variables at a bound whose gradient pushes outwards are held there this iteration.
        Eigen::VectorXd pg = g;
        for (Eigen::Index i = 0; i < n; ++i) {
            if ((r.x[i] <= lower[i] && g[i] > 0.0) || (r.x[i] >= upper[i] && g[i] < 0.0))
                pg[i] = 0.0;
        }
        if (pg.lpNorm<Eigen::Infinity>() <= options.gradient_tolerance) {
            r.converged = true;
            break;
        }
        // Two-loop recursion, d = -H pg, on the free variables only: the curvature pairs are
        // restricted to them, so a variable held at a bound does not bend the others' steps.
        const Eigen::VectorXd free = (pg.array() != 0.0).cast<double>().matrix();
        Eigen::VectorXd d = -pg;
        std::vector<double> a(pairs.size(), 0.0);
        std::vector<double> sy(pairs.size(), 0.0);
        double gamma = 0.0;
        for (std::size_t k = pairs.size(); k-- > 0;) {
            const Eigen::VectorXd s = pairs[k].first.cwiseProduct(free);
            const Eigen::VectorXd y = pairs[k].second.cwiseProduct(free);
            sy[k] = s.dot(y);
            if (!(sy[k] > 1e-10 * y.squaredNorm())) {
                sy[k] = 0.0; // no usable curvature along the free variables
                continue;
            }
            if (gamma == 0.0)
                gamma = sy[k] / y.squaredNorm();
            a[k] = s.dot(d) / sy[k];
            d -= a[k] * y;
        }
        if (gamma > 0.0)
            d *= gamma;
        for (std::size_t k = 0; k < pairs.size(); ++k) {
            if (sy[k] == 0.0)
                continue;
            const Eigen::VectorXd s = pairs[k].first.cwiseProduct(free);
            const Eigen::VectorXd y = pairs[k].second.cwiseProduct(free);
            d += (a[k] - y.dot(d) / sy[k]) * s;
        }
        if (!(d.dot(pg) < 0.0)) { // not a descent direction: forget the curvature pairs
            pairs.clear();
            gamma = 0.0;
            d = -pg;
        }
        // First step without curvature information: at most 1 in the largest coordinate.
        double t = gamma > 0.0 ? 1.0 : std::min(1.0, 1.0 / d.lpNorm<Eigen::Infinity>());
        bool accepted = false;
        Eigen::VectorXd xn;
        double fn = 0.0;
        for (std::size_t b = 0; b < options.max_backtracks; ++b, t *= 0.5) {
            xn = project(r.x + t * d);
            fn = f(xn, gn);
            ++r.evaluations;
            if (std::isfinite(fn) && gn.allFinite() && fn <= fx + 1e-4 * g.dot(xn - r.x)) {
                accepted = true;
                break;
            }
        }
        if (!accepted) {
            if (pairs.empty())
                break; // no progress even along the projected gradient
            pairs.clear();
            continue;
        }
        const Eigen::VectorXd s = xn - r.x;
        const Eigen::VectorXd y = gn - g;
        if (s.dot(y) > 1e-10 * y.squaredNorm()) { // keep H positive definite
            pairs.emplace_back(s, y);
            if (pairs.size() > options.memory)
                pairs.pop_front();
        }
        const double decrease = (fx - fn) / std::max({std::abs(fx), std::abs(fn), 1.0});
        r.x = xn;
        g = gn;
        fx = fn;
        r.value = fx;
        if (decrease <= options.relative_tolerance) {
            r.converged = true;
            ++r.iterations;
            break;
        }
    }
    return r;
}

} // namespace nascent::surrogate
