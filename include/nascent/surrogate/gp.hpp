#pragma once
// Gaussian-process regression as a nascent::Surrogate.
//
//   gp<Kernel, FeatureMap>  genotypes -> FeatureMap -> Kernel::input; fit(genotypes, targets),
//                           predict(g) -> prediction{mean, variance}, predict_batch(genotypes);
//                           fit_features / predict_features take precomputed Kernel::data
//
//   nascent::surrogate::gp<hamming, edge_ops<nb201::space>> model;          // categorical edges
//   nascent::surrogate::gp<wl_kernel, wl_feature_map<nb201::space>> wl;      // WL graph kernel
//   model.fit(cells, accuracies);  const auto p = model.predict(cell);       // p.mean, p.variance
//
// Model: y = m + s (f(x) + e), f ~ GP(0, sf2 k), e ~ N(0, sn2), where m and s are the mean and
// population standard deviation of the training targets (targets are standardised internally, so
// sf2 and sn2 are in standardised units and default hyper-parameters suit any target scale).
// Hyper-parameters, in log space: theta = [log sf2, kernel parameters..., log sn2].
//
// Fitting factorises K = sf2 k(X, X) + sn2 I by Cholesky (linalg.hpp: Eigen's LLT on blocks of up
// to 192 rows, two cores on larger ones through oneTBB, bit-identical results for any number of
// threads); if that fails it retries with a jitter of 1e-8, 1e-7, ..., 1e-2 times the mean
// diagonal added to K, and throws std::runtime_error if even 1e-2 fails. With `optimise` (default)
// theta maximises the log marginal likelihood, by projected L-BFGS (optimise.hpp) with analytic
// gradients, from the current theta and `restarts` further starts drawn uniformly (in log space)
// within the bounds from an explicit nascent::rng (`fit(xs, ys, gen)`, or one seeded with
// options.seed).
//
// Predictions are in target units; `variance` is that of the latent function f (what acquisition
// functions use); add noise_variance() * target_scale()^2 for a new observation's variance.
//
// Edge cases (tested):
//  - no points, a size mismatch, a NaN or infinite target: std::invalid_argument naming it;
//  - duplicate points: fine, the noise term keeps K positive definite (the jitter ladder catches
//    a noise variance too small for that);
//  - constant targets (std <= 1e-12 max(1, |mean|)): s is taken as 1 and the hyper-parameters are
//    not optimised (the likelihood of all-zero residuals has no optimum); predictions are the
//    constant, with the posterior variance of the prior sf2 k (never NaN).
//
// add(g, y) adds one point with theta fixed: the Cholesky factor grows by one row (O(n^2)), the
// targets are re-standardised and the weights re-solved (O(n^2)); the result equals a full fit
// with optimise = false at the same theta.

#include <nascent/concepts.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/surrogate/features.hpp>
#include <nascent/surrogate/kernels.hpp>
#include <nascent/surrogate/linalg.hpp>
#include <nascent/surrogate/optimise.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
#include <numeric>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::surrogate {

/// A closed interval of a positive hyper-parameter (not its log).
struct bounds {
    double lower;
    double upper;
};

struct gp_options {
    double signal_variance = 1.0; ///< initial sf2 (standardised units)
    double noise_variance = 1e-2; ///< initial sn2 (standardised units)
    bool optimise = true;         ///< maximise the log marginal likelihood in fit()
    std::size_t restarts = 2;     ///< starts beyond the current hyper-parameters
    bounds signal_bounds = {1e-2, 1e2};
    bounds kernel_bounds = {1e-3, 1e3}; ///< every kernel hyper-parameter (length-scales...)
    bounds noise_bounds = {1e-6, 1e1};
    lbfgs_options optimiser = {};
    std::uint64_t seed = 0; ///< seeds the generator of fit(xs, ys) (fit(xs, ys, gen) uses gen)
    /// fit(xs, ys) with more points than this (0: no limit) maximises the likelihood of a random
    /// subset of this many, then factorises all points at those hyper-parameters: O(m^3) per
    /// likelihood evaluation instead of O(n^3), what keeps BO's refits cheap at 1,000 points.
    std::size_t optimise_on_at_most = 0;
};

