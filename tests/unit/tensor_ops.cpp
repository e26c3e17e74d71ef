// The tensor layer's ops: every op's forward against an independent double-precision reference
// (tensor_reference.hpp), and its gradient against central finite differences of that reference
// (gradient_check.hpp); batch norm's running statistics.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/tensor.hpp>

#include "error_of.hpp"
#include "gradient_check.hpp"
#include "tensor_reference.hpp"

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
using namespace nascent::test; // the reference ops (ref_*)

// =============================================================================================
// Every op, gradient-checked

TEST_CASE("gradcheck: add, sub, mul, scale with broadcasting") {
    const auto add_ref = [](const std::vector<dt>& x) {
        return ref_broadcast(x[0], x[1], [](double a, double b) { return a + b; });
    };
    const auto mul_ref = [](const std::vector<dt>& x) {
        return ref_broadcast(x[0], x[1], [](double a, double b) { return a * b; });
    };
    const op_fn add = [](const std::vector<variable>& v) { return v[0] + v[1]; };
    const op_fn mul = [](const std::vector<variable>& v) { return v[0] * v[1]; };
    require_good(check_gradients({random({3, 4}, 1), random({3, 4}, 2)}, add, add_ref), "add");
    require_good(check_gradients({random({2, 3, 4, 5}, 3), random({3, 1, 1}, 4)}, add, add_ref),
                 "add per-channel bias");
    require_good(check_gradients({random({4, 1}, 5), random({1, 5}, 6)}, add, add_ref),
                 "add two-sided broadcast");
    require_good(check_gradients({random({2, 3}, 7), random({}, 8)}, add, add_ref), "add scalar");
    require_good(check_gradients({random({3, 4}, 9), random({3, 4}, 10)}, mul, mul_ref), "mul");
    require_good(check_gradients({random({2, 3, 4, 5}, 11), random({3, 1, 1}, 12)}, mul, mul_ref),
                 "mul per-channel");
    require_good(check_gradients({random({5}, 13), random({4, 1}, 14)}, mul, mul_ref),
                 "mul outer product");
    require_good(check_gradients(
                     {random({3, 4}, 15), random({4}, 16)},
                     [](const std::vector<variable>& v) { return v[0] - v[1]; },
                     [](const std::vector<dt>& x) {
                         return ref_broadcast(x[0], x[1], [](double a, double b) { return a - b; });
                     }),
                 "sub");
    require_good(check_gradients(
                     {random({3, 4}, 17)},
                     [](const std::vector<variable>& v) { return 2.5F * v[0]; },
                     [](const std::vector<dt>& x) {
                         dt y = x[0];
                         for (auto& v : y.v)
                             v *= 2.5;
                         return y;
                     }),
                 "scale");
}

TEST_CASE("gradcheck: matmul and linear") {
    require_good(check_gradients(
                     {random({3, 4}, 1), random({4, 5}, 2)},
                     [](const std::vector<variable>& v) { return t::matmul(v[0], v[1]); },
                     [](const std::vector<dt>& x) { return ref_matmul(x[0], x[1]); }),
                 "matmul");
    require_good(check_gradients(
                     {random({6, 7}, 3), random({5, 7}, 4), random({5}, 5)},
                     [](const std::vector<variable>& v) { return t::linear(v[0], v[1], v[2]); },
                     [](const std::vector<dt>& x) { return ref_linear(x[0], x[1], &x[2]); }),
                 "linear");
    require_good(check_gradients(
                     {random({2, 7}, 6), random({3, 7}, 7)},
                     [](const std::vector<variable>& v) { return t::linear(v[0], v[1]); },
                     [](const std::vector<dt>& x) { return ref_linear(x[0], x[1], nullptr); }),
                 "linear without bias");
}

