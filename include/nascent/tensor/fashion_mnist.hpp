#pragma once
// Fashion-MNIST (Xiao et al. 2017) from its four IDX files, gzip-compressed as distributed (and
// as Debian's dataset-fashion-mnist installs them under /usr/share/datasets/fashion-mnist).
// Decompression is zlib's (link with -lz / ZLIB::ZLIB). Every file is validated — magic number,
// header, size, label range, matching counts — and any problem throws std::invalid_argument
// naming the file and what is wrong.
//
// Images stay as bytes in memory (60,000 x 784 bytes, not 4x that in floats, and not 3 x 32 x 32
// floats each when padded and replicated); batches are converted to normalised NCHW float
// arrays on request.
//
// Split: the validation set is the LAST `validation_size` images of the training files (10,000
// by default), the training set the rest; the test set is the t10k files. The split is fixed,
// needs no seed and matches across runs and machines.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/image_set.hpp>
#include <nascent/tensor/tensor.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr std::string_view fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

/// Class names by label.
inline constexpr std::array<std::string_view, 10> fashion_mnist_classes{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

namespace detail {

/// The decompressed content of a gzip file (a file that is not gzip is read as it is, as zlib's
/// gzread does). Throws naming the file when it is missing, unreadable or corrupt.
[[nodiscard]] inline std::string read_gzip(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw std::invalid_argument(
            "cannot read '" + path.string() +
            "': " + (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
    }
    std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), &gzclose);
    if (!file)
        throw std::invalid_argument("cannot open '" + path.string() + "'");
    std::string content;
    std::array<char, 1 << 16> buffer{};
    for (;;) {
        const int n = gzread(file.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
        if (n <= 0) // end of data, or an error that gzerror reports below
            break;
        content.append(buffer.data(), static_cast<std::size_t>(n));
    }
    int code = Z_OK;
    const char* message = gzerror(file.get(), &code);
    if (code != Z_OK && code != Z_STREAM_END) {
        throw std::invalid_argument("'" + path.string() + "': corrupt or truncated gzip data (" +
                                    (message != nullptr ? message : "zlib error") + ")");
    }
    return content;
}

[[nodiscard]] inline std::uint32_t big_endian_u32(std::string_view bytes, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v = (v << 8U) | static_cast<std::uint8_t>(bytes[at + i]);
    }
    return v;
}

[[nodiscard]] inline std::string hex(std::uint32_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s = "0x";
    for (int shift = 28; shift >= 0; shift -= 4)
        s += digits[(v >> static_cast<unsigned>(shift)) & 0xFU];
    return s;
}

// `name`, or `name` without ".gz" when only the uncompressed file exists.
[[nodiscard]] inline std::filesystem::path locate(const std::filesystem::path& dir,
                                                  const std::string& gz_name) {
    const auto gz = dir / gz_name;
    std::error_code ec;
    if (std::filesystem::exists(gz, ec))
        return gz;
    const auto plain = dir / gz_name.substr(0, gz_name.size() - 3);
    if (std::filesystem::exists(plain, ec))
        return plain;
    return gz; // reported missing by read_gzip
}

} // namespace detail

/// Images of an IDX3 file: `count` images of rows x cols bytes, row-major.
struct idx_images {
    std::size_t count = 0;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<std::uint8_t> pixels;
};

/// Reads an IDX3 unsigned-byte image file (magic 0x00000803), gzip or plain.
[[nodiscard]] inline idx_images read_idx_images(const std::filesystem::path& path) {
    const std::string bytes = detail::read_gzip(path);
    const std::string name = "'" + path.string() + "'";
    if (bytes.size() < 16) {
        throw std::invalid_argument(name + ": truncated header (" + std::to_string(bytes.size()) +
                                    " bytes, an IDX3 header has 16)");
    }
    const std::uint32_t magic = detail::big_endian_u32(bytes, 0);
    if (magic != 0x00000803U) {
        throw std::invalid_argument(name + ": bad magic number " + detail::hex(magic) +
                                    " (IDX3 unsigned-byte images have 0x00000803)");
    }
    idx_images out;
    out.count = detail::big_endian_u32(bytes, 4);
    out.rows = detail::big_endian_u32(bytes, 8);
    out.cols = detail::big_endian_u32(bytes, 12);
    if (out.rows == 0 || out.cols == 0) {
        throw std::invalid_argument(name + ": image size " + std::to_string(out.rows) + "x" +
                                    std::to_string(out.cols) + " is empty");
    }
    const std::size_t expected = 16 + out.count * out.rows * out.cols;
    if (bytes.size() != expected) {
        throw std::invalid_argument(
            name + ": " + (bytes.size() < expected ? "truncated" : "trailing data") + ": " +
            std::to_string(out.count) + " images of " + std::to_string(out.rows) + "x" +
            std::to_string(out.cols) + " need " + std::to_string(expected) +
            " bytes, the file has " + std::to_string(bytes.size()));
    }
    out.pixels.assign(bytes.begin() + 16, bytes.end());
    return out;
}

/// Reads an IDX1 unsigned-byte label file (magic 0x00000801), gzip or plain.
[[nodiscard]] inline std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path) {
    const std::string bytes = detail::read_gzip(path);
    const std::string name = "'" + path.string() + "'";
    if (bytes.size() < 8) {
        throw std::invalid_argument(name + ": truncated header (" + std::to_string(bytes.size()) +
                                    " bytes, an IDX1 header has 8)");
    }
    const std::uint32_t magic = detail::big_endian_u32(bytes, 0);
    if (magic != 0x00000801U) {
        throw std::invalid_argument(name + ": bad magic number " + detail::hex(magic) +
                                    " (IDX1 unsigned-byte labels have 0x00000801)");
    }
    const std::size_t count = detail::big_endian_u32(bytes, 4);
    if (bytes.size() != 8 + count) {
        throw std::invalid_argument(
            name + ": " + (bytes.size() < 8 + count ? "truncated" : "trailing data") + ": " +
            std::to_string(count) + " labels need " + std::to_string(8 + count) +
            " bytes, the file has " + std::to_string(bytes.size()));
    }
    return {bytes.begin() + 8, bytes.end()};
}

