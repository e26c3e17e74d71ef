#pragma once
// Labelled images held compactly in memory, converted to normalised [B, C, H, W] float batches on
// request; and the train / validation / test splits a training run takes (image_splits).
//
// Storage is bytes (IDX, CIFAR binary, uint8 .npy: scaled by 1/255) or floats (.npy float or
// integer arrays: taken as they are), channel-major per image (C x H x W). Normalisation is one
// mean and std for every channel (Fashion-MNIST's fixed figures, the default), or one per stored
// channel (channel_mean / channel_std, e.g. the training split's own: channel_statistics()).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nascent/tensor/tensor.hpp>

namespace nascent::tensor {

/// How stored values become network inputs.
struct image_format {
    bool normalise = true; ///< (x - mean) / std, x = byte / 255 or the stored float
    float mean = 0.2860F;  ///< Fashion-MNIST training-set mean
    float std = 0.3530F;   ///< and standard deviation
    /// Zero-pad (black, i.e. background, before normalisation) to 32 x 32, centred: the input
    /// size of the NAS-Bench-201 networks.
    bool pad_to_32 = false;
    bool three_channels = false; ///< replicate a grey channel to 3 (RGB networks)
    /// Per stored channel; when given they replace mean and std.
    std::vector<float> channel_mean{};
    std::vector<float> channel_std{};
};

/// Channels, rows and columns of one image.
struct image_shape {
    std::size_t channels = 1;
    std::size_t rows = 0;
    std::size_t cols = 0;

    [[nodiscard]] std::size_t size() const noexcept { return channels * rows * cols; }
    [[nodiscard]] std::string to_string() const {
        return std::to_string(channels) + "x" + std::to_string(rows) + "x" + std::to_string(cols);
    }
};

/// Labelled images held as bytes or floats; batches come out as [B, C, H, W] floats.
class image_set {
public:
    /// Grey byte images of rows x cols (IDX).
    image_set(std::vector<std::uint8_t> pixels, std::vector<std::int32_t> labels, std::size_t rows,
              std::size_t cols, const image_format& format)
        : image_set(std::move(pixels), std::move(labels), image_shape{1, rows, cols}, format) {}

    /// Byte images of `shape`, channel-major.
    image_set(std::vector<std::uint8_t> pixels, std::vector<std::int32_t> labels, image_shape shape,
              const image_format& format)
        : m_pixels(std::move(pixels)), m_labels(std::move(labels)), m_shape(shape) {
        check_size(m_pixels.size(), "pixel bytes");
        set_format(format);
    }

    /// Float images of `shape`, channel-major.
    image_set(std::vector<float> values, std::vector<std::int32_t> labels, image_shape shape,
              const image_format& format)
        : m_values(std::move(values)), m_labels(std::move(labels)), m_shape(shape), m_floats(true) {
        check_size(m_values.size(), "values");
        set_format(format);
    }

    /// Changes how values become inputs (e.g. to the training split's channel statistics).
    void set_format(const image_format& format) {
        const std::size_t c = m_shape.channels;
        if (format.pad_to_32 && (m_shape.rows > 32 || m_shape.cols > 32)) {
            throw std::invalid_argument("image_set: cannot pad " + std::to_string(m_shape.rows) +
                                        "x" + std::to_string(m_shape.cols) + " images to 32x32");
        }
        if (format.three_channels && c != 1) {
            throw std::invalid_argument("image_set: three_channels replicates a grey channel, "
                                        "but the images have " +
                                        std::to_string(c) + " channels");
        }
        const bool per_channel = !format.channel_mean.empty() || !format.channel_std.empty();
        if (per_channel && (format.channel_mean.size() != c || format.channel_std.size() != c)) {
            throw std::invalid_argument("image_set: " + std::to_string(format.channel_mean.size()) +
                                        " channel means and " +
                                        std::to_string(format.channel_std.size()) + " stds for " +
                                        std::to_string(c) + " channels");
        }
        m_scale.assign(c, 1.0F);
        m_shift.assign(c, 0.0F);
        for (std::size_t ch = 0; ch < c && format.normalise; ++ch) {
            const float mean = per_channel ? format.channel_mean[ch] : format.mean;
            const float sd = per_channel ? format.channel_std[ch] : format.std;
            if (!(sd > 0.0F) || !std::isfinite(sd) || !std::isfinite(mean)) {
                throw std::invalid_argument("image_set: std " + std::to_string(sd) +
                                            " must be positive (mean " + std::to_string(mean) +
                                            ")");
            }
            m_scale[ch] = sd;
            m_shift[ch] = mean;
        }
        m_lookup.assign(m_floats ? 0 : 256 * c, 0.0F);
        for (std::size_t ch = 0; ch < c && !m_floats; ++ch) {
            for (std::size_t v = 0; v < 256; ++v)
                m_lookup[ch * 256 + v] = convert(static_cast<float>(v) / 255.0F, ch);
        }
        m_format = format;
    }

