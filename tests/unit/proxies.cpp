// Zero-cost proxies: closed forms on small networks, finite-difference references for the
// gradients, the exactness of synflow's rescaling and GraSP's forward-over-reverse pass, and
// agreement with NASLib's published synflow scores.

#include "error_of.hpp"
#include "test_data.hpp"

#include <nascent/eval/proxies.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/strategy/random_search.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace t = nascent::tensor;
namespace nn = nascent::tensor::nn;
namespace ev = nascent::eval;
namespace nb201 = nascent::nb201;
using t::ndarray;
using t::variable;

constexpr double inf = std::numeric_limits<double>::infinity();

// Proxies also report std::runtime_error (no data, a wrong network): any exception's message.
template <class F>
std::string error_of(F&& f) {
    return nascent::test::error_of<std::exception>(std::forward<F>(f));
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

bool close(double a, double b, double relative) {
    return std::abs(a - b) <= relative * std::max(std::abs(a), std::abs(b));
}

// The NAS-Bench-201 network at a size that runs in milliseconds.
constexpr ev::nb201_network_options tiny_nb201{.channels = 4, .cells_per_stage = 1};

ev::proxy_batch random_batch(std::size_t n, std::uint64_t seed) {
    nascent::rng gen(seed);
    ev::proxy_batch b{t::randn({n, 3, 32, 32}, gen), {}};
    for (std::size_t i = 0; i < n; ++i)
        b.labels.push_back(static_cast<std::int32_t>(i % 10));
    return b;
}

double loss_of(nn::module& net, const ndarray& x, std::span<const std::int32_t> labels) {
    const t::no_grad_guard no_grad;
    return t::softmax_cross_entropy(net(variable(x)), labels).item();
}

// Central differences of the loss for every conv / linear weight (float32, step h * max(|w|, 1)).
std::vector<ndarray> numeric_weight_grads(nn::module& net, const ndarray& x,
                                          std::span<const std::int32_t> labels, double h) {
    std::vector<ndarray> out;
    for (const auto& l : ev::detail::weighted_layers(net)) {
        ndarray& w = l.weight.mutable_value();
        ndarray g(w.shape());
        for (std::size_t i = 0; i < w.size(); ++i) {
            const float saved = w[i];
            const double step = h * std::max(1.0, std::abs(static_cast<double>(saved)));
            w[i] = static_cast<float>(saved + step);
            const double up = loss_of(net, x, labels);
            w[i] = static_cast<float>(saved - step);
            const double down = loss_of(net, x, labels);
            w[i] = saved;
            g[i] = static_cast<float>((up - down) / (2.0 * step));
        }
        out.push_back(std::move(g));
    }
    return out;
}

} // namespace

TEST_CASE("spearman: average ranks for ties, NaN pairs dropped, -inf ranked last") {
    CHECK(ev::average_ranks(std::vector<double>{3.0, 1.0, 2.0, 2.0}) ==
          std::vector<double>{4.0, 1.0, 2.5, 2.5});
    CHECK(ev::spearman(std::vector<double>{1, 2, 3, 4}, std::vector<double>{10, 20, 30, 40}) ==
          1.0);
    CHECK(ev::spearman(std::vector<double>{1, 2, 3, 4}, std::vector<double>{4, 3, 2, 1}) == -1.0);
    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233
    CHECK(ev::spearman(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{5, 6, 7, 8, 7}) ==
          doctest::Approx(0.8207826816681233).epsilon(1e-15));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(ev::spearman(std::vector<double>{-inf, 1, nan, 2}, std::vector<double>{0, 1, 5, 2}) ==
          1.0);
    CHECK(std::isnan(ev::spearman(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3})));
    CHECK(contains(
        error_of([] { (void)ev::spearman(std::vector<double>{1}, std::vector<double>{}); }),
        "1 values against 0"));
}

TEST_CASE("nb201 proxies: params and flops are the exact cost model, as the network counts them") {
    for (const char* arch :
         {"|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
          "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"}) {
        const auto cell = nb201::space::parse(arch);
        const auto s = ev::nb201_proxies(cell, {.data_dependent = false});
        const auto cost = nb201::network_cost(cell);
        CHECK(s.params == cost.params);
        CHECK(s.flops == cost.flops);
        nascent::rng gen(0);
        CHECK(s.params ==
              static_cast<double>(ev::make_nb201_network(cell, {}, gen)->parameter_count()));
        CHECK(std::isnan(s.snip)); // not computed without data
    }
}

