#include "test_data.hpp"

#include <nascent/concepts.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/surrogate/gp.hpp>
#include <nascent/surrogate/wl_kernel.hpp>

#include <doctest/doctest.h>

#include <tbb/global_control.h>

#include <Eigen/Dense>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace nb201 = nascent::nb201;
namespace sg = nascent::surrogate;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

using hamming_gp = sg::gp<sg::hamming, sg::edge_ops<nb201::space>>;
using wl_gp = sg::gp<sg::wl_kernel, sg::wl_feature_map<nb201::space>>;
/// Matérn on 3 continuous columns plus Hamming on the categorical rest (one GP type for the
/// tests on composite kernels: each GP type costs seconds of compile time).
using mixed_kernel = sg::sum_kernel<sg::scaled<sg::matern52>, sg::scaled<sg::hamming>>;

// The GP is a surrogate of NB201 cells with a cell feature map, and of feature vectors without.
static_assert(nascent::Surrogate<hamming_gp, nb201::cell>);
static_assert(nascent::Surrogate<wl_gp, nb201::cell>);
static_assert(nascent::Surrogate<sg::gp<sg::rbf>, VectorXd>);
// ...but not of a genotype its feature map cannot read.
static_assert(!nascent::Surrogate<hamming_gp, std::string>);
static_assert(!nascent::Surrogate<sg::gp<sg::rbf>, nb201::cell>);
static_assert(!sg::Kernel<int>);
// Composition is a type.
static_assert(
    std::same_as<decltype(sg::rbf{} + sg::hamming{}), sg::sum_kernel<sg::rbf, sg::hamming>>);
static_assert(std::same_as<decltype(sg::scaled<sg::rbf>{} * sg::matern52{}),
                           sg::product_kernel<sg::scaled<sg::rbf>, sg::matern52>>);

MatrixXd random_matrix(nascent::rng& gen, Eigen::Index rows, Eigen::Index cols) {
    MatrixXd m(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j) {
        for (Eigen::Index i = 0; i < rows; ++i)
            m(i, j) = 2.0 * nascent::uniform_real(gen) - 1.0;
    }
    return m;
}

/// Rows: 3 continuous columns, then 4 categorical ones with values 0..2.
MatrixXd mixed_data(nascent::rng& gen, Eigen::Index n) {
    MatrixXd x(n, 7);
    x.leftCols(3) = random_matrix(gen, n, 3);
    for (Eigen::Index i = 0; i < n; ++i) {
        for (Eigen::Index d = 3; d < 7; ++d) {
            x(i, d) = static_cast<double>(nascent::uniform_index(gen, 3));
        }
    }
    return x;
}

std::vector<VectorXd> rows_of(const MatrixXd& x) {
    std::vector<VectorXd> out;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        out.emplace_back(x.row(i).transpose());
    return out;
}

/// Checks gram_gradient against central differences and gradient_dot against gram_gradient.
template <sg::Kernel K>
void check_kernel_gradients(K k, const typename K::data& x) {
    const VectorXd theta = k.params();
    REQUIRE(static_cast<std::size_t>(theta.size()) == k.num_params());
    MatrixXd w = MatrixXd::Random(static_cast<Eigen::Index>(K::size(x)),
                                  static_cast<Eigen::Index>(K::size(x)));
    w = (w + w.transpose()).eval();
    const VectorXd dots = k.gradient_dot(x, w);
    REQUIRE(dots.size() == theta.size());
    for (Eigen::Index p = 0; p < theta.size(); ++p) {
        const double h = 1e-5;
        K plus = k;
        K minus = k;
        VectorXd tp = theta;
        VectorXd tm = theta;
        tp[p] += h;
        tm[p] -= h;
        plus.set_params(tp);
        minus.set_params(tm);
        const MatrixXd fd = (plus.gram(x) - minus.gram(x)) / (2 * h);
        const MatrixXd analytic = k.gram_gradient(x, static_cast<std::size_t>(p));
        CHECK_MESSAGE((fd - analytic).cwiseAbs().maxCoeff() < 1e-7, "parameter " << p);
        CHECK(dots[p] == doctest::Approx((w.array() * analytic.array()).sum()).epsilon(1e-10));
    }
    // cross(x, x) is the Gram matrix, diag its diagonal.
    CHECK((k.cross(x, x) - k.gram(x)).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((k.diag(x) - k.gram(x).diagonal()).cwiseAbs().maxCoeff() < 1e-12);
}

double min_eigenvalue(const MatrixXd& k) {
    return Eigen::SelfAdjointEigenSolver<MatrixXd>(k, Eigen::EigenvaluesOnly)
        .eigenvalues()
        .minCoeff();
}

using nascent::kendall_tau;

std::vector<nb201::cell> distinct_cells(nascent::rng& gen, std::size_t n) {
    std::vector<std::uint64_t> ids(nb201::num_cells);
    for (std::uint64_t i = 0; i < ids.size(); ++i)
        ids[i] = i;
    nascent::shuffle(ids.begin(), ids.end(), gen);
    std::vector<nb201::cell> out;
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(nb201::space::at(ids[i]));
    return out;
}

/// Edges on an input -> output path whose op is `op` (computed from the cell directly).
int count_live(const nb201::cell& c, std::uint8_t op) {
    std::array<bool, 4> from_input{true, false, false, false};
    std::array<bool, 4> to_output{false, false, false, true};
    for (std::size_t e = 0; e < nb201::num_edges; ++e) { // edges are ordered by target node
        const auto [a, b] = nb201::edge_nodes[e];
        from_input[b] = from_input[b] || (from_input[a] && c[e] != nb201::none);
    }
    for (std::size_t e = nb201::num_edges; e-- > 0;) { // ...so backwards by source is safe too
        const auto [a, b] = nb201::edge_nodes[e];
        to_output[a] = to_output[a] || (to_output[b] && c[e] != nb201::none);
    }
    int k = 0;
    for (std::size_t e = 0; e < nb201::num_edges; ++e) {
        const auto [a, b] = nb201::edge_nodes[e];
        k += c[e] == op && from_input[a] && to_output[b] ? 1 : 0;
    }
    return k;
}

int count_op(const nb201::cell& c, std::uint8_t op) {
    int k = 0;
    for (std::size_t e = 0; e < nb201::num_edges; ++e)
        k += c[e] == op ? 1 : 0;
    return k;
}

/// A kernel that is not positive definite, to exercise the jitter ladder's failure.
struct negative_kernel : sg::vector_data {
    [[nodiscard]] static std::size_t num_params() { return 0; }
    [[nodiscard]] static VectorXd params() { return VectorXd(0); }
    static void set_params(const VectorXd&) {}
    [[nodiscard]] static MatrixXd gram(const MatrixXd& x) {
        return -MatrixXd::Identity(x.rows(), x.rows());
    }
    [[nodiscard]] static MatrixXd cross(const MatrixXd& a, const MatrixXd& b) {
        return MatrixXd::Zero(a.rows(), b.rows());
    }
    [[nodiscard]] static VectorXd diag(const MatrixXd& x) { return -VectorXd::Ones(x.rows()); }
    [[nodiscard]] static MatrixXd gram_gradient(const MatrixXd&, std::size_t) { return {}; }
    [[nodiscard]] static VectorXd gradient_dot(const MatrixXd&, const MatrixXd&) {
        return VectorXd(0);
    }
};
static_assert(sg::Kernel<negative_kernel>);

} // namespace

