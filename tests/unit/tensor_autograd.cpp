// The autograd core: the gradient checker itself rejects wrong gradients; graph mechanics (shared
// inputs, accumulation, no_grad, detach, deep chains); errors that name the bad value; results
// bit-identical for any thread count.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include "error_of.hpp"
#include "gradient_check.hpp"

#include <doctest/doctest.h>

#include <tbb/task_arena.h>

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
// The checker catches wrong gradients

namespace {
// x^2 with a backward that can be made wrong in several ways.
enum class flaw { none, scaled, one_element, dropped, sign };
variable square(const variable& x, flaw f) {
    ndarray out = x.value();
    for (auto& v : out.values())
        v *= v;
    return t::make_result(
        std::move(out), {x},
        [f](t::backward_context& ctx) {
            ndarray d = ctx.grad();
            for (std::size_t i = 0; i < d.size(); ++i)
                d[i] *= 2.0F * ctx.input(0)[i];
            float largest = 0.0F;
            for (const float v : d.values())
                largest = std::max(largest, std::abs(v));
            switch (f) {
            case flaw::none:
                break;
            case flaw::scaled:
                for (auto& v : d.values())
                    v *= 1.01F; // 1 % too large everywhere
                break;
            case flaw::one_element:
                d[3] += 0.01F * largest;
                break; // one entry off by 1 % of the max
            case flaw::dropped:
                return; // forgets to propagate
            case flaw::sign:
                for (auto& v : d.values())
                    v = -v;
                break;
            }
            ctx.accumulate(0, std::move(d));
        },
        "square");
}
} // namespace

TEST_CASE("gradient checker: passes a correct gradient and rejects wrong ones") {
    const std::vector<ndarray> in{random({4, 5}, 1)};
    const auto ref = [](const std::vector<dt>& xs) {
        dt y = xs[0];
        for (auto& v : y.v)
            v *= v;
        return y;
    };
    const auto run = [&](flaw f) {
        return check_gradients(
            in, [f](const std::vector<variable>& v) { return square(v[0], f); }, ref);
    };
    const auto good = run(flaw::none);
    CHECK(good.worst() < 1e-5); // float32 backward vs double FD: far inside the tolerance
    require_good(good, "correct square");
    for (const flaw f : {flaw::scaled, flaw::one_element, flaw::dropped, flaw::sign}) {
        const auto bad = run(f);
        INFO("flaw " << static_cast<int>(f) << " error " << bad.worst());
        CHECK(bad.worst() > 5e-3); // well above the 1e-3 tolerance: the check would fail
    }
    // The forward check catches a wrong reference (i.e. a wrong forward) too.
    const auto wrong_forward = check_gradients(
        in, [](const std::vector<variable>& v) { return square(v[0], flaw::none); },
        [](const std::vector<dt>& xs) {
            dt y = xs[0];
            for (auto& v : y.v)
                v = v * v * 1.001;
            return y;
        });
    CHECK(wrong_forward.forward_error > 1e-4);
}

// =============================================================================================
// Graph mechanics

TEST_CASE("autograd: shared inputs, accumulation across backward calls, zero_grad") {
    const variable x(ndarray({3}, {1.0F, -2.0F, 3.0F}), true);
    const auto y = t::sum(x * x + x); // dy/dx = 2x + 1 (x used three times)
    y.backward();
    CHECK(x.grad() == ndarray({3}, {3.0F, -3.0F, 7.0F}));
    y.backward(); // leaves accumulate, as in PyTorch
    CHECK(x.grad() == ndarray({3}, {6.0F, -6.0F, 14.0F}));
    x.zero_grad();
    CHECK_FALSE(x.has_grad());
    CHECK(x.grad() == ndarray({3}, 0.0F)); // zeros when nothing arrived
}

TEST_CASE("autograd: leaves without requires_grad get no gradient, intermediates only on request") {
    const variable data(ndarray({2, 2}, 1.0F));
    const variable w(ndarray({2, 2}, 2.0F), true);
    const auto h = data * w;
    const auto kept = t::relu(h);
    kept.retain_grad();
    const auto loss = t::sum(kept * kept);
    CHECK_FALSE(data.requires_grad());
    CHECK(loss.requires_grad());
    CHECK(loss.op() == "sum");
    loss.backward();
    CHECK_FALSE(data.has_grad());
    CHECK_FALSE(h.has_grad()); // transient intermediate
    CHECK(kept.has_grad());
    CHECK(kept.grad() == ndarray({2, 2}, 4.0F)); // d(k^2)/dk = 2k = 4
    CHECK(w.grad() == ndarray({2, 2}, 4.0F));    // 2 k * data
}