/// What the last fit did.
struct gp_fit_report {
    bool optimised = false;
    std::size_t starts = 0;
    std::size_t iterations = 0;
    std::size_t evaluations = 0; ///< log-marginal-likelihood evaluations, gradient included
    double log_marginal_likelihood = 0.0;
};

/// F maps a G to the kernel's input.
template <class F, class G, class K>
concept feature_map_for = std::invocable<const F&, const G&> &&
                          std::convertible_to < std::invoke_result_t<const F&, const G&>,
typename K::input > ;

namespace detail {

/// l (a Cholesky factor in its lower triangle) <- (l l^T)^-1, full and symmetric.
inline void cholesky_inverse_in_place(Eigen::MatrixXd& l) {
    cholesky_inverse_lower_in_place(l);
    symmetrise_from_lower(l);
}

} // namespace detail

/// Gaussian-process regression on genotypes mapped to kernel inputs (see the header comment).
template <Kernel K, class FeatureMap = identity_features>
class gp {
public:
    using kernel_type = K;
    using feature_map_type = FeatureMap;
    using input_type = typename K::input;
    using data_type = typename K::data;

    gp() requires std::default_initializable<K> && std::default_initializable<FeatureMap>
        : gp(K{}, FeatureMap{}, gp_options{}) {}

    explicit gp(K kernel, FeatureMap features = {}, const gp_options& options = {})
        : m_kernel(std::move(kernel)), m_features(std::move(features)), m_options(options) {
        check_range(options.signal_bounds, "signal_bounds");
        check_range(options.kernel_bounds, "kernel_bounds");
        check_range(options.noise_bounds, "noise_bounds");
        m_theta = detail::concat(
            detail::concat(
                Eigen::VectorXd::Constant(1, std::log(detail::check_positive(
                                                 options.signal_variance, "gp signal_variance"))),
                m_kernel.params()),
            Eigen::VectorXd::Constant(
                1, std::log(detail::check_positive(options.noise_variance, "gp noise_variance"))));
    }

    // -----------------------------------------------------------------------------------------
    // Fitting

    /// Fits on genotypes and targets; hyper-parameter restarts come from rng(options.seed).
    template <std::ranges::input_range R, std::ranges::input_range Y>
    requires feature_map_for<FeatureMap, std::ranges::range_value_t<R>, K> &&
        std::convertible_to < std::ranges::range_value_t<Y>,
    double > void fit(const R& xs, const Y& ys) {
        rng gen(m_options.seed);
        fit(xs, ys, gen);
    }

    /// Fits, drawing hyper-parameter restarts from `gen`.
    template <std::ranges::input_range R, std::ranges::input_range Y>
    requires feature_map_for<FeatureMap, std::ranges::range_value_t<R>, K> &&
        std::convertible_to < std::ranges::range_value_t<Y>,
    double > void fit(const R& xs, const Y& ys, rng& gen) {
        const std::vector<double> y(std::ranges::begin(ys), std::ranges::end(ys));
        auto inputs = map_features(xs);
        const std::size_t cap = m_options.optimise_on_at_most;
        if (!m_options.optimise || cap == 0 || inputs.size() <= cap || inputs.size() != y.size()) {
            fit_features(K::make_data(inputs), y, gen);
            return;
        }
        // Hyper-parameters from a random subset (kept in data order), then all points at them.
        std::vector<std::size_t> pick(inputs.size());
        std::iota(pick.begin(), pick.end(), std::size_t{0});
        for (std::size_t i = 0; i < cap; ++i)
            std::swap(pick[i], pick[i + uniform_index(gen, pick.size() - i)]);
        pick.resize(cap);
        std::ranges::sort(pick);
        std::vector<input_type> sub_x;
        std::vector<double> sub_y;
        for (const auto i : pick) {
            sub_x.push_back(inputs[i]);
            sub_y.push_back(y[i]);
        }
        // As every fit promises, a throw (say, a NaN target outside the subset) leaves the model
        // as it was: the subset fit has committed, so keep what to restore.
        const Eigen::VectorXd previous_theta = m_theta;
        const state previous_state = m_state;
        const gp_fit_report previous_report = m_report;
        fit_data(K::make_data(sub_x), sub_y, gen, true);
        const gp_fit_report search = m_report;
        try {
            fit_data(K::make_data(inputs), y, gen, false);
        } catch (...) {
            m_theta = previous_theta;
            m_state = previous_state;
            m_report = previous_report;
            m_kernel.set_params(kernel_part(m_theta));
            throw;
        }
        m_report.optimised = search.optimised;
        m_report.starts = search.starts;
        m_report.iterations = search.iterations;
        m_report.evaluations = search.evaluations;
    }