TEST_CASE("synflow: the closed form of a positive two-layer network") {
    // conv 1x1 (2 -> 3 channels) + identity batch norm + ReLU + global pool + linear (3 -> 2) on an
    // input of ones: R = 1^T |W2| |W1| 1 + sum |b|, and each layer's sum of theta dR/dtheta is
    // R without the bias, so synflow = log(2 * 1^T |W2| |W1| 1).
    nascent::rng gen(3);
    nn::sequential net;
    auto conv = net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 2, .out_channels = 3, .kernel = 1, .bias = false}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 3}));
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::global_avg_pool>());
    auto fc = net.add(
        std::make_shared<nn::linear>(nn::linear_options{.in_features = 3, .out_features = 2}, gen));
    double r = 0.0;
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            for (std::size_t k = 0; k < 2; ++k) {
                r += std::abs(static_cast<double>(fc->weight().value()[i * 3 + j])) *
                     std::abs(static_cast<double>(conv->weight().value()[j * 2 + k]));
            }
        }
    }
    const auto before = net.state();
    CHECK(ev::synflow(net, {2, 4, 4}) == doctest::Approx(std::log(2.0 * r)).epsilon(1e-6));
    CHECK(ev::synflow(net, {2, 4, 4}, {.rescale = false}) ==
          doctest::Approx(std::log(2.0 * r)).epsilon(1e-6));
    CHECK(net.state() == before); // signs, batch-norm statistics and modes are back
    CHECK(net.is_training());
    CHECK(!conv->weight().has_grad());
    CHECK(contains(error_of([&] { (void)ev::synflow(net, {}); }), "sample shape []"));
}

TEST_CASE("synflow: a cell whose output gets only `none` edges scores log 0, an identity cell adds "
          "nothing") {
    // Output node fed by none edges only: the network's output is its bias, no weight matters.
    const auto dead = nb201::space::parse(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|");
    CHECK(ev::nb201_proxies(dead, {.data_dependent = false}).synflow == -inf);
    const ev::proxy_evaluator evaluator({.proxies = {.data_dependent = false}});
    const auto e = evaluator.evaluate(dead);
    CHECK(e.status == nascent::eval_status::failed);
    CHECK(e.reason == "non-finite reward");
    CHECK(e.metrics.get("synflow") == -inf);
    CHECK(e.metrics.get("params") == nb201::network_cost(dead).params);

    // Only the skip edge 0 -> 3: every cell is the identity, so the network is the one without
    // cells: stem, the two reduction blocks and the head, drawing the same weights in order.
    const auto identity =
        nb201::space::parse("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
    nascent::rng a(11);
    const auto with_cells = ev::make_nb201_network(identity, {}, a);
    nascent::rng b(11);
    nn::sequential without;
    without.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{
            .in_channels = 3, .out_channels = 16, .kernel = 3, .padding = 1, .bias = false},
        b));
    without.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 16}));
    without.add(std::make_shared<ev::detail::reduction_block>(16, 32, true, b));
    without.add(std::make_shared<ev::detail::reduction_block>(32, 64, true, b));
    without.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 64}));
    without.add(std::make_shared<nn::relu>());
    without.add(std::make_shared<nn::global_avg_pool>());
    without.add(std::make_shared<nn::flatten>());
    without.add(
        std::make_shared<nn::linear>(nn::linear_options{.in_features = 64, .out_features = 10}, b));
    const double s = ev::synflow(*with_cells, {3, 32, 32});
    CHECK(std::isfinite(s));
    CHECK(s == ev::synflow(without, {3, 32, 32}));
}

TEST_CASE("synflow: normalising between layers is exact, and the full network needs it") {
    for (const char* arch :
         {"|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|avg_"
          "pool_3x3~2|",
          "|skip_connect~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"}) {
        nascent::rng gen(5);
        const auto net = ev::make_nb201_network(nb201::space::parse(arch),
                                                {.channels = 8, .cells_per_stage = 2}, gen);
        const double rescaled = ev::synflow(*net, {3, 32, 32});
        const double plain = ev::synflow(*net, {3, 32, 32}, {.rescale = false});
        CHECK(std::isfinite(plain));
        CHECK(std::abs(rescaled - plain) < 1e-6 * std::abs(plain));
    }
    // Every edge a 3x3 convolution: the sum is ~e^115, beyond float32 (e^88.7). NASLib, in float64,
    // reports log 114.79771 for this cell (index 15624... whatever its index, the CSV has it).
    const auto heavy = nb201::space::parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_"
                                           "conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
    nascent::rng gen(6);
    const auto net = ev::make_nb201_network(heavy, {}, gen);
    CHECK(!std::isfinite(ev::synflow(*net, {3, 32, 32}, {.rescale = false})));
    CHECK(ev::synflow(*net, {3, 32, 32}) == doctest::Approx(114.79771).epsilon(0.002));
}