// ---------------------------------------------------------------------------------------------
// Kernels

TEST_CASE("kernels: values by hand") {
    MatrixXd x(2, 2);
    x << 0.0, 0.0, 1.0, 2.0; // squared distance 5
    const sg::rbf rbf({.lengthscale = 2.0});
    CHECK(rbf.gram(x)(0, 1) == doctest::Approx(std::exp(-5.0 / 8.0)).epsilon(1e-14));
    const sg::rbf ard({.lengthscale = 1.0, .ard = 2});
    auto ard2 = ard;
    ard2.set_params(VectorXd(Eigen::Vector2d(std::log(1.0), std::log(2.0))));
    CHECK(ard2.gram(x)(0, 1) == doctest::Approx(std::exp(-0.5 * (1.0 + 4.0 / 4.0))).epsilon(1e-14));
    const double u = std::sqrt(5.0) * std::sqrt(5.0) / 2.0; // sqrt(5) r, r = sqrt(5) / 2
    CHECK(sg::matern52({.lengthscale = 2.0}).gram(x)(0, 1) ==
          doctest::Approx((1 + u + u * u / 3) * std::exp(-u)).epsilon(1e-14));
    CHECK(sg::matern52{}.gram(x)(1, 1) == 1.0);

    // Two NB201 cells that differ on 2 of 6 edges.
    const auto a = nb201::space::parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_"
                                       "connect~0|nor_conv_3x3~1|nor_conv_1x1~2|");
    const auto b = nb201::space::parse(
        "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|");
    const sg::edge_ops<nb201::space> ops;
    const std::vector<VectorXd> cells{ops(a), ops(b)};
    const auto data = sg::hamming::make_data(cells);
    CHECK(sg::hamming({.lengthscale = 0.5}).gram(data)(0, 1) ==
          doctest::Approx(std::exp(-2.0 / (6.0 * 0.5))).epsilon(1e-14));
    CHECK(sg::hamming{}.gram(data)(1, 1) == 1.0);
    const sg::edge_onehot<nb201::space> onehot;
    CHECK(onehot(a).size() == 30);
    CHECK(onehot(a).sum() == 6.0);
    CHECK((onehot(a) - onehot(b)).squaredNorm() == 4.0);
}

TEST_CASE("kernels: Gram gradients agree with central differences, composites included") {
    nascent::rng gen(7);
    const MatrixXd x = mixed_data(gen, 12);
    const sg::columns cont{.first = 0, .count = 3};
    const sg::columns cat{.first = 3};
    check_kernel_gradients(sg::rbf({.lengthscale = 0.7, .cols = cont}), x);
    check_kernel_gradients(sg::rbf({.lengthscale = 0.7, .ard = 3, .cols = cont}), x);
    check_kernel_gradients(sg::matern52({.lengthscale = 1.3, .cols = cont}), x);
    check_kernel_gradients(sg::matern52({.lengthscale = 1.3, .ard = 3, .cols = cont}), x);
    check_kernel_gradients(sg::hamming({.lengthscale = 0.8, .cols = cat}), x);
    check_kernel_gradients(sg::hamming({.lengthscale = 0.8, .ard = 4, .cols = cat}), x);

    auto mixed = sg::scaled(sg::rbf({.ard = 3, .cols = cont}), 0.5) +
                 sg::scaled(sg::hamming({.cols = cat}), 2.0);
    VectorXd theta = mixed.params();
    REQUIRE(theta.size() == 6);
    theta << 0.2, -0.3, 0.1, 0.4, -0.5, 0.3; // distinct length-scales
    mixed.set_params(theta);
    check_kernel_gradients(mixed, x);
    check_kernel_gradients(
        sg::matern52({.ard = 3, .cols = cont}) * sg::hamming({.ard = 4, .cols = cat}), x);
    check_kernel_gradients(sg::scaled(sg::rbf({.cols = cont}) * sg::hamming({.cols = cat}), 1.7),
                           x);
}