    /// Fits on precomputed kernel data (e.g. a feature matrix, one row per point).
    void fit_features(data_type x, std::span<const double> ys) {
        rng gen(m_options.seed);
        fit_features(std::move(x), ys, gen);
    }

    void fit_features(data_type x, std::span<const double> ys, rng& gen) {
        fit_data(std::move(x), ys, gen, m_options.optimise);
    }

    // -----------------------------------------------------------------------------------------
    // Prediction

    /// Posterior mean and latent variance at one genotype, in target units.
    template <class G>
    requires feature_map_for<FeatureMap, G, K>
    [[nodiscard]] prediction predict(const G& g) const {
        const input_type x = m_features(g);
        return predict_features(K::make_data(std::span<const input_type>(&x, 1)))[0];
    }

    /// Predictions for many genotypes (in blocks, to bound the memory of cross-covariances).
    template <std::ranges::input_range R>
    requires feature_map_for<FeatureMap, std::ranges::range_value_t<R>, K>
    [[nodiscard]] std::vector<prediction> predict_batch(const R& xs) const {
        std::vector<prediction> out;
        std::vector<input_type> block;
        auto flush = [&] {
            const auto p = predict_features(K::make_data(block));
            out.insert(out.end(), p.begin(), p.end());
            block.clear();
        };
        for (const auto& g : xs) {
            block.push_back(m_features(g));
            if (block.size() == 2048)
                flush();
        }
        if (!block.empty())
            flush();
        return out;
    }

    /// Predictions for precomputed kernel data.
    [[nodiscard]] std::vector<prediction> predict_features(const data_type& xs) const {
        require_fitted("predict");
        const auto m = static_cast<Eigen::Index>(K::size(xs));
        if (m == 0)
            return {};
        const double sf2 = std::exp(m_theta[0]);
        Eigen::MatrixXd ks = sf2 * m_kernel.cross(m_state.x, xs);
        const Eigen::VectorXd kss = sf2 * m_kernel.diag(xs);
        if (!ks.allFinite() || !kss.allFinite()) {
            throw std::invalid_argument("gp::predict: the kernel at the query points is not "
                                        "finite (are their features finite?)");
        }
        const Eigen::VectorXd mean = ks.transpose() * m_state.alpha;
        detail::solve_left_lower(m_state.l, ks);
        const Eigen::VectorXd var = kss - ks.colwise().squaredNorm().transpose();
        std::vector<prediction> out(static_cast<std::size_t>(m));
        const double s2 = m_state.y_scale * m_state.y_scale;
        for (Eigen::Index i = 0; i < m; ++i) {
            out[static_cast<std::size_t>(i)] = {m_state.y_mean + m_state.y_scale * mean[i],
                                                s2 * std::max(var[i], 0.0)};
        }
        return out;
    }

    // -----------------------------------------------------------------------------------------
    // Incremental update

    /// Adds one observation with the hyper-parameters fixed, in O(n^2) (see the header comment).
    template <class G>
    requires feature_map_for<FeatureMap, G, K>
    void add(const G& g, double y) { add_features(m_features(g), y); }

