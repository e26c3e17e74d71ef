#pragma once
// Kernels for Gaussian-process surrogates, composed at compile time.
//
// A kernel is a small value type. Its hyper-parameters live in log space (`params()`), so an
// optimiser may move them freely and they stay positive, and it gives analytic derivatives of its
// Gram matrix with respect to them: `gram_gradient(x, p)` is dK/d(theta_p) as a matrix, and
// `gradient_dot(x, W)` is the vector of <W, dK/d(theta_p)> (sum of element-wise products) for
// all p at once, which is what the log-marginal-likelihood gradient needs and which kernels can
// compute without forming one n x n matrix per parameter.
//
// Kernels work on a *data* type holding many points (`K::data`, built from `K::input` values by
// `K::make_data`); for the vector kernels here the input is an Eigen::VectorXd and the data an
// Eigen::MatrixXd with one row per point, so Gram matrices come from matrix products.
//
//   rbf        exp(-r^2 / 2),                        r^2 = sum_d (x_d - x'_d)^2 / l_d^2
//   matern52   (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r)
//   hamming    exp(-(1/D) sum_d [x_d != x'_d] / l_d)  on categorical values (op choices), D columns
//   scaled<K>  s^2 K                                  (a variance of its own, for weighted sums)
//   a + b, a * b  -> sum_kernel<A, B>, product_kernel<A, B>   (types, not run-time trees)
//
// All of them have k(x, x) = 1 except `scaled` and sums; the GP multiplies the whole kernel by its
// own signal variance, so `scaled` is only needed to weight the terms of a sum.
// Limbo (Cully et al.) composes kernels the same way, as template parameters; the code is ours.

#include <Eigen/Dense>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace nascent::surrogate {

/// A kernel: see the header comment. W passed to gradient_dot is symmetric.
template <class K>
concept Kernel = std::copy_constructible<K> && requires {
    typename K::input;
    typename K::data;
} && requires(const K& k, K& mk, const typename K::data& d, typename K::data& md,
              const typename K::input& x, std::span<const typename K::input> xs,
              const Eigen::VectorXd& v, const Eigen::MatrixXd& w, std::size_t p) {
    { K::make_data(xs) } -> std::same_as<typename K::data>;
    K::append(md, x);
    { K::size(d) } -> std::convertible_to<std::size_t>;
    { k.num_params() } -> std::convertible_to<std::size_t>;
    { k.params() } -> std::same_as<Eigen::VectorXd>;
    mk.set_params(v);
    { k.gram(d) } -> std::same_as<Eigen::MatrixXd>;
    { k.cross(d, d) } -> std::same_as<Eigen::MatrixXd>;
    { k.diag(d) } -> std::same_as<Eigen::VectorXd>;
    { k.gram_gradient(d, p) } -> std::same_as<Eigen::MatrixXd>;
    { k.gradient_dot(d, w) } -> std::same_as<Eigen::VectorXd>;
};

/// The feature columns a kernel reads: [first, first + count); count 0 means "to the last one".
/// Lets a sum or product combine kernels on different parts of one feature vector.
struct columns {
    std::size_t first = 0;
    std::size_t count = 0;
};

namespace detail {

inline void check_param_count(const Eigen::VectorXd& v, std::size_t expected, const char* who) {
    if (static_cast<std::size_t>(v.size()) != expected) {
        throw std::invalid_argument(std::string(who) + ": " + std::to_string(v.size()) +
                                    " hyper-parameters given, " + std::to_string(expected) +
                                    " expected");
    }
}

inline double check_positive(double value, const char* what) {
    if (!(value > 0.0) || !std::isfinite(value)) {
        throw std::invalid_argument(std::string(what) + " must be positive and finite, got " +
                                    std::to_string(value));
    }
    return value;
}

/// [a; b] (Eigen's comma initialiser rejects empty blocks, which kernels without parameters have).
[[nodiscard]] inline Eigen::VectorXd concat(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    Eigen::VectorXd v(a.size() + b.size());
    v.head(a.size()) = a;
    v.tail(b.size()) = b;
    return v;
}

/// Mirrors the strictly lower triangle into the upper one (the products below fill the lower).
inline void symmetrise_from_lower(Eigen::MatrixXd& m) {
    m.triangularView<Eigen::StrictlyUpper>() = m.transpose();
}

} // namespace detail

