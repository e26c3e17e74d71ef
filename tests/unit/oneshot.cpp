// Weight sharing and differentiable search: gradients of the mixed op in its three modes against
// finite differences of double-precision references, DARTS' second-order gradient against
// finite differences of the unrolled objective, batch-norm recalibration, reproducibility and
// failure on NaN.

#include <nascent/eval/oneshot/darts.hpp>
#include <nascent/eval/oneshot/drnas.hpp>
#include <nascent/eval/oneshot/enas.hpp>
#include <nascent/eval/oneshot/gdas.hpp>
#include <nascent/eval/oneshot/mixed_op.hpp>
#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/spos.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/eval/oneshot/supernet_evaluator.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/random_search.hpp>

#include "gradient_check.hpp"
#include "tensor_reference.hpp"

#include <doctest/doctest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <vector>

namespace {

namespace t = nascent::tensor;
namespace os = nascent::eval::oneshot;
using nascent::test::dt;

// The five NB201 candidates written with the test's own weight variables (x, alpha, W1x1, W3x3):
// none, skip, ReLU-conv1x1-BN, ReLU-conv3x3-BN, avg_pool 3x3 without padding counts.
std::vector<std::shared_ptr<t::nn::module>> candidates(const t::variable& w1,
                                                       const t::variable& w3) {
    using L = t::nn::lambda;
    return {nullptr, std::make_shared<t::nn::identity>(),
            std::make_shared<L>("c1",
                                [w1](const t::variable& x) {
                                    return t::batch_norm(t::conv2d(t::relu(x), w1, {}, {}), {}, {},
                                                         nullptr, nullptr);
                                }),
            std::make_shared<L>("c3",
                                [w3](const t::variable& x) {
                                    return t::batch_norm(
                                        t::conv2d(t::relu(x), w3, {}, {.padding = 1}), {}, {},
                                        nullptr, nullptr);
                                }),
            std::make_shared<L>("pool", [](const t::variable& x) {
                return t::avg_pool2d(x, {.kernel = 3, .stride = 1, .padding = 1});
            })};
}

// The candidates' double references; y[0] is unused (none).
std::vector<dt> ref_candidates(const dt& x, const dt& w1, const dt& w3) {
    using namespace nascent::test;
    return {zeros(x.shape), x,
            ref_batch_norm(ref_conv2d(ref_relu(x), w1, nullptr, {}), nullptr, nullptr, nullptr,
                           nullptr, 1e-5),
            ref_batch_norm(ref_conv2d(ref_relu(x), w3, nullptr, {.padding = 1}), nullptr, nullptr,
                           nullptr, nullptr, 1e-5),
            ref_pool(x, 3, 1, 1, false, false)};
}

std::vector<double> ref_softmax(const std::vector<double>& a, double tau = 1.0,
                                const std::vector<double>& shift = {}) {
    std::vector<double> p(a.size());
    double top = -1e300;
    for (std::size_t k = 0; k < a.size(); ++k)
        top = std::max(top, (a[k] + (shift.empty() ? 0.0 : shift[k])) / tau);
    double total = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
        total += p[k] = std::exp((a[k] + (shift.empty() ? 0.0 : shift[k])) / tau - top);
    for (auto& v : p)
        v /= total;
    return p;
}

const std::vector<t::ndarray> mixed_inputs() {
    return {nascent::test::random({2, 2, 4, 4}, 1), nascent::test::random({5}, 2, 0.7),
            nascent::test::random({2, 2, 1, 1}, 3, 0.6),
            nascent::test::random({2, 2, 3, 3}, 4, 0.3)};
}

// Gumbel noise as gumbel_sample draws it from a generator seeded with `seed`.
std::vector<double> gumbel_noise(std::uint64_t seed, std::size_t k) {
    nascent::rng gen(seed);
    std::vector<double> g(k);
    for (auto& v : g)
        v = -std::log(-std::log(1.0 - nascent::uniform_real(gen)));
    return g;
}

os::search_data synthetic_data(std::size_t n, std::uint64_t seed, std::size_t res = 8) {
    nascent::rng gen(seed);
    const auto make = [&](std::size_t count) {
        os::labelled_set s{t::randn({count, 1, res, res}, gen), std::vector<std::int32_t>(count)};
        for (std::size_t i = 0; i < count; ++i) {
            s.labels[i] = static_cast<std::int32_t>(nascent::uniform_index(gen, 3));
            // a learnable signal: the label shifts the image's mean
            for (std::size_t j = 0; j < res * res; ++j)
                s.images[i * res * res + j] += 0.5F * static_cast<float>(s.labels[i]);
        }
        return s;
    };
    return {make(n), make(n), make(n)};
}

constexpr os::supernet_options tiny{
    .channels = 2, .cells_per_stage = 1, .classes = 3, .input_channels = 1, .resolution = 8};

} // namespace