TEST_CASE("gradcheck: conv2d (padding, stride, dilation, groups, depthwise, 1x1, non-square)") {
    struct conv_case {
        const char* name;
        shape_t x, w;
        t::conv2d_options o;
        bool bias;
    };
    const std::vector<conv_case> cases{
        {"3x3 pad 1", {2, 3, 5, 5}, {4, 3, 3, 3}, {.padding = 1}, true},
        {"3x3 stride 2 pad 1, 7x6 input",
         {2, 2, 7, 6},
         {3, 2, 3, 3},
         {.stride = 2, .padding = 1},
         false},
        {"5 samples (chunks of 4)", {5, 2, 4, 4}, {3, 2, 3, 3}, {.padding = 1}, true},
        {"groups 2", {2, 4, 5, 5}, {6, 2, 3, 3}, {.padding = 1, .groups = 2}, true},
        {"depthwise", {2, 3, 5, 5}, {3, 1, 3, 3}, {.padding = 1, .groups = 3}, false},
        {"dilation 2", {1, 2, 7, 7}, {2, 2, 3, 3}, {.padding = 2, .dilation = 2}, false},
        {"1x1 pointwise", {2, 5, 4, 3}, {3, 5, 1, 1}, {}, true},
        {"1x1 stride 2", {2, 3, 5, 5}, {4, 3, 1, 1}, {.stride = 2}, false},
        {"1x3 kernel, padding 0x1", {2, 2, 4, 5}, {3, 2, 1, 3}, {.padding = {0, 1}}, true},
        {"5x5 stride 2x1 no padding", {1, 2, 9, 7}, {2, 2, 5, 5}, {.stride = {2, 1}}, false},
        {"3x3 no padding (rows narrower than the input)", {2, 2, 5, 6}, {3, 2, 3, 3}, {}, true},
        {"3x3 pad 2 (output larger than the input)",
         {2, 2, 3, 3},
         {2, 2, 3, 3},
         {.padding = 2},
         false},
        {"1x1 pad 1 (zero border)", {2, 3, 3, 2}, {2, 3, 1, 1}, {.padding = 1}, true},
        // Small planes put several samples in one GEMM, and several GEMMs in one chunk of the
        // weight-gradient reduction; the last batch and chunk are partial.
        {"batched: 14 samples of 3x3, pad 1", {14, 3, 3, 3}, {4, 3, 3, 3}, {.padding = 1}, true},
        {"batched: 9 samples, pointwise, groups 2",
         {9, 4, 2, 2},
         {6, 2, 1, 1},
         {.groups = 2},
         true},
        {"batched: 8 samples, 3x3 stride 2 pad 1",
         {8, 2, 5, 4},
         {3, 2, 3, 3},
         {.stride = 2, .padding = 1},
         false},
        {"batched: 8 samples, depthwise, dilation 2",
         {8, 2, 4, 4},
         {2, 1, 3, 3},
         {.padding = 2, .dilation = 2, .groups = 2},
         false},
        // >= 8 channels on both sides and wide rows: the direct kernel (forward and, for the
        // input gradient, the transposed convolution), with a partial tile of output channels.
        {"direct: 8 -> 9 channels, 3x3 pad 1", {2, 8, 4, 10}, {9, 8, 3, 3}, {.padding = 1}, true},
        {"direct: groups 2, dilation 2",
         {2, 16, 3, 16},
         {16, 8, 3, 3},
         {.padding = 2, .dilation = 2, .groups = 2},
         false},
        {"direct: 1x3 kernel, padding 0x1", {2, 8, 2, 9}, {8, 8, 1, 3}, {.padding = {0, 1}}, true},
        {"direct: 3x1 kernel, no padding", {2, 8, 5, 8}, {10, 8, 3, 1}, {}, false},
        // The direct weight gradients: vectorised over positions (rows of >= 16), and over
        // output channels (C_out / groups a multiple of 16: tiles of 32 and 16).
        {"direct dW by positions: 3 -> 9 channels, 16 wide",
         {2, 3, 3, 16},
         {9, 3, 3, 3},
         {.padding = 1},
         false},
        {"direct dW by channels: 3 -> 48 channels",
         {2, 3, 4, 5},
         {48, 3, 3, 3},
         {.padding = 1},
         true},
        {"direct dW by channels: groups 2, dilation 2",
         {2, 4, 5, 8},
         {32, 2, 3, 3},
         {.padding = 2, .dilation = 2, .groups = 2},
         false},
        {"8 channels, 1x1 pad 1 (padding beyond the kernel: GEMM)",
         {2, 3, 4, 9},
         {8, 3, 1, 1},
         {.padding = 1},
         true},
    };
    std::uint64_t seed = 1;
    for (const auto& c : cases) {
        std::vector<ndarray> in{random(c.x, seed++), random(c.w, seed++, 0.5)};
        if (c.bias)
            in.push_back(random({c.w[0]}, seed++));
        const auto o = c.o;
        const bool bias = c.bias;
        require_good(check_gradients(
                         in,
                         [o, bias](const std::vector<variable>& v) {
                             return t::conv2d(v[0], v[1], bias ? v[2] : variable{}, o);
                         },
                         [o, bias](const std::vector<dt>& x) {
                             return ref_conv2d(x[0], x[1], bias ? &x[2] : nullptr, o);
                         }),
                     c.name);
    }
}