/// Points as rows of a matrix: the data type of all vector kernels.
struct vector_data {
    using input = Eigen::VectorXd;
    using data = Eigen::MatrixXd; ///< one row per point

    [[nodiscard]] static data make_data(std::span<const input> xs) {
        if (xs.empty())
            return data(0, 0);
        const Eigen::Index dims = xs[0].size();
        data out(static_cast<Eigen::Index>(xs.size()), dims);
        for (std::size_t i = 0; i < xs.size(); ++i) {
            if (xs[i].size() != dims) {
                throw std::invalid_argument("feature vector " + std::to_string(i) + " has " +
                                            std::to_string(xs[i].size()) +
                                            " entries, the first one has " + std::to_string(dims));
            }
            out.row(static_cast<Eigen::Index>(i)) = xs[i].transpose();
        }
        return out;
    }
    static void append(data& m, const input& x) {
        if (m.rows() == 0) {
            m = x.transpose();
            return;
        }
        if (x.size() != m.cols()) {
            throw std::invalid_argument("feature vector has " + std::to_string(x.size()) +
                                        " entries, the data have " + std::to_string(m.cols()));
        }
        m.conservativeResize(m.rows() + 1, Eigen::NoChange);
        m.row(m.rows() - 1) = x.transpose();
    }
    [[nodiscard]] static std::size_t size(const data& m) noexcept {
        return static_cast<std::size_t>(m.rows());
    }
};

namespace detail {

/// The columns `cols` of x, checked against the data's width.
[[nodiscard]] inline auto column_view(const Eigen::MatrixXd& x, const columns& cols,
                                      const char* who) {
    const auto first = static_cast<Eigen::Index>(cols.first);
    const Eigen::Index count =
        cols.count == 0 ? x.cols() - first : static_cast<Eigen::Index>(cols.count);
    if (first < 0 || count <= 0 || first + count > x.cols()) {
        throw std::invalid_argument(
            std::string(who) + " reads columns [" + std::to_string(cols.first) + ", " +
            std::to_string(first + count) + ") but the features have " + std::to_string(x.cols()));
    }
    return x.middleCols(first, count);
}

/// Pairwise squared Euclidean distances of the rows of s in the lower triangle (i >= j); the
/// strict upper triangle is left as zeros. A rank update, then one pass over the columns (Gram
/// matrices are built, transformed and differentiated column by column, in as few passes over
/// n^2 memory as possible: at n = 1000 one pass costs about as much as the rank update).
[[nodiscard]] inline Eigen::MatrixXd lower_squared_distances(const Eigen::MatrixXd& s) {
    const Eigen::Index n = s.rows();
    Eigen::MatrixXd d = Eigen::MatrixXd::Zero(n, n);
    d.selfadjointView<Eigen::Lower>().rankUpdate(s, -2.0);
    const Eigen::ArrayXd norms = s.rowwise().squaredNorm();
    for (Eigen::Index j = 0; j < n; ++j) {
        auto c = d.col(j).tail(n - j).array();
        c = (c + norms.tail(n - j) + norms[j]).max(0.0); // cancellation can leave tiny negatives
        d(j, j) = 0.0;
    }
    return d;
}

/// Squared distances between the rows of a and those of b.
[[nodiscard]] inline Eigen::MatrixXd squared_distances(const Eigen::MatrixXd& a,
                                                       const Eigen::MatrixXd& b) {
    Eigen::MatrixXd d = -2.0 * a * b.transpose();
    const Eigen::ArrayXd na = a.rowwise().squaredNorm();
    const Eigen::ArrayXd nb = b.rowwise().squaredNorm();
    for (Eigen::Index j = 0; j < d.cols(); ++j) {
        d.col(j).array() = (d.col(j).array() + na + nb[j]).max(0.0);
    }
    return d;
}

} // namespace detail

// ---------------------------------------------------------------------------------------------
// Length-scales, shared by the stationary and Hamming kernels