TEST_CASE(
    "autograd: ops that reuse the incoming gradient's buffer leave retained gradients intact") {
    // scale, relu, add, batch_norm and reshape pass dL/d output on in place when nothing keeps it.
    nascent::rng gen(3);
    const ndarray x0 = t::randn({4, 3, 2, 2}, gen);
    const ndarray w0 = t::randn({4, 12}, gen);
    const auto run = [&](bool retain) {
        const variable x(x0, true);
        const auto a = t::scale(x, 2.0F);
        const auto b = t::relu(a);
        const auto c = t::add(b, b); // the same input twice
        const auto d = t::batch_norm(c, {}, {}, nullptr, nullptr);
        const auto e = t::reshape(d, {4, 12});
        if (retain) {
            for (const auto* v : {&a, &b, &c, &d, &e})
                v->retain_grad();
        }
        t::sum(e * variable(w0)).backward();
        std::vector<ndarray> grads{x.grad()};
        if (retain) {
            for (const auto* v : {&a, &b, &c, &d, &e})
                grads.push_back(v->grad());
        }
        return grads;
    };
    const auto plain = run(false);
    const auto kept = run(true);
    REQUIRE(kept.size() == 6);
    CHECK(kept[0] == plain[0]);
    CHECK(kept[5] == w0);                            // d sum(e * w) / de
    CHECK(kept[4] == w0.reshaped({4, 3, 2, 2}));     // reshape passes it back unchanged
    for (std::size_t i = 0; i < kept[2].size(); ++i) // relu's gradient is add's, doubled
        CHECK(kept[2][i] == 2.0F * kept[3][i]);
}

TEST_CASE("autograd: no_grad_guard records nothing and restores the mode") {
    const variable w(ndarray({2}, 1.0F), true);
    CHECK(t::is_grad_enabled());
    {
        const t::no_grad_guard guard;
        CHECK_FALSE(t::is_grad_enabled());
        const auto y = t::sum(w * w);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.is_leaf());
        CHECK(contains(error_of([&] { y.backward(); }), "does not require grad"));
        { const t::no_grad_guard nested; }
        CHECK_FALSE(t::is_grad_enabled());
    }
    CHECK(t::is_grad_enabled());
    CHECK(t::sum(w * w).requires_grad());
}

TEST_CASE("autograd: detach, set_requires_grad, seeds, and input gradients (jacob_cov)") {
    const variable x(ndarray({2, 3}, {1, 2, 3, 4, 5, 6}), true);
    const auto y = x * x;
    const auto d = y.detach();
    CHECK(d.is_leaf());
    CHECK_FALSE(d.requires_grad());
    CHECK(d.value() == y.value());
    CHECK(contains(error_of([&] { y.set_requires_grad(false); }), "not a leaf"));
    CHECK(contains(error_of([&] { y.backward(); }), "one-element"));
    CHECK(contains(error_of([&] { y.backward(ndarray({3}, 1.0F)); }), "seed of shape [3]"));
    y.backward(ndarray({2, 3}, 1.0F)); // d sum(x^2) / dx = 2x
    CHECK(x.grad() == ndarray({2, 3}, {2, 4, 6, 8, 10, 12}));
    CHECK(contains(error_of([] { (void)variable().value(); }), "null handle"));
}

TEST_CASE("autograd: a deep chain does not overflow the stack (backward or destruction)") {
    variable x(ndarray({4}, 1.0F), true);
    variable h = x;
    for (int i = 0; i < 100000; ++i)
        h = h * 1.0F;
    t::sum(h).backward();
    CHECK(x.grad() == ndarray({4}, 1.0F));
}

// =============================================================================================
// Errors name the bad value

