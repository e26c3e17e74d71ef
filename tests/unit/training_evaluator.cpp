// The NAS-Bench-101 network module (parameter counts equal the benchmark's and the cost model's;
// forward and backward run) and the training evaluator on Fashion-MNIST: a good NB201 cell
// learns, a cell whose output gets only `none` stays at chance, divergence is a failed
// evaluation, results are reproducible, fidelities are epochs, and Hyperband runs on it.
// Kept short for CI: reduced networks, training subsets of a few thousand images.

#include <nascent/eval/nb101_network.hpp>
#include <nascent/eval/training.hpp>
#include <nascent/exec/multi_fidelity.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb101_cost.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/hyperband.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace eval = nascent::eval;
namespace nb101 = nascent::nb101;
namespace nb201 = nascent::nb201;
namespace t = nascent::tensor;

namespace {

// ---------------------------------------------------------------------------------------------
// NAS-Bench-101 network

struct nb101_row {
    const char* adjacency;
    const char* ops;
    std::int64_t params; // the benchmark's trainable_parameters (nb101/nb101_1k.csv)
};

// Rows of nb101_1k.csv with 4 to 7 vertices, with and without an input -> output edge, with
// output channels that do not split evenly.
const nb101_row benchmark_rows[] = {
    {"0110001000010000", "input|maxpool3x3|maxpool3x3|output", 1756298},
    {"0111100111000100000100000", "input|maxpool3x3|conv3x3-bn-relu|conv3x3-bn-relu|output",
     6843402},
    {"0101100111000110000100000", "input|conv1x1-bn-relu|maxpool3x3|conv3x3-bn-relu|output",
     2606755},
    {"010100001101000101000010000001000000",
     "input|conv1x1-bn-relu|conv3x3-bn-relu|conv1x1-bn-relu|conv1x1-bn-relu|output", 1975439},
    {"0100110001000000010010000010000001000000010000000",
     "input|conv3x3-bn-relu|maxpool3x3|conv3x3-bn-relu|conv3x3-bn-relu|conv1x1-bn-relu|output",
     8555530},
};

} // namespace

TEST_CASE("nb101 network: the default network has the benchmark's parameter count") {
    for (const auto& row : benchmark_rows) {
        CAPTURE(row.adjacency);
        const auto cell = nb101::parse(row.adjacency, row.ops);
        nascent::rng gen(1);
        const auto net = eval::make_nb101_network(cell, {}, gen);
        CHECK(static_cast<std::int64_t>(net->parameter_count()) == row.params);
        CHECK(nb101::parameter_count(cell) == row.params);
    }
}

TEST_CASE("nb101 network: parameter counts equal the cost model for sampled cells and options") {
    nascent::rng gen(7);
    const eval::nb101_network_options variants[] = {
        {.stem_channels = 16, .cells_per_stack = 1, .classes = 10, .input_channels = 1},
        {.stem_channels = 13, .cells_per_stack = 2, .stacks = 2, .classes = 7, .input_channels = 3},
    };
    std::size_t with_projection = 0;
    for (int i = 0; i < 40; ++i) {
        const auto cell = nb101::space::sample(gen);
        with_projection += cell.edge(0, cell.output()) ? 1 : 0;
        const auto& options = variants[i % 2];
        CAPTURE(nb101::to_string(cell));
        const auto net = eval::make_nb101_network(cell, options, gen);
        CHECK(static_cast<double>(net->parameter_count()) ==
              nb101::network_cost(cell, eval::cost_options(options)).params);
    }
    CHECK(with_projection > 0); // the sample covers the input -> output projection
}

TEST_CASE("nb101 network: forward and backward on a small input, unpruned specs, bad cells") {
    // 7 vertices, vertex 5 a dead end (parse prunes it), an input -> output edge.
    const auto cell = nb101::parse("0110001000101000001000000001000000100000000000000:input|"
                                   "conv3x3-bn-relu|maxpool3x3|conv1x1-bn-relu|conv3x3-bn-relu|"
                                   "conv3x3-bn-relu|output");
    CHECK(cell.num_vertices == 6);
    nascent::rng gen(3);
    const auto net = eval::make_nb101_network(
        cell, {.stem_channels = 8, .cells_per_stack = 1, .input_channels = 1}, gen);
    t::ndarray images({2, 1, 32, 32});
    t::fill_normal(images, 0.0, 1.0, gen);
    const auto logits = (*net)(t::variable(images));
    CHECK(logits.shape() == t::shape_t{2, 10});
    const std::int32_t labels[] = {3, 7};
    const auto loss = t::softmax_cross_entropy(logits, labels);
    CHECK(std::isfinite(loss.item()));
    loss.backward();
    std::size_t with_gradient = 0;
    const auto parameters = net->parameters();
    for (const auto& p : parameters)
        with_gradient += p.has_grad() ? 1 : 0;
    CHECK(with_gradient == parameters.size()); // every parameter is on a path to the loss

    // An odd map size: the down-sampling pads to ceil(n / 2).
    t::ndarray odd({1, 1, 27, 27});
    CHECK((*net)(t::variable(odd)).shape() == t::shape_t{1, 10});

    nb101::cell disconnected; // input -> output, then the edge removed
    disconnected.adjacency = 0;
    CHECK_THROWS_AS((void)eval::make_nb101_network(disconnected, {}, gen), std::invalid_argument);
    const auto wide = nb101::parse("011110000001000001000001000001000000:input|conv3x3-bn-relu|"
                                   "conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|output");
    // 4 vertices feed the output: 3 channels cannot be split among them.
    CHECK_THROWS_AS((void)eval::make_nb101_network(wide, {.stem_channels = 3}, gen),
                    std::invalid_argument);
    CHECK_NOTHROW((void)eval::make_nb101_network(wide, {.stem_channels = 4}, gen));
}