namespace detail {
/// The hyper-parameters of a kernel with length-scales, in log space: one shared by every column,
/// or one per column read (ARD). `name` labels errors.
class lengthscale_parameters {
public:
    lengthscale_parameters(double initial, std::size_t ard, const char* name,
                           const char* initial_name)
        : m_log_lengthscales(
              Eigen::VectorXd::Constant(ard == 0 ? 1 : static_cast<Eigen::Index>(ard),
                                        std::log(check_positive(initial, initial_name)))),
          m_ard(ard > 0), m_name(name) {}

    [[nodiscard]] std::size_t num_params() const noexcept {
        return static_cast<std::size_t>(m_log_lengthscales.size());
    }
    [[nodiscard]] Eigen::VectorXd params() const { return m_log_lengthscales; }
    void set_params(const Eigen::VectorXd& v) {
        check_param_count(v, num_params(), m_name);
        m_log_lengthscales = v;
    }
    [[nodiscard]] Eigen::VectorXd lengthscales() const { return m_log_lengthscales.array().exp(); }

protected:
    [[nodiscard]] bool ard() const noexcept { return m_ard; }
    /// 1 / l_d for the `columns` read (one value without ARD; with it, their count must match).
    [[nodiscard]] Eigen::VectorXd inverse_lengthscales(Eigen::Index columns) const {
        if (m_ard && columns != m_log_lengthscales.size()) {
            throw std::invalid_argument(
                std::string(m_name) + " has " + std::to_string(m_log_lengthscales.size()) +
                " ARD length-scales but reads " + std::to_string(columns) + " columns");
        }
        // One length-scale: std::exp, as a scalar (bit-for-bit what the kernels always computed).
        if (!m_ard)
            return Eigen::VectorXd::Constant(1, std::exp(-m_log_lengthscales[0]));
        return (-m_log_lengthscales).array().exp();
    }

private:
    Eigen::VectorXd m_log_lengthscales;
    bool m_ard;
    const char* m_name;
};
} // namespace detail

// ---------------------------------------------------------------------------------------------
// Stationary kernels on Euclidean features

/// Options of rbf and matern52.
struct stationary_options {
    double lengthscale = 1.0; ///< initial length-scale (every dimension)
    std::size_t ard = 0;      ///< 0: one length-scale; d > 0: one per column, d columns read
    columns cols = {};
};

/// A kernel k = f(r^2) of the length-scale-weighted squared distance. `Profile` gives f and
/// the slope g with dk/d(log l_d) = g(r^2) * (x_d - x'_d)^2 / l_d^2.
template <class Profile>
class stationary : public vector_data, public detail::lengthscale_parameters {
public:
    using options = stationary_options;

    stationary() : stationary(options{}) {}
    explicit stationary(const options& o)
        : lengthscale_parameters(o.lengthscale, o.ard, Profile::name, Profile::name),
          m_cols(o.cols) {}

    [[nodiscard]] Eigen::MatrixXd gram(const data& x) const {
        Eigen::MatrixXd k = detail::lower_squared_distances(scaled(x));
        const Eigen::Index n = k.rows();
        for (Eigen::Index j = 0; j < n; ++j)
            Profile::value(k.col(j).tail(n - j).array());
        detail::symmetrise_from_lower(k);
        return k;
    }
    [[nodiscard]] Eigen::MatrixXd cross(const data& a, const data& b) const {
        Eigen::MatrixXd k = detail::squared_distances(scaled(a), scaled(b));
        for (Eigen::Index j = 0; j < k.cols(); ++j)
            Profile::value(k.col(j).array());
        return k;
    }
    [[nodiscard]] Eigen::VectorXd diag(const data& x) const {
        return Eigen::VectorXd::Ones(x.rows()); // f(0) = 1
    }

    [[nodiscard]] Eigen::MatrixXd gram_gradient(const data& x, std::size_t p) const {
        check_index(p);
        const Eigen::MatrixXd s = scaled(x);
        Eigen::MatrixXd r2 = detail::lower_squared_distances(s);
        detail::symmetrise_from_lower(r2);
        Eigen::ArrayXXd slope = r2.array();
        Profile::slope(slope);
        if (!ard())
            return (slope * r2.array()).matrix();
        Eigen::MatrixXd dp = detail::lower_squared_distances(s.col(static_cast<Eigen::Index>(p)));
        detail::symmetrise_from_lower(dp);
        return (slope * dp.array()).matrix();
    }

