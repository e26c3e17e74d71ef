// The OFA MobileNetV3 (MBConv) network module: its parameter count equals the space's cost
// model for sampled genotypes and widths, its layers have OFA's shapes, its forward maps images
// to logits, a tiny version learns Fashion-MNIST reproducibly, and the training evaluator takes
// MBConv genotypes. The ops it added to the tensor layer (hard swish, hard sigmoid, channel
// scaling) are checked against central finite differences of double-precision references
// (gradient_check.hpp).

#include <nascent/core/rng.hpp>
#include <nascent/eval/mbconv_network.hpp>
#include <nascent/eval/training.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/fashion_mnist.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/optim.hpp>

#include "gradient_check.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace eval = nascent::eval;
namespace mbconv = nascent::mbconv;
namespace t = nascent::tensor;
namespace nn = nascent::tensor::nn;
using t::ndarray;
using t::variable;

namespace {

using nascent::test::check_gradients;
using nascent::test::random;
using nascent::test::require_good;
using nascent::test::values;

double ref_hard_sigmoid(double x) {
    return std::clamp(x + 3.0, 0.0, 6.0) / 6.0;
}

// ---------------------------------------------------------------------------------------------
// Networks

std::vector<mbconv::arch> sampled_archs(std::size_t n, std::uint64_t seed) {
    nascent::rng gen(seed);
    std::vector<mbconv::arch> out;
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(mbconv::space::sample(gen));
    return out;
}

const auto smallest = mbconv::space::parse("k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3");
const auto largest = mbconv::space::parse("k7e6-k7e6-k7e6-k7e6|k7e6-k7e6-k7e6-k7e6|"
                                          "k7e6-k7e6-k7e6-k7e6|k7e6-k7e6-k7e6-k7e6|"
                                          "k7e6-k7e6-k7e6-k7e6");

std::size_t params_of(const mbconv::arch& a, const eval::mbconv_network_options& o) {
    nascent::rng gen(1);
    return eval::make_mbconv_network(a, o, gen)->parameter_count();
}

const std::shared_ptr<const t::fashion_mnist>& grey_data() {
    static const auto data = eval::load_fashion_mnist(t::fashion_mnist_default_dir, 1);
    return data;
}

} // namespace

// =============================================================================================
// The new ops

TEST_CASE("gradcheck: hard swish and hard sigmoid") {
    // Scale 3 puts values on both sides of both kinks (at -3 and 3).
    require_good(check_gradients(
                     {random({4, 3, 5}, 1, 3.0)},
                     [](const std::vector<variable>& v) { return t::hard_swish(v[0]); },
                     [](const std::vector<values>& x) {
                         values y(x[0].size());
                         for (std::size_t i = 0; i < y.size(); ++i)
                             y[i] = x[0][i] * ref_hard_sigmoid(x[0][i]);
                         return y;
                     }),
                 "hard swish");
    require_good(check_gradients(
                     {random({4, 3, 5}, 2, 3.0)},
                     [](const std::vector<variable>& v) { return t::hard_sigmoid(v[0]); },
                     [](const std::vector<values>& x) {
                         values y(x[0].size());
                         for (std::size_t i = 0; i < y.size(); ++i)
                             y[i] = ref_hard_sigmoid(x[0][i]);
                         return y;
                     }),
                 "hard sigmoid");
}

TEST_CASE("hard swish and hard sigmoid: values and PyTorch's gradients at the kinks") {
    const variable x(ndarray({6}, {-4.0F, -3.0F, -1.5F, 0.0F, 3.0F, 4.0F}), true);
    const auto sw = t::hard_swish(x);
    const std::vector<float> sw_expected{0.0F, 0.0F, -0.375F, 0.0F, 3.0F, 4.0F};
    for (std::size_t i = 0; i < 6; ++i)
        CHECK(sw.value()[i] == doctest::Approx(sw_expected[i]));
    sw.backward(ndarray({6}, 1.0F));
    // torch.nn.functional.hardswish: 0 below -3, x / 3 + 0.5 on [-3, 3], 1 above.
    const std::vector<float> dsw{0.0F, -0.5F, 0.0F, 0.5F, 1.5F, 1.0F};
    for (std::size_t i = 0; i < 6; ++i)
        CHECK(x.grad()[i] == doctest::Approx(dsw[i]));
    x.zero_grad();
    const auto sg = t::hard_sigmoid(x);
    CHECK(sg.value()[0] == 0.0F);
    CHECK(sg.value()[3] == doctest::Approx(0.5));
    CHECK(sg.value()[5] == 1.0F);
    sg.backward(ndarray({6}, 1.0F));
    // torch.nn.functional.hardsigmoid: 1/6 strictly inside (-3, 3), 0 elsewhere.
    const std::vector<float> dsg{0.0F, 0.0F, 1.0F / 6, 1.0F / 6, 0.0F, 0.0F};
    for (std::size_t i = 0; i < 6; ++i)
        CHECK(x.grad()[i] == doctest::Approx(dsg[i]));
}

