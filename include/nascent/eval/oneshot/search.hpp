#pragma once
// The loop every one-shot method runs: epochs over the weights' half of the training images,
// each weight batch paired with a batch of the architecture's half; SGD on the weights (cosine
// schedule, Nesterov-free momentum, weight decay, gradient clipping: DARTS' and NB201's search
// settings) and Adam on alpha; a trace of alpha per edge after every epoch; argmax
// discretisation at the end. A method (darts.hpp, gdas.hpp, drnas.hpp, spos.hpp) supplies the
// step:
//
//   m.begin_epoch(epoch, epochs)         e.g. GDAS' temperature
//   m.step(ctx) -> step_losses           one weight step and (bilevel methods) one alpha step
//   m.probabilities(alpha_e) -> [K]      what the trace shows for an edge (softmax by default)
//   m.temperature()                      optional: recorded per epoch
//   m.end_epoch(net, data, options, gen) optional: a phase after the epoch's weight steps
//   m.cell() -> optional<genotype>       optional: the method's own pick instead of argmax
//
// A non-finite loss or alpha ends the run with status failed and the trace so far (a result, not
// an exception). Results depend on the seed only: every random draw comes from one generator in a
// fixed order, and the tensor layer's sums do not depend on the thread count.

#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/eval/oneshot/search_data.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/tensor/adam.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/optim.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::eval::oneshot {

struct search_options {
    std::size_t epochs = 10;
    std::size_t batch_size = 64;
    double w_lr = 0.025; ///< SGD, cosine-annealed to w_lr_min over the run
    double w_lr_min = 0.001;
    double w_momentum = 0.9;
    double w_weight_decay = 3e-4;
    double grad_clip = 5.0;
    double a_lr = 3e-4; ///< Adam on alpha, betas (0.5, 0.999), weight decay 1e-3 (DARTS)
    double a_beta1 = 0.5;
    double a_beta2 = 0.999;
    double a_weight_decay = 1e-3;
    std::uint64_t seed = 0;

    void validate() const {
        const auto bad = [](const std::string& what) {
            throw std::invalid_argument("oneshot search: " + what);
        };
        if (epochs == 0)
            bad("epochs 0 must be >= 1");
        if (batch_size < 2)
            bad("batch_size " + std::to_string(batch_size) + " must be >= 2");
        if (!(w_lr > 0) || !(w_lr_min >= 0) || w_lr_min > w_lr)
            bad("need 0 <= w_lr_min " + std::to_string(w_lr_min) + " <= w_lr " +
                std::to_string(w_lr) + ", w_lr > 0");
        if (!(a_lr > 0))
            bad("a_lr " + std::to_string(a_lr) + " must be positive");
        if (!(grad_clip > 0))
            bad("grad_clip " + std::to_string(grad_clip) + " must be positive");
    }
};

/// Mean losses of one step (NaN where a method has no such step).
struct step_losses {
    double train = std::numeric_limits<double>::quiet_NaN();
    double valid = std::numeric_limits<double>::quiet_NaN();
};

/// One epoch of the trace.
struct epoch_record {
    std::size_t epoch = 0; ///< 1-based
    double train_loss = 0.0;
    double valid_loss = std::numeric_limits<double>::quiet_NaN();
    double temperature = std::numeric_limits<double>::quiet_NaN();
    double seconds = 0.0;
    std::vector<std::vector<double>> probabilities; ///< per edge, per op
    std::vector<std::vector<double>> alpha;         ///< raw alpha per edge
};

struct step_progress {
    std::size_t epoch = 0; ///< 1-based
    std::size_t epochs = 0;
    std::size_t step = 0; ///< 1-based within the epoch
    std::size_t steps = 0;
    double loss = 0.0;
};

/// Optional observers of a search.
struct search_callbacks {
    std::function<void(const step_progress&)> on_step;
    std::function<void(const epoch_record&)> on_epoch;
};