    void add_features(const input_type& x, double y) {
        require_fitted("add");
        if (!std::isfinite(y)) {
            throw std::invalid_argument("gp::add: target is " + std::to_string(y) +
                                        "; targets must be finite");
        }
        const data_type xd = K::make_data(std::span<const input_type>(&x, 1));
        const double sf2 = std::exp(m_theta[0]);
        const double sn2 = std::exp(m_theta[m_theta.size() - 1]);
        const Eigen::VectorXd k = sf2 * m_kernel.cross(m_state.x, xd).col(0);
        const double kss = sf2 * m_kernel.diag(xd)[0] + sn2 + m_state.jitter;
        if (!k.allFinite() || !std::isfinite(kss)) {
            throw std::invalid_argument("gp::add: the kernel at the new point is not finite "
                                        "(are its features finite?)");
        }
        state s = m_state;
        K::append(s.x, x);
        s.y.push_back(y);
        const Eigen::VectorXd row = s.l.template triangularView<Eigen::Lower>().solve(k);
        const double pivot = kss - row.squaredNorm();
        if (pivot > 0.0 && std::isfinite(pivot)) {
            const Eigen::Index n = s.l.rows();
            s.l.conservativeResize(n + 1, n + 1);
            s.l.row(n).head(n) = row.transpose();
            s.l.col(n).head(n).setZero();
            s.l(n, n) = std::sqrt(pivot);
        } else {
            // Numerically a repeat at this jitter: refactorise, climbing the jitter ladder.
            workspace ws{m_kernel};
            ws.gram = m_kernel.gram(s.x);
            ws.gram_params = m_kernel.params();
            s.l.resize(0, 0);
            standardise(s);
            factorise_state(s, m_theta, ws);
            m_state = std::move(s);
            return;
        }
        standardise(s);
        solve_alpha(s);
        s.lml = lml_value(s);
        m_state = std::move(s);
    }

    // -----------------------------------------------------------------------------------------
    // Hyper-parameters and diagnostics

    /// [log sf2, kernel parameters..., log sn2].
    [[nodiscard]] const Eigen::VectorXd& hyperparameters() const noexcept { return m_theta; }

    /// Sets theta; a fitted model is refactorised at once (its data kept).
    void set_hyperparameters(const Eigen::VectorXd& theta) {
        detail::check_param_count(theta, static_cast<std::size_t>(m_theta.size()), "gp");
        if (!theta.allFinite())
            throw std::invalid_argument("gp: hyper-parameters must be finite");
        if (fitted()) {
            state s = m_state;
            workspace ws{m_kernel};
            ws.kernel.set_params(kernel_part(theta));
            ws.gram = ws.kernel.gram(s.x);
            ws.gram_params = kernel_part(theta);
            factorise_state(s, theta, ws);
            m_state = std::move(s);
        }
        m_theta = theta;
        m_kernel.set_params(kernel_part(m_theta));
    }

    [[nodiscard]] double signal_variance() const { return std::exp(m_theta[0]); }
    [[nodiscard]] double noise_variance() const { return std::exp(m_theta[m_theta.size() - 1]); }
    [[nodiscard]] double target_mean() const noexcept { return m_state.y_mean; }
    [[nodiscard]] double target_scale() const noexcept { return m_state.y_scale; }
    [[nodiscard]] bool constant_targets() const noexcept { return m_state.constant; }
    /// The jitter added to K's diagonal by the last factorisation (0 when none was needed).
    [[nodiscard]] double jitter() const noexcept { return m_state.jitter; }
    [[nodiscard]] std::size_t size() const noexcept { return m_state.y.size(); }
    [[nodiscard]] bool fitted() const noexcept { return !m_state.y.empty(); }
    [[nodiscard]] const K& kernel() const noexcept { return m_kernel; }
    [[nodiscard]] const FeatureMap& features() const noexcept { return m_features; }
    [[nodiscard]] const gp_options& options() const noexcept { return m_options; }
    [[nodiscard]] const gp_fit_report& report() const noexcept { return m_report; }

    /// Log marginal likelihood of the standardised training targets at the current theta.
    [[nodiscard]] double log_marginal_likelihood() const {
        require_fitted("log_marginal_likelihood");
        return m_state.lml;
    }

