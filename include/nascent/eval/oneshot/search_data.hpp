#pragma once
// The data of one-shot search: a weight half and an architecture half of the training images
// (DARTS' split of the training set: weights learn on the first, alpha on the second), and a
// held-out set on which the supernet scores genotypes. Plus the loops every method shares:
// shuffled mini-batches from an explicit generator, accuracy in eval mode, and batch-norm
// recalibration.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/fashion_mnist.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::eval::oneshot {

/// Images [N, C, H, W] with their labels.
struct labelled_set {
    tensor::ndarray images;
    std::vector<std::int32_t> labels;

    [[nodiscard]] std::size_t size() const noexcept { return labels.size(); }

    /// The images and labels at `indices`, in that order.
    [[nodiscard]] std::pair<tensor::ndarray, std::vector<std::int32_t>>
    gather(std::span<const std::size_t> indices) const {
        const std::size_t per = size() == 0 ? 0 : images.size() / size();
        tensor::shape_t s = images.shape();
        s[0] = indices.size();
        auto out = tensor::ndarray::uninitialized(s);
        std::vector<std::int32_t> l(indices.size());
        for (std::size_t i = 0; i < indices.size(); ++i) {
            if (indices[i] >= size()) {
                throw std::invalid_argument("labelled_set: index " + std::to_string(indices[i]) +
                                            " of " + std::to_string(size()));
            }
            std::memcpy(out.data() + i * per, images.data() + indices[i] * per,
                        per * sizeof(float));
            l[i] = labels[indices[i]];
        }
        return {std::move(out), std::move(l)};
    }
};

/// What a one-shot search trains and scores on.
struct search_data {
    labelled_set train; ///< weights' half
    labelled_set valid; ///< architecture's half
    labelled_set eval;  ///< held out: the supernet evaluator scores genotypes here
};

struct fashion_mnist_search_options {
    std::filesystem::path dir{tensor::fashion_mnist_default_dir};
    std::size_t train_subset = 10000; ///< first N training images, split in two halves
    std::size_t eval_subset = 2000;   ///< first N images of the validation split
};

/// Fashion-MNIST (padded to 32x32, one grey channel, normalised as the training evaluator
/// does): the first train_subset training images split into halves, and the first eval_subset
/// validation images.
[[nodiscard]] inline search_data load_fashion_mnist(const fashion_mnist_search_options& o) {
    if (o.train_subset < 4 || o.eval_subset == 0) {
        throw std::invalid_argument("oneshot data: train_subset " + std::to_string(o.train_subset) +
                                    " must be >= 4 and " + "eval_subset " +
                                    std::to_string(o.eval_subset) + " >= 1");
    }
    const auto fm = tensor::fashion_mnist::load({.dir = o.dir, .format = {.pad_to_32 = true}});
    if (o.train_subset > fm.train.size() || o.eval_subset > fm.validation.size()) {
        throw std::invalid_argument("oneshot data: subsets " + std::to_string(o.train_subset) +
                                    " / " + std::to_string(o.eval_subset) + " exceed " +
                                    std::to_string(fm.train.size()) + " / " +
                                    std::to_string(fm.validation.size()) + " images");
    }
    const std::size_t half = o.train_subset / 2;
    return {
        .train = {fm.train.images(0, half), fm.train.labels(0, half)},
        .valid = {fm.train.images(half, half), fm.train.labels(half, half)},
        .eval = {fm.validation.images(0, o.eval_subset), fm.validation.labels(0, o.eval_subset)}};
}