template <class Space>
struct search_result {
    eval_status status = eval_status::ok;
    std::string reason;                           ///< why it failed
    std::optional<typename Space::genotype> cell; ///< the discretised cell (ok runs)
    std::vector<epoch_record> trace;
    std::size_t steps = 0;
    double seconds = 0.0;
};

/// What a method's step works with.
template <class Space>
struct step_context {
    supernet<Space>& net;
    tensor::optim::sgd& weights;
    tensor::optim::adam* alpha; ///< null for methods without alpha (SPOS)
    const search_options& options;
    tensor::ndarray train_images;
    std::vector<std::int32_t> train_labels;
    tensor::ndarray valid_images;
    std::vector<std::int32_t> valid_labels;
    rng& gen;
};

/// Cross-entropy of the net's current paths on a batch (records the graph).
template <class Net>
[[nodiscard]] tensor::variable batch_loss(Net& net, const tensor::ndarray& images,
                                          const std::vector<std::int32_t>& labels) {
    return tensor::softmax_cross_entropy(net(tensor::variable(images)), labels);
}

/// One SGD step of the weights on a batch with the net's current paths; alpha's gradients are
/// dropped. Returns the loss.
template <class Space>
double weight_step(step_context<Space>& ctx) {
    ctx.weights.zero_grad();
    const auto loss = batch_loss(ctx.net, ctx.train_images, ctx.train_labels);
    loss.backward();
    const auto params = ctx.net.parameters();
    tensor::optim::clip_grad_norm(params, ctx.options.grad_clip);
    ctx.weights.step();
    for (const auto& a : ctx.net.alpha())
        a.zero_grad();
    return loss.item();
}

/// The softmax of each edge's alpha as weights.
template <class Space>
[[nodiscard]] std::vector<tensor::variable> softmax_weights(const supernet<Space>& net) {
    std::vector<tensor::variable> w;
    for (const auto& a : net.alpha())
        w.push_back(softmax(a));
    return w;
}

/// argmax of `scores` per edge (the first on ties).
template <class Space>
[[nodiscard]] typename Space::genotype argmax_cell(const std::vector<std::vector<double>>& scores) {
    typename Space::genotype g{};
    for (std::size_t e = 0; e < Space::num_edges; ++e) {
        const auto& s = scores.at(e);
        g[e] = static_cast<std::uint8_t>(std::max_element(s.begin(), s.end()) - s.begin());
    }
    return g;
}

namespace detail {
[[nodiscard]] inline std::vector<double> softmax_of(const tensor::ndarray& a) {
    double top = -std::numeric_limits<double>::infinity();
    for (const float v : a.values())
        top = std::max(top, static_cast<double>(v));
    std::vector<double> p(a.size());
    double total = 0.0;
    for (std::size_t k = 0; k < a.size(); ++k)
        total += p[k] = std::exp(a[k] - top);
    for (auto& v : p)
        v /= total;
    return p;
}
} // namespace detail