    /// Log marginal likelihood at any theta on the training data, and its gradient if asked.
    /// Throws std::runtime_error where K cannot be factorised.
    [[nodiscard]] double log_marginal_likelihood(const Eigen::VectorXd& theta,
                                                 Eigen::VectorXd* gradient = nullptr) const {
        require_fitted("log_marginal_likelihood");
        detail::check_param_count(theta, static_cast<std::size_t>(m_theta.size()), "gp");
        workspace ws{m_kernel};
        const auto value = evaluate(m_state, theta, ws, gradient);
        if (!value)
            throw_not_positive_definite(theta);
        return *value;
    }

private:
    struct state {
        data_type x{};
        std::vector<double> y;
        Eigen::VectorXd y_std; ///< standardised targets
        double y_mean = 0.0;
        double y_scale = 1.0;
        bool constant = false;
        Eigen::MatrixXd l; ///< Cholesky factor (lower) of sf2 k(X, X) + (sn2 + jitter) I
        Eigen::VectorXd alpha;
        double jitter = 0.0;
        double lml = 0.0;
    };
    /// Scratch for one log-marginal-likelihood evaluation; the kernel's Gram is cached across
    /// evaluations that change only sf2 and sn2.
    struct workspace {
        K kernel;
        Eigen::VectorXd gram_params{};
        Eigen::MatrixXd gram{};
        Eigen::MatrixXd l{};
    };

    void fit_data(data_type x, std::span<const double> ys, rng& gen,
                  bool optimise_hyperparameters) {
        const std::size_t n = K::size(x);
        if (n == 0)
            throw std::invalid_argument("gp::fit: no training points (need at least one)");
        if (ys.size() != n) {
            throw std::invalid_argument("gp::fit: " + std::to_string(n) + " points but " +
                                        std::to_string(ys.size()) + " targets");
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (!std::isfinite(ys[i])) {
                throw std::invalid_argument("gp::fit: target " + std::to_string(i) + " is " +
                                            std::to_string(ys[i]) + "; targets must be finite");
            }
        }
        state s;
        s.x = std::move(x);
        s.y.assign(ys.begin(), ys.end());
        standardise(s);

        workspace ws{m_kernel};
        ws.kernel.set_params(kernel_part(m_theta));
        ws.gram = ws.kernel.gram(s.x);
        ws.gram_params = kernel_part(m_theta);
        if (!ws.gram.allFinite()) {
            throw std::invalid_argument(
                "gp::fit: the kernel matrix has non-finite entries (are the features finite?)");
        }

        gp_fit_report report;
        Eigen::VectorXd theta = m_theta;
        if (optimise_hyperparameters && !s.constant) {
            theta = optimise(s, ws, gen, report);
        }
        factorise_state(s, theta, ws);
        report.log_marginal_likelihood = s.lml;
        // Commit only now: a throw above leaves the model as it was.
        m_state = std::move(s);
        m_theta = std::move(theta);
        m_kernel.set_params(kernel_part(m_theta));
        m_report = report;
    }

    static void check_range(const bounds& b, const char* name) {
        if (!(b.lower > 0.0) || !(b.upper >= b.lower) || !std::isfinite(b.upper)) {
            throw std::invalid_argument(std::string("gp_options::") + name + " must satisfy 0 < " +
                                        "lower <= upper < inf, got [" + std::to_string(b.lower) +
                                        ", " + std::to_string(b.upper) + "]");
        }
    }
    void require_fitted(const char* what) const {
        if (!fitted())
            throw std::logic_error(std::string("gp::") + what + " called before fit");
    }
    [[noreturn]] static void throw_not_positive_definite(const Eigen::VectorXd& theta) {
        std::string t;
        for (Eigen::Index i = 0; i < theta.size(); ++i) {
            t += (i > 0 ? ", " : "") + std::to_string(theta[i]);
        }
        throw std::runtime_error("gp: the covariance matrix is not positive definite at log "
                                 "hyper-parameters [" +
                                 t +
                                 "], even with a jitter of 1e-2 times "
                                 "its mean diagonal");
    }