    [[nodiscard]] std::size_t size() const noexcept { return m_labels.size(); }
    [[nodiscard]] bool empty() const noexcept { return m_labels.empty(); }
    /// Channels of a batch (3 when a grey channel is replicated).
    [[nodiscard]] std::size_t channels() const noexcept {
        return m_format.three_channels ? 3 : m_shape.channels;
    }
    [[nodiscard]] std::size_t height() const noexcept {
        return m_format.pad_to_32 ? 32 : m_shape.rows;
    }
    [[nodiscard]] std::size_t width() const noexcept {
        return m_format.pad_to_32 ? 32 : m_shape.cols;
    }
    /// The stored images' shape (before padding and replication).
    [[nodiscard]] const image_shape& stored_shape() const noexcept { return m_shape; }
    [[nodiscard]] bool holds_floats() const noexcept { return m_floats; }
    [[nodiscard]] const image_format& format() const noexcept { return m_format; }
    [[nodiscard]] const std::vector<std::int32_t>& labels() const noexcept { return m_labels; }

    /// Mean and standard deviation (population) per stored channel of the unnormalised values
    /// (bytes / 255, or the floats), over every image.
    [[nodiscard]] std::pair<std::vector<float>, std::vector<float>> channel_statistics() const {
        const std::size_t c = m_shape.channels;
        const std::size_t plane = m_shape.rows * m_shape.cols;
        std::vector<double> sum(c, 0.0);
        std::vector<double> sum_sq(c, 0.0);
        for (std::size_t i = 0; i < size(); ++i) {
            for (std::size_t ch = 0; ch < c; ++ch) {
                const std::size_t at = (i * c + ch) * plane;
                double s = 0;
                double q = 0;
                for (std::size_t k = 0; k < plane; ++k) {
                    const double x = raw(at + k);
                    s += x;
                    q += x * x;
                }
                sum[ch] += s;
                sum_sq[ch] += q;
            }
        }
        std::vector<float> mean(c, 0.0F);
        std::vector<float> sd(c, 1.0F);
        const double n = static_cast<double>(size() * plane);
        for (std::size_t ch = 0; ch < c && n > 0; ++ch) {
            const double m = sum[ch] / n;
            const double var = std::max(0.0, sum_sq[ch] / n - m * m);
            mean[ch] = static_cast<float>(m);
            // A constant channel: leave it centred, unscaled.
            sd[ch] = var > 0 ? static_cast<float>(std::sqrt(var)) : 1.0F;
        }
        return {mean, sd};
    }

    /// The images `indices`, in that order, as a new set with the same format.
    [[nodiscard]] image_set select(std::span<const std::size_t> indices) const {
        const std::size_t n = m_shape.size();
        std::vector<std::int32_t> labels;
        labels.reserve(indices.size());
        for (const auto i : indices)
            labels.push_back(m_labels[check(i)]);
        if (m_floats) {
            std::vector<float> values;
            values.reserve(indices.size() * n);
            for (const auto i : indices)
                values.insert(values.end(), m_values.begin() + static_cast<std::ptrdiff_t>(i * n),
                              m_values.begin() + static_cast<std::ptrdiff_t>((i + 1) * n));
            return {std::move(values), std::move(labels), m_shape, m_format};
        }
        std::vector<std::uint8_t> pixels;
        pixels.reserve(indices.size() * n);
        for (const auto i : indices)
            pixels.insert(pixels.end(), m_pixels.begin() + static_cast<std::ptrdiff_t>(i * n),
                          m_pixels.begin() + static_cast<std::ptrdiff_t>((i + 1) * n));
        return {std::move(pixels), std::move(labels), m_shape, m_format};
    }