TEST_CASE("gradcheck: scale_channels (squeeze-and-excitation gating)") {
    const auto ref = [](const std::vector<values>& x, std::size_t plane) {
        values y(x[0].size());
        for (std::size_t i = 0; i < y.size(); ++i)
            y[i] = x[0][i] * x[1][i / plane];
        return y;
    };
    require_good(check_gradients(
                     {random({2, 3, 4, 5}, 3), random({2, 3}, 4)},
                     [](const std::vector<variable>& v) { return t::scale_channels(v[0], v[1]); },
                     [&](const std::vector<values>& x) { return ref(x, 20); }),
                 "scale_channels");
    // Planes of one pixel (SE on the last stage of a 32x32 input) and odd sizes (sum8's tail).
    require_good(check_gradients(
                     {random({3, 5, 1, 1}, 5), random({3, 5}, 6)},
                     [](const std::vector<variable>& v) { return t::scale_channels(v[0], v[1]); },
                     [&](const std::vector<values>& x) { return ref(x, 1); }),
                 "scale_channels on 1x1 planes");
    require_good(check_gradients(
                     {random({2, 2, 7, 3}, 7), random({2, 2}, 8)},
                     [](const std::vector<variable>& v) { return t::scale_channels(v[0], v[1]); },
                     [&](const std::vector<values>& x) { return ref(x, 21); }),
                 "scale_channels on 7x3 planes");
    // A whole SE module: pool, linear, ReLU, linear, hard sigmoid, gating (x feeds two paths).
    nascent::rng gen(9);
    const auto se = std::make_shared<eval::detail::squeeze_excite>(4, 8, gen);
    const ndarray w1 = se->children()[0].second->parameters()[0].value();
    const ndarray b1 = se->children()[0].second->parameters()[1].value();
    const ndarray w2 = se->children()[1].second->parameters()[0].value();
    const ndarray b2 = random({4}, 10, 0.5); // OFA's zero biases would test less
    se->children()[1].second->parameters()[1].mutable_value() = b2;
    require_good(check_gradients(
                     {random({2, 4, 3, 3}, 11)},
                     [se](const std::vector<variable>& v) { return (*se)(v[0]); },
                     [&](const std::vector<values>& x) {
                         values y(x[0].size());
                         for (std::size_t n = 0; n < 2; ++n) {
                             std::vector<double> pooled(4, 0.0), hidden(8, 0.0);
                             for (std::size_t c = 0; c < 4; ++c) {
                                 for (std::size_t i = 0; i < 9; ++i)
                                     pooled[c] += x[0][(n * 4 + c) * 9 + i] / 9.0;
                             }
                             for (std::size_t o = 0; o < 8; ++o) {
                                 double acc = b1[o];
                                 for (std::size_t c = 0; c < 4; ++c)
                                     acc += w1[o * 4 + c] * pooled[c];
                                 hidden[o] = std::max(acc, 0.0);
                             }
                             for (std::size_t c = 0; c < 4; ++c) {
                                 double acc = b2[c];
                                 for (std::size_t o = 0; o < 8; ++o)
                                     acc += w2[c * 8 + o] * hidden[o];
                                 const double gate = ref_hard_sigmoid(acc);
                                 for (std::size_t i = 0; i < 9; ++i)
                                     y[(n * 4 + c) * 9 + i] = x[0][(n * 4 + c) * 9 + i] * gate;
                             }
                         }
                         return y;
                     }),
                 "squeeze-and-excitation module");
}