TEST_CASE("gradcheck: batch norm in train and eval modes, with and without affine") {
    const double eps = 1e-5;
    for (const shape_t& s : {shape_t{4, 3, 3, 3}, shape_t{6, 4}}) {
        const std::size_t c = s[1];
        require_good(check_gradients(
                         {random(s, 1, 2.0), random({c}, 2), random({c}, 3)},
                         [c](const std::vector<variable>& v) {
                             ndarray rm({c}, 0.0F), rv({c}, 1.0F);
                             return t::batch_norm(v[0], v[1], v[2], &rm, &rv, {});
                         },
                         [eps](const std::vector<dt>& x) {
                             return ref_batch_norm(x[0], &x[1], &x[2], nullptr, nullptr, eps);
                         }),
                     "batch norm, train, affine");
        require_good(check_gradients(
                         {random(s, 4)},
                         [](const std::vector<variable>& v) {
                             return t::batch_norm(v[0], {}, {}, nullptr, nullptr, {});
                         },
                         [eps](const std::vector<dt>& x) {
                             return ref_batch_norm(x[0], nullptr, nullptr, nullptr, nullptr, eps);
                         }),
                     "batch norm, train, no affine, no running stats");
        const ndarray rm = random({c}, 5, 0.3);
        ndarray rv = random({c}, 6);
        for (auto& v : rv.values())
            v = 0.5F + std::abs(v);
        require_good(check_gradients(
                         {random(s, 7), random({c}, 8), random({c}, 9)},
                         [rm, rv](const std::vector<variable>& v) {
                             ndarray m = rm, var = rv;
                             return t::batch_norm(v[0], v[1], v[2], &m, &var, {.training = false});
                         },
                         [rm, rv, eps](const std::vector<dt>& x) {
                             const dt m = to_double(rm), var = to_double(rv);
                             return ref_batch_norm(x[0], &x[1], &x[2], &m, &var, eps);
                         }),
                     "batch norm, eval");
    }
}