TEST_CASE("mixed op: single-path gradients match finite differences") {
    const auto r = nascent::test::check_gradients(
        mixed_inputs(),
        [](const std::vector<t::variable>& v) {
            os::mixed_op op(candidates(v[2], v[3]));
            op.set_path({.mode = os::path_mode::single, .op = 3});
            return op(v[0]);
        },
        [](const std::vector<dt>& x) { return ref_candidates(x[0], x[2], x[3])[3]; });
    nascent::test::require_good(r, "single");
    CHECK(r.gradient_errors[2] == 0.0); // the unused 1x1 weights get no gradient
}

TEST_CASE("mixed op: weighted-sum gradients wrt weights and alpha match finite differences") {
    const auto r = nascent::test::check_gradients(
        mixed_inputs(),
        [](const std::vector<t::variable>& v) {
            os::mixed_op op(candidates(v[2], v[3]));
            op.set_path({.mode = os::path_mode::weighted, .weights = os::softmax(v[1])});
            return op(v[0]);
        },
        [](const std::vector<dt>& x) {
            const auto ys = ref_candidates(x[0], x[2], x[3]);
            const auto p = ref_softmax(x[1].v);
            dt y = nascent::test::zeros(x[0].shape);
            for (std::size_t k = 1; k < ys.size(); ++k)
                for (std::size_t i = 0; i < y.size(); ++i)
                    y.v[i] += p[k] * ys[k].v[i];
            return y;
        });
    nascent::test::require_good(r, "weighted");
}

TEST_CASE("mixed op: Gumbel straight-through gradients match finite differences") {
    // The straight-through forward h + p(alpha) - p(alpha_0), p the Gumbel softmax with fixed
    // noise: its value is h at alpha_0 and its derivative that of p, which GDAS' backward is.
    constexpr double tau = 0.7;
    constexpr std::uint64_t seed = 5;
    const auto inputs = mixed_inputs();
    const std::vector<double> alpha0(inputs[1].begin(), inputs[1].end());
    const auto noise = gumbel_noise(seed, 5);
    const auto p0 = ref_softmax(alpha0, tau, noise);
    const auto chosen =
        static_cast<std::size_t>(std::max_element(p0.begin(), p0.end()) - p0.begin());
    std::size_t sampled = 99;
    const auto r = nascent::test::check_gradients(
        inputs,
        [&](const std::vector<t::variable>& v) {
            os::mixed_op op(candidates(v[2], v[3]));
            nascent::rng gen(seed);
            const auto d = os::gumbel_sample(v[1], tau, gen);
            sampled = d.op;
            op.set_path({.mode = os::path_mode::gumbel, .op = d.op, .weights = d.weights});
            return op(v[0]);
        },
        [&](const std::vector<dt>& x) {
            const auto ys = ref_candidates(x[0], x[2], x[3]);
            const auto p = ref_softmax(x[1].v, tau, noise);
            dt y = nascent::test::zeros(x[0].shape);
            for (std::size_t k = 0; k < 5; ++k) {
                const double w = (k == chosen ? 1.0 : 0.0) + p[k] - p0[k];
                for (std::size_t i = 0; i < y.size(); ++i)
                    y.v[i] += k == chosen ? w * ys[k].v[i] : w;
            }
            return y;
        });
    CHECK(sampled == chosen);
    nascent::test::require_good(r, "gumbel");
}