// ---------------------------------------------------------------------------------------------
// Training evaluator

namespace {

const std::shared_ptr<const t::fashion_mnist>& grey_data() {
    static const auto data = eval::load_fashion_mnist(t::fashion_mnist_default_dir, 1);
    return data;
}

// NB201's best CIFAR-10 cell (index 6111).
const auto best_cell = nb201::space::parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_"
                                           "connect~0|nor_conv_3x3~1|nor_conv_1x1~2|");
// Paths inside the cell, but only `none` into the output node: the network ignores its input.
const auto dead_cell =
    nb201::space::parse("|skip_connect~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|none~2|");
// Cheap to train (one 1x1 convolution per cell).
const auto cheap_cell = nb201::space::parse(
    "|nor_conv_1x1~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|skip_connect~1|skip_connect~2|");

// A tiny run (C = 8, one cell per stage, 4 steps of 25 images per epoch, 100 evaluation
// images): too short to learn much, long enough to test everything but accuracy.
eval::builtin_training_options tiny(std::vector<double> fidelities = {1}) {
    return {.batch_size = 25,
            .train_subset = 100,
            .eval_subset = 100,
            .fidelities = std::move(fidelities),
            .seed = 3};
}

void check_same_metrics(const nascent::evaluation& a, const nascent::evaluation& b) {
    REQUIRE(a.metrics.size() == b.metrics.size());
    CHECK(a.status == b.status);
    CHECK(a.reward == b.reward);
    for (std::size_t i = 0; i < a.metrics.size(); ++i) {
        CAPTURE(a.metrics.name(i));
        CHECK(a.metrics.name(i) == b.metrics.name(i));
        if (a.metrics.name(i) != "train_seconds")
            CHECK(a.metrics.value(i) == b.metrics.value(i));
    }
}

} // namespace

TEST_CASE(
    "training evaluator: NB201's best cell learns Fashion-MNIST in one epoch on 3,000 images") {
    const eval::training_evaluator trainer(
        {.batch_size = 32, .train_subset = 3000, .eval_subset = 1000, .fidelities = {1}},
        grey_data());
    const auto e = trainer.evaluate(best_cell, 1);
    REQUIRE(e.ok());
    const auto metric = [&](const char* name) { return e.metrics.get(name).value(); };
    MESSAGE("best NB201 cell, C = 8, N = 1, 1 epoch of 3,000 images: valid "
            << metric("valid_acc") << " %, test " << metric("test_acc") << " %, train "
            << metric("train_acc") << " %, " << metric("train_seconds") << " s");
    CHECK(e.reward == metric("valid_acc"));
    CHECK(metric("valid_acc") >= 65.0); // measured ~70 (chance is 10)
    CHECK(metric("test_acc") >= 65.0);
    CHECK(metric("train_acc") > 30.0); // a running figure over the epoch, from chance upwards
    CHECK(metric("valid_loss") < 1.2); // chance is ln 10 = 2.30
    CHECK(metric("train_loss") < 2.0);
    CHECK(metric("train_seconds") > 0.0);
    nascent::rng gen(0);
    CHECK(metric("params") ==
          static_cast<double>(
              eval::make_nb201_network(
                  best_cell, {.channels = 8, .cells_per_stage = 1, .input_channels = 1}, gen)
                  ->parameter_count()));
}

TEST_CASE("training evaluator: a cell whose output node gets only `none` stays at chance") {
    const eval::training_evaluator trainer(
        {.batch_size = 32, .train_subset = 1000, .eval_subset = 1000, .fidelities = {1}},
        grey_data());
    const auto e = trainer.evaluate(dead_cell);
    REQUIRE(e.ok());
    MESSAGE("dead cell: valid " << *e.metrics.get("valid_acc") << " %");
    CHECK(*e.metrics.get("valid_acc") <= 15.0);
    CHECK(*e.metrics.get("test_acc") <= 15.0);
    CHECK(*e.metrics.get("valid_loss") > 2.2);
}

TEST_CASE("training evaluator: a diverging run is a failed evaluation, not a crash") {
    auto options = tiny();
    options.learning_rate = 1e30;
    const eval::training_evaluator trainer(options, grey_data());
    const auto e = trainer.evaluate(cheap_cell);
    CHECK(e.status == nascent::eval_status::failed);
    CHECK(e.reason == "non-finite loss");
    CHECK(std::isinf(e.reward));
    CHECK(e.metrics.get("params").value() > 0);
}