/// Runs `method` on `net` for options.epochs epochs (see the top of this header).
template <class Space, class Method>
[[nodiscard]] search_result<Space> run_oneshot(supernet<Space>& net, const search_data& data,
                                               Method& method, const search_options& options,
                                               const search_callbacks& callbacks = {}) {
    options.validate();
    if (data.train.size() < options.batch_size || data.valid.size() < options.batch_size) {
        throw std::invalid_argument("oneshot search: batch size " +
                                    std::to_string(options.batch_size) + " exceeds the halves (" +
                                    std::to_string(data.train.size()) + " / " +
                                    std::to_string(data.valid.size()) + " images)");
    }
    constexpr bool has_alpha = Method::has_alpha;
    rng gen(splitmix64(options.seed ^ 0x6f6e6573686f7431ULL));
    search_result<Space> result;
    tensor::optim::sgd wopt(net.parameters(), {.lr = options.w_lr,
                                               .momentum = options.w_momentum,
                                               .weight_decay = options.w_weight_decay});
    std::optional<tensor::optim::adam> aopt;
    if constexpr (has_alpha) {
        aopt.emplace(net.alpha(),
                     tensor::optim::adam_options{.lr = options.a_lr,
                                                 .beta1 = options.a_beta1,
                                                 .beta2 = options.a_beta2,
                                                 .weight_decay = options.a_weight_decay});
    }
    const std::size_t steps_per_epoch = data.train.size() / options.batch_size;
    const tensor::optim::cosine_schedule schedule({.base_lr = options.w_lr,
                                                   .total_steps = options.epochs * steps_per_epoch,
                                                   .min_lr = options.w_lr_min});
    const auto start = std::chrono::steady_clock::now();
    const auto probabilities = [&](const tensor::ndarray& a) {
        if constexpr (requires { method.probabilities(a); }) {
            return method.probabilities(a);
        } else {
            return detail::softmax_of(a);
        }
    };
    net.train();
    for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
        const auto epoch_start = std::chrono::steady_clock::now();
        method.begin_epoch(epoch, options.epochs);
        const auto train_batches = minibatches(data.train.size(), options.batch_size, gen);
        const auto valid_batches = minibatches(data.valid.size(), options.batch_size, gen);
        epoch_record record;
        record.epoch = epoch + 1;
        if constexpr (requires { method.temperature(); })
            record.temperature = method.temperature();
        double train_total = 0.0;
        double valid_total = 0.0;
        std::size_t steps = 0;
        const std::size_t n_steps = std::min(train_batches.size(), steps_per_epoch);
        for (std::size_t s = 0; s < n_steps; ++s) {
            wopt.set_lr(schedule.lr(result.steps));
            auto [xt, yt] = data.train.gather(train_batches[s]);
            auto [xv, yv] = data.valid.gather(valid_batches[s % valid_batches.size()]);
            step_context<Space> ctx{net,           wopt,          aopt ? &*aopt : nullptr,
                                    options,       std::move(xt), std::move(yt),
                                    std::move(xv), std::move(yv), gen};
            const step_losses losses = method.step(ctx);
            ++result.steps;
            ++steps;
            bool finite =
                std::isfinite(losses.train) &&
                (!has_alpha || !(losses.valid == losses.valid) || std::isfinite(losses.valid));
            for (const auto& a : net.alpha()) {
                for (const float v : a.value().values())
                    finite = finite && std::isfinite(v);
            }
            if (!finite) {
                result.status = eval_status::failed;
                result.reason = "non-finite loss or alpha at epoch " + std::to_string(epoch + 1) +
                                ", step " + std::to_string(s + 1);
                break;
            }
            train_total += losses.train;
            if (std::isfinite(losses.valid))
                valid_total += losses.valid;
            if (callbacks.on_step) {
                callbacks.on_step({.epoch = epoch + 1,
                                   .epochs = options.epochs,
                                   .step = s + 1,
                                   .steps = n_steps,
                                   .loss = losses.train});
            }
        }
        // A method with its own phase after the weights' (ENAS' controller) runs it here.
        if constexpr (requires { method.end_epoch(net, data, options, gen); }) {
            if (result.status == eval_status::ok)
                method.end_epoch(net, data, options, gen);
        }
        record.train_loss = steps > 0 ? train_total / static_cast<double>(steps) : 0.0;
        if (has_alpha && steps > 0)
            record.valid_loss = valid_total / static_cast<double>(steps);
        for (const auto& a : net.alpha()) {
            record.alpha.emplace_back(a.value().begin(), a.value().end());
            record.probabilities.push_back(probabilities(a.value()));
        }
        record.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
        result.trace.push_back(record);
        if (callbacks.on_epoch)
            callbacks.on_epoch(result.trace.back());
        if (result.status != eval_status::ok)
            break;
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if constexpr (requires { method.cell(); }) {
        if (result.status == eval_status::ok)
            result.cell = method.cell(); // a method that picks its own cell (ENAS)
    } else {
        if (result.status == eval_status::ok && has_alpha)
            result.cell = argmax_cell<Space>(result.trace.back().probabilities);
    }
    return result;
}

} // namespace nascent::eval::oneshot