    [[nodiscard]] Eigen::VectorXd gradient_dot(const data& x, const Eigen::MatrixXd& w) const {
        const Eigen::MatrixXd s = scaled(x);
        Eigen::MatrixXd r2 = detail::lower_squared_distances(s);
        const Eigen::Index n = r2.rows();
        Eigen::ArrayXd slope(n);
        if (!ard()) {
            // <W, slope o r2>, from the strict lower triangle (r2 = 0 on the diagonal).
            double sum = 0.0;
            for (Eigen::Index j = 0; j < n; ++j) {
                const auto r = r2.col(j).tail(n - j).array();
                auto g = slope.head(n - j);
                g = r;
                Profile::slope(g);
                sum += (w.col(j).tail(n - j).array() * g * r).sum();
            }
            return Eigen::VectorXd::Constant(1, 2.0 * sum);
        }
        // M = W o slope, then sum_ij M_ij (s_id - s_jd)^2 = 2 sum_i rowsum(M)_i s_id^2 -
        // 2 (s^T M s)_dd for symmetric M: one matrix product for all dimensions at once.
        Eigen::MatrixXd& m = r2;
        for (Eigen::Index j = 0; j < n; ++j) {
            auto c = m.col(j).tail(n - j).array();
            Profile::slope(c);
            c *= w.col(j).tail(n - j).array();
        }
        detail::symmetrise_from_lower(m);
        const Eigen::VectorXd rows = m.rowwise().sum();
        const Eigen::MatrixXd ms = m * s;
        return 2.0 * (s.array().square().colwise() * rows.array()).colwise().sum().transpose() -
               2.0 * (s.array() * ms.array()).colwise().sum().transpose();
    }

private:
    void check_index(std::size_t p) const {
        if (p >= num_params()) {
            throw std::out_of_range(std::string(Profile::name) + ": no hyper-parameter " +
                                    std::to_string(p));
        }
    }
    /// The columns read, divided by their length-scales.
    [[nodiscard]] Eigen::MatrixXd scaled(const data& x) const {
        const auto v = detail::column_view(x, m_cols, Profile::name);
        const Eigen::VectorXd inverse = inverse_lengthscales(v.cols());
        if (!ard())
            return v * inverse[0];
        return v * inverse.asDiagonal();
    }

    columns m_cols;
};

namespace detail {
// Profiles transform an array of r^2 in place into k (value) or into the slope g of
// dk/d(log l_d) = g(r^2) (x_d - x'_d)^2 / l_d^2.
struct squared_exponential_profile {
    static constexpr const char* name = "rbf";
    template <class A>
    static void value(A&& r2) {
        r2 = (-0.5 * r2).exp();
    }
    template <class A>
    static void slope(A&& r2) {
        r2 = (-0.5 * r2).exp();
    }
};
struct matern52_profile {
    static constexpr const char* name = "matern52";
    // With u = sqrt(5) r: k = (1 + u + u^2 / 3) e^-u and g = 5/3 (1 + u) e^-u.
    template <class A>
    static void value(A&& r2) {
        const auto u = (5.0 * r2).sqrt().eval();
        r2 = (1.0 + u + u.square() / 3.0) * (-u).exp();
    }
    template <class A>
    static void slope(A&& r2) {
        const auto u = (5.0 * r2).sqrt().eval();
        r2 = (5.0 / 3.0) * (1.0 + u) * (-u).exp();
    }
};
} // namespace detail

/// Squared exponential (Gaussian) kernel, optionally with ARD length-scales.
using rbf = stationary<detail::squared_exponential_profile>;
/// Matérn kernel with smoothness 5/2 (the default of most BO libraries), optionally ARD.
using matern52 = stationary<detail::matern52_profile>;

// ---------------------------------------------------------------------------------------------
// Categorical kernel

/// Options of the Hamming kernel.
struct hamming_options {
    double lengthscale = 1.0; ///< initial length-scale (every position)
    std::size_t ard = 0;      ///< 0: one length-scale; d > 0: one per position read
    columns cols = {};
};

