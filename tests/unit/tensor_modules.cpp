// Modules (parameters, initialisation, hooks, state) and optimisers (SGD, schedules, clipping)
// against PyTorch's definitions.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/optim.hpp>
#include <nascent/tensor/tensor.hpp>

#include "error_of.hpp"
#include "gradient_check.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace t = nascent::tensor;
namespace nn = nascent::tensor::nn;
using nascent::test::check_gradients;
using nascent::test::check_result;
using nascent::test::dt;
using nascent::test::random;
using nascent::test::require_good;
using nascent::test::to_double;
using nascent::test::zeros;
using t::ndarray;
using t::shape_t;
using t::variable;

using nascent::test::contains;
using nascent::test::error_of;

// =============================================================================================
// Modules

TEST_CASE("modules: parameters, names, buffers, modes") {
    nascent::rng gen(0);
    nn::sequential net;
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 3, .out_channels = 4, .bias = false}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 4}));
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::global_avg_pool>());
    net.add(
        std::make_shared<nn::linear>(nn::linear_options{.in_features = 4, .out_features = 2}, gen));
    std::vector<std::string> names;
    for (const auto& [name, p] : net.named_parameters())
        names.push_back(name);
    CHECK(names ==
          std::vector<std::string>{"0.weight", "1.weight", "1.bias", "4.weight", "4.bias"});
    CHECK(net.parameter_count() == 4 * 3 * 9 + 4 + 4 + 2 * 4 + 2);
    const auto buffers = net.named_buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].first == "1.running_mean");
    for (const auto& p : net.parameters())
        CHECK(p.requires_grad());
    CHECK(net.is_training());
    net.eval();
    CHECK_FALSE(net[1].is_training());
    net.train();
    CHECK(net[1].is_training());
    CHECK(net[0].kind() == "conv2d");
    CHECK(net.forward(variable(ndarray({2, 3, 5, 5}, 0.5F))).shape() == shape_t{2, 2});
}

TEST_CASE("modules: initialisation follows PyTorch's defaults and the generator") {
    nascent::rng gen(1);
    const nn::conv2d conv({.in_channels = 16, .out_channels = 64, .kernel = 3}, gen);
    const double bound = 1.0 / std::sqrt(16.0 * 9.0); // kaiming_uniform(a = sqrt 5)
    double sum2 = 0;
    for (const float v : conv.weight().value().values()) {
        CHECK(std::abs(v) <= bound);
        sum2 += static_cast<double>(v) * v;
    }
    CHECK(std::sqrt(sum2 / 9216.0) == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.03));
    for (const float v : conv.bias().value().values())
        CHECK(std::abs(v) <= bound);

    const nn::conv2d he({.in_channels = 32,
                         .out_channels = 64,
                         .kernel = 3,
                         .init = nn::weight_init::kaiming_normal_fan_out},
                        gen);
    double s2 = 0;
    for (const float v : he.weight().value().values())
        s2 += static_cast<double>(v) * v;
    CHECK(std::sqrt(s2 / static_cast<double>(he.weight().size())) ==
          doctest::Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.03));
    CHECK(he.bias().value() == ndarray({64}, 0.0F));

    nascent::rng a(7), b(7);
    CHECK(nn::linear({.in_features = 5, .out_features = 3}, a).weight().value() ==
          nn::linear({.in_features = 5, .out_features = 3}, b).weight().value());
    CHECK(contains(
        error_of([&] { nn::conv2d({.in_channels = 3, .out_channels = 4, .groups = 2}, gen); }),
        "groups 2"));
}

TEST_CASE("modules: forward hooks see every layer's output and can be removed") {
    nascent::rng gen(2);
    nn::sequential net;
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 1, .out_channels = 2, .padding = 1}, gen));
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 2, .out_channels = 2, .padding = 1}, gen));
    net.add(std::make_shared<nn::relu>());
    std::vector<ndarray> activations;
    std::vector<std::size_t> handles;
    net.visit([&](nn::module& m) {
        if (m.kind() == "relu") {
            handles.push_back(
                m.add_forward_hook([&](nn::module&, const variable&, const variable& out) {
                    activations.push_back(out.value());
                    out.retain_grad(); // e.g. Fisher needs activation gradients
                }));
        }
    });
    const auto y = net(variable(t::randn({2, 1, 4, 4}, gen)));
    REQUIRE(activations.size() == 2);
    CHECK(activations[1] == y.value());
    t::sum(y).backward();
    net[1].remove_forward_hook(handles[0]);
    (void)net(variable(t::randn({2, 1, 4, 4}, gen)));
    CHECK(activations.size() == 3);
}

TEST_CASE("modules: state and load_state round trip (synflow's |w| and back)") {
    nascent::rng gen(4);
    nn::sequential net;
    net.add(
        std::make_shared<nn::conv2d>(nn::conv2d_options{.in_channels = 2, .out_channels = 3}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 3}));
    const auto saved = net.state();
    {
        const t::no_grad_guard guard;
        for (const auto& p : net.parameters())
            for (auto& v : p.mutable_value().values())
                v = std::abs(v);
        (void)net(variable(t::randn({2, 2, 4, 4}, gen))); // moves the running statistics
    }
    CHECK(net.state() != saved);
    net.load_state(saved);
    CHECK(net.state() == saved);
    CHECK(contains(error_of([&] { net.load_state(std::vector<ndarray>(2)); }),
                   "2 arrays for 4 parameters and 2 buffers"));
}