TEST_CASE("training evaluator: the same seed gives the same metrics, for any thread count") {
    const eval::training_evaluator trainer(tiny(), grey_data());
    auto options = tiny();
    options.threads = 1;
    const eval::training_evaluator single(options, grey_data());
    const auto a = trainer.evaluate(cheap_cell);
    const auto b = trainer.evaluate(cheap_cell);
    REQUIRE(a.ok());
    check_same_metrics(a, b);
    check_same_metrics(a, single.evaluate(cheap_cell));
    options.seed = 4;
    const auto other = eval::training_evaluator(options, grey_data()).evaluate(cheap_cell);
    CHECK(other.metrics.get("train_loss") != a.metrics.get("train_loss"));
    // Seeds depend on the cell, not on what was evaluated before.
    const auto c = trainer.evaluate(dead_cell);
    CHECK(c.metrics.get("train_loss") != a.metrics.get("train_loss"));
    check_same_metrics(trainer.evaluate(cheap_cell), a);
}

TEST_CASE("training evaluator: fidelities are epochs, an unknown one is a failed evaluation") {
    const eval::training_evaluator trainer(tiny({1, 2}), grey_data());
    CHECK(trainer.fidelities() == std::vector<double>{1, 2});
    const auto one = trainer.evaluate(cheap_cell, 1);
    const auto two = trainer.evaluate(cheap_cell, 2);
    REQUIRE(one.ok());
    REQUIRE(two.ok());
    CHECK(one.metrics.get("train_loss") != two.metrics.get("train_loss"));
    check_same_metrics(trainer.evaluate(cheap_cell), two); // the highest fidelity by default
    const auto unknown = trainer.evaluate(cheap_cell, 3);
    CHECK(unknown.status == nascent::eval_status::failed);
    CHECK(unknown.reason == "unknown fidelity");
    CHECK(trainer.evaluate(cheap_cell, 1.5).reason == "unknown fidelity");
}

TEST_CASE("training evaluator: NB101 cells train too, bad cells and options are rejected") {
    auto options = tiny();
    options.channels = 16;
    const eval::training_evaluator trainer(options, grey_data());
    const auto cell = nb101::parse("0101100111000110000100000:input|conv1x1-bn-relu|maxpool3x3|"
                                   "conv3x3-bn-relu|output");
    const auto e = trainer.evaluate(cell, 1);
    REQUIRE(e.ok());
    CHECK(
        *e.metrics.get("params") ==
        nb101::network_cost(cell, {.image_channels = 1, .stem_channels = 16, .cells_per_stack = 1})
            .params);
    nb101::cell bad;
    bad.adjacency = 0; // the input does not reach the output
    CHECK(trainer.evaluate(bad).reason == "invalid cell");

    const auto rejects = [](eval::builtin_training_options o, const char* fragment) {
        try {
            const eval::training_evaluator ev(std::move(o), grey_data());
        } catch (const std::invalid_argument& error) {
            CHECK(std::string(error.what()).find(fragment) != std::string::npos);
            return;
        }
        FAIL("accepted options with " << fragment);
    };
    rejects({.fidelities = {2, 1}}, "strictly ascending");
    rejects({.fidelities = {}}, "no fidelities");
    rejects({.batch_size = 0}, "batch_size 0");
    rejects({.input_channels = 3}, "the data set has 1 channels");
    rejects({.train_subset = 50001}, "train_subset 50001");
    rejects({.learning_rate = -1}, "learning_rate");
    try {
        (void)eval::load_fashion_mnist("/nonexistent/fmnist");
        FAIL("loaded a missing data set");
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        CHECK(message.find("/nonexistent/fmnist/train-images-idx3-ubyte.gz") != std::string::npos);
        CHECK(message.find("/usr/share/datasets/fashion-mnist") != std::string::npos);
    }
}

TEST_CASE("training evaluator: Hyperband over two fidelities runs end to end") {
    const eval::training_evaluator trainer(tiny({1, 2}), grey_data());
    const nb201::space space;
    const auto runs =
        nascent::run_multi_fidelity(space, nascent::strategy::hyperband{space}, trainer,
                                    {.budget = 4, .runs = 1, .seed = 11, .report = "test_acc"});
    REQUIRE(runs.size() == 1);
    const auto& r = runs[0];
    // eta = 2: bracket 1 trains 2 cells for 1 epoch, then the better one for 2 (cost 4).
    CHECK(r.queries == 3);
    CHECK(r.cost.back() == doctest::Approx(4.0));
    REQUIRE(r.best.has_value());
    // The incumbent is the 2-epoch evaluation, reproduced exactly by a fresh one.
    const auto again = trainer.evaluate(*r.best, 2);
    REQUIRE(again.ok());
    CHECK(r.best_reward == again.reward);
    CHECK(r.best_report == *again.metrics.get("test_acc"));
}