    /// Images `indices` as [B, C, H, W].
    [[nodiscard]] ndarray images(std::span<const std::size_t> indices) const {
        const std::size_t c = channels();
        const std::size_t h = height();
        const std::size_t w = width();
        const std::size_t stored = m_shape.channels;
        const std::size_t rows = m_shape.rows;
        const std::size_t cols = m_shape.cols;
        const std::size_t top = (h - rows) / 2;
        const std::size_t left = (w - cols) / 2;
        ndarray out({indices.size(), c, h, w}, 0.0F);
        for (std::size_t b = 0; b < indices.size(); ++b) {
            const std::size_t i = check(indices[b]);
            float* image = out.data() + b * c * h * w;
            for (std::size_t ch = 0; ch < stored; ++ch) {
                float* dst = image + ch * h * w;
                if (h != rows || w != cols) // the padding: black before normalisation
                    std::fill_n(dst, h * w, convert(0.0F, ch));
                const std::size_t at = (i * stored + ch) * rows * cols;
                for (std::size_t y = 0; y < rows; ++y) {
                    for (std::size_t x = 0; x < cols; ++x) {
                        const std::size_t k = at + y * cols + x;
                        dst[(y + top) * w + x + left] =
                            m_floats ? convert(m_values[k], ch) : m_lookup[ch * 256 + m_pixels[k]];
                    }
                }
            }
            for (std::size_t ch = stored; ch < c; ++ch)
                std::copy_n(image, h * w, image + ch * h * w);
        }
        return out;
    }

    /// Images [first, first + count).
    [[nodiscard]] ndarray images(std::size_t first, std::size_t count) const {
        return images(range(first, count));
    }

    [[nodiscard]] std::vector<std::int32_t> labels(std::span<const std::size_t> indices) const {
        std::vector<std::int32_t> out;
        out.reserve(indices.size());
        for (const auto i : indices)
            out.push_back(m_labels[check(i)]);
        return out;
    }
    [[nodiscard]] std::vector<std::int32_t> labels(std::size_t first, std::size_t count) const {
        return labels(range(first, count));
    }

private:
    void check_size(std::size_t stored, const char* what) const {
        if (stored != m_labels.size() * m_shape.size()) {
            throw std::invalid_argument("image_set: " + std::to_string(stored) + " " + what +
                                        " for " + std::to_string(m_labels.size()) + " images of " +
                                        m_shape.to_string());
        }
        if (m_shape.size() == 0)
            throw std::invalid_argument("image_set: empty image shape " + m_shape.to_string());
    }
    [[nodiscard]] float convert(float x, std::size_t ch) const {
        return (x - m_shift[ch]) / m_scale[ch]; // as (x - mean) / std, to the bit
    }
    [[nodiscard]] double raw(std::size_t k) const {
        return m_floats ? static_cast<double>(m_values[k])
                        : static_cast<double>(m_pixels[k]) / 255.0;
    }
    [[nodiscard]] std::size_t check(std::size_t i) const {
        if (i >= m_labels.size()) {
            throw std::invalid_argument("image_set: index " + std::to_string(i) +
                                        " out of range for " + std::to_string(m_labels.size()) +
                                        " images");
        }
        return i;
    }
    [[nodiscard]] std::vector<std::size_t> range(std::size_t first, std::size_t count) const {
        if (first > m_labels.size() || count > m_labels.size() - first) {
            throw std::invalid_argument("image_set: range [" + std::to_string(first) + ", " +
                                        std::to_string(first + count) + ") out of range for " +
                                        std::to_string(m_labels.size()) + " images");
        }
        std::vector<std::size_t> idx(count);
        for (std::size_t k = 0; k < count; ++k)
            idx[k] = first + k;
        return idx;
    }

    std::vector<std::uint8_t> m_pixels;
    std::vector<float> m_values;
    std::vector<std::int32_t> m_labels;
    image_shape m_shape;
    bool m_floats = false;
    image_format m_format{};
    std::vector<float> m_scale;  // per stored channel: the std
    std::vector<float> m_shift;  // per stored channel: the mean
    std::vector<float> m_lookup; // bytes: 256 values per stored channel
};

/// What a training run takes: training, validation and (possibly empty) test images, and the
/// number of classes (labels are in [0, classes)).
struct image_splits {
    image_set train;
    image_set validation;
    image_set test;
    std::size_t classes = 10;
};

} // namespace nascent::tensor