TEST_CASE("gradcheck: relu, max and average pooling, global average pooling") {
    require_good(check_gradients(
                     {random({3, 7}, 1)},
                     [](const std::vector<variable>& v) { return t::relu(v[0]); },
                     [](const std::vector<dt>& x) { return ref_relu(x[0]); }),
                 "relu");
    struct pool_case {
        t::hw k, s, p;
    };
    for (const auto& c : {pool_case{2, 0, 0}, pool_case{3, 1, 1}, pool_case{3, 2, 1},
                          pool_case{{2, 3}, {1, 2}, {1, 1}}}) {
        require_good(check_gradients(
                         {random({2, 3, 6, 5}, 2)},
                         [c](const std::vector<variable>& v) {
                             return t::max_pool2d(v[0],
                                                  {.kernel = c.k, .stride = c.s, .padding = c.p});
                         },
                         [c](const std::vector<dt>& x) {
                             return ref_pool(x[0], c.k, c.s, c.p, true, false);
                         }),
                     "max pool");
        for (const bool include : {false, true}) {
            require_good(check_gradients(
                             {random({2, 3, 6, 5}, 3)},
                             [c, include](const std::vector<variable>& v) {
                                 return t::avg_pool2d(v[0], {.kernel = c.k,
                                                             .stride = c.s,
                                                             .padding = c.p,
                                                             .count_include_pad = include});
                             },
                             [c, include](const std::vector<dt>& x) {
                                 return ref_pool(x[0], c.k, c.s, c.p, false, include);
                             }),
                         include ? "avg pool, count_include_pad" : "avg pool");
        }
    }
    require_good(check_gradients(
                     {random({2, 3, 4, 5}, 4)},
                     [](const std::vector<variable>& v) { return t::global_avg_pool(v[0]); },
                     [](const std::vector<dt>& x) { return ref_global_avg_pool(x[0]); }),
                 "global average pool");
}

TEST_CASE("avg pool without count_include_pad averages only real pixels at the border") {
    const variable x(ndarray({1, 1, 2, 2}, {1.0F, 2.0F, 3.0F, 4.0F}));
    const auto y = t::avg_pool2d(x, {.kernel = 3, .stride = 1, .padding = 1});
    CHECK(y.value()[0] == doctest::Approx(2.5)); // (1 + 2 + 3 + 4) / 4
    const auto z =
        t::avg_pool2d(x, {.kernel = 3, .stride = 1, .padding = 1, .count_include_pad = true});
    CHECK(z.value()[0] == doctest::Approx(10.0 / 9.0));
}

TEST_CASE(
    "gradcheck: softmax cross-entropy, dropout, concat, narrow, reshape, flatten, sum, mean") {
    const std::vector<std::int32_t> labels{2, 0, 4, 1};
    require_good(check_gradients(
                     {random({4, 5}, 1, 2.0)},
                     [labels](const std::vector<variable>& v) {
                         return t::softmax_cross_entropy(v[0], labels);
                     },
                     [labels](const std::vector<dt>& x) { return ref_softmax_ce(x[0], labels); }),
                 "softmax cross-entropy");

    // Dropout: the reference replays the mask from a copy of the generator.
    nascent::rng gen(5);
    const nascent::rng replay = gen;
    const double p = 0.3;
    require_good(check_gradients(
                     {random({4, 6}, 2)},
                     [&gen, p](const std::vector<variable>& v) { return t::dropout(v[0], p, gen); },
                     [replay, p](const std::vector<dt>& x) {
                         nascent::rng g = replay;
                         dt y = x[0];
                         for (auto& v : y.v)
                             v = nascent::uniform_real(g) < p ? 0.0 : v / (1 - p);
                         return y;
                     }),
                 "dropout");

    require_good(check_gradients(
                     {random({2, 2, 3, 3}, 3), random({2, 1, 3, 3}, 4), random({2, 3, 3, 3}, 5)},
                     [](const std::vector<variable>& v) { return t::concat(v, 1); },
                     [](const std::vector<dt>& x) { return ref_concat1(x); }),
                 "concat");
    require_good(check_gradients(
                     {random({2, 5, 3}, 6)},
                     [](const std::vector<variable>& v) { return t::narrow(v[0], 1, 1, 3); },
                     [](const std::vector<dt>& x) {
                         dt y = zeros({2, 3, 3});
                         for (std::size_t i = 0; i < 2; ++i)
                             for (std::size_t c = 0; c < 3; ++c)
                                 for (std::size_t j = 0; j < 3; ++j)
                                     y.v[(i * 3 + c) * 3 + j] = x[0].v[(i * 5 + c + 1) * 3 + j];
                         return y;
                     }),
                 "narrow");
    require_good(check_gradients(
                     {random({2, 3, 4}, 7)},
                     [](const std::vector<variable>& v) {
                         return t::reshape(v[0], {4, 6});
                     },
                     [](const std::vector<dt>& x) {
                         return dt{{4, 6}, x[0].v};
                     }),
                 "reshape");
    require_good(check_gradients(
                     {random({2, 3, 2, 2}, 8)},
                     [](const std::vector<variable>& v) { return t::flatten(v[0]); },
                     [](const std::vector<dt>& x) {
                         return dt{{2, 12}, x[0].v};
                     }),
                 "flatten");
    require_good(check_gradients(
                     {random({3, 4}, 9)},
                     [](const std::vector<variable>& v) { return t::sum(v[0]); },
                     [](const std::vector<dt>& x) {
                         double s = 0;
                         for (const double v : x[0].v)
                             s += v;
                         return dt{{}, {s}};
                     }),
                 "sum");
    require_good(check_gradients(
                     {random({3, 4}, 10)},
                     [](const std::vector<variable>& v) { return t::mean(v[0]); },
                     [](const std::vector<dt>& x) {
                         double s = 0;
                         for (const double v : x[0].v)
                             s += v;
                         return dt{{}, {s / 12.0}};
                     }),
                 "mean");
}