TEST_CASE("scale_channels rejects shapes that do not match, naming them") {
    const variable x(ndarray({2, 3, 4, 4}));
    const auto message = [](auto&& f) -> std::string {
        try {
            (void)f();
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "";
    };
    CHECK(message([&] {
              return t::scale_channels(x, variable(ndarray({2, 4})));
          }).find("[2, 3]") != std::string::npos);
    CHECK(message([&] {
              return t::scale_channels(variable(ndarray({2, 3})), x);
          }).find("[N, C, H, W]") != std::string::npos);
}

// =============================================================================================
// The network

TEST_CASE("mbconv network: parameter counts equal the cost model for 50 sampled genotypes") {
    std::size_t matches = 0;
    const auto archs = sampled_archs(50, 2024);
    for (const auto& a : archs) {
        CAPTURE(mbconv::space::to_string(a));
        const auto params = params_of(a, {});
        CHECK(static_cast<double>(params) == mbconv::space::cost(a).params);
        matches += static_cast<double>(params) == mbconv::space::cost(a).params ? 1 : 0;
    }
    MESSAGE(matches << " / 50 sampled OFA-MobileNetV3 networks match the cost model exactly");
    // The extremes, against the figures OFA's space spans (docs/spaces.md).
    CHECK(params_of(smallest, {}) == 3'410'792);
    CHECK(static_cast<double>(params_of(largest, {})) == mbconv::space::cost(largest).params);
}

TEST_CASE("mbconv network: reduced widths, classes and input channels match the cost model") {
    const auto archs = sampled_archs(6, 7);
    for (const double m : {0.25, 0.5, 0.75, 1.2}) {
        for (const std::size_t in : {std::size_t{1}, std::size_t{3}}) {
            const eval::mbconv_network_options o{
                .width_multiplier = m, .classes = 10, .input_channels = in};
            for (const auto& a : archs) {
                CAPTURE(m);
                CAPTURE(mbconv::space::to_string(a));
                CHECK(static_cast<double>(params_of(a, o)) ==
                      mbconv::space::cost(a, eval::cost_options(o, 32)).params);
            }
        }
    }
    // The parameter count does not depend on the resolution the cost model is asked about.
    CHECK(mbconv::space::cost(smallest, {.resolution = 32}).params ==
          mbconv::space::cost(smallest).params);
    CHECK(mbconv::space::cost(smallest, {.resolution = 32}).flops <
          mbconv::space::cost(smallest).flops);
}

TEST_CASE("mbconv network: layers have OFA's shapes") {
    // Stage 2 (width 40, SE) of k5e4-k3e6 after stage 1 (width 24): its first layer expands 24
    // to 96, its second 40 to 240 with SE to make_divisible(240 / 4) = 64.
    const auto a = mbconv::space::parse("k3e3-k3e3|k5e4-k3e6|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3");
    nascent::rng gen(1);
    const auto net = eval::make_mbconv_network(a, {}, gen);
    std::map<std::string, t::shape_t> shapes;
    for (const auto& [name, p] : net->named_parameters())
        shapes[name] = p.shape();
    // 0 stem, 1 first block, 2-3 stage 1, 4-5 stage 2, ...
    CHECK(shapes.at("0.conv.weight") == t::shape_t{16, 3, 3, 3});
    CHECK(shapes.count("1.expand.conv.weight") == 0); // no expansion in the first block
    CHECK(shapes.at("1.depthwise.conv.weight") == t::shape_t{16, 1, 3, 3});
    CHECK(shapes.at("4.expand.conv.weight") == t::shape_t{96, 24, 1, 1});
    CHECK(shapes.at("4.depthwise.conv.weight") == t::shape_t{96, 1, 5, 5});
    CHECK(shapes.at("4.se.reduce.weight") == t::shape_t{24, 96});
    CHECK(shapes.at("4.se.expand.bias") == t::shape_t{96});
    CHECK(shapes.at("4.project.conv.weight") == t::shape_t{40, 96, 1, 1});
    CHECK(shapes.at("5.expand.conv.weight") == t::shape_t{240, 40, 1, 1});
    CHECK(shapes.at("5.se.reduce.weight") == t::shape_t{64, 240});
    CHECK(shapes.count("2.se.reduce.weight") == 0); // stage 1 has no SE
    const std::size_t n = net->size();
    CHECK(shapes.at(std::to_string(n - 4) + ".conv.weight") == t::shape_t{960, 160, 1, 1});
    CHECK(shapes.at(std::to_string(n - 2) + ".linear.weight") == t::shape_t{1280, 960});
    CHECK(shapes.count(std::to_string(n - 2) + ".linear.bias") == 0);
    CHECK(shapes.at(std::to_string(n - 1) + ".weight") == t::shape_t{1000, 1280});
    CHECK(shapes.at(std::to_string(n - 1) + ".bias") == t::shape_t{1000});
}

TEST_CASE("mbconv network: forward shapes, and bad genotypes and options are named") {
    nascent::rng gen(3);
    const eval::mbconv_network_options o{
        .width_multiplier = 0.25, .classes = 10, .input_channels = 1};
    const auto net = eval::make_mbconv_network(largest, o, gen);
    for (const std::size_t size : {std::size_t{32}, std::size_t{28}}) {
        const auto y = (*net)(variable(random({2, 1, size, size}, 4)));
        CHECK(y.shape() == t::shape_t{2, 10});
    }
    // Full width on a small input, 3 channels, with dropout; eval mode too.
    const auto full = eval::make_mbconv_network(smallest, {.classes = 7, .dropout = 0.1}, gen);
    CHECK((*full)(variable(random({2, 3, 32, 32}, 5))).shape() == t::shape_t{2, 7});
    full->eval();
    CHECK((*full)(variable(random({2, 3, 32, 32}, 5))).shape() == t::shape_t{2, 7});

    const auto rejects = [&](const mbconv::arch& a, const eval::mbconv_network_options& opt,
                             const std::string& fragment) {
        try {
            (void)eval::make_mbconv_network(a, opt, gen);
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find(fragment) != std::string::npos);
            return;
        }
        FAIL("accepted " << fragment);
    };
    auto not_canonical = smallest;
    not_canonical.kernel[3] = 1; // a layer beyond stage 0's depth of 2
    rejects(not_canonical, {}, "non-canonical");
    rejects(smallest, {.width_multiplier = 0}, "width multiplier 0");
    rejects(smallest, {.classes = 0}, "classes 0");
    rejects(smallest, {.dropout = 1}, "dropout 1");
}

