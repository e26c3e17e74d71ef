#pragma once
// A directory in the MNIST layout of IDX files (LeCun et al.; Fashion-MNIST, KMNIST and EMNIST
// use it too): train-images-idx3-ubyte and train-labels-idx1-ubyte, optionally
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte for the test set; each gzip-compressed (.gz)
// or plain. Images are unsigned bytes (IDX type 0x08), one grey channel.
//
// Classes: options.classes, or (0) the largest training label + 1. Bad files throw
// std::invalid_argument naming the file and what is wrong: wrong magic, truncated or trailing
// data (read_idx_images / read_idx_labels, tensor/fashion_mnist.hpp), a label count that differs
// from the image count, a label outside 0..classes-1, test images of another size.

#include <nascent/tensor/datasets/labelled_images.hpp>
#include <nascent/tensor/fashion_mnist.hpp>
#include <nascent/tensor/image_set.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace nascent::tensor {

struct idx_options {
    std::size_t classes = 0; ///< 0: the largest training label + 1
    image_format format{.normalise = false};
};

namespace detail {

/// The images and labels of one IDX pair, the labels checked against the images' count.
inline std::pair<idx_images, std::vector<std::int32_t>>
read_idx_pair(const std::filesystem::path& images_path, const std::filesystem::path& labels_path) {
    auto images = read_idx_images(images_path);
    const auto raw = read_idx_labels(labels_path);
    if (raw.size() != images.count) {
        throw std::invalid_argument(
            "'" + labels_path.string() + "': " + std::to_string(raw.size()) + " labels but '" +
            images_path.string() + "' has " + std::to_string(images.count) + " images");
    }
    return {std::move(images), std::vector<std::int32_t>(raw.begin(), raw.end())};
}

} // namespace detail

/// Reads an MNIST-layout IDX directory (see the top of this header).
[[nodiscard]] inline labelled_images read_idx_directory(const std::filesystem::path& dir,
                                                        const idx_options& options = {}) {
    const auto train_images_path = detail::locate(dir, "train-images-idx3-ubyte.gz");
    const auto train_labels_path = detail::locate(dir, "train-labels-idx1-ubyte.gz");
    auto [train, train_labels] = detail::read_idx_pair(train_images_path, train_labels_path);
    if (train.count == 0)
        throw std::invalid_argument("'" + train_images_path.string() + "': no images");
    std::size_t classes = options.classes;
    if (classes == 0) {
        classes =
            static_cast<std::size_t>(*std::max_element(train_labels.begin(), train_labels.end())) +
            1;
    }
    for (std::size_t i = 0; i < train_labels.size(); ++i)
        detail::check_label(train_labels_path.string(), train_labels[i], i, classes);
    const image_shape shape{1, train.rows, train.cols};
    labelled_images out{
        .train = image_set(std::move(train.pixels), std::move(train_labels), shape, options.format),
        .test = std::nullopt,
        .classes = classes,
        .train_source = train_images_path.string(),
        .test_source = {}};
    const auto test_images_path = detail::locate(dir, "t10k-images-idx3-ubyte.gz");
    const auto test_labels_path = detail::locate(dir, "t10k-labels-idx1-ubyte.gz");
    std::error_code ec;
    if (std::filesystem::exists(test_images_path, ec) ||
        std::filesystem::exists(test_labels_path, ec)) {
        auto [test, test_labels] = detail::read_idx_pair(test_images_path, test_labels_path);
        if (test.rows != shape.rows || test.cols != shape.cols) {
            throw std::invalid_argument(
                "'" + test_images_path.string() + "': images of " + std::to_string(test.rows) +
                "x" + std::to_string(test.cols) + " but the training images are " +
                std::to_string(shape.rows) + "x" + std::to_string(shape.cols));
        }
        for (std::size_t i = 0; i < test_labels.size(); ++i)
            detail::check_label(test_labels_path.string(), test_labels[i], i, classes);
        out.test.emplace(std::move(test.pixels), std::move(test_labels), shape, options.format);
        out.test_source = test_images_path.string();
    }
    return out;
}

} // namespace nascent::tensor