TEST_CASE("gradcheck: a whole small network (conv, bn, relu, pool, linear, cross-entropy)") {
    const std::vector<std::int32_t> labels{1, 0, 2};
    const std::vector<ndarray> in{random({3, 2, 6, 6}, 1), random({4, 2, 3, 3}, 2, 0.4),
                                  random({4}, 3),          random({4}, 4),
                                  random({3, 36}, 5, 0.3), random({3}, 6)};
    require_good(check_gradients(
                     in,
                     [labels](const std::vector<variable>& v) {
                         auto h = t::conv2d(v[0], v[1], {}, {.padding = 1});
                         h = t::relu(t::batch_norm(h, v[2], v[3], nullptr, nullptr, {}));
                         h = t::flatten(t::max_pool2d(h, {.kernel = 2}));
                         return t::softmax_cross_entropy(t::linear(h, v[4], v[5]), labels);
                     },
                     [labels](const std::vector<dt>& x) {
                         dt h = ref_conv2d(x[0], x[1], nullptr, {.padding = 1});
                         h = ref_relu(ref_batch_norm(h, &x[2], &x[3], nullptr, nullptr, 1e-5));
                         h = ref_pool(h, 2, 0, 0, true, false);
                         h.shape = {3, 36};
                         return ref_softmax_ce(ref_linear(h, x[4], &x[5]), labels);
                     }),
                 "small network");
}

// =============================================================================================
// Batch norm statistics

TEST_CASE("batch norm updates running statistics like PyTorch and uses them in eval mode") {
    const ndarray xv({4, 1, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8}); // mean 4.5, biased var 5.25
    ndarray rm({1}, 0.0F), rv({1}, 1.0F);
    const auto y = t::batch_norm(variable(xv), {}, {}, &rm, &rv, {.momentum = 0.1F});
    CHECK(rm[0] == doctest::Approx(0.45));
    CHECK(rv[0] == doctest::Approx(0.9 + 0.1 * 6.0)); // unbiased 5.25 * 8 / 7 = 6
    CHECK(y.value()[0] == doctest::Approx((1 - 4.5) / std::sqrt(5.25 + 1e-5)).epsilon(1e-5));
    const auto z = t::batch_norm(variable(xv), {}, {}, &rm, &rv, {.training = false});
    CHECK(z.value()[0] == doctest::Approx((1 - 0.45) / std::sqrt(1.5 + 1e-5)).epsilon(1e-5));
    CHECK(rm[0] == doctest::Approx(0.45)); // eval does not update
}