struct fashion_mnist_options {
    std::filesystem::path dir{fashion_mnist_default_dir};
    std::size_t validation_size = 10000; ///< the last images of the training files
    image_format format{};
};

/// The three splits of Fashion-MNIST (see the top of this header for the split).
struct fashion_mnist : image_splits {
    [[nodiscard]] static fashion_mnist load(const fashion_mnist_options& options = {}) {
        const auto& dir = options.dir;
        const auto train_images_path = detail::locate(dir, "train-images-idx3-ubyte.gz");
        const auto train_labels_path = detail::locate(dir, "train-labels-idx1-ubyte.gz");
        const auto test_images_path = detail::locate(dir, "t10k-images-idx3-ubyte.gz");
        const auto test_labels_path = detail::locate(dir, "t10k-labels-idx1-ubyte.gz");
        auto train_images = read_idx_images(train_images_path);
        auto train_labels = labels_of(train_labels_path, train_images, train_images_path);
        auto test_images = read_idx_images(test_images_path);
        auto test_labels = labels_of(test_labels_path, test_images, test_images_path);
        if (test_images.rows != train_images.rows || test_images.cols != train_images.cols) {
            throw std::invalid_argument(
                "'" + test_images_path.string() + "': images of " +
                std::to_string(test_images.rows) + "x" + std::to_string(test_images.cols) +
                " but the training images are " + std::to_string(train_images.rows) + "x" +
                std::to_string(train_images.cols));
        }
        if (options.validation_size >= train_images.count) {
            throw std::invalid_argument(
                "fashion_mnist: validation_size " + std::to_string(options.validation_size) +
                " leaves no training images out of " + std::to_string(train_images.count));
        }
        const std::size_t pixels = train_images.rows * train_images.cols;
        const std::size_t n_train = train_images.count - options.validation_size;
        const auto split_at = static_cast<std::ptrdiff_t>(n_train);
        const auto pixel_split = static_cast<std::ptrdiff_t>(n_train * pixels);
        std::vector<std::uint8_t> valid_pixels(train_images.pixels.begin() + pixel_split,
                                               train_images.pixels.end());
        std::vector<std::int32_t> valid_labels(train_labels.begin() + split_at, train_labels.end());
        train_images.pixels.resize(n_train * pixels);
        train_labels.resize(n_train);
        const auto r = train_images.rows;
        const auto c = train_images.cols;
        return fashion_mnist{
            {.train = image_set(std::move(train_images.pixels), std::move(train_labels), r, c,
                                options.format),
             .validation =
                 image_set(std::move(valid_pixels), std::move(valid_labels), r, c, options.format),
             .test = image_set(std::move(test_images.pixels), std::move(test_labels), r, c,
                               options.format),
             .classes = fashion_mnist_classes.size()}};
    }

private:
    // Labels matching `images` in count, each in [0, 10).
    [[nodiscard]] static std::vector<std::int32_t>
    labels_of(const std::filesystem::path& path, const idx_images& images,
              const std::filesystem::path& images_path) {
        const auto raw = read_idx_labels(path);
        if (raw.size() != images.count) {
            throw std::invalid_argument("'" + path.string() + "': " + std::to_string(raw.size()) +
                                        " labels but '" + images_path.string() + "' has " +
                                        std::to_string(images.count) + " images");
        }
        std::vector<std::int32_t> out(raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] >= fashion_mnist_classes.size()) {
                throw std::invalid_argument("'" + path.string() + "': label " +
                                            std::to_string(raw[i]) + " of item " +
                                            std::to_string(i) + " outside 0..9");
            }
            out[i] = raw[i];
        }
        return out;
    }
};

/// A labelled mini-batch [B, C, H, W] (e.g. for the data-dependent zero-cost proxies).
struct labelled_batch {
    ndarray images;
    std::vector<std::int32_t> labels;
};

/// `size` distinct Fashion-MNIST training images drawn with `seed` (the same batch for every
/// architecture), padded to 32 x 32 and replicated to 3 channels as NAS-Bench-201 networks take
/// them, normalised with the training set's mean and std. Loads the whole training split once.
[[nodiscard]] inline labelled_batch
fashion_mnist_batch(std::size_t size, std::uint64_t seed,
                    const std::filesystem::path& dir = fashion_mnist_default_dir) {
    if (size == 0)
        throw std::invalid_argument("fashion_mnist_batch: size 0");
    const auto data =
        fashion_mnist::load({.dir = dir, .format = {.pad_to_32 = true, .three_channels = true}});
    const auto& train = data.train;
    if (size > train.size()) {
        throw std::invalid_argument("fashion_mnist_batch: size " + std::to_string(size) +
                                    " exceeds the " + std::to_string(train.size()) +
                                    " training images");
    }
    // A partial Fisher-Yates shuffle: the first `size` positions are a uniform sample.
    std::vector<std::size_t> order(train.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng gen(seed);
    for (std::size_t i = 0; i < size; ++i) {
        std::swap(order[i], order[i + uniform_index(gen, order.size() - i)]);
    }
    order.resize(size);
    return {train.images(order), train.labels(order)};
}

} // namespace nascent::tensor