TEST_CASE("DARTS: the second-order alpha gradient is that of the unrolled objective") {
    nascent::rng gen(7);
    auto smooth = tiny;
    smooth.relu = false; // a ReLU net's weight gradient jumps at kinks: no finite differences
    auto net = os::make_nb201_supernet(smooth, gen);
    for (const auto& a : net->alpha()) // away from the symmetric start
        t::fill_normal(a.mutable_value(), 0.0, 0.5, gen);
    const auto data = synthetic_data(6, 8);
    std::vector<std::size_t> idx(6);
    std::iota(idx.begin(), idx.end(), 0);
    const auto [xt, yt] = data.train.gather(idx);
    const auto [xv, yv] = data.valid.gather(idx);
    const os::unrolled_step u{.xi = 0.05,
                              .momentum = 0.9,
                              .weight_decay = 3e-4,
                              .momentum_buffers = {},
                              .hvp_scale = 0.01};
    os::second_order_alpha_gradient(*net, xt, yt, xv, yv, u);
    std::vector<t::ndarray> analytic;
    for (const auto& a : net->alpha())
        analytic.push_back(a.grad());
    // first order, for contrast: the test must tell the two apart
    const auto first = os::detail::alpha_gradient(*net, xv, yv);
    double largest = 0, worst = 0, first_gap = 0;
    constexpr float h = 1e-3F;
    for (std::size_t e = 0; e < net->alpha().size(); ++e) {
        for (std::size_t k = 0; k < 5; ++k) {
            auto& a = net->alpha()[e].mutable_value();
            const float a0 = a[k];
            a[k] = a0 + h;
            const double up = os::unrolled_objective(*net, xt, yt, xv, yv, u);
            a[k] = a0 - h;
            const double down = os::unrolled_objective(*net, xt, yt, xv, yv, u);
            a[k] = a0;
            const double numeric = (up - down) / (2 * h);
            largest = std::max(largest, std::abs(numeric));
            worst = std::max(worst, std::abs(numeric - analytic[e][k]));
            first_gap = std::max(first_gap, std::abs(numeric - first[e][k]));
        }
    }
    INFO("largest " << largest << ", second-order error " << worst << ", first-order gap "
                    << first_gap);
    CHECK(worst < 0.03 * largest);
    CHECK(first_gap > 0.3 * largest);
}