TEST_CASE("ops reject bad shapes and options with messages naming them") {
    const variable x(ndarray({2, 3, 5, 5}));
    const variable w(ndarray({4, 2, 3, 3}));
    CHECK(contains(error_of([&] { (void)t::conv2d(x, w); }), "expects 2 input channels, got 3"));
    CHECK(contains(error_of([&] {
                       (void)t::conv2d(variable(ndarray({2, 3})), w);
                   }),
                   "input must be [N, C, H, W], got [2, 3]"));
    CHECK(contains(error_of([&] {
                       (void)t::conv2d(x, variable(ndarray({4, 3, 7, 7})));
                   }),
                   "does not fit input [2, 3, 5, 5]"));
    CHECK(contains(error_of([&] {
                       (void)t::conv2d(x, variable(ndarray({4, 1, 3, 3})), {}, {.groups = 2});
                   }),
                   "groups 2 must divide C_in 3"));
    CHECK(contains(error_of([&] {
                       (void)t::add(variable(ndarray({2, 3})), variable(ndarray({4})));
                   }),
                   "shapes [2, 3] and [4] do not broadcast"));
    CHECK(contains(error_of([&] {
                       (void)t::matmul(variable(ndarray({2, 3})), variable(ndarray({2, 3})));
                   }),
                   "[2, 3] x [2, 3]"));
    const std::vector<std::int32_t> bad{0, 7};
    CHECK(contains(error_of([&] {
                       (void)t::softmax_cross_entropy(variable(ndarray({2, 5})), bad);
                   }),
                   "label 7 of row 1 outside [0, 5)"));
    nascent::rng gen(0);
    CHECK(contains(error_of([&] { (void)t::dropout(x, 1.0, gen); }),
                   "probability 1.000000 outside [0, 1)"));
    CHECK(contains(
        error_of([&] { (void)t::batch_norm(x, {}, {}, nullptr, nullptr, {.training = false}); }),
        "eval mode needs running statistics"));
    CHECK(contains(error_of([&] { (void)t::max_pool2d(x, {.kernel = 2, .padding = 2}); }),
                   "padding 2 exceeds half the kernel 2"));
    CHECK(contains(error_of([&] { (void)t::reshape(x, {7}); }),
                   "cannot view shape [2, 3, 5, 5] as [7]"));
    CHECK(contains(error_of([&] { (void)t::narrow(x, 1, 2, 2); }), "exceeds extent 3 of axis 1"));
    CHECK(contains(error_of([] {
                       (void)ndarray({2, 2}, {1.0F, 2.0F});
                   }),
                   "2 values for shape [2, 2]"));
}

// =============================================================================================
// Determinism: same results for any number of threads

namespace {
// Gradients of every parameter and the input after one forward/backward of a small network.
// Covers every convolution path: the direct kernel (forward, input gradient, weight gradient by
// positions for 8 and by channels for 16 output channels), GEMMs over batches of samples
// (depthwise), the transposed-convolution GEMM (3 input channels).
std::vector<ndarray> network_gradients() {
    nascent::rng gen(3);
    nn::sequential net;
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 3, .out_channels = 8, .padding = 1}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 8}));
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 8, .out_channels = 16, .padding = 1, .bias = false},
        gen));
    net.add(std::make_shared<nn::avg_pool2d>(
        t::avg_pool2d_options{.kernel = 3, .stride = 1, .padding = 1}));
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{
            .in_channels = 16, .out_channels = 16, .kernel = 3, .padding = 1, .groups = 16},
        gen));
    net.add(std::make_shared<nn::max_pool2d>(t::max_pool2d_options{.kernel = 2}));
    net.add(std::make_shared<nn::global_avg_pool>());
    net.add(std::make_shared<nn::linear>(nn::linear_options{.in_features = 16, .out_features = 5},
                                         gen));
    const variable x(t::randn({37, 3, 16, 16}, gen), true);
    std::vector<std::int32_t> labels(37);
    for (std::size_t i = 0; i < labels.size(); ++i)
        labels[i] = static_cast<std::int32_t>(i % 5);
    t::softmax_cross_entropy(net(x), labels).backward();
    std::vector<ndarray> out{x.grad()};
    for (const auto& p : net.parameters())
        out.push_back(p.grad());
    return out;
}
} // namespace

TEST_CASE("results are bit-identical for 1 and 2 threads") {
    std::vector<ndarray> one, two;
    tbb::task_arena(1).execute([&] { one = network_gradients(); });
    tbb::task_arena(2).execute([&] { two = network_gradients(); });
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i)
        CHECK(one[i] == two[i]);
    CHECK(network_gradients() == one);
}