TEST_CASE("synflow: data-free, reproducible, and only weakly dependent on the initialisation") {
    const auto cell = nb201::space::parse("|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_"
                                          "pool_3x3~0|nor_conv_3x3~1|skip_connect~2|");
    const ev::nb201_factory tiny{tiny_nb201};
    const ev::proxy_evaluator on_a(nb201::space{}, tiny, {}, random_batch(6, 1));
    const ev::proxy_evaluator on_b(nb201::space{}, tiny, {}, random_batch(6, 2));
    const auto a = on_a.evaluate(cell);
    const auto b = on_b.evaluate(cell);
    REQUIRE(a.ok());
    CHECK(a.metrics.get("synflow") == b.metrics.get("synflow"));
    CHECK(a.metrics.get("l2_norm") == b.metrics.get("l2_norm"));
    CHECK(a.metrics.get("snip") != b.metrics.get("snip")); // data-dependent ones do move
    const auto again = on_a.evaluate(cell);
    for (std::size_t i = 0; i < a.metrics.size(); ++i) {
        CHECK(a.metrics.name(i) == again.metrics.name(i));
        CHECK(a.metrics.value(i) == again.metrics.value(i)); // bit-identical
    }
    const auto full = nb201::space::parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|avg_"
                                          "pool_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|");
    const double s0 = ev::nb201_proxies(full, {.seed = 0, .data_dependent = false}).synflow;
    const double s1 = ev::nb201_proxies(full, {.seed = 1, .data_dependent = false}).synflow;
    CHECK(s0 != s1);
    CHECK(std::abs(s0 - s1) < 0.01 * s0);
    CHECK(s0 ==
          doctest::Approx(90.237606).epsilon(0.005)); // NASLib's score of this cell (index 117)
}

TEST_CASE("synflow's batch norms are exact identities, and everything is put back") {
    nn::batch_norm2d bn(nn::batch_norm_options{.channels = 5});
    nascent::rng gen(8);
    bn.weight().mutable_value() = t::randn({5}, gen);
    const auto saved = bn.state();
    nn::make_identity(bn);
    const ndarray x = t::randn({2, 5, 3, 3}, gen);
    CHECK(bn.forward(variable(x)).value() == x);
    CHECK(!bn.is_training());
    bn.load_state(saved);

    nascent::rng g2(9);
    const auto net =
        ev::make_nb201_network(nb201::space::parse("|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~"
                                                   "1|+|skip_connect~0|nor_conv_3x3~1|none~2|"),
                               tiny_nb201, g2);
    net->eval();
    (*net)[1].train(true); // a mixed state must come back as it was
    const auto state = net->state();
    const auto batch = random_batch(4, 3);
    (void)ev::synflow(*net, {3, 32, 32});
    (void)ev::data_proxies(*net, batch.images, batch.labels);
    CHECK(net->state() == state);
    CHECK(!net->is_training());
    CHECK((*net)[1].is_training());
    CHECK(!(*net)[0].is_training());
    for (const auto& p : net->parameters()) {
        CHECK(p.requires_grad());
        CHECK(!p.has_grad());
    }
}

TEST_CASE("nwot: the kernel counts agreeing ReLU codes, log|det| has the closed form, equal codes "
          "give -inf") {
    // Two samples over 10 units, 3 codes differing: K = [[10, 7], [7, 10]], det = 3 * (20 - 3).
    ev::detail::hamming_kernel two(2);
    ndarray x({2, 10}, 1.0F);
    for (std::size_t u : {0, 4, 9})
        x[10 + u] = -1.0F;
    two.add(x);
    CHECK(two.counts() == std::vector<std::uint64_t>{10, 7, 7, 10});
    CHECK(two.log_abs_det() == doctest::Approx(std::log(51.0)).epsilon(1e-14));

    // Through data_proxies: a ReLU network; K sums the kernels of both ReLU layers.
    nn::sequential net;
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::relu>());
    // Rows: codes 110011, 100001, 011110 (positive = 1) over 6 units.
    const ndarray in({3, 6}, {1, 2, -1, -1, 3, 4, 5, -1, -2, -3, -4, 6, -1, 1, 2, 3, 4, -5});
    const std::vector<std::int32_t> labels{0, 1, 2};
    const auto s = ev::data_proxies(net, in, labels, {.grasp = false});
    // Agreements: (0,1) = 4, (0,2) = 2, (1,2) = 0; twice (two ReLUs): K = 2 *
    // [[6,4,2],[4,6,0],[2,0,6]].
    const double k[3][3] = {{12, 8, 4}, {8, 12, 0}, {4, 0, 12}};
    const double det = k[0][0] * (k[1][1] * k[2][2] - k[1][2] * k[2][1]) -
                       k[0][1] * (k[1][0] * k[2][2] - k[1][2] * k[2][0]) +
                       k[0][2] * (k[1][0] * k[2][1] - k[1][1] * k[2][0]);
    CHECK(s.nwot == doctest::Approx(std::log(det)).epsilon(1e-12));

    const ndarray same({3, 6}, {1, -2, 3, 4, -5, 6, 2, -1, 1, 1, -1, 3, 9, -9, 9, 9, -9, 9});
    CHECK(ev::data_proxies(net, same, labels, {.grasp = false}).nwot == -inf);
}