/// Exponentiated Hamming kernel on categorical features (op choices stored as numbers and
/// compared for equality): k = exp(-(1/D) sum_d [x_d != x'_d] / l_d) over the D positions read.
/// It is a product of per-position kernels (1 - e^-c) [x = x'] + e^-c, each positive
/// semi-definite, so it is a valid kernel for any l > 0; k(x, x) = 1, and two cells that differ in
/// m of D positions get exp(-m / (D l)) with one length-scale. (The plain "overlap" kernel of
/// CoCaBO, (1/D) sum_d [x_d = x'_d], is its first-order expansion; the exponential form lets the
/// length-scale decide how fast similarity decays with the number of changed edges.)
class hamming : public vector_data, public detail::lengthscale_parameters {
public:
    using options = hamming_options;

    hamming() : hamming(options{}) {}
    explicit hamming(const options& o)
        : lengthscale_parameters(o.lengthscale, o.ard, "hamming", "hamming lengthscale"),
          m_cols(o.cols) {}

    [[nodiscard]] Eigen::MatrixXd gram(const data& x) const { return cross(x, x); }
    [[nodiscard]] Eigen::MatrixXd cross(const data& a, const data& b) const {
        return (-weighted_mismatches(a, b).array()).exp().matrix();
    }
    [[nodiscard]] Eigen::VectorXd diag(const data& x) const {
        return Eigen::VectorXd::Ones(x.rows());
    }

    [[nodiscard]] Eigen::MatrixXd gram_gradient(const data& x, std::size_t p) const {
        if (p >= num_params()) {
            throw std::out_of_range("hamming: no hyper-parameter " + std::to_string(p));
        }
        const Eigen::MatrixXd h = weighted_mismatches(x, x);
        const Eigen::ArrayXXd k = (-h.array()).exp();
        // d/d(log l_d) of -w_d [x_d != x'_d] with w_d = 1 / (D l_d) is +w_d [x_d != x'_d].
        if (!ard())
            return (k * h.array()).matrix();
        const auto v = detail::column_view(x, m_cols, "hamming");
        return (k * mismatches(v.col(static_cast<Eigen::Index>(p)),
                               v.col(static_cast<Eigen::Index>(p)), weights(v.cols())[p])
                        .array())
            .matrix();
    }

    [[nodiscard]] Eigen::VectorXd gradient_dot(const data& x, const Eigen::MatrixXd& w) const {
        const Eigen::MatrixXd h = weighted_mismatches(x, x);
        const Eigen::ArrayXXd m = w.array() * (-h.array()).exp();
        if (!ard())
            return Eigen::VectorXd::Constant(1, (m * h.array()).sum());
        const auto v = detail::column_view(x, m_cols, "hamming");
        const Eigen::VectorXd wd = weights(v.cols());
        Eigen::VectorXd out(v.cols());
        for (Eigen::Index d = 0; d < v.cols(); ++d) {
            out[d] = (m * mismatches(v.col(d), v.col(d), wd[d]).array()).sum();
        }
        return out;
    }

private:
    /// Per-position weights 1 / (D l_d).
    [[nodiscard]] Eigen::VectorXd weights(Eigen::Index positions) const {
        const Eigen::VectorXd w = inverse_lengthscales(positions) / static_cast<double>(positions);
        return ard() ? w : Eigen::VectorXd::Constant(positions, w[0]);
    }
    template <class A, class B>
    [[nodiscard]] static Eigen::MatrixXd mismatches(const A& a, const B& b, double weight) {
        Eigen::MatrixXd out(a.size(), b.size());
        for (Eigen::Index j = 0; j < b.size(); ++j) {
            const double bj = b[j];
            for (Eigen::Index i = 0; i < a.size(); ++i)
                out(i, j) = a[i] != bj ? weight : 0.0;
        }
        return out;
    }
    /// sum_d w_d [a_id != b_jd]
    [[nodiscard]] Eigen::MatrixXd weighted_mismatches(const data& a, const data& b) const {
        const auto va = detail::column_view(a, m_cols, "hamming");
        const auto vb = detail::column_view(b, m_cols, "hamming");
        if (va.cols() != vb.cols()) {
            throw std::invalid_argument("hamming: points with " + std::to_string(va.cols()) +
                                        " and " + std::to_string(vb.cols()) + " positions");
        }
        const Eigen::VectorXd wd = weights(va.cols());
        Eigen::MatrixXd h = Eigen::MatrixXd::Zero(va.rows(), vb.rows());
        for (Eigen::Index d = 0; d < va.cols(); ++d) {
            for (Eigen::Index j = 0; j < vb.rows(); ++j) {
                const double bj = vb(j, d);
                for (Eigen::Index i = 0; i < va.rows(); ++i) {
                    h(i, j) += va(i, d) != bj ? wd[d] : 0.0;
                }
            }
        }
        return h;
    }

