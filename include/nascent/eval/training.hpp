#pragma once
// The training evaluator (eval/training_evaluator.hpp) with the network factories of the
// built-in spaces: NAS-Bench-201 cells (eval/nb201_network.hpp), NAS-Bench-101 cells
// (eval/nb101_network.hpp) and MBConv genotypes (eval/mbconv_network.hpp).
//
// builtin_training_options describes all three reduced networks and the training in one struct
// (what `nascent train` and `build-table` take), and
//
//     training_evaluator trainer({.batch_size = 32, .fidelities = {1}}, data);
//
// is then one evaluator for NB201, NB101 and MBConv genotypes alike: its space is the sum of the
// three (builtin_space, a std::variant genotype), so each genotype keeps its own space's hash,
// seeds, validity and network. For one space, name its factory instead:
//
//     training_evaluator trainer{nb201::space{}, nb201_factory{{.channels = 8, .cells_per_stage =
//     1,
//                                .input_channels = 1}}, data, {.fidelities = {1}}};

#include <nascent/concepts.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/eval/mbconv_network.hpp>
#include <nascent/eval/nb101_network.hpp>
#include <nascent/eval/nb201_network.hpp>
#include <nascent/eval/network_factory.hpp>
#include <nascent/eval/training_evaluator.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/tensor/fashion_mnist.hpp>
#include <nascent/tensor/nn.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nascent::eval {

/// The reduced networks of the three built-in spaces and how they train. The defaults: NB201 at
/// C = 8 with one cell per stage, NB101 with 8 stem channels and one cell per stack, MBConv at
/// width 0.25; one grey input channel; 10 classes; training_options' defaults.
struct builtin_training_options {
    std::size_t channels = 8;        ///< NB201: C of the first stage; NB101: stem channels
    std::size_t cells_per_stage = 1; ///< NB201: cells per stage; NB101: cells per stack
    double width_multiplier = 0.25;  ///< MBConv: OFA's width multiplier (depths are the genotype's)
    std::size_t input_channels = 1;  ///< 1 (grey), or 3 (the grey channel replicated)
    std::size_t batch_size = 256;
    double learning_rate = 0.1;
    double momentum = 0.9; ///< Nesterov
    double weight_decay = 5e-4;
    std::size_t train_subset = 0; ///< train on the first N training images (0: all 50,000)
    std::size_t eval_subset = 0;  ///< evaluate on the first N validation and test images (0: all)
    std::vector<double> fidelities{1, 2, 4}; ///< epochs, ascending; fractions allowed
    std::uint64_t seed = 0;
    std::size_t threads = 0; ///< TBB threads per evaluation; 0: the caller's arena
    std::filesystem::path data_dir{tensor::fashion_mnist_default_dir};

    [[nodiscard]] training_options training() const {
        return {.batch_size = batch_size,
                .learning_rate = learning_rate,
                .momentum = momentum,
                .weight_decay = weight_decay,
                .train_subset = train_subset,
                .eval_subset = eval_subset,
                .fidelities = fidelities,
                .seed = seed,
                .threads = threads,
                .data_dir = data_dir};
    }
    /// The networks on Fashion-MNIST's padded 32x32 images, 10 classes.
    [[nodiscard]] nb201_factory nb201() const {
        return {{.channels = channels,
                 .cells_per_stage = cells_per_stage,
                 .classes = tensor::fashion_mnist_classes.size(),
                 .input_channels = input_channels,
                 .resolution = 32}};
    }
    [[nodiscard]] nb101_factory nb101() const {
        return {{.stem_channels = channels,
                 .cells_per_stack = cells_per_stage,
                 .classes = tensor::fashion_mnist_classes.size(),
                 .input_channels = input_channels},
                32};
    }
    [[nodiscard]] mbconv_factory mbconv() const {
        return {{.width_multiplier = width_multiplier,
                 .classes = tensor::fashion_mnist_classes.size(),
                 .input_channels = input_channels},
                32};
    }
};

/// A genotype of any built-in space.
using builtin_genotype = std::variant<nb201::cell, nb101::cell, mbconv::arch>;