TEST_CASE("jacob_cov: closed forms for orthogonal and for identical input gradients") {
    const double k = 1e-5;
    // Zero-mean orthogonal rows: the correlation matrix is I, every eigenvalue 1.
    const ndarray rows({2, 4}, {1, -1, 1, -1, 1, 1, -1, -1});
    CHECK(ev::jacob_cov_score(rows) ==
          doctest::Approx(-2.0 * (std::log(1 + k) + 1 / (1 + k))).epsilon(1e-12));
    CHECK(std::isnan(ev::jacob_cov_score(ndarray({2, 3}, {1, 2, 3, 4, 4, 4})))); // a constant row

    // A linear network: d(sum of logits)/dx is the same for every sample, the correlation matrix
    // is all ones, eigenvalues N and N - 1 zeros.
    nascent::rng gen(4);
    nn::sequential net;
    net.add(std::make_shared<nn::flatten>());
    net.add(std::make_shared<nn::linear>(nn::linear_options{.in_features = 12, .out_features = 3},
                                         gen));
    const std::size_t n = 5;
    const auto s = ev::data_proxies(net, t::randn({n, 3, 2, 2}, gen),
                                    std::vector<std::int32_t>{0, 1, 2, 0, 1});
    const double expected = -(std::log(n + k) + 1 / (n + k)) - (n - 1) * (std::log(k) + 1 / k);
    CHECK(s.jacob_cov == doctest::Approx(expected).epsilon(1e-6));
}

TEST_CASE("grad_norm, snip and plain match finite-difference gradients of the loss") {
    // A smooth network (no ReLU): finite differences of a ReLU network's loss jump at kinks.
    nascent::rng gen(21);
    nn::sequential net;
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 1, .out_channels = 3, .padding = 1}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 3}));
    net.add(std::make_shared<nn::avg_pool2d>(t::avg_pool2d_options{.kernel = 2, .stride = 1}));
    net.add(std::make_shared<nn::global_avg_pool>());
    net.add(
        std::make_shared<nn::linear>(nn::linear_options{.in_features = 3, .out_features = 4}, gen));
    const ndarray x = t::randn({6, 1, 5, 5}, gen);
    const std::vector<std::int32_t> labels{0, 1, 2, 3, 1, 2};
    const auto s = ev::data_proxies(net, x, labels);
    const auto grads = numeric_weight_grads(net, x, labels, 1e-2);
    double grad_norm = 0.0;
    double snip = 0.0;
    double plain = 0.0;
    const auto layers = ev::detail::weighted_layers(net);
    for (std::size_t l = 0; l < layers.size(); ++l) {
        double sq = 0.0;
        for (std::size_t i = 0; i < grads[l].size(); ++i) {
            const double w = layers[l].weight.value()[i];
            sq += static_cast<double>(grads[l][i]) * grads[l][i];
            snip += std::abs(w * grads[l][i]);
            plain += w * grads[l][i];
        }
        grad_norm += std::sqrt(sq);
    }
    CHECK(close(s.grad_norm, grad_norm, 1e-3));
    CHECK(close(s.snip, snip, 1e-3));
    CHECK(std::abs(s.plain - plain) < 1e-3 * snip);
}