    [[nodiscard]] static Eigen::VectorXd kernel_part(const Eigen::VectorXd& theta) {
        return theta.segment(1, theta.size() - 2);
    }

    template <class R>
    [[nodiscard]] std::vector<input_type> map_features(const R& xs) const {
        std::vector<input_type> out;
        if constexpr (std::ranges::sized_range<R>)
            out.reserve(std::ranges::size(xs));
        for (const auto& g : xs)
            out.push_back(m_features(g));
        return out;
    }

    /// Mean, population standard deviation (as scikit-learn's normalize_y) and standardised y.
    static void standardise(state& s) {
        const auto n = static_cast<Eigen::Index>(s.y.size());
        // A copy, not a Map of the std::vector: Eigen's vectorised sums peel elements up to the
        // first aligned one, so over a buffer of malloc's alignment the order of additions (and
        // the last bits) would change from one allocation to the next. Eigen's own buffers are
        // aligned to its widest packet.
        const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(s.y.data(), n);
        s.y_mean = y.mean();
        const double sd = std::sqrt((y.array() - s.y_mean).square().mean());
        s.constant = !(sd > 1e-12 * std::max(1.0, std::abs(s.y_mean)));
        s.y_scale = s.constant ? 1.0 : sd;
        s.y_std = s.constant ? Eigen::VectorXd::Zero(n)
                             : Eigen::VectorXd((y.array() - s.y_mean) / s.y_scale);
    }

    /// Cholesky of sf2 G + sn2 I into l, climbing the jitter ladder; the jitter, or nullopt.
    static std::optional<double> factorise(const Eigen::MatrixXd& gram, double sf2, double sn2,
                                           Eigen::MatrixXd& l) {
        const double mean_diagonal = sf2 * gram.diagonal().mean() + sn2;
        if (!std::isfinite(mean_diagonal))
            return std::nullopt;
        double jitter = 0.0;
        for (int attempt = 0; attempt <= 7; ++attempt) {
            if (attempt > 0)
                jitter = std::pow(10.0, attempt - 9) * mean_diagonal; // 1e-8..1e-2
            l = sf2 * gram;
            l.diagonal().array() += sn2 + jitter;
            if (detail::cholesky_in_place(l))
                return jitter;
        }
        return std::nullopt;
    }

    static void solve_alpha(state& s) {
        s.alpha = s.l.template triangularView<Eigen::Lower>().solve(s.y_std);
        s.l.template triangularView<Eigen::Lower>().transpose().solveInPlace(s.alpha);
    }
    [[nodiscard]] static double lml_value(const state& s) {
        const auto n = static_cast<double>(s.y.size());
        return -0.5 * s.y_std.dot(s.alpha) - s.l.diagonal().array().log().sum() -
               0.5 * n * std::log(2.0 * std::numbers::pi);
    }

    /// Log marginal likelihood (and gradient) at theta; nullopt if K cannot be factorised.
    [[nodiscard]] static std::optional<double> evaluate(const state& s,
                                                        const Eigen::VectorXd& theta, workspace& ws,
                                                        Eigen::VectorXd* gradient) {
        const Eigen::VectorXd kp = kernel_part(theta);
        if (ws.gram.size() == 0 || ws.gram_params.size() != kp.size() || ws.gram_params != kp) {
            ws.kernel.set_params(kp);
            ws.gram = ws.kernel.gram(s.x);
            ws.gram_params = kp;
        }
        const double sf2 = std::exp(theta[0]);
        const double sn2 = std::exp(theta[theta.size() - 1]);
        if (!factorise(ws.gram, sf2, sn2, ws.l))
            return std::nullopt;
        auto lower = ws.l.template triangularView<Eigen::Lower>();
        Eigen::VectorXd alpha = lower.solve(s.y_std);
        lower.transpose().solveInPlace(alpha);
        const auto n = static_cast<double>(s.y_std.size());
        const double value = -0.5 * s.y_std.dot(alpha) - ws.l.diagonal().array().log().sum() -
                             0.5 * n * std::log(2.0 * std::numbers::pi);
        if (gradient != nullptr) {
            // d LML / d theta_p = 1/2 <alpha alpha^T - K^-1, dK/d theta_p>.
            // W = alpha alpha^T - K^-1 takes the factor's place, built column by column with
            // <W, G> and tr W on the way (each pass over n^2 memory costs).
            Eigen::MatrixXd& w = ws.l;
            detail::cholesky_inverse_lower_in_place(w);
            const Eigen::Index m = w.rows();
            double wg = 0.0;
            double trace = 0.0;
            for (Eigen::Index j = 0; j < m; ++j) {
                auto c = w.col(j).tail(m - j);
                c = alpha[j] * alpha.tail(m - j) - c;
                wg += 2.0 * c.dot(ws.gram.col(j).tail(m - j)) - c[0] * ws.gram(j, j);
                trace += c[0];
            }
            gradient->resize(theta.size());
            (*gradient)[0] = 0.5 * sf2 * wg;
            if (kp.size() > 0) {
                detail::symmetrise_from_lower(w);
                gradient->segment(1, kp.size()) = 0.5 * sf2 * ws.kernel.gradient_dot(s.x, w);
            }
            (*gradient)[theta.size() - 1] = 0.5 * sn2 * trace;
        }
        return value;
    }

