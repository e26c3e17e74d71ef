#pragma once
// Labelled images from a pair of .npy arrays (tensor/datasets/npy.hpp), X and Y, and optionally a
// test pair.
//
//   X  (N, H, W)       one channel
//      (N, C, H, W)    channel-major (NCHW)
//      (N, H, W, C)    channel-last (NHWC, as Keras keeps images), read so when C <= 4 < H,
//                      i.e. a 4-D array whose second axis is larger than 4 and last axis is not
//      dtype '|u1' (bytes, scaled by 1/255 like IDX and CIFAR), or '<f4', '<f8', '<i4', '<i8'
//      (taken as they are, as float32); non-finite values are refused
//   Y  (N,) or (N, 1) of an integer dtype ('|u1', '<i4', '<i8'), labels in 0..classes-1
//
// Classes: options.classes, or (0) the largest training label + 1. Errors name the file: a count
// of labels that differs from the images', a label out of range (negative ones included), a shape
// that is not images, float labels, test images of another shape.

#include <nascent/tensor/datasets/labelled_images.hpp>
#include <nascent/tensor/datasets/npy.hpp>
#include <nascent/tensor/image_set.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

struct npy_options {
    std::size_t classes = 0; ///< 0: the largest training label + 1
    image_format format{.normalise = false};
};

namespace detail {

inline std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i > 0 ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

/// X as an image_set without labels checked yet (labels filled by the caller).
struct npy_images_raw {
    image_shape shape;
    bool floats = false;
    std::vector<std::uint8_t> bytes;
    std::vector<float> values;
    std::size_t count = 0;
};

inline npy_images_raw npy_images_of(const std::filesystem::path& path) {
    const npy_array a = read_npy(path);
    const std::string name = "'" + path.string() + "'";
    const auto& s = a.shape;
    npy_images_raw out;
    bool nhwc = false;
    if (s.size() == 3) {
        out.shape = {1, s[1], s[2]};
    } else if (s.size() == 4) {
        nhwc = s[3] <= 4 && s[1] > 4;
        out.shape = nhwc ? image_shape{s[3], s[1], s[2]} : image_shape{s[1], s[2], s[3]};
    } else {
        throw std::invalid_argument(name + ": shape " + shape_text(s) +
                                    " is not images: (N, H, W), (N, C, H, W) or (N, H, W, C)");
    }
    out.count = s[0];
    if (out.count == 0 || out.shape.size() == 0)
        throw std::invalid_argument(name + ": shape " + shape_text(s) + " holds no images");
    const std::size_t per = out.shape.size();
    const std::size_t plane = out.shape.rows * out.shape.cols;
    // Element of image i, channel ch, pixel k (row-major in the plane) in the file's order.
    const auto source = [&](std::size_t i, std::size_t ch, std::size_t k) {
        return nhwc ? (i * plane + k) * out.shape.channels + ch
                    : (i * out.shape.channels + ch) * plane + k;
    };
    out.floats = a.dtype != npy_dtype::u8;
    if (out.floats)
        out.values.resize(out.count * per);
    else
        out.bytes.resize(out.count * per);
    for (std::size_t i = 0; i < out.count; ++i) {
        for (std::size_t ch = 0; ch < out.shape.channels; ++ch) {
            for (std::size_t k = 0; k < plane; ++k) {
                const std::size_t from = source(i, ch, k);
                const std::size_t to = (i * out.shape.channels + ch) * plane + k;
                if (!out.floats) {
                    out.bytes[to] = static_cast<std::uint8_t>(a.data[from]);
                    continue;
                }
                const double v = a.at(from);
                if (!std::isfinite(v))
                    throw std::invalid_argument(name + ": non-finite value at element " +
                                                std::to_string(from));
                out.values[to] = static_cast<float>(v);
            }
        }
    }
    return out;
}

inline std::vector<std::int64_t> npy_labels_of(const std::filesystem::path& path,
                                               std::size_t images,
                                               const std::filesystem::path& images_path) {
    const npy_array a = read_npy(path);
    const std::string name = "'" + path.string() + "'";
    if (!is_integer(a.dtype)) {
        throw std::invalid_argument(name + ": labels of dtype '" + a.descr +
                                    "' (labels must be integers: '<i8', '<i4' or '|u1')");
    }
    if (!(a.shape.size() == 1 || (a.shape.size() == 2 && a.shape[1] == 1))) {
        throw std::invalid_argument(name + ": labels of shape " + shape_text(a.shape) +
                                    " (expected (N,) or (N, 1))");
    }
    if (a.shape[0] != images) {
        throw std::invalid_argument(name + ": " + std::to_string(a.shape[0]) + " labels but '" +
                                    images_path.string() + "' has " + std::to_string(images) +
                                    " images");
    }
    std::vector<std::int64_t> labels(images);
    for (std::size_t i = 0; i < images; ++i)
        labels[i] = a.integer_at(i);
    return labels;
}

/// The labels checked against `classes`, as int32.
inline std::vector<std::int32_t> checked_labels(const std::filesystem::path& path,
                                                const std::vector<std::int64_t>& labels,
                                                std::size_t classes) {
    std::vector<std::int32_t> out(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        check_label(path.string(), labels[i], i, classes);
        out[i] = static_cast<std::int32_t>(labels[i]);
    }
    return out;
}

inline image_set npy_set(npy_images_raw&& x, std::vector<std::int32_t>&& labels,
                         const image_format& format) {
    if (x.floats)
        return {std::move(x.values), std::move(labels), x.shape, format};
    return {std::move(x.bytes), std::move(labels), x.shape, format};
}

} // namespace detail

/// Reads the training pair and, when given, the test pair (see the top of this header).
[[nodiscard]] inline labelled_images
read_npy_images(const std::filesystem::path& x, const std::filesystem::path& y,
                const std::optional<std::pair<std::filesystem::path, std::filesystem::path>>& test,
                const npy_options& options = {}) {
    auto train_x = detail::npy_images_of(x);
    const auto raw_y = detail::npy_labels_of(y, train_x.count, x);
    std::size_t classes = options.classes;
    if (classes == 0) {
        // At most 2^16 classes inferred: a larger label is far likelier a wrong file.
        const std::int64_t top =
            std::clamp<std::int64_t>(*std::max_element(raw_y.begin(), raw_y.end()), 0, 65535);
        classes = static_cast<std::size_t>(top) + 1;
    }
    auto train_y = detail::checked_labels(y, raw_y, classes);
    const image_shape shape = train_x.shape;
    labelled_images out{.train =
                            detail::npy_set(std::move(train_x), std::move(train_y), options.format),
                        .test = std::nullopt,
                        .classes = classes,
                        .train_source = x.string(),
                        .test_source = {}};
    if (test) {
        auto test_x = detail::npy_images_of(test->first);
        if (test_x.shape.channels != shape.channels || test_x.shape.rows != shape.rows ||
            test_x.shape.cols != shape.cols) {
            throw std::invalid_argument("'" + test->first.string() + "': images of " +
                                        test_x.shape.to_string() + " but the training images are " +
                                        shape.to_string());
        }
        auto test_y = detail::checked_labels(
            test->second, detail::npy_labels_of(test->second, test_x.count, test->first), classes);
        out.test.emplace(detail::npy_set(std::move(test_x), std::move(test_y), options.format));
        out.test_source = test->first.string();
    }
    return out;
}

} // namespace nascent::tensor