TEST_CASE("fisher matches finite differences of per-sample channel scalings") {
    // Without batch norm the samples are independent: the batch loss is the mean of the
    // per-sample losses L_n, and sum_positions a * dL/da of channel k in sample n is
    // (1/N) dL_n/dalpha, alpha scaling the layer's output channel k (its weights and bias).
    nascent::rng gen(22);
    nn::sequential net;
    auto conv = net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 2, .out_channels = 3, .padding = 1}, gen));
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::global_avg_pool>());
    auto fc = net.add(
        std::make_shared<nn::linear>(nn::linear_options{.in_features = 3, .out_features = 4}, gen));
    const std::size_t n = 3;
    const ndarray x = t::randn({n, 2, 4, 4}, gen);
    const std::vector<std::int32_t> labels{0, 3, 2};
    const auto s = ev::data_proxies(net, x, labels);

    double fisher = 0.0;
    for (const auto& layer :
         {std::pair{conv->weight(), conv->bias()}, std::pair{fc->weight(), fc->bias()}}) {
        const variable weight =
            layer.first; // not structured bindings: lambdas capture them (clang 14)
        const variable bias = layer.second;
        const std::size_t channels = weight.dim(0);
        const std::size_t fan_in = weight.size() / channels;
        for (std::size_t k = 0; k < channels; ++k) {
            double mean_sq = 0.0;
            for (std::size_t i = 0; i < n; ++i) {
                const ndarray xi = x.reshaped({n, 2 * 4 * 4});
                ndarray one({1, 2, 4, 4}, std::span<const float>(xi.data() + i * 32, 32));
                const std::vector<std::int32_t> label{labels[i]};
                const auto scaled_loss = [&](double alpha) {
                    const ndarray w0 = weight.value();
                    const ndarray b0 = bias.value();
                    for (std::size_t j = 0; j < fan_in; ++j) {
                        weight.mutable_value()[k * fan_in + j] =
                            static_cast<float>(w0[k * fan_in + j] * (1 + alpha));
                    }
                    bias.mutable_value()[k] = static_cast<float>(b0[k] * (1 + alpha));
                    const double loss = loss_of(net, one, label);
                    weight.mutable_value() = w0;
                    bias.mutable_value() = b0;
                    return loss;
                };
                const double h = 1e-3;
                const double d =
                    (scaled_loss(h) - scaled_loss(-h)) / (2 * h) / static_cast<double>(n);
                mean_sq += d * d / static_cast<double>(n);
            }
            fisher += 0.5 * mean_sq * static_cast<double>(fan_in);
        }
    }
    CHECK(close(s.fisher, fisher, 2e-3));
}

TEST_CASE("grasp: the forward-over-reverse H g has the closed form of a linear model") {
    // logits z_n = W x_n + b, L = mean_n CE: H g = mean_n [(diag p_n - p_n p_n^T) (g x_n)] x_n^T.
    nascent::rng gen(23);
    const std::size_t n = 4;
    const std::size_t d = 6;
    const std::size_t c = 3;
    nn::sequential net;
    net.add(std::make_shared<nn::flatten>());
    auto fc = net.add(
        std::make_shared<nn::linear>(nn::linear_options{.in_features = d, .out_features = c}, gen));
    const ndarray x = t::randn({n, d}, gen);
    const std::vector<std::int32_t> labels{0, 2, 1, 2};
    const ndarray& w = fc->weight().value();
    const ndarray& b = fc->bias().value();
    std::vector<double> p(n * c);
    std::vector<double> g(c * d, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        double norm = 0.0;
        for (std::size_t k = 0; k < c; ++k) {
            double z = b[k];
            for (std::size_t j = 0; j < d; ++j)
                z += static_cast<double>(w[k * d + j]) * x[i * d + j];
            p[i * c + k] = std::exp(z);
            norm += p[i * c + k];
        }
        for (std::size_t k = 0; k < c; ++k) {
            p[i * c + k] /= norm;
            const double r =
                (p[i * c + k] - (labels[i] == static_cast<std::int32_t>(k) ? 1.0 : 0.0)) / n;
            for (std::size_t j = 0; j < d; ++j)
                g[k * d + j] += r * x[i * d + j];
        }
    }
    double grasp = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<double> u(c, 0.0); // g x_n
        for (std::size_t k = 0; k < c; ++k) {
            for (std::size_t j = 0; j < d; ++j)
                u[k] += g[k * d + j] * x[i * d + j];
        }
        double pu = 0.0;
        for (std::size_t k = 0; k < c; ++k)
            pu += p[i * c + k] * u[k];
        for (std::size_t k = 0; k < c; ++k) {
            const double hu = p[i * c + k] * (u[k] - pu) / n;
            for (std::size_t j = 0; j < d; ++j)
                grasp -= static_cast<double>(w[k * d + j]) * hu * x[i * d + j];
        }
    }
    const auto exact = ev::data_proxies(net, x, labels);
    CHECK(close(exact.grasp, grasp, 1e-5));
    const auto fd =
        ev::data_proxies(net, x, labels, {.grasp_hvp = ev::hvp_method::finite_difference});
    CHECK(close(fd.grasp, grasp, 1e-2));
}