TEST_CASE("batch-norm recalibration averages the batch statistics of k batches") {
    nascent::rng gen(3);
    auto net = os::make_nb201_supernet(tiny, gen);
    const auto data = synthetic_data(12, 4);
    net->set_genotype(nascent::nb201::space::parse(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"));
    os::recalibrate_batch_norm(*net, data.train, 3, 4);
    // the stem's BN (layer "1") sees the stem convolution's output: its mean per channel
    auto& stem = *net->children()[0].second;
    std::vector<double> expected(2, 0.0);
    for (std::size_t b = 0; b < 3; ++b) {
        std::vector<std::size_t> idx{4 * b, 4 * b + 1, 4 * b + 2, 4 * b + 3};
        const t::no_grad_guard guard;
        const auto y = stem(t::variable(data.train.gather(idx).first));
        const std::size_t plane = 64;
        for (std::size_t c = 0; c < 2; ++c) {
            double s = 0;
            for (std::size_t i = 0; i < 4; ++i)
                for (std::size_t j = 0; j < plane; ++j)
                    s += y.value()[(i * 2 + c) * plane + j];
            expected[c] += s / (4.0 * plane) / 3.0;
        }
    }
    const auto buffers = net->named_buffers();
    REQUIRE(buffers[0].first == "1.running_mean");
    for (std::size_t c = 0; c < 2; ++c)
        CHECK((*buffers[0].second)[c] == doctest::Approx(expected[c]).epsilon(1e-4));
}

TEST_CASE("supernet evaluator: scores are independent of evaluation order") {
    nascent::rng gen(3);
    auto net = os::make_nb201_supernet(tiny, gen);
    auto data = std::make_shared<const os::search_data>(synthetic_data(16, 5));
    os::supernet_evaluator score{net, data, {.recalibration_batches = 2, .batch_size = 4}};
    const auto a = nascent::nb201::space::parse(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
    const auto b = nascent::nb201::space::parse("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|"
                                                "skip_connect~0|skip_connect~1|skip_connect~2|");
    const auto first = score.evaluate(a);
    REQUIRE(first.ok());
    CHECK(first.metrics.get("supernet_acc") == first.reward);
    (void)score.evaluate(b);
    CHECK(score.evaluate(a).reward == first.reward);
    // a strategy runs on it unchanged
    const nascent::strategy::random_search rs{nascent::nb201::space{}};
    const auto found = os::spos_search(rs, score, {.budget = 5, .seed = 1});
    CHECK(found.queries == 5);
}

TEST_CASE("one-shot search: the same seed gives the same alpha trace, on 1 and 2 threads") {
    const auto data = synthetic_data(16, 9);
    const auto run = [&](auto method, std::size_t threads) {
        tbb::task_arena arena(static_cast<int>(threads));
        return arena.execute([&] {
            nascent::rng gen(11);
            auto net = os::make_nb201_supernet(tiny, gen);
            return os::run_oneshot(*net, data, method,
                                   {.epochs = 2, .batch_size = 4, .a_lr = 3e-2, .seed = 3});
        });
    };
    const auto a = run(os::darts{}, 1);
    const auto b = run(os::darts{}, 2);
    REQUIRE(a.status == nascent::eval_status::ok);
    REQUIRE(a.trace.size() == 2);
    CHECK(a.trace[1].alpha == b.trace[1].alpha);
    CHECK(a.trace[0].alpha != a.trace[1].alpha); // alpha moved
    CHECK(a.cell.has_value());
    const auto g1 = run(os::gdas{}, 1);
    const auto g2 = run(os::gdas{}, 1);
    CHECK(g1.trace[1].alpha == g2.trace[1].alpha);
    CHECK(g1.trace[0].temperature == 10.0);
    CHECK(g1.trace[1].temperature == doctest::Approx(0.1));
    CHECK(run(os::darts{.second_order = true}, 1).status == nascent::eval_status::ok);
    CHECK(run(os::drnas{}, 1).status == nascent::eval_status::ok);
    CHECK(!run(os::spos{}, 1).cell.has_value()); // no alpha: SPOS' search picks the cell
}

TEST_CASE("one-shot search: a NaN ends the run with a failed status and the trace so far") {
    auto data = synthetic_data(16, 9);
    data.train.images[5] = std::numeric_limits<float>::quiet_NaN();
    nascent::rng gen(11);
    auto net = os::make_nb201_supernet(tiny, gen);
    os::darts method;
    const auto r = os::run_oneshot(*net, data, method, {.epochs = 3, .batch_size = 4, .seed = 3});
    CHECK(r.status == nascent::eval_status::failed);
    CHECK(r.reason.find("non-finite") != std::string::npos);
    CHECK(r.trace.size() == 1);
    CHECK(!r.cell.has_value());
    CHECK_THROWS_AS(os::run_oneshot(*net, data, method, {.epochs = 0}), std::invalid_argument);
}

TEST_CASE("DrNAS: exact Gamma quantiles and Dirichlet samples with the right mean") {
    CHECK(os::detail::gamma_p(1.0, 0.7) == doctest::Approx(1 - std::exp(-0.7)).epsilon(1e-12));
    CHECK(os::detail::gamma_p(3.0, 5.0) ==
          doctest::Approx(1 - std::exp(-5.0) * (1 + 5.0 + 12.5)).epsilon(1e-12));
    CHECK(os::detail::gamma_quantile(1.0, 0.3) == doctest::Approx(-std::log(0.7)).epsilon(1e-10));
    const t::variable alpha(t::ndarray({3}, {0.5F, -1.0F, 2.0F}), true);
    nascent::rng gen(1);
    std::vector<double> mean(3, 0.0);
    constexpr int n = 4000;
    for (int i = 0; i < n; ++i) {
        const auto w = os::dirichlet_sample(alpha, gen);
        double total = 0;
        for (std::size_t k = 0; k < 3; ++k) {
            total += w.value()[k];
            mean[k] += w.value()[k] / n;
        }
        CHECK(total == doctest::Approx(1.0).epsilon(1e-6));
    }
    const auto expected = os::drnas::probabilities(alpha.value()); // beta / sum(beta)
    for (std::size_t k = 0; k < 3; ++k)
        CHECK(mean[k] == doctest::Approx(expected[k]).epsilon(0.03));
}

namespace {
// ENAS with a small controller (1 x 4 LSTM) so that finite differences cover every parameter.
os::enas_options small_enas(std::size_t aggregate) {
    return {.controller_steps = 3,
            .aggregate = aggregate,
            .controller_lr = 0.1,
            .adam_eps = 1.0, // Adam's first step is -lr g / (|g| + eps): g is recoverable
            .grad_clip = 0.0,
            .entropy_weight = 0.0,
            .epoch_samples = 3,
            .final_samples = 5,
            .policy = {.hidden = 4, .layers = 1}};
}
} // namespace

TEST_CASE("ENAS: the controller's update is REINFORCE on the supernet's batch accuracies") {
    const auto data = synthetic_data(24, 4);
    nascent::rng gen(21);
    auto net = os::make_nb201_supernet(tiny, gen);
    os::enas<nascent::nb201::space> method(small_enas(3));
    const auto batch = [&](std::size_t j) {
        std::vector<std::size_t> idx(8);
        std::iota(idx.begin(), idx.end(), 8 * j);
        auto [x, y] = data.valid.gather(idx);
        return os::labelled_set{std::move(x), std::move(y)};
    };
    // The reward by hand: argmax of the single path's logits on the batch, eval-mode BN.
    const auto by_hand = [&](const nascent::nb201::cell& c, const os::labelled_set& b) {
        const t::no_grad_guard off;
        net->set_genotype(c);
        net->eval();
        const auto z = (*net)(t::variable(b.images)).value();
        net->train();
        double right = 0;
        for (std::size_t i = 0; i < b.size(); ++i) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < 3; ++k)
                best = z[i * 3 + k] > z[i * 3 + best] ? k : best;
            right += static_cast<int>(best) == b.labels[i] ? 1 : 0;
        }
        return right / static_cast<double>(b.size());
    };
    std::vector<os::enas_sample<nascent::nb201::space>> s;
    s.push_back(method.controller_step(*net, batch(0), gen));
    s.push_back(method.controller_step(*net, batch(1), gen));
    const auto before = *method.learner().policy(); // a deep copy, before the update
    CHECK(method.learner().updates() == 0);
    s.push_back(method.controller_step(*net, batch(2), gen));
    REQUIRE(method.learner().updates() == 1);
    // ENAS' baseline: b_1 = R_1, b_j = 0.99 b_(j-1) + 0.01 R_j; advantages A_j = R_j - b_j.
    std::vector<double> advantage;
    double b = 0;
    for (std::size_t j = 0; j < 3; ++j) {
        CHECK(s[j].reward == by_hand(s[j].cell, batch(j)));
        b = j == 0 ? s[j].reward : 0.99 * b + 0.01 * s[j].reward;
        advantage.push_back(s[j].reward - b);
    }
    CHECK(method.learner().baseline() == doctest::Approx(b).epsilon(1e-12));
    REQUIRE(std::abs(advantage[1]) + std::abs(advantage[2]) > 1e-3); // a gradient to check
    // g = -(1/M) sum_j A_j d log pi(a_j) / d theta by central differences of log pi; one Adam step
    // from zero moments with beta1 = 0 moves theta by -lr g / (|g| + eps).
    auto probe = before;
    const auto log_pi = [&](const nascent::nb201::cell& c) {
        std::vector<std::int32_t> a(c.ops.begin(), c.ops.end());
        return static_cast<double>(probe.evaluate(a, 1).log_prob.value()[0]);
    };
    const auto after = method.learner().policy()->parameters();
    double largest = 0;
    std::size_t checked = 0;
    for (std::size_t p = 0; p < probe.parameters().size(); ++p) {
        const auto& theta = probe.parameters()[p];
        for (std::size_t k = 0; k < theta.size(); ++k) {
            const float saved = theta.value()[k];
            constexpr float h = 1e-2F;
            double g = 0;
            for (std::size_t j = 0; j < 3; ++j) {
                theta.mutable_value()[k] = saved + h;
                const double up = log_pi(s[j].cell);
                theta.mutable_value()[k] = saved - h;
                const double down = log_pi(s[j].cell);
                g -= advantage[j] * (up - down) / (2 * h) / 3.0;
            }
            theta.mutable_value()[k] = saved;
            const double expected = -0.1 * g / (std::abs(g) + 1.0);
            const double moved = static_cast<double>(after[p].value()[k]) - saved;
            largest = std::max(largest, std::abs(expected));
            CHECK(std::abs(moved - expected) <= 1e-5 + 0.02 * std::abs(expected));
            ++checked;
        }
    }
    CHECK(checked > 150);
    CHECK(largest > 1e-3);
}

TEST_CASE("ENAS: the same seed gives the same search on 1 and 2 threads") {
    const auto data = synthetic_data(16, 9);
    const auto run = [&](std::size_t threads) {
        tbb::task_arena arena(static_cast<int>(threads));
        return arena.execute([&] {
            nascent::rng gen(11);
            auto net = os::make_nb201_supernet(tiny, gen);
            os::enas<nascent::nb201::space> method(small_enas(4));
            auto r = os::run_oneshot(*net, data, method, {.epochs = 2, .batch_size = 4, .seed = 3});
            return std::make_pair(std::move(r), method);
        });
    };
    const auto [a, ea] = run(1);
    const auto [b, eb] = run(2);
    REQUIRE(a.status == nascent::eval_status::ok);
    REQUIRE(a.cell.has_value());
    CHECK(a.cell == b.cell);
    CHECK(ea.cell_reward() == eb.cell_reward());
    CHECK(a.trace[1].train_loss == b.trace[1].train_loss);
    REQUIRE(ea.history().size() == 2);
    CHECK(ea.learner().updates() == 2 * 3); // S = 3 updates of M = 4 samples per epoch
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(ea.history()[i].mean_reward == eb.history()[i].mean_reward);
        CHECK(ea.history()[i].baseline == eb.history()[i].baseline);
        CHECK(ea.history()[i].entropy == eb.history()[i].entropy);
        CHECK(ea.history()[i].pick == eb.history()[i].pick);
        CHECK(ea.history()[i].entropy > 0.0);
        CHECK(ea.history()[i].mean_reward >= 0.0);
        CHECK(ea.history()[i].mean_reward <= 1.0);
    }
    const auto pa = ea.learner().policy()->parameters();
    const auto pb = eb.learner().policy()->parameters();
    for (std::size_t p = 0; p < pa.size(); ++p) {
        CHECK(std::equal(pa[p].value().begin(), pa[p].value().end(), pb[p].value().begin()));
    }
    CHECK_THROWS_AS(os::enas<nascent::nb201::space>({.final_samples = 0}), std::invalid_argument);
    CHECK_THROWS_AS(os::enas<nascent::nb201::space>({.aggregate = 0}), std::invalid_argument);
}