TEST_CASE("modules: batch_norm2d without running stats normalises by the batch in eval mode") {
    nn::batch_norm2d bn({.channels = 2, .affine = false, .track_running_stats = false});
    bn.eval();
    nascent::rng gen(5);
    const auto y = bn(variable(t::randn({4, 2, 3, 3}, gen)));
    double mean = 0;
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 9; ++j)
            mean += y.value()[(i * 2) * 9 + j];
    CHECK(std::abs(mean / 36.0) < 1e-5);
    CHECK(bn.parameters().empty());
    CHECK(bn.named_buffers().empty());
}

// =============================================================================================
// Optimisers

TEST_CASE("sgd: momentum, nesterov and weight decay follow torch.optim.SGD") {
    const variable p(ndarray({2}, {1.0F, -2.0F}), true);
    t::optim::sgd opt({p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
    // Reference in double for grad g = p (loss = sum(p^2) / 2).
    double w[2] = {1.0, -2.0}, buf[2] = {0, 0};
    for (int step = 0; step < 3; ++step) {
        opt.zero_grad();
        t::scale(t::sum(p * p), 0.5F).backward();
        opt.step();
        for (int k = 0; k < 2; ++k) {
            const double d = w[k] + 0.01 * w[k];
            buf[k] = step == 0 ? d : 0.9 * buf[k] + d;
            w[k] -= 0.1 * (d + 0.9 * buf[k]);
        }
        CHECK(p.value()[0] == doctest::Approx(w[0]).epsilon(1e-6));
        CHECK(p.value()[1] == doctest::Approx(w[1]).epsilon(1e-6));
    }
    // Plain momentum and dampening.
    const variable q(ndarray({1}, 1.0F), true);
    t::optim::sgd plain({q}, {.lr = 0.5, .momentum = 0.5, .dampening = 0.5});
    double wq = 1.0, bq = 0.0;
    for (int step = 0; step < 3; ++step) {
        plain.zero_grad();
        t::sum(q * q).backward(); // g = 2q
        plain.step();
        const double g = 2 * wq;
        bq = step == 0 ? g : 0.5 * bq + 0.5 * g;
        wq -= 0.5 * bq;
        CHECK(q.value()[0] == doctest::Approx(wq).epsilon(1e-6));
    }
}

TEST_CASE("sgd: parameters without a gradient are left alone, bad options are named") {
    const variable used(ndarray({1}, 1.0F), true), unused(ndarray({1}, 1.0F), true);
    t::optim::sgd opt({used, unused}, {.lr = 0.1, .weight_decay = 0.5});
    t::sum(used * 3.0F).backward();
    opt.step();
    CHECK(used.value()[0] == doctest::Approx(1.0 - 0.1 * (3.0 + 0.5)));
    CHECK(unused.value()[0] == 1.0F);
    CHECK(contains(error_of([&] { t::optim::sgd({used}, {.lr = -1.0}); }), "lr -1.000000"));
    CHECK(
        contains(error_of([&] { t::optim::sgd({used}, {.momentum = 1.5}); }), "momentum 1.500000"));
    CHECK(contains(error_of([&] { t::optim::sgd({used}, {.nesterov = true}); }),
                   "nesterov needs momentum > 0"));
    CHECK(contains(error_of([&] { t::optim::sgd({t::relu(used)}, {}); }),
                   "parameter 0 is not a leaf"));
}

TEST_CASE("cosine schedule with warmup, gradient clipping") {
    const t::optim::cosine_schedule s(
        {.base_lr = 0.1, .total_steps = 110, .warmup_steps = 10, .min_lr = 0.0});
    CHECK(s.lr(0) == doctest::Approx(0.01));
    CHECK(s.lr(9) == doctest::Approx(0.1));
    CHECK(s.lr(10) == doctest::Approx(0.1));
    CHECK(s.lr(60) == doctest::Approx(0.05));
    CHECK(s.lr(109) == doctest::Approx(0.1 * 0.5 * (1 + std::cos(std::numbers::pi * 99 / 100))));
    CHECK(s.lr(110) == 0.0);
    CHECK(
        contains(error_of([] { t::optim::cosine_schedule({.total_steps = 5, .warmup_steps = 6}); }),
                 "total_steps 5"));

    const variable a(ndarray({2}, {3.0F, 0.0F}), true), b(ndarray({1}, 4.0F), true);
    (t::sum(a * a * 0.5F) + t::sum(b * b * 0.5F)).backward(); // grads (3, 0) and (4): norm 5
    const std::vector<variable> ps{a, b};
    CHECK(t::optim::clip_grad_norm(ps, 1.0) == doctest::Approx(5.0));
    CHECK(t::optim::grad_norm(ps) == doctest::Approx(1.0).epsilon(1e-5));
}