    columns m_cols;
};

// ---------------------------------------------------------------------------------------------
// Composition

/// s^2 k: a kernel with a variance of its own (log s^2 first, then k's parameters).
template <Kernel K>
class scaled {
public:
    using input = typename K::input;
    using data = typename K::data;

    scaled() = default;
    explicit scaled(K inner, double variance = 1.0)
        : m_inner(std::move(inner)),
          m_log_variance(std::log(detail::check_positive(variance, "scaled variance"))) {}

    [[nodiscard]] static data make_data(std::span<const input> xs) { return K::make_data(xs); }
    static void append(data& d, const input& x) { K::append(d, x); }
    [[nodiscard]] static std::size_t size(const data& d) { return K::size(d); }

    [[nodiscard]] std::size_t num_params() const { return 1 + m_inner.num_params(); }
    [[nodiscard]] Eigen::VectorXd params() const {
        return detail::concat(Eigen::VectorXd::Constant(1, m_log_variance), m_inner.params());
    }
    void set_params(const Eigen::VectorXd& v) {
        detail::check_param_count(v, num_params(), "scaled");
        m_log_variance = v[0];
        m_inner.set_params(v.tail(v.size() - 1));
    }
    [[nodiscard]] double variance() const { return std::exp(m_log_variance); }
    [[nodiscard]] const K& inner() const noexcept { return m_inner; }

    [[nodiscard]] Eigen::MatrixXd gram(const data& x) const { return variance() * m_inner.gram(x); }
    [[nodiscard]] Eigen::MatrixXd cross(const data& a, const data& b) const {
        return variance() * m_inner.cross(a, b);
    }
    [[nodiscard]] Eigen::VectorXd diag(const data& x) const { return variance() * m_inner.diag(x); }
    [[nodiscard]] Eigen::MatrixXd gram_gradient(const data& x, std::size_t p) const {
        return p == 0 ? gram(x) : Eigen::MatrixXd(variance() * m_inner.gram_gradient(x, p - 1));
    }
    [[nodiscard]] Eigen::VectorXd gradient_dot(const data& x, const Eigen::MatrixXd& w) const {
        return detail::concat(
            Eigen::VectorXd::Constant(1, variance() * (w.array() * m_inner.gram(x).array()).sum()),
            variance() * m_inner.gradient_dot(x, w));
    }

private:
    K m_inner{};
    double m_log_variance = 0.0;
};

/// Two kernels on the same data type; parameters of A first, then those of B.
template <Kernel A, Kernel B>
requires std::same_as<typename A::data, typename B::data> &&
    std::same_as<typename A::input, typename B::input>
class kernel_pair {
public:
    using input = typename A::input;
    using data = typename A::data;

    kernel_pair() = default;
    kernel_pair(A a, B b) : m_a(std::move(a)), m_b(std::move(b)) {}

    [[nodiscard]] static data make_data(std::span<const input> xs) { return A::make_data(xs); }
    static void append(data& d, const input& x) { A::append(d, x); }
    [[nodiscard]] static std::size_t size(const data& d) { return A::size(d); }

