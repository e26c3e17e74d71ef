#pragma once
// A user's own image data set by name, read and split for training (what `nascent search
// --dataset` takes):
//
//   fashion-mnist                    Fashion-MNIST's IDX files (Debian's dataset-fashion-mnist)
//   idx:DIR                          MNIST-layout IDX files (datasets/idx_directory.hpp)
//   cifar-bin:DIR                    CIFAR-10 / CIFAR-100 binary files (datasets/cifar_binary.hpp)
//   npy:X.npy,Y.npy[,XT.npy,YT.npy]  .npy arrays, optionally a test pair (datasets/npy_images.hpp)
//
// Split: a seeded permutation of the training images (derive_seed(seed, 0x5917)); with `subset`
// N only its first N images are used; round(valid_fraction x N) of them (at least 1) are the
// validation split, the rest the training split, both in the permuted order. The test split is
// the data set's test images, or empty. The same spec, options and seed give the same splits on
// every machine.
//
// Inputs: every split is normalised per channel with the training split's mean and standard
// deviation (of bytes / 255, or of the stored floats), and images smaller than 32x32 are
// zero-padded (black before normalisation), centred, to 32x32, the reduced networks' input size;
// larger images keep their size.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/datasets/cifar_binary.hpp>
#include <nascent/tensor/datasets/idx_directory.hpp>
#include <nascent/tensor/datasets/labelled_images.hpp>
#include <nascent/tensor/datasets/npy_images.hpp>
#include <nascent/tensor/fashion_mnist.hpp>
#include <nascent/tensor/image_set.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// A --dataset argument, parsed.
struct dataset_spec {
    enum class kind : std::uint8_t { fashion_mnist, idx, cifar_binary, npy };
    kind format = kind::fashion_mnist;
    std::vector<std::filesystem::path> paths; ///< idx / cifar-bin: the directory; npy: 2 or 4 files

    /// Parses "fashion-mnist", "idx:DIR", "cifar-bin:DIR" or "npy:X,Y[,XT,YT]"; throws
    /// std::invalid_argument saying what is accepted.
    [[nodiscard]] static dataset_spec parse(std::string_view text) {
        const auto bad = [&](const std::string& why) {
            throw std::invalid_argument("dataset '" + std::string(text) + "': " + why +
                                        " (accepted: fashion-mnist, idx:DIR, cifar-bin:DIR, "
                                        "npy:X.npy,Y.npy[,XT.npy,YT.npy])");
        };
        if (text == "fashion-mnist")
            return {kind::fashion_mnist, {}};
        const auto colon = text.find(':');
        if (colon == std::string_view::npos)
            bad("unknown data set");
        const auto prefix = text.substr(0, colon);
        const auto rest = text.substr(colon + 1);
        if (rest.empty())
            bad("no path after '" + std::string(prefix) + ":'");
        if (prefix == "idx")
            return {kind::idx, {std::filesystem::path(rest)}};
        if (prefix == "cifar-bin")
            return {kind::cifar_binary, {std::filesystem::path(rest)}};
        if (prefix != "npy")
            bad("unknown format '" + std::string(prefix) + "'");
        dataset_spec spec{kind::npy, {}};
        std::string_view list = rest;
        for (;;) {
            const auto comma = list.find(',');
            const auto item = list.substr(0, comma);
            if (item.empty())
                bad("an empty file name");
            spec.paths.emplace_back(item);
            if (comma == std::string_view::npos)
                break;
            list = list.substr(comma + 1);
        }
        if (spec.paths.size() != 2 && spec.paths.size() != 4)
            bad(std::to_string(spec.paths.size()) + " files (npy takes X,Y or X,Y,XT,YT)");
        return spec;
    }
};

struct dataset_options {
    double valid_fraction = 0.1; ///< of the (subset of the) training images, in (0, 1)
    std::size_t subset = 0;      ///< use N training images, drawn with the seed (0: all)
    std::uint64_t seed = 0;
    std::size_t classes = 0; ///< idx / npy: 0 infers the largest training label + 1
    cifar100_label cifar_label = cifar100_label::fine;
    std::filesystem::path fashion_mnist_dir{fashion_mnist_default_dir};
};

/// The images of a spec as its reader returns them (no split, no normalisation).
[[nodiscard]] inline labelled_images read_dataset(const dataset_spec& spec,
                                                  const dataset_options& options = {}) {
    using k = dataset_spec::kind;
    switch (spec.format) {
    case k::fashion_mnist:
        return read_idx_directory(options.fashion_mnist_dir, {.classes = 10});
    case k::idx:
        return read_idx_directory(spec.paths.at(0), {.classes = options.classes});
    case k::cifar_binary:
        return read_cifar_binary(spec.paths.at(0), {.label = options.cifar_label});
    case k::npy:
        break;
    }
    std::optional<std::pair<std::filesystem::path, std::filesystem::path>> test;
    if (spec.paths.size() == 4)
        test.emplace(spec.paths[2], spec.paths[3]);
    return read_npy_images(spec.paths.at(0), spec.paths.at(1), test, {.classes = options.classes});
}

/// The seeded split and normalisation of the top of this header.
[[nodiscard]] inline image_splits split_dataset(labelled_images data,
                                                const dataset_options& options) {
    const auto bad = [](const std::string& why) {
        throw std::invalid_argument("dataset_options: " + why);
    };
    if (!(options.valid_fraction > 0 && options.valid_fraction < 1))
        bad("valid_fraction " + std::to_string(options.valid_fraction) + " must be in (0, 1)");
    const std::size_t available = data.train.size();
    if (options.subset > available) {
        bad("subset " + std::to_string(options.subset) + " exceeds the " +
            std::to_string(available) + " training images of " + data.train_source);
    }
    const std::size_t n = options.subset > 0 ? options.subset : available;
    const auto n_valid = static_cast<std::size_t>(
        std::max(1.0, std::round(options.valid_fraction * static_cast<double>(n))));
    if (n_valid >= n) {
        bad("valid_fraction " + std::to_string(options.valid_fraction) + " of " +
            std::to_string(n) + " images leaves no training images");
    }
    std::vector<std::size_t> order(available);
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng gen(derive_seed(options.seed, 0x5917));
    shuffle(order.begin(), order.end(), gen);
    const std::span<const std::size_t> all(order);
    image_set validation = data.train.select(all.subspan(0, n_valid));
    image_set train = data.train.select(all.subspan(n_valid, n - n_valid));
    const image_shape shape = train.stored_shape();
    image_set test =
        data.test ? std::move(*data.test) : image_set(std::vector<std::uint8_t>{}, {}, shape, {});
    data.train = image_set(std::vector<std::uint8_t>{}, {}, shape, {}); // free it

    auto [mean, sd] = train.channel_statistics();
    const image_format format{.normalise = true,
                              .pad_to_32 = shape.rows <= 32 && shape.cols <= 32,
                              .three_channels = false,
                              .channel_mean = std::move(mean),
                              .channel_std = std::move(sd)};
    train.set_format(format);
    validation.set_format(format);
    test.set_format(format);
    return {.train = std::move(train),
            .validation = std::move(validation),
            .test = std::move(test),
            .classes = data.classes};
}

/// read_dataset then split_dataset, shared read-only (what a training_evaluator takes).
[[nodiscard]] inline std::shared_ptr<const image_splits>
load_dataset(const dataset_spec& spec, const dataset_options& options = {}) {
    return std::make_shared<const image_splits>(
        split_dataset(read_dataset(spec, options), options));
}

} // namespace nascent::tensor
