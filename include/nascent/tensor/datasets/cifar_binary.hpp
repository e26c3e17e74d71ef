#pragma once
// The CIFAR-10 and CIFAR-100 binary formats (Krizhevsky 2009, "binary version" of
// https://www.cs.toronto.edu/~kriz/cifar.html): records of label byte(s) + 3072 image bytes
// (1024 red, 1024 green, 1024 blue; rows of 32, row-major), no header.
//
//   CIFAR-10   data_batch_1.bin ... data_batch_5.bin, test_batch.bin; 1 label byte in 0..9
//   CIFAR-100  train.bin, test.bin; 2 label bytes: coarse (0..19), then fine (0..99)
//
// A directory holding data_batch_1.bin is read as CIFAR-10 (the batches present, in order, from 1
// up to the first missing), one holding train.bin as CIFAR-100. The test file is optional. A file
// whose size is not a whole number of records (truncated), an empty one, or a label out of range
// throws std::invalid_argument naming the file and what is wrong.

#include <nascent/tensor/datasets/labelled_images.hpp>
#include <nascent/tensor/image_set.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// Which CIFAR-100 label a run learns.
enum class cifar100_label : std::uint8_t { fine, coarse };

struct cifar_options {
    cifar100_label label = cifar100_label::fine;
    image_format format{.normalise = false};
};

namespace detail {

inline constexpr std::size_t cifar_image_bytes = 3 * 32 * 32;

/// Appends the records of one file to pixels/labels.
inline void read_cifar_file(const std::filesystem::path& path, std::size_t label_bytes,
                            std::size_t label_at, std::size_t classes,
                            std::vector<std::uint8_t>& pixels, std::vector<std::int32_t>& labels) {
    const std::string name = "'" + path.string() + "'";
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::invalid_argument("cannot read " + name);
    std::ostringstream content;
    content << in.rdbuf();
    const std::string bytes = std::move(content).str();
    const std::size_t record = label_bytes + cifar_image_bytes;
    if (bytes.empty())
        throw std::invalid_argument(name + ": empty file (CIFAR records have " +
                                    std::to_string(record) + " bytes)");
    if (bytes.size() % record != 0) {
        throw std::invalid_argument(name + ": truncated: " + std::to_string(bytes.size()) +
                                    " bytes is not a whole number of " + std::to_string(record) +
                                    "-byte records (" + std::to_string(label_bytes) +
                                    " label byte(s) + 3072 image bytes)");
    }
    const std::size_t n = bytes.size() / record;
    for (std::size_t i = 0; i < n; ++i) {
        const char* r = bytes.data() + i * record;
        const auto label = static_cast<std::uint8_t>(r[label_at]);
        check_label(path.string(), label, i, classes);
        labels.push_back(label);
        pixels.insert(pixels.end(), r + label_bytes, r + record);
    }
}

} // namespace detail

/// Reads a CIFAR-10 or CIFAR-100 binary directory (see the top of this header).
[[nodiscard]] inline labelled_images read_cifar_binary(const std::filesystem::path& dir,
                                                       const cifar_options& options = {}) {
    std::error_code ec;
    const bool cifar10 = std::filesystem::exists(dir / "data_batch_1.bin", ec);
    const bool cifar100 = std::filesystem::exists(dir / "train.bin", ec);
    if (!cifar10 && !cifar100) {
        throw std::invalid_argument(
            "'" + dir.string() +
            "': no CIFAR binary files (CIFAR-10: data_batch_1.bin ...; CIFAR-100: train.bin)");
    }
    const std::size_t label_bytes = cifar10 ? 1 : 2;
    const bool coarse = !cifar10 && options.label == cifar100_label::coarse;
    const std::size_t label_at = cifar10 || coarse ? 0 : 1;
    const std::size_t classes = cifar10 ? 10 : coarse ? 20 : 100;

    std::vector<std::filesystem::path> train_files;
    if (cifar10) {
        for (int b = 1;
             std::filesystem::exists(dir / ("data_batch_" + std::to_string(b) + ".bin"), ec); ++b)
            train_files.push_back(dir / ("data_batch_" + std::to_string(b) + ".bin"));
    } else {
        train_files.push_back(dir / "train.bin");
    }
    std::vector<std::uint8_t> pixels;
    std::vector<std::int32_t> labels;
    std::string source;
    for (const auto& f : train_files) {
        detail::read_cifar_file(f, label_bytes, label_at, classes, pixels, labels);
        source += (source.empty() ? "" : ", ") + f.string();
    }
    const image_shape shape{3, 32, 32};
    labelled_images out{.train =
                            image_set(std::move(pixels), std::move(labels), shape, options.format),
                        .test = std::nullopt,
                        .classes = classes,
                        .train_source = source,
                        .test_source = {}};
    const auto test_file = dir / (cifar10 ? "test_batch.bin" : "test.bin");
    if (std::filesystem::exists(test_file, ec)) {
        std::vector<std::uint8_t> test_pixels;
        std::vector<std::int32_t> test_labels;
        detail::read_cifar_file(test_file, label_bytes, label_at, classes, test_pixels,
                                test_labels);
        out.test.emplace(std::move(test_pixels), std::move(test_labels), shape, options.format);
        out.test_source = test_file.string();
    }
    return out;
}

} // namespace nascent::tensor