    [[nodiscard]] std::size_t num_params() const { return m_a.num_params() + m_b.num_params(); }
    [[nodiscard]] Eigen::VectorXd params() const {
        return detail::concat(m_a.params(), m_b.params());
    }
    void set_params(const Eigen::VectorXd& v) {
        detail::check_param_count(v, num_params(), "composite kernel");
        const auto na = static_cast<Eigen::Index>(m_a.num_params());
        m_a.set_params(v.head(na));
        m_b.set_params(v.tail(v.size() - na));
    }
    [[nodiscard]] const A& first() const noexcept { return m_a; }
    [[nodiscard]] const B& second() const noexcept { return m_b; }

protected:
    A m_a{};
    B m_b{};
};

/// k_a + k_b.
template <Kernel A, Kernel B>
class sum_kernel : public kernel_pair<A, B> {
public:
    using typename kernel_pair<A, B>::data;
    using kernel_pair<A, B>::kernel_pair;

    [[nodiscard]] Eigen::MatrixXd gram(const data& x) const {
        return this->m_a.gram(x) + this->m_b.gram(x);
    }
    [[nodiscard]] Eigen::MatrixXd cross(const data& a, const data& b) const {
        return this->m_a.cross(a, b) + this->m_b.cross(a, b);
    }
    [[nodiscard]] Eigen::VectorXd diag(const data& x) const {
        return this->m_a.diag(x) + this->m_b.diag(x);
    }
    [[nodiscard]] Eigen::MatrixXd gram_gradient(const data& x, std::size_t p) const {
        const std::size_t na = this->m_a.num_params();
        return p < na ? this->m_a.gram_gradient(x, p) : this->m_b.gram_gradient(x, p - na);
    }
    [[nodiscard]] Eigen::VectorXd gradient_dot(const data& x, const Eigen::MatrixXd& w) const {
        return detail::concat(this->m_a.gradient_dot(x, w), this->m_b.gradient_dot(x, w));
    }
};

/// k_a * k_b (element-wise): d(k_a k_b) = dk_a k_b + k_a dk_b.
template <Kernel A, Kernel B>
class product_kernel : public kernel_pair<A, B> {
public:
    using typename kernel_pair<A, B>::data;
    using kernel_pair<A, B>::kernel_pair;

    [[nodiscard]] Eigen::MatrixXd gram(const data& x) const {
        return this->m_a.gram(x).cwiseProduct(this->m_b.gram(x));
    }
    [[nodiscard]] Eigen::MatrixXd cross(const data& a, const data& b) const {
        return this->m_a.cross(a, b).cwiseProduct(this->m_b.cross(a, b));
    }
    [[nodiscard]] Eigen::VectorXd diag(const data& x) const {
        return this->m_a.diag(x).cwiseProduct(this->m_b.diag(x));
    }
    [[nodiscard]] Eigen::MatrixXd gram_gradient(const data& x, std::size_t p) const {
        const std::size_t na = this->m_a.num_params();
        return p < na ? this->m_a.gram_gradient(x, p).cwiseProduct(this->m_b.gram(x))
                      : this->m_b.gram_gradient(x, p - na).cwiseProduct(this->m_a.gram(x));
    }
    [[nodiscard]] Eigen::VectorXd gradient_dot(const data& x, const Eigen::MatrixXd& w) const {
        // <W, dk_a o k_b> = <W o k_b, dk_a>: each factor sees W weighted by the other's Gram.
        return detail::concat(this->m_a.gradient_dot(x, w.cwiseProduct(this->m_b.gram(x))),
                              this->m_b.gradient_dot(x, w.cwiseProduct(this->m_a.gram(x))));
    }
};

/// `rbf{} + hamming{}` is a sum_kernel<rbf, hamming>: the composition is a type.
template <Kernel A, Kernel B>
requires std::same_as<typename A::data, typename B::data>
[[nodiscard]] sum_kernel<A, B> operator+(const A& a, const B& b) {
    return {a, b};
}
/// `rbf{} * hamming{}` is a product_kernel<rbf, hamming>.
template <Kernel A, Kernel B>
requires std::same_as<typename A::data, typename B::data>
[[nodiscard]] product_kernel<A, B> operator*(const A& a, const B& b) {
    return {a, b};
}

static_assert(Kernel<rbf> && Kernel<matern52> && Kernel<hamming>);
static_assert(Kernel<sum_kernel<rbf, hamming>> && Kernel<product_kernel<scaled<rbf>, matern52>>);

} // namespace nascent::surrogate