TEST_CASE("grasp: the batch-norm tangent op's backward matches finite differences") {
    nascent::rng gen(24);
    const ndarray x0 = t::randn({3, 2, 2, 2}, gen);
    const ndarray v0 = t::randn({3, 2, 2, 2}, gen);
    const ndarray a = t::randn({3, 2, 2, 2}, gen);
    const double eps = 1e-5;
    // S(x, v) = sum a * tangent(x, v), in double via the op's float output: use a wide step.
    const auto s_of = [&](const ndarray& x, const ndarray& v) {
        const t::no_grad_guard no_grad;
        const auto out = t::batch_norm_tangent(variable(x), variable(v), eps).value();
        double total = 0.0;
        for (std::size_t i = 0; i < out.size(); ++i)
            total += static_cast<double>(a[i]) * out[i];
        return total;
    };
    variable x(x0, true);
    variable v(v0, true);
    t::sum(t::mul(t::batch_norm_tangent(x, v, eps), variable(a))).backward();
    const double h = 1e-2;
    for (std::size_t i = 0; i < x0.size(); ++i) {
        ndarray up = x0;
        ndarray down = x0;
        up[i] += static_cast<float>(h);
        down[i] -= static_cast<float>(h);
        CHECK(x.grad()[i] ==
              doctest::Approx((s_of(up, v0) - s_of(down, v0)) / (2 * h)).epsilon(2e-3).scale(1.0));
        ndarray vu = v0;
        ndarray vd = v0;
        vu[i] += static_cast<float>(h);
        vd[i] -= static_cast<float>(h);
        CHECK(v.grad()[i] ==
              doctest::Approx((s_of(x0, vu) - s_of(x0, vd)) / (2 * h)).epsilon(1e-3).scale(1.0));
    }
}

TEST_CASE("grasp: exact and finite-difference H g agree on a smooth network with batch norms") {
    // No ReLU: the loss is smooth, so the finite difference converges to the exact value.
    nascent::rng gen(25);
    nn::sequential net;
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 2, .out_channels = 3, .padding = 1, .bias = false}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 3}));
    net.add(std::make_shared<nn::avg_pool2d>(t::avg_pool2d_options{.kernel = 2, .stride = 2}));
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 3, .out_channels = 3, .kernel = 1}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 3}));
    net.add(std::make_shared<nn::global_avg_pool>());
    net.add(
        std::make_shared<nn::linear>(nn::linear_options{.in_features = 3, .out_features = 4}, gen));
    const ndarray x = t::randn({5, 2, 4, 4}, gen);
    const std::vector<std::int32_t> labels{0, 1, 2, 3, 0};
    const double exact = ev::data_proxies(net, x, labels).grasp;
    const double fd =
        ev::data_proxies(net, x, labels,
                         {.grasp_hvp = ev::hvp_method::finite_difference, .grasp_step = 1e-3})
            .grasp;
    CHECK(std::abs(exact) > 0.1);
    CHECK(close(exact, fd, 3e-3));
}

namespace {

struct tangent_check {
    bool same_value;     // the tangent pass's value path equals the module's forward
    double median_error; // median |finite difference - tangent| / rms(finite difference)
    double rms_error;    // rms(finite difference - tangent) / rms(finite difference)
};

// Directional derivative of the module's output along random weight directions (each of its
// layer's norm, so that h is a relative step), by the tangent pass and by central differences.
// ReLU networks are continuous, so these converge, but units whose input crosses 0 within the
// step disturb the elements they feed: the median error ignores them, the rms error does not.
tangent_check check_tangent(nn::module& net, const ndarray& x, double h, nascent::rng& gen) {
    const auto layers = ev::detail::weighted_layers(net);
    std::vector<ndarray> direction;
    for (const auto& l : layers) {
        ndarray d = t::randn(l.weight.shape(), gen);
        double wn = 0.0;
        double dn = 0.0;
        for (const float v : l.weight.value().values())
            wn += static_cast<double>(v) * v;
        for (const float v : d.values())
            dn += static_cast<double>(v) * v;
        for (auto& v : d.values())
            v *= static_cast<float>(std::sqrt(wn / dn));
        direction.push_back(std::move(d));
    }
    const auto state = net.state();
    std::vector<variable> weights;
    for (const auto& l : layers)
        weights.push_back(l.weight);
    t::tangent_forward forward(weights, direction, ev::nb201_tangent_rules());
    const auto out = forward(net, {variable(x), {}});
    net.load_state(state);
    const bool same = out.value.value() == net(variable(x)).value();
    net.load_state(state);
    const auto output_at = [&](double step) {
        for (std::size_t l = 0; l < layers.size(); ++l) {
            layers[l].weight.mutable_value().add_scaled(direction[l], static_cast<float>(step));
        }
        const t::no_grad_guard no_grad;
        auto y = net(variable(x)).value();
        net.load_state(state);
        return y;
    };
    const auto up = output_at(h);
    const auto down = output_at(-h);
    std::vector<double> errors;
    double err2 = 0.0;
    double norm2 = 0.0;
    for (std::size_t i = 0; i < up.size(); ++i) {
        const double fd = (static_cast<double>(up[i]) - down[i]) / (2 * h);
        const double e = fd - out.tangent.value()[i];
        errors.push_back(std::abs(e));
        err2 += e * e;
        norm2 += fd * fd;
    }
    std::nth_element(errors.begin(),
                     errors.begin() + static_cast<std::ptrdiff_t>(errors.size() / 2), errors.end());
    const double rms = std::sqrt(norm2 / static_cast<double>(up.size()));
    return {same, errors[errors.size() / 2] / rms, std::sqrt(err2 / norm2)};
}

} // namespace