TEST_CASE("kernels: Gram matrices are positive semi-definite, bad shapes are rejected") {
    nascent::rng gen(3);
    const MatrixXd x = mixed_data(gen, 40);
    const sg::columns cont{.first = 0, .count = 3};
    CHECK(min_eigenvalue(sg::rbf({.cols = cont}).gram(x)) > -1e-10);
    CHECK(min_eigenvalue(sg::matern52({.lengthscale = 0.3, .cols = cont}).gram(x)) > -1e-10);
    CHECK(min_eigenvalue(sg::hamming({.lengthscale = 0.2, .cols = {.first = 3}}).gram(x)) > -1e-10);

    CHECK_THROWS_WITH_AS((void)sg::rbf({.cols = {.first = 5, .count = 3}}).gram(x),
                         doctest::Contains("reads columns [5, 8) but the features have 7"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)sg::rbf({.ard = 2}).gram(x),
                         doctest::Contains("2 ARD length-scales but reads 7 columns"),
                         std::invalid_argument);
    CHECK_THROWS_AS(sg::rbf({.lengthscale = -1.0}), std::invalid_argument);
    sg::rbf k;
    CHECK_THROWS_WITH_AS(k.set_params(VectorXd::Zero(2)),
                         doctest::Contains("2 hyper-parameters given, 1 expected"),
                         std::invalid_argument);
    const std::vector<VectorXd> ragged{VectorXd::Zero(3), VectorXd::Zero(4)};
    CHECK_THROWS_WITH_AS((void)sg::rbf::make_data(ragged),
                         doctest::Contains("feature vector 1 has 4 entries, the first one has 3"),
                         std::invalid_argument);
}

TEST_CASE("linear algebra: the blocked Cholesky inverse equals the dense inverse") {
    nascent::rng gen(11);
    for (const Eigen::Index n : {5, 64, 65, 150, 301}) {
        const MatrixXd a = random_matrix(gen, n, n);
        const MatrixXd spd = a * a.transpose() + static_cast<double>(n) * MatrixXd::Identity(n, n);
        MatrixXd l = spd.llt().matrixL();
        sg::detail::cholesky_inverse_in_place(l);
        CHECK_MESSAGE((l - spd.inverse()).cwiseAbs().maxCoeff() < 1e-12, "n = " << n);
        CHECK((l - l.transpose()).cwiseAbs().maxCoeff() == 0.0);
    }
}

TEST_CASE("linear algebra: the recursive Cholesky factorises, detects indefiniteness and does "
          "not depend on the number of threads") {
    nascent::rng gen(12);
    const Eigen::Index n = 700; // three levels of recursion
    const MatrixXd a = random_matrix(gen, n, n);
    const MatrixXd spd = a * a.transpose() + MatrixXd::Identity(n, n);
    MatrixXd l = spd;
    REQUIRE(sg::detail::cholesky_in_place(l));
    const MatrixXd lower = l.triangularView<Eigen::Lower>();
    CHECK((lower * lower.transpose() - spd).cwiseAbs().maxCoeff() < 1e-9);
    MatrixXd indefinite = spd;
    indefinite(n - 1, n - 1) = -1.0; // only the last pivot fails
    CHECK_FALSE(sg::detail::cholesky_in_place(indefinite));

    MatrixXd inverse = l;
    sg::detail::cholesky_inverse_in_place(inverse);
    MatrixXd l1 = spd;
    MatrixXd inverse1;
    {
        const tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        REQUIRE(sg::detail::cholesky_in_place(l1));
        inverse1 = l1;
        sg::detail::cholesky_inverse_in_place(inverse1);
    }
    CHECK(l1.triangularView<Eigen::Lower>().toDenseMatrix() == lower);
    CHECK(inverse1 == inverse);
}

// ---------------------------------------------------------------------------------------------
// Optimiser

TEST_CASE("optimiser: Rosenbrock's minimum, and a minimum held at a bound") {
    auto rosenbrock = [](const VectorXd& x, VectorXd& g) {
        const double a = 1 - x[0];
        const double b = x[1] - x[0] * x[0];
        g.resize(2);
        g << -2 * a - 400 * x[0] * b, 200 * b;
        return a * a + 100 * b * b;
    };
    const auto r = sg::minimise_box(rosenbrock, VectorXd(Eigen::Vector2d(-1.2, 1.0)),
                                    VectorXd::Constant(2, -5.0), VectorXd::Constant(2, 5.0),
                                    {.max_iterations = 500, .relative_tolerance = 0.0});
    CHECK(r.converged);
    CHECK(r.x[0] == doctest::Approx(1.0).epsilon(1e-4));
    CHECK(r.x[1] == doctest::Approx(1.0).epsilon(1e-4));

    // (x - 3)^2 + (y + 1)^2 on [0, 2] x [0, 2]: the minimum is the corner (2, 0).
    auto bowl = [](const VectorXd& x, VectorXd& g) {
        g = 2 * (x - Eigen::Vector2d(3.0, -1.0));
        return (x - Eigen::Vector2d(3.0, -1.0)).squaredNorm();
    };
    const auto c = sg::minimise_box(bowl, VectorXd(Eigen::Vector2d(0.5, 1.5)), VectorXd::Zero(2),
                                    VectorXd::Constant(2, 2.0));
    CHECK(c.converged);
    CHECK(c.x[0] == 2.0);
    CHECK(c.x[1] == 0.0);
    CHECK(c.value == doctest::Approx(2.0));

    // A start where the objective fails is reported, not looped on.
    auto failing = [](const VectorXd&, VectorXd& g) {
        g = VectorXd::Zero(1);
        return std::numeric_limits<double>::infinity();
    };
    const auto f = sg::minimise_box(failing, VectorXd::Zero(1), VectorXd::Constant(1, -1.0),
                                    VectorXd::Constant(1, 1.0));
    CHECK(f.value == std::numeric_limits<double>::infinity());
    CHECK(f.evaluations == 1);
}

// ---------------------------------------------------------------------------------------------
// GP regression: correctness