/// An epoch's mini-batches of a set of n items: a shuffle from `gen`, cut into batches of
/// `batch`; a last batch of fewer than 2 items is dropped (batch norm needs two).
[[nodiscard]] inline std::vector<std::vector<std::size_t>>
minibatches(std::size_t n, std::size_t batch, rng& gen) {
    if (batch == 0)
        throw std::invalid_argument("minibatches: batch size 0");
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = n; i > 1; --i)
        std::swap(order[i - 1], order[uniform_index(gen, i)]);
    std::vector<std::vector<std::size_t>> out;
    for (std::size_t lo = 0; lo < n; lo += batch) {
        const std::size_t hi = std::min(n, lo + batch);
        if (hi - lo >= 2)
            out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(lo),
                             order.begin() + static_cast<std::ptrdiff_t>(hi));
    }
    return out;
}

/// Top-1 accuracy (%) of `net` on `set` in eval mode, without recording a graph.
[[nodiscard]] inline double accuracy(tensor::nn::module& net, const labelled_set& set,
                                     std::size_t batch = 250) {
    const tensor::no_grad_guard guard;
    const bool was_training = net.is_training();
    net.eval();
    std::size_t correct = 0;
    for (std::size_t lo = 0; lo < set.size(); lo += batch) {
        const std::size_t hi = std::min(set.size(), lo + batch);
        std::vector<std::size_t> idx(hi - lo);
        std::iota(idx.begin(), idx.end(), lo);
        auto [images, labels] = set.gather(idx);
        const auto logits = net(tensor::variable(std::move(images)));
        const auto& z = logits.value();
        const std::size_t classes = z.dim(1);
        for (std::size_t i = 0; i < labels.size(); ++i) {
            const float* row = z.data() + i * classes;
            const auto best = static_cast<std::int32_t>(std::max_element(row, row + classes) - row);
            correct += best == labels[i] ? 1 : 0;
        }
    }
    net.train(was_training);
    return set.size() == 0 ? 0.0
                           : 100.0 * static_cast<double>(correct) / static_cast<double>(set.size());
}

/// Recomputes every batch-norm running statistic of `net` as the plain average of its batch
/// statistics over the first `batches` batches of `set` (SPOS' recalibration). nn::batch_norm2d
/// updates running = (1 - m) running + m batch with its momentum m; each batch's statistic is
/// recovered from one update as (new - (1 - m) old) / m and averaged. Records no graph.
inline void recalibrate_batch_norm(tensor::nn::module& net, const labelled_set& set,
                                   std::size_t batches, std::size_t batch = 64,
                                   float momentum = 0.1F) {
    if (batches == 0)
        return;
    const tensor::no_grad_guard guard;
    const bool was_training = net.is_training();
    net.train();
    const auto buffers = net.named_buffers();
    std::vector<std::vector<double>> sums(buffers.size());
    for (std::size_t b = 0; b < buffers.size(); ++b)
        sums[b].assign(buffers[b].second->size(), 0.0);
    std::size_t used = 0;
    for (std::size_t k = 0; k < batches; ++k) {
        const std::size_t lo = (k * batch) % std::max<std::size_t>(set.size(), 1);
        const std::size_t hi = std::min(set.size(), lo + batch);
        if (hi - lo < 2)
            break;
        std::vector<std::size_t> idx(hi - lo);
        std::iota(idx.begin(), idx.end(), lo);
        std::vector<tensor::ndarray> before;
        for (const auto& [name, buffer] : buffers)
            before.push_back(*buffer);
        auto [images, labels] = set.gather(idx);
        (void)net(tensor::variable(std::move(images)));
        for (std::size_t b = 0; b < buffers.size(); ++b) {
            const auto& now = *buffers[b].second;
            for (std::size_t i = 0; i < now.size(); ++i)
                sums[b][i] += (now[i] - (1.0 - momentum) * before[b][i]) / momentum;
        }
        ++used;
    }
    for (std::size_t b = 0; b < buffers.size() && used > 0; ++b) {
        auto& buffer = *buffers[b].second;
        for (std::size_t i = 0; i < buffer.size(); ++i)
            buffer[i] = static_cast<float>(sums[b][i] / static_cast<double>(used));
    }
    net.train(was_training);
}

} // namespace nascent::eval::oneshot