TEST_CASE("grasp: the tangent pass through NB201 modules matches finite differences") {
    nascent::rng gen(26);
    const ndarray x = t::randn({4, 8, 8, 8}, gen);
    nn::sequential cell; // every op kind: conv 3x3 and 1x1, pooling, skip, none
    cell.add(std::make_shared<ev::detail::nb201_cell_module>(
        nb201::space::parse("|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~"
                            "1|nor_conv_3x3~2|"),
        8, true, gen));
    nn::sequential reduction;
    reduction.add(std::make_shared<ev::detail::reduction_block>(8, 16, true, gen));
    nn::sequential head;
    head.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 8}));
    head.add(std::make_shared<nn::relu>());
    head.add(std::make_shared<nn::global_avg_pool>());
    head.add(std::make_shared<nn::flatten>());
    head.add(std::make_shared<nn::linear>(nn::linear_options{.in_features = 8, .out_features = 10},
                                          gen));
    head.add(std::make_shared<nn::linear>(nn::linear_options{.in_features = 10, .out_features = 5},
                                          gen));
    for (nn::module* m : {static_cast<nn::module*>(&cell), static_cast<nn::module*>(&reduction),
                          static_cast<nn::module*>(&head)}) {
        const auto c = check_tangent(*m, x, 1e-3, gen);
        CHECK(c.same_value);
        CHECK(c.median_error < 5e-3); // float32 steps: ~1e-4 to 1e-3; a wrong rule gives O(1)
        CHECK(c.rms_error < 0.05);
    }
    // The whole (reduced) network: the logits feel every unit, so kinks show in all of them.
    const auto net =
        ev::make_nb201_network(nb201::space::parse("|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~"
                                                   "1|+|skip_connect~0|nor_conv_3x3~1|none~2|"),
                               tiny_nb201, gen);
    const auto batch = random_batch(4, 5);
    const auto whole = check_tangent(*net, batch.images, 1e-4, gen);
    CHECK(whole.same_value);
    CHECK(whole.rms_error < 0.05);
    CHECK(contains(error_of([&] {
                       nn::sequential other;
                       other.add(std::make_shared<nn::max_pool2d>());
                       other.add(std::make_shared<nn::flatten>());
                       (void)ev::data_proxies(other, batch.images, batch.labels);
                   }),
                   "no forward-mode rule for module kind 'max_pool2d'"));
}

TEST_CASE("synflow ranks NAS-Bench-201 cells as NASLib's published scores do") {
    const auto csv =
        nascent::io::csv_table::read(nascent::test::data_dir().file("zc/nb201_cifar10.csv"));
    const auto arch_col = csv.column("arch");
    const auto synflow_col = csv.column("synflow");
    const auto l2_col = csv.column("l2_norm");
    const auto& table = nascent::test::nb201();
    std::vector<nb201::cell> cells;
    std::vector<double> theirs;
    std::vector<double> l2_theirs;
    for (std::size_t row = 0; row < csv.rows() && cells.size() < 30; row += 24) {
        cells.push_back(nb201::space::parse(csv.field(row, arch_col)));
        CHECK(table.index_of(cells.back()) ==
              static_cast<std::uint32_t>(csv.integer(row, csv.column("index"), 0, 15624)));
        theirs.push_back(csv.required_number(row, synflow_col));
        l2_theirs.push_back(csv.required_number(row, l2_col));
    }
    std::vector<double> ours(cells.size());
    std::vector<double> l2_ours(cells.size());
    nascent::exec::tbb_executor(2).for_each(cells.size(), [&](std::size_t i) {
        const auto s = ev::nb201_proxies(cells[i], {.data_dependent = false});
        ours[i] = s.synflow;
        l2_ours[i] = s.l2_norm;
    });
    for (auto& v : ours) {
        if (v == -inf)
            v = 0.0; // NASLib reports a zero synflow as 0
    }
    const double rho = ev::spearman(ours, theirs);
    MESSAGE("synflow vs NASLib over " << cells.size() << " cells: Spearman " << rho);
    CHECK(rho >= 0.95);
    for (std::size_t i = 0; i < cells.size(); ++i) {
        CHECK(std::abs(l2_ours[i] - l2_theirs[i]) < 0.02 * l2_theirs[i]); // same initialisation law
        if (theirs[i] > 0.0)
            CHECK(std::abs(ours[i] - theirs[i]) < 0.01 * theirs[i]);
    }
}