    /// Final factorisation at theta into s (l with a clean upper triangle, alpha, lml).
    static void factorise_state(state& s, const Eigen::VectorXd& theta, workspace& ws) {
        const Eigen::VectorXd kp = kernel_part(theta);
        if (ws.gram.size() == 0 || ws.gram_params != kp) {
            ws.kernel.set_params(kp);
            ws.gram = ws.kernel.gram(s.x);
            ws.gram_params = kp;
        }
        const auto jitter =
            factorise(ws.gram, std::exp(theta[0]), std::exp(theta[theta.size() - 1]), s.l);
        if (!jitter)
            throw_not_positive_definite(theta);
        s.jitter = *jitter;
        s.l.template triangularView<Eigen::StrictlyUpper>().setZero();
        solve_alpha(s);
        s.lml = lml_value(s);
    }

    /// Maximises the log marginal likelihood from the current theta and the restarts.
    [[nodiscard]] Eigen::VectorXd optimise(const state& s, workspace& ws, rng& gen,
                                           gp_fit_report& report) const {
        const auto dims = m_theta.size();
        Eigen::VectorXd lower(dims);
        Eigen::VectorXd upper(dims);
        lower.setConstant(std::log(m_options.kernel_bounds.lower));
        upper.setConstant(std::log(m_options.kernel_bounds.upper));
        lower[0] = std::log(m_options.signal_bounds.lower);
        upper[0] = std::log(m_options.signal_bounds.upper);
        lower[dims - 1] = std::log(m_options.noise_bounds.lower);
        upper[dims - 1] = std::log(m_options.noise_bounds.upper);

        auto objective = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& gradient) {
            const auto value = evaluate(s, theta, ws, &gradient);
            if (!value)
                return std::numeric_limits<double>::infinity();
            gradient = -gradient;
            return -*value;
        };
        report.optimised = true;
        std::optional<lbfgs_result> best;
        for (std::size_t start = 0; start <= m_options.restarts; ++start) {
            Eigen::VectorXd x0 = m_theta;
            if (start > 0) {
                for (Eigen::Index i = 0; i < dims; ++i) {
                    x0[i] = lower[i] + (upper[i] - lower[i]) * uniform_real(gen);
                }
            }
            auto r = minimise_box(objective, x0, lower, upper, m_options.optimiser);
            ++report.starts;
            report.iterations += r.iterations;
            report.evaluations += r.evaluations;
            if (std::isfinite(r.value) && (!best || r.value < best->value))
                best = std::move(r);
        }
        if (!best)
            throw_not_positive_definite(m_theta);
        return best->x;
    }

    K m_kernel;
    FeatureMap m_features;
    gp_options m_options;
    Eigen::VectorXd m_theta;
    state m_state{};
    gp_fit_report m_report{};
};

} // namespace nascent::surrogate