/// The sum of the built-in spaces: each genotype keeps its own space's validity and hash.
/// (Sampling draws NB201 cells; draw from a space of its own for the others.)
struct builtin_space {
    using genotype = builtin_genotype;

    [[nodiscard]] static genotype sample(rng& gen) { return nb201::space::sample(gen); }
    [[nodiscard]] static bool is_valid(const genotype& g) {
        return std::visit([](const auto& x) { return space_of(x).is_valid(x); }, g);
    }
    [[nodiscard]] static std::uint64_t hash(const genotype& g) {
        return std::visit([](const auto& x) { return space_of(x).hash(x); }, g);
    }

    [[nodiscard]] static nb201::space space_of(const nb201::cell&) { return {}; }
    [[nodiscard]] static nb101::space space_of(const nb101::cell&) { return {}; }
    [[nodiscard]] static mbconv::space space_of(const mbconv::arch&) { return {}; }
};

/// The factories of the built-in spaces, from one builtin_training_options; rejects bad network
/// options as the training evaluator did before it had factories.
class builtin_factory {
public:
    using joint_options = builtin_training_options;

    explicit builtin_factory(const builtin_training_options& o)
        : m_nb201(o.nb201()), m_nb101(o.nb101()), m_mbconv(o.mbconv()),
          m_input_channels(o.input_channels) {
        const auto bad = [](const std::string& what) {
            throw std::invalid_argument("training_options: " + what);
        };
        if (o.channels == 0)
            bad("channels 0 must be >= 1");
        if (o.cells_per_stage == 0)
            bad("cells_per_stage 0 must be >= 1");
        if (!(o.width_multiplier > 0) || !std::isfinite(o.width_multiplier)) {
            bad("width_multiplier " + std::to_string(o.width_multiplier) +
                " must be positive and finite");
        }
        if (o.input_channels != 1 && o.input_channels != 3) {
            bad("input_channels " + std::to_string(o.input_channels) + " must be 1 or 3");
        }
    }

    [[nodiscard]] std::shared_ptr<tensor::nn::module> build(const builtin_genotype& g,
                                                            rng& gen) const {
        return std::visit([&](const auto& x) { return factory_of(x).build(x, gen); }, g);
    }
    [[nodiscard]] tensor::shape_t input_shape() const { return {m_input_channels, 32, 32}; }
    [[nodiscard]] std::size_t parameter_count(const builtin_genotype& g) const {
        return std::visit([&](const auto& x) { return factory_of(x).parameter_count(x); }, g);
    }
    [[nodiscard]] std::string_view invalid_reason(const builtin_genotype& g) const {
        return std::visit([&](const auto& x) { return invalid_reason_of(factory_of(x), x); }, g);
    }

    [[nodiscard]] const nb201_factory& factory_of(const nb201::cell&) const { return m_nb201; }
    [[nodiscard]] const nb101_factory& factory_of(const nb101::cell&) const { return m_nb101; }
    [[nodiscard]] const mbconv_factory& factory_of(const mbconv::arch&) const { return m_mbconv; }

private:
    nb201_factory m_nb201;
    nb101_factory m_nb101;
    mbconv_factory m_mbconv;
    std::size_t m_input_channels;
};

training_evaluator(builtin_training_options, std::shared_ptr<const tensor::image_splits>)
    ->training_evaluator<builtin_space, builtin_factory>;

static_assert(SearchSpace<builtin_space>);
static_assert(NetworkFactory<builtin_factory, builtin_genotype>);
static_assert(
    MultiFidelityEvaluator<training_evaluator<builtin_space, builtin_factory>, nb201::cell>);
static_assert(
    MultiFidelityEvaluator<training_evaluator<builtin_space, builtin_factory>, nb101::cell>);
static_assert(
    MultiFidelityEvaluator<training_evaluator<builtin_space, builtin_factory>, mbconv::arch>);
static_assert(MultiFidelityEvaluator<training_evaluator<nb201::space, nb201_factory>, nb201::cell>);
static_assert(MultiFidelityEvaluator<training_evaluator<nb101::space, nb101_factory>, nb101::cell>);
static_assert(
    MultiFidelityEvaluator<training_evaluator<mbconv::space, mbconv_factory>, mbconv::arch>);

} // namespace nascent::eval