TEST_CASE("proxy evaluator: metrics, reward, bad options, identical results on any thread count") {
    const auto batch = random_batch(4, 7);
    const ev::proxy_evaluator evaluator(nb201::space{}, ev::nb201_factory{tiny_nb201},
                                        {.reward = "nwot"}, batch);
    CHECK(evaluator.reward() == "nwot");
    const auto cell = nb201::space::parse(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
    const auto e = evaluator.evaluate(cell);
    REQUIRE(e.ok());
    CHECK(e.metrics.size() == ev::proxy_fields.size());
    for (std::size_t i = 0; i < ev::proxy_fields.size(); ++i)
        CHECK(e.metrics.name(i) == ev::proxy_fields[i].name);
    CHECK(e.reward == e.metrics.get("nwot"));
    for (const char* name :
         {"synflow", "grad_norm", "snip", "grasp", "fisher", "jacob_cov", "nwot", "l2_norm"}) {
        CHECK(std::isfinite(*e.metrics.get(name)));
    }

    const ev::proxy_evaluator data_free({.proxies = {.data_dependent = false}});
    CHECK(data_free.evaluate(cell).metrics.size() == 4); // synflow, l2_norm, params, flops
    // A search objective: a short random search maximises synflow.
    const auto run = nascent::run(nascent::strategy::random_search<nb201::space>{}, data_free,
                                  {.budget = 6, .seed = 3});
    CHECK(run.queries == 6);
    REQUIRE(run.best);
    CHECK(run.best_reward == ev::nb201_proxies(*run.best, {.data_dependent = false}).synflow);
    CHECK(
        contains(error_of([] { ev::proxy_evaluator({.reward = "zen"}); }), "unknown proxy 'zen'"));
    CHECK(contains(error_of([] {
                       ev::proxy_evaluator(
                           {.reward = "snip", .proxies = {.data_dependent = false}});
                   }),
                   "reward 'snip' needs data"));
    CHECK(contains(error_of([] { (void)ev::nb201_proxies(nb201::cell{}, {}); }), "need a batch"));

    nascent::rng gen(12);
    std::vector<nb201::cell> cells;
    for (int i = 0; i < 4; ++i)
        cells.push_back(nb201::space{}.sample(gen));
    std::vector<nascent::evaluation> one(cells.size());
    std::vector<nascent::evaluation> two(cells.size());
    nascent::exec::tbb_executor(1).for_each(
        cells.size(), [&](std::size_t i) { one[i] = evaluator.evaluate(cells[i]); });
    nascent::exec::tbb_executor(2).for_each(
        cells.size(), [&](std::size_t i) { two[i] = evaluator.evaluate(cells[i]); });
    for (std::size_t i = 0; i < cells.size(); ++i) {
        CHECK(one[i].status == two[i].status);
        for (std::size_t m = 0; m < one[i].metrics.size(); ++m) {
            const double a = one[i].metrics.value(m);
            const double b = two[i].metrics.value(m);
            CHECK((a == b || (std::isnan(a) && std::isnan(b))));
        }
    }
}

TEST_CASE("fashion_mnist_batch: distinct training images, padded to 32x32 in 3 channels, by seed") {
    const auto a = ev::fashion_mnist_batch(8, 3);
    REQUIRE(a.images.shape() == t::shape_t{8, 3, 32, 32});
    CHECK(a.labels.size() == 8);
    const float background = (0.0F - 0.2860F) / 0.3530F;
    CHECK(a.images[0] == background); // a padded corner
    bool replicated = true;
    for (std::size_t i = 0; i < 32 * 32; ++i)
        replicated = replicated && a.images[i] == a.images[2 * 32 * 32 + i];
    CHECK(replicated);
    const auto b = ev::fashion_mnist_batch(8, 3);
    CHECK(a.images == b.images);
    CHECK(a.labels == b.labels);
    CHECK(ev::fashion_mnist_batch(8, 4).images != a.images);
    CHECK(contains(error_of([] { (void)ev::fashion_mnist_batch(0, 0); }), "size 0"));
}