TEST_CASE("mbconv network: a tiny network learns Fashion-MNIST, bit-identically for a seed") {
    const auto a = mbconv::space::parse("k3e3-k5e4|k3e3-k3e6|k3e3-k7e3|k5e3-k3e4|k3e6-k3e3");
    const auto& data = grey_data();
    const auto run = [&](std::uint64_t seed) {
        nascent::rng gen(seed);
        const auto net = eval::make_mbconv_network(
            a, {.width_multiplier = 0.25, .classes = 10, .input_channels = 1}, gen);
        t::optim::sgd opt(net->parameters(), {.lr = 0.05, .momentum = 0.9, .nesterov = true});
        std::vector<float> losses;
        constexpr std::size_t batch = 32;
        for (std::size_t step = 0; step < 40; ++step) {
            const std::size_t first = (step % 20) * batch; // two passes over 640 images
            opt.zero_grad();
            const auto loss =
                t::softmax_cross_entropy((*net)(variable(data->train.images(first, batch))),
                                         data->train.labels(first, batch));
            loss.backward();
            opt.step();
            losses.push_back(loss.item());
        }
        return losses;
    };
    const auto losses = run(11);
    const auto mean = [&](std::size_t from, std::size_t to) {
        return std::accumulate(losses.begin() + static_cast<std::ptrdiff_t>(from),
                               losses.begin() + static_cast<std::ptrdiff_t>(to), 0.0) /
               static_cast<double>(to - from);
    };
    MESSAGE("tiny MBConv network (width 0.25): mean loss " << mean(0, 5)
                                                           << " over the first 5 "
                                                              "steps, "
                                                           << mean(35, 40) << " over the last 5");
    for (const float l : losses)
        REQUIRE(std::isfinite(l));
    CHECK(mean(35, 40) < mean(0, 5) - 0.3);
    CHECK(run(11) == losses); // bit-identical
    CHECK(run(12) != losses);
}

TEST_CASE("training evaluator: MBConv genotypes train, invalid ones are failed evaluations") {
    const eval::training_evaluator trainer(
        {.batch_size = 25, .train_subset = 100, .eval_subset = 100, .fidelities = {1}, .seed = 3},
        grey_data());
    const auto e = trainer.evaluate(smallest);
    REQUIRE(e.ok());
    CHECK(*e.metrics.get("params") ==
          mbconv::space::cost(smallest,
                              {.classes = 10, .width_multiplier = 0.25, .input_channels = 1})
              .params);
    const auto again = trainer.evaluate(smallest, 1);
    CHECK(again.metrics.get("train_loss") == e.metrics.get("train_loss"));
    CHECK(again.metrics.get("valid_acc") == e.metrics.get("valid_acc"));
    auto bad = smallest;
    bad.depth[0] = 7;
    CHECK(trainer.evaluate(bad).reason == "invalid genotype");
    try {
        const eval::training_evaluator rejected({.width_multiplier = -1}, grey_data());
        FAIL("accepted a negative width multiplier");
    } catch (const std::invalid_argument& error) {
        CHECK(std::string(error.what()).find("width_multiplier") != std::string::npos);
    }
}