TEST_CASE("gp: posterior of a two-point 1-D problem, by hand") {
    // x = 0, 1; y = 0, 2: standardised targets -1, 1 (mean 1, population std 1).
    // K = [a b; b a] with a = 1 + 0.01, b = e^-1/2 (rbf, l = 1, sf2 = 1, sn2 = 0.01).
    const std::vector<VectorXd> xs{VectorXd::Constant(1, 0.0), VectorXd::Constant(1, 1.0)};
    const std::vector<double> ys{0.0, 2.0};
    sg::gp<sg::rbf> model(sg::rbf{}, {},
                          {.signal_variance = 1.0, .noise_variance = 0.01, .optimise = false});
    model.fit(xs, ys);
    const double a = 1.01;
    const double b = std::exp(-0.5);
    // At x = 1/2, k* = (e^-1/8, e^-1/8) is symmetric and y antisymmetric: mean 1, and
    // K^-1 (1, 1) = (1, 1) / (a + b).
    const auto mid = model.predict(VectorXd::Constant(1, 0.5));
    CHECK(mid.mean == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(mid.variance == doctest::Approx(1.0 - 2.0 * std::exp(-0.25) / (a + b)).epsilon(1e-13));
    // At x = 0, k* = (1, b): mean = 1 + (1, b) K^-1 (-1, 1) = 1 + (b - 1) / (a - b);
    // variance = 1 - (a (1 + b^2) - 2 b^2) / (a^2 - b^2).
    const auto left = model.predict(VectorXd::Constant(1, 0.0));
    CHECK(left.mean == doctest::Approx(1.0 + (b - 1.0) / (a - b)).epsilon(1e-13));
    CHECK(left.variance ==
          doctest::Approx(1.0 - (a * (1 + b * b) - 2 * b * b) / (a * a - b * b)).epsilon(1e-12));
    CHECK(model.target_mean() == 1.0);
    CHECK(model.target_scale() == 1.0);
    CHECK(model.jitter() == 0.0);
    // Far away: the prior (mean of the targets, variance sf2 * scale^2).
    const auto far = model.predict(VectorXd::Constant(1, 40.0));
    CHECK(far.mean == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(far.variance == doctest::Approx(1.0).epsilon(1e-14));
}

TEST_CASE("gp: mean, variance and log marginal likelihood match the dense formulas") {
    nascent::rng gen(5);
    const MatrixXd x = mixed_data(gen, 25);
    const MatrixXd xq = mixed_data(gen, 6);
    std::vector<double> ys;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        ys.push_back(50.0 + 10.0 * std::sin(3 * x(i, 0)) + 4.0 * x(i, 3) + x(i, 4));
    }
    const mixed_kernel k(
        sg::scaled(sg::matern52({.lengthscale = 0.6, .ard = 3, .cols = {.count = 3}})),
        sg::scaled(sg::hamming({.lengthscale = 0.9, .cols = {.first = 3}}), 0.4));
    sg::gp<mixed_kernel> model(k, {},
                               {.signal_variance = 1.7, .noise_variance = 0.05, .optimise = false});
    model.fit(rows_of(x), ys);

    // Dense: K = sf2 k(X, X) + sn2 I, y standardised with the population std.
    const Eigen::Map<const VectorXd> y(ys.data(), static_cast<Eigen::Index>(ys.size()));
    const double mean = y.mean();
    const double sd = std::sqrt((y.array() - mean).square().mean());
    const VectorXd yt = (y.array() - mean) / sd;
    const MatrixXd kxx = 1.7 * k.gram(x) + 0.05 * MatrixXd::Identity(x.rows(), x.rows());
    const MatrixXd kinv = kxx.inverse();
    const MatrixXd kxq = 1.7 * k.cross(x, xq);
    const VectorXd mu = mean + sd * (kxq.transpose() * kinv * yt).array();
    const VectorXd var =
        sd * sd * (1.7 * k.diag(xq) - (kxq.transpose() * kinv * kxq).diagonal()).array();
    const auto p = model.predict_batch(rows_of(xq));
    REQUIRE(p.size() == 6);
    for (Eigen::Index i = 0; i < 6; ++i) {
        CHECK(p[i].mean == doctest::Approx(mu[i]).epsilon(1e-10));
        CHECK(p[i].variance == doctest::Approx(var[i]).epsilon(1e-8));
        const auto single = model.predict(VectorXd(xq.row(i).transpose()));
        CHECK(single.mean == doctest::Approx(p[i].mean).epsilon(1e-13));
        CHECK(single.variance == doctest::Approx(p[i].variance).epsilon(1e-10));
    }
    const double lml = -0.5 * yt.dot(kinv * yt) - 0.5 * std::log(kxx.determinant()) -
                       0.5 * static_cast<double>(x.rows()) * std::log(2 * std::numbers::pi);
    CHECK(model.log_marginal_likelihood() == doctest::Approx(lml).epsilon(1e-10));
}

TEST_CASE("gp: log-marginal-likelihood gradient agrees with central differences") {
    nascent::rng gen(9);
    const MatrixXd x = mixed_data(gen, 30);
    std::vector<double> ys;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        ys.push_back(x(i, 0) * x(i, 1) + std::cos(2 * x(i, 2)) + 0.3 * x(i, 5) +
                     0.1 * (nascent::uniform_real(gen) - 0.5));
    }
    const mixed_kernel k = sg::scaled(sg::matern52({.ard = 3, .cols = {.count = 3}}), 0.8) +
                           sg::scaled(sg::hamming({.ard = 4, .cols = {.first = 3}}), 0.3);
    sg::gp<mixed_kernel> model(k, {}, {.optimise = false});
    model.fit(rows_of(x), ys);
    VectorXd theta = model.hyperparameters();
    REQUIRE(theta.size() == 1 + 1 + 3 + 1 + 4 + 1);
    for (Eigen::Index i = 0; i < theta.size(); ++i)
        theta[i] = 0.3 * std::sin(1.7 * static_cast<double>(i)) - 0.2;
    VectorXd gradient;
    (void)model.log_marginal_likelihood(theta, &gradient);
    for (Eigen::Index p = 0; p < theta.size(); ++p) {
        const double h = 1e-5;
        VectorXd tp = theta;
        VectorXd tm = theta;
        tp[p] += h;
        tm[p] -= h;
        const double fd =
            (model.log_marginal_likelihood(tp) - model.log_marginal_likelihood(tm)) / (2 * h);
        CHECK_MESSAGE(gradient[p] == doctest::Approx(fd).epsilon(1e-6).scale(1.0),
                      "hyper-parameter " << p);
    }
}

TEST_CASE("gp: fitting maximises the likelihood, deterministically for a seed") {
    nascent::rng gen(21);
    const MatrixXd x = random_matrix(gen, 60, 2);
    std::vector<double> ys;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        ys.push_back(std::sin(3 * x(i, 0)) + x(i, 1) * x(i, 1) +
                     0.05 * (nascent::uniform_real(gen) - 0.5));
    }
    const sg::gp_options options{.restarts = 3, .seed = 4};
    sg::gp<sg::rbf> model(sg::rbf({.ard = 2}), {}, options);
    const double before = [&] {
        sg::gp<sg::rbf> fixed(sg::rbf({.ard = 2}), {}, {.optimise = false});
        fixed.fit(rows_of(x), ys);
        return fixed.log_marginal_likelihood();
    }();
    model.fit(rows_of(x), ys);
    CHECK(model.log_marginal_likelihood() > before + 10.0);
    CHECK(model.report().optimised);
    CHECK(model.report().starts == 4);
    // At the optimum, the gradient vanishes for hyper-parameters inside their bounds.
    VectorXd gradient;
    (void)model.log_marginal_likelihood(model.hyperparameters(), &gradient);
    CHECK(gradient.lpNorm<Eigen::Infinity>() < 1e-3);
    // The noise found is near the true one: noise std 0.05 / sqrt(12) in target units.
    const double noise_sd = std::sqrt(model.noise_variance()) * model.target_scale();
    CHECK(noise_sd > 0.005);
    CHECK(noise_sd < 0.03);

    // Same seed, same result; fit(xs, ys, gen) with rng(seed) is the same fit.
    sg::gp<sg::rbf> again(sg::rbf({.ard = 2}), {}, options);
    again.fit(rows_of(x), ys);
    CHECK(again.hyperparameters() == model.hyperparameters());
    sg::gp<sg::rbf> explicit_rng(sg::rbf({.ard = 2}), {}, options);
    nascent::rng seeded(4);
    explicit_rng.fit(rows_of(x), ys, seeded);
    CHECK(explicit_rng.hyperparameters() == model.hyperparameters());
}

TEST_CASE("gp: adding a point incrementally equals a full refit at fixed hyper-parameters") {
    nascent::rng gen(13);
    const auto cells = distinct_cells(gen, 61);
    std::vector<double> ys;
    for (const auto& c : cells) {
        ys.push_back(80.0 + 2.0 * count_op(c, nb201::nor_conv_3x3) - count_op(c, nb201::none) +
                     0.3 * nascent::uniform_real(gen));
    }
    const std::vector<nb201::cell> first(cells.begin(), cells.begin() + 40);
    const std::vector<double> first_y(ys.begin(), ys.begin() + 40);
    hamming_gp model(sg::hamming{}, {}, {.restarts = 1});
    model.fit(first, first_y);
    for (std::size_t i = 40; i < 60; ++i)
        model.add(cells[i], ys[i]); // moves mean and scale
    hamming_gp refit(sg::hamming{}, {}, {.optimise = false});
    refit.set_hyperparameters(model.hyperparameters());
    const std::vector<nb201::cell> all(cells.begin(), cells.begin() + 60);
    refit.fit(all, std::span<const double>(ys.data(), 60));
    CHECK(model.size() == 60);
    CHECK(model.target_mean() == doctest::Approx(refit.target_mean()).epsilon(1e-14));
    CHECK(std::abs(model.log_marginal_likelihood() - refit.log_marginal_likelihood()) < 1e-9);
    const auto queries = distinct_cells(gen, 200);
    const auto a = model.predict_batch(queries);
    const auto b = refit.predict_batch(queries);
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        worst = std::max(
            {worst, std::abs(a[i].mean - b[i].mean), std::abs(a[i].variance - b[i].variance)});
    }
    CHECK(worst < 1e-9);
    // A repeated point at a tiny noise is singular: add refactorises with jitter, still finite.
    hamming_gp tiny(sg::hamming{}, {}, {.noise_variance = 1e-30, .optimise = false});
    tiny.fit(first, first_y);
    tiny.add(cells[0], ys[0] + 1.0);
    CHECK(tiny.jitter() > 0.0);
    CHECK(std::isfinite(tiny.predict(cells[0]).mean));
}

// ---------------------------------------------------------------------------------------------
// GP regression: bad input and fallbacks

TEST_CASE("gp: bad input throws std::invalid_argument naming it") {
    const std::vector<nb201::cell> none;
    const std::vector<double> no_y;
    hamming_gp model;
    CHECK_THROWS_WITH_AS(model.fit(none, no_y), doctest::Contains("no training points"),
                         std::invalid_argument);
    nascent::rng gen(1);
    const auto cells = distinct_cells(gen, 5);
    const std::vector<double> four{1, 2, 3, 4};
    CHECK_THROWS_WITH_AS(model.fit(cells, four), doctest::Contains("5 points but 4 targets"),
                         std::invalid_argument);
    const std::vector<double> with_nan{1, 2, std::nan(""), 4, 5};
    CHECK_THROWS_WITH_AS(model.fit(cells, with_nan), doctest::Contains("target 2 is nan"),
                         std::invalid_argument);
    const std::vector<double> with_inf{1, 2, 3, 4, -HUGE_VAL};
    CHECK_THROWS_WITH_AS(model.fit(cells, with_inf), doctest::Contains("target 4 is -inf"),
                         std::invalid_argument);
    CHECK_FALSE(model.fitted());
    CHECK_THROWS_AS((void)model.predict(cells[0]), std::logic_error);

    const std::vector<double> ok{1, 2, 3, 4, 5};
    model.fit(cells, ok);
    CHECK_THROWS_WITH_AS(model.add(cells[0], HUGE_VAL), doctest::Contains("target is inf"),
                         std::invalid_argument);
    CHECK(model.size() == 5);

    sg::gp<sg::rbf> vectors;
    const std::vector<VectorXd> bad{VectorXd::Zero(2), VectorXd::Constant(2, std::nan(""))};
    CHECK_THROWS_WITH_AS(vectors.fit(bad, std::vector<double>{1, 2}),
                         doctest::Contains("non-finite"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(hamming_gp(sg::hamming{}, {}, {.noise_bounds = {1.0, 0.1}}),
                         doctest::Contains("noise_bounds"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(hamming_gp(sg::hamming{}, {}, {.noise_variance = 0.0}),
                         doctest::Contains("noise_variance must be positive"),
                         std::invalid_argument);
    // A kernel that is not positive definite fails after the jitter ladder, clearly.
    sg::gp<negative_kernel> broken(negative_kernel{}, {}, {.optimise = false});
    CHECK_THROWS_WITH_AS(broken.fit(std::vector<VectorXd>{VectorXd::Zero(1), VectorXd::Ones(1)},
                                    std::vector<double>{1, 2}),
                         doctest::Contains("not positive definite"), std::runtime_error);
    sg::gp<negative_kernel> broken_optimised;
    CHECK_THROWS_AS(
        broken_optimised.fit(std::vector<VectorXd>{VectorXd::Zero(1), VectorXd::Ones(1)},
                             std::vector<double>{1, 2}),
        std::runtime_error);
}

TEST_CASE("gp: duplicate points are absorbed by the noise term") {
    nascent::rng gen(17);
    const auto base = distinct_cells(gen, 30);
    std::vector<nb201::cell> cells;
    std::vector<double> ys;
    for (const auto& c : base) { // every cell twice, targets 0.2 apart
        const double t = count_op(c, nb201::nor_conv_3x3);
        cells.insert(cells.end(), {c, c});
        ys.insert(ys.end(), {t - 0.1, t + 0.1});
    }
    hamming_gp model;
    model.fit(cells, ys);
    // The repeats' spread (std 0.1) is noise the model must explain.
    const double noise_sd = std::sqrt(model.noise_variance()) * model.target_scale();
    CHECK(noise_sd > 0.05);
    for (const auto& c : base) {
        const auto p = model.predict(c);
        CHECK(std::isfinite(p.mean));
        CHECK(p.mean == doctest::Approx(count_op(c, nb201::nor_conv_3x3)).epsilon(0.1).scale(1.0));
    }
    // Exact repeats at a vanishing noise: the jitter ladder makes K factorisable.
    hamming_gp tiny(sg::hamming{}, {}, {.noise_variance = 1e-30, .optimise = false});
    tiny.fit(cells, ys);
    CHECK(tiny.jitter() > 0.0);
    CHECK(tiny.jitter() <= 1e-2);
    for (const auto& p : tiny.predict_batch(base)) {
        CHECK(std::isfinite(p.mean));
        CHECK(std::isfinite(p.variance));
    }
}

TEST_CASE("gp: constant targets predict the constant with the prior variance") {
    nascent::rng gen(19);
    const auto cells = distinct_cells(gen, 20);
    const std::vector<double> ys(20, 93.25);
    hamming_gp model;
    model.fit(cells, ys);
    CHECK(model.constant_targets());
    CHECK(model.target_scale() == 1.0);
    CHECK_FALSE(model.report().optimised);
    double largest = 0.0;
    for (const auto& p : model.predict_batch(distinct_cells(gen, 300))) {
        CHECK(p.mean == 93.25);
        CHECK(p.variance >= 0.0);
        CHECK(p.variance <= model.signal_variance());
        largest = std::max(largest, p.variance);
    }
    CHECK(largest > 0.0);
    CHECK(std::isfinite(model.log_marginal_likelihood()));
    // A training point has less variance than the prior but keeps the noise's share.
    const auto seen = model.predict(cells[0]);
    CHECK(seen.variance < model.signal_variance());
    // One different target later, the model is an ordinary one.
    model.add(distinct_cells(gen, 1)[0], 94.0);
    CHECK_FALSE(model.constant_targets());
    CHECK(model.target_scale() > 0.0);
}

// ---------------------------------------------------------------------------------------------
// Weisfeiler–Lehman

TEST_CASE("wl: features and kernel of small graphs, by hand") {
    // a -> b -> c and a -> b, labels 1, 2, 3.
    sg::labelled_graph abc;
    abc.add_node(1);
    abc.add_node(2);
    abc.add_node(3);
    abc.add_edge(0, 1);
    abc.add_edge(1, 2);
    sg::labelled_graph ab;
    ab.add_node(1);
    ab.add_node(2);
    ab.add_edge(0, 1);
    CHECK_THROWS_AS(ab.add_edge(0, 5), std::invalid_argument);

    const auto f0 = sg::weisfeiler_lehman(abc, {.iterations = 0});
    CHECK(f0.counts == std::vector<std::pair<std::uint64_t, double>>{{1, 1.0}, {2, 1.0}, {3, 1.0}});
    // h = 1, in-neighbours: abc has 6 distinct labels; ab shares a, b and the relabelled a (no
    // predecessor) and b (predecessor a): k = 4, k(abc, abc) = 6, k(ab, ab) = 4.
    const auto fa =
        sg::weisfeiler_lehman(abc, {.iterations = 1, .neighbours = sg::wl_neighbours::in});
    const auto fb =
        sg::weisfeiler_lehman(ab, {.iterations = 1, .neighbours = sg::wl_neighbours::in});
    CHECK(fa.counts.size() == 6);
    CHECK(fb.counts.size() == 4);
    const std::vector<sg::wl_features> data{fa, fb};
    const MatrixXd raw = sg::wl_kernel({.normalise = false}).gram(data);
    CHECK(raw(0, 0) == 6.0);
    CHECK(raw(1, 1) == 4.0);
    CHECK(raw(0, 1) == 4.0);
    const MatrixXd norm = sg::wl_kernel{}.gram(data);
    CHECK(norm(0, 1) == doctest::Approx(4.0 / std::sqrt(24.0)).epsilon(1e-15));
    CHECK(norm(0, 0) == 1.0);
    CHECK((sg::wl_kernel{}.cross(data, data) - norm).cwiseAbs().maxCoeff() < 1e-15);
    // Out-neighbours: a (successor b) is relabelled alike in both graphs, b (successor c or
    // none) is not: shared are 1, 2 and a's new label, k = 3.
    const auto oa =
        sg::weisfeiler_lehman(abc, {.iterations = 1, .neighbours = sg::wl_neighbours::out});
    const auto ob =
        sg::weisfeiler_lehman(ab, {.iterations = 1, .neighbours = sg::wl_neighbours::out});
    CHECK(sg::wl_kernel({.normalise = false}).gram(std::vector{oa, ob})(0, 1) == 3.0);
    // Both directions: a's neighbourhood is ({}, {b}) in both graphs, b's differs: k = 3.
    const auto ba =
        sg::weisfeiler_lehman(abc, {.iterations = 1, .neighbours = sg::wl_neighbours::both});
    const auto bb =
        sg::weisfeiler_lehman(ab, {.iterations = 1, .neighbours = sg::wl_neighbours::both});
    CHECK(sg::wl_kernel({.normalise = false}).gram(std::vector{ba, bb})(0, 1) == 3.0);
    // Relabelling does not depend on node numbering.
    sg::labelled_graph cba;
    cba.add_node(3);
    cba.add_node(2);
    cba.add_node(1);
    cba.add_edge(2, 1);
    cba.add_edge(1, 0);
    CHECK(sg::weisfeiler_lehman(cba, {.iterations = 3}) ==
          sg::weisfeiler_lehman(abc, {.iterations = 3}));
}

TEST_CASE("wl: NB201 cells become op-node graphs between input and output") {
    using sg::cell_labels::input;
    using sg::cell_labels::output;
    // conv3x3 on 0->1 feeds nothing that reaches the output (1->2, 1->3 are none): pruned.
    const auto c =
        nb201::space::parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
    const auto g = sg::cell_graph<nb201::space>(c);
    CHECK(g.labels == std::vector<std::uint64_t>{input, nb201::skip_connect, output});
    CHECK(g.edges == std::vector<std::pair<std::uint32_t, std::uint32_t>>{{0, 1}, {1, 2}});
    const auto unpruned = sg::cell_graph<nb201::space>(c, {.prune = false});
    CHECK(unpruned.size() == 4);
    // As wires, skips vanish: input -> output directly.
    const auto wired = sg::cell_graph<nb201::space>(c, {.identity_as_wire = true});
    CHECK(wired.labels == std::vector<std::uint64_t>{input, output});
    CHECK(wired.edges == std::vector<std::pair<std::uint32_t, std::uint32_t>>{{0, 1}});

    // The best CIFAR-10 cell: 6 op nodes; 0->1 feeds 1->2 and 1->3; everything reaches 3.
    const auto best = nb201::space::parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_"
                                          "connect~0|nor_conv_3x3~1|nor_conv_1x1~2|");
    const auto bg = sg::cell_graph<nb201::space>(best);
    CHECK(bg.size() == 8);
    CHECK(bg.edges.size() == 10); // as NAS-BOWL's NB201 graph: 3 from input, 3 to output, 4 inner
    // All-none cells are only input and output, unconnected; every such cell looks the same.
    const auto empty = sg::cell_graph<nb201::space>(nb201::space::at(0));
    CHECK(empty.labels == std::vector<std::uint64_t>{input, output});
    CHECK(empty.edges.empty());
}

TEST_CASE("wl: edges that cannot affect the output do not change the features") {
    // Setting an edge to none leaves the space's canonical key (the function the cell computes)
    // unchanged exactly when the edge is dead; then the pruned graph, and so the features, must
    // not change either, whatever the options.
    const sg::wl_feature_map<nb201::space> nodes{};
    const sg::wl_feature_map<nb201::space> wires{.wl = {.iterations = 3},
                                                 .graph = {.identity_as_wire = true}};
    std::size_t dead = 0;
    std::size_t mismatches = 0;
    for (std::uint64_t id = 0; id < nb201::num_cells; id += 3) {
        const auto c = nb201::space::at(id);
        const auto key = nb201::space::canonical_key(c);
        for (std::size_t e = 0; e < nb201::num_edges; ++e) {
            if (c[e] == nb201::none)
                continue;
            auto cut = c;
            cut[e] = nb201::none;
            if (nb201::space::canonical_key(cut) != key)
                continue;
            ++dead;
            mismatches += nodes(c) == nodes(cut) && wires(c) == wires(cut) ? 0 : 1;
        }
    }
    CHECK(dead > 1000);
    CHECK(mismatches == 0);
    // Skips as op nodes keep a skip visible as a feature: more distinct feature sets than wires.
    std::map<std::vector<std::pair<std::uint64_t, double>>, int> distinct_wire;
    std::map<std::vector<std::pair<std::uint64_t, double>>, int> distinct_node;
    for (std::uint64_t id = 0; id < nb201::num_cells; id += 7) {
        ++distinct_wire[wires(nb201::space::at(id)).counts];
        ++distinct_node[nodes(nb201::space::at(id)).counts];
    }
    CHECK(distinct_node.size() > distinct_wire.size());
    // Normalised WL Gram matrices are positive semi-definite with a unit diagonal.
    std::vector<sg::wl_features> f;
    for (std::uint64_t id = 0; id < nb201::num_cells; id += 97)
        f.push_back(nodes(nb201::space::at(id)));
    const MatrixXd k = sg::wl_kernel{}.gram(f);
    CHECK(min_eigenvalue(k) > -1e-10);
    CHECK((k.diagonal().array() == 1.0).all());
}

// ---------------------------------------------------------------------------------------------
// GP on NB201

TEST_CASE("gp on NB201: a synthetic target from the cell is learnt from 100 cells") {
    // Target: convolutions on input -> output paths (a function of the pruned graph that WL sees
    // and of the op choices that hamming sees), plus noise.
    nascent::rng gen(23);
    const auto cells = distinct_cells(gen, 600);
    std::vector<double> ys;
    for (const auto& c : cells) {
        ys.push_back(count_live(c, nb201::nor_conv_3x3) + 0.5 * count_live(c, nb201::nor_conv_1x1) +
                     0.2 * (nascent::uniform_real(gen) - 0.5));
    }
    const std::vector<nb201::cell> train(cells.begin(), cells.begin() + 100);
    const std::vector<double> train_y(ys.begin(), ys.begin() + 100);
    const std::vector<nb201::cell> test(cells.begin() + 100, cells.end());
    const double train_mean = Eigen::Map<const VectorXd>(train_y.data(), 100).mean();

    auto rmse = [&](const auto& model) {
        const auto p = model.predict_batch(test);
        double se = 0.0;
        double se_mean = 0.0;
        for (std::size_t i = 0; i < test.size(); ++i) {
            se += std::pow(p[i].mean - ys[100 + i], 2);
            se_mean += std::pow(train_mean - ys[100 + i], 2);
        }
        return std::pair{std::sqrt(se / 500.0), std::sqrt(se_mean / 500.0)};
    };
    hamming_gp h(sg::hamming({.ard = 6}));
    h.fit(train, train_y);
    const auto [h_rmse, mean_rmse] = rmse(h);
    MESSAGE("synthetic target RMSE: hamming-ARD GP " << h_rmse << ", training mean " << mean_rmse);
    CHECK(h_rmse < 0.5 * mean_rmse);

    // One-hot features computed up front: a GP on precomputed features.
    std::vector<VectorXd> onehot_train;
    for (const auto& c : train)
        onehot_train.push_back(sg::edge_onehot<nb201::space>{}(c));
    std::vector<VectorXd> onehot_test;
    for (const auto& c : test)
        onehot_test.push_back(sg::edge_onehot<nb201::space>{}(c));
    sg::gp<sg::rbf> r;
    r.fit(onehot_train, train_y);
    double se_rbf = 0.0;
    const auto pr = r.predict_batch(onehot_test);
    for (std::size_t i = 0; i < test.size(); ++i)
        se_rbf += std::pow(pr[i].mean - ys[100 + i], 2);
    const double r_rmse = std::sqrt(se_rbf / 500.0);
    MESSAGE("synthetic target RMSE: one-hot RBF GP " << r_rmse);
    CHECK(r_rmse < 0.5 * mean_rmse);

    wl_gp w;
    w.fit(train, train_y);
    const auto [w_rmse, unused] = rmse(w);
    MESSAGE("synthetic target RMSE: WL GP " << w_rmse);
    CHECK(w_rmse < 0.5 * mean_rmse);
}

TEST_CASE("gp on NB201: 100 cells rank 1,000 held-out cells (CIFAR-10)") {
    // As NAS-BOWL, the GP models the log error, -log(100 - accuracy): a monotone transform, so
    // ranks (Kendall tau against the accuracies) are those of the accuracy.
    const auto& table = nascent::test::nb201();
    for (const auto metric :
         {nascent::bench::nb201_metric::valid_12, nascent::bench::nb201_metric::test_200}) {
        nascent::rng gen(29);
        std::vector<std::uint64_t> order(table.size());
        for (std::uint64_t i = 0; i < order.size(); ++i)
            order[i] = i;
        nascent::shuffle(order.begin(), order.end(), gen);
        std::vector<nb201::cell> train;
        std::vector<double> train_y;
        std::vector<nb201::cell> test;
        std::vector<double> test_acc;
        for (const auto index : order) {
            const auto acc = table.accuracy(index, nascent::bench::nb201_dataset::cifar10, metric);
            if (!acc)
                continue;
            if (train.size() < 100) {
                train.push_back(table.cell_at(index));
                train_y.push_back(-std::log(100.0 - *acc));
            } else if (test.size() < 1000) {
                test.push_back(table.cell_at(index));
                test_acc.push_back(*acc);
            }
        }
        REQUIRE(test.size() == 1000);
        auto tau = [&](const auto& model) {
            std::vector<double> mean;
            for (const auto& p : model.predict_batch(test))
                mean.push_back(p.mean);
            return kendall_tau(mean, test_acc);
        };
        wl_gp w;
        w.fit(train, train_y);
        hamming_gp h;
        h.fit(train, train_y);
        const double tau_wl = tau(w);
        const double tau_hamming = tau(h);
        const bool valid12 = metric == nascent::bench::nb201_metric::valid_12;
        MESSAGE((valid12 ? "valid_acc@12" : "test_acc@200")
                << ": Kendall tau on 1,000 held-out cells: WL GP " << tau_wl << ", hamming GP "
                << tau_hamming);
        CHECK(tau_wl > (valid12 ? 0.5 : 0.65));
        CHECK(tau_hamming > 0.4);
        CHECK(tau_wl > tau_hamming + 0.05); // structure beats per-edge op identity
    }
}
