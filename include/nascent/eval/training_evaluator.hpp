#pragma once
// An Evaluator that really trains, for any space with a NetworkFactory
// (eval/network_factory.hpp): it builds the factory's network of a genotype, trains it on an
// image data set (tensor::image_splits: Fashion-MNIST by default, 28x28 zero-padded to 32x32, one
// grey channel or three identical ones; or the user's own, tensor/datasets/) with SGD
// (Nesterov momentum, weight decay, a cosine schedule over the evaluation's epochs), and reports
//
//     train_acc, valid_acc, test_acc   accuracy (%): over the last training epoch, as the
//                                      network was while training on it; on the validation and
//                                      test splits afterwards (eval mode, running statistics);
//                                      no test_acc when the data set has no test split
//     train_loss, valid_loss           mean cross-entropy, same sets
//     train_seconds                    wall time of the training steps (not of the evaluation
//                                      of the splits, nor of building the network)
//     params                           trainable parameters
//
// with reward = valid_acc. Epochs are its fidelity: evaluate(g, epochs) trains for that many
// epochs (any of fidelities(), e.g. {1, 2, 4}; another value is a failed evaluation), so
// successive halving and Hyperband (strategy/hyperband.hpp, exec/multi_fidelity.hpp) run on it;
// evaluate(g) trains for the highest fidelity. Each evaluation trains from scratch;
// trained(g, epochs) is the same evaluation with the trained network handed back (to export it).
//
//     const nb201::space space;
//     training_evaluator train{space, nb201_factory{{.channels = 8, .cells_per_stage = 1}},
//                              load_fashion_mnist(dir, 3), {.fidelities = {1, 2, 4}}};
//
// Failure is data: a non-finite training or validation loss (divergence) gives
// evaluation::failure("non-finite loss"), a genotype the space rejects the factory's
// invalid_reason ("invalid genotype" by default), an unknown fidelity "unknown fidelity"; bad
// options or a missing data set throw from the constructor (std::invalid_argument naming the
// value).
//
// Determinism: evaluation seeds are derive_seed(options.seed, space.hash(g), stream) (stream 0
// initialises the weights, stream 1 shuffles the batches), so a genotype's result depends on the
// genotype, the seed and the options only, not on what else was evaluated, in which order or on
// which thread; and the tensor layer's results do not depend on the thread count (on one
// machine). Genotypes with one hash (isomorphic NAS-Bench-101 cells) share their seeds.
// train_seconds is the one metric that varies between identical evaluations.
//
// Thread safety: constant. evaluate is const; every evaluation builds its own network,
// optimiser and generators; the data set is shared read-only (batches are converted into new
// arrays). With options.threads > 0 an evaluation runs in a TBB arena of that many threads,
// otherwise in the caller's (so that evaluations run in parallel by an executor share its
// threads).

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/eval/network_factory.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/fashion_mnist.hpp>
#include <nascent/tensor/image_set.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/optim.hpp>

#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::eval {

/// How a training_evaluator trains. The defaults train on all 50,000 training images with
/// NB201's optimiser settings, and evaluate on all 10,000 validation and 10,000 test images. The
/// network's options (channels, cells, width, input channels) are its factory's.
struct training_options {
    std::size_t batch_size = 256;
    double learning_rate = 0.1;
    double momentum = 0.9; ///< Nesterov
    double weight_decay = 5e-4;
    std::size_t train_subset = 0; ///< train on the first N training images (0: all 50,000)
    std::size_t eval_subset = 0;  ///< evaluate on the first N validation and test images (0: all)
    std::vector<double> fidelities{1, 2, 4}; ///< epochs, ascending; fractions allowed
    std::uint64_t seed = 0;
    std::size_t threads = 0; ///< TBB threads per evaluation; 0: the caller's arena
    /// Where the constructors without a data set load Fashion-MNIST from.
    std::filesystem::path data_dir{tensor::fashion_mnist_default_dir};
};

/// Loads Fashion-MNIST formatted for the networks: padded to 32x32, with `input_channels`
/// (1 or 3) channels. Throws std::invalid_argument saying where it looked.
[[nodiscard]] inline std::shared_ptr<const tensor::fashion_mnist>
load_fashion_mnist(const std::filesystem::path& dir, std::size_t input_channels = 1) {
    if (input_channels != 1 && input_channels != 3) {
        throw std::invalid_argument("load_fashion_mnist: input_channels " +
                                    std::to_string(input_channels) + " must be 1 or 3");
    }
    try {
        return std::make_shared<const tensor::fashion_mnist>(tensor::fashion_mnist::load(
            {.dir = dir, .format = {.pad_to_32 = true, .three_channels = input_channels == 3}}));
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(
            "Fashion-MNIST not loaded from '" + dir.string() + "': " + e.what() +
            " (Debian's dataset-fashion-mnist, installed by scripts/setup.sh, puts the files in " +
            std::string(tensor::fashion_mnist_default_dir) + ")");
    }
}

/// Accuracy (%) and mean cross-entropy of `net` in eval mode on the first `n` images of `set`
/// (all when 0), in batches of `batch`: what the training evaluator reports for its splits, so a
/// network reloaded from exported weights gives the same figures to the last digit.
struct split_score {
    double accuracy = 0; // %
    double loss = 0;
};
[[nodiscard]] inline split_score score_split(tensor::nn::module& net, const tensor::image_set& set,
                                             std::size_t n = 0, std::size_t batch = 500) {
    const tensor::no_grad_guard no_grad;
    const bool was_training = net.is_training();
    net.eval();
    n = n > 0 ? std::min(n, set.size()) : set.size();
    if (n == 0)
        throw std::invalid_argument("score_split: no images to score");
    double loss = 0;
    std::size_t correct = 0;
    for (std::size_t first = 0; first < n; first += batch) {
        const std::size_t count = std::min(batch, n - first);
        const auto labels = set.labels(first, count);
        const auto logits = net(tensor::variable(set.images(first, count)));
        loss += static_cast<double>(tensor::softmax_cross_entropy(logits, labels).item()) *
                static_cast<double>(count);
        correct += tensor::nn::count_correct(logits.value(), labels);
    }
    net.train(was_training);
    return {100.0 * static_cast<double>(correct) / static_cast<double>(n),
            loss / static_cast<double>(n)};
}

/// An evaluation and the network it trained.
struct trained_network {
    evaluation result;
    std::shared_ptr<tensor::nn::module> network; ///< null when the evaluation failed early
};

namespace detail {
struct no_joint_options {};
template <class F>
struct joint_options {
    using type = no_joint_options;
};
template <class F>
requires requires {
    typename F::joint_options;
}
struct joint_options<F> {
    using type = typename F::joint_options;
};
} // namespace detail

/// Trains the factory's networks of a space's genotypes on Fashion-MNIST (see the top of this
/// header).
template <SearchSpace Space, NetworkFactory<genotype_t<Space>> Factory>
class training_evaluator {
public:
    using genotype = genotype_t<Space>;
    static constexpr auto thread_safety = nascent::thread_safety::constant;

    /// Uses an already loaded data set (shared, read-only) with as many channels as the
    /// factory's networks take (load_fashion_mnist does that).
    training_evaluator(Space space, Factory factory,
                       std::shared_ptr<const tensor::image_splits> data,
                       training_options options = {})
        : m_space(std::move(space)), m_factory(std::move(factory)), m_options(std::move(options)),
          m_data(std::move(data)) {
        check();
    }

    /// Loads Fashion-MNIST from options.data_dir with the factory's input channels.
    training_evaluator(Space space, Factory factory, training_options options = {})
        : training_evaluator(std::move(space), factory,
                             load_fashion_mnist(options.data_dir, input_channels(factory)),
                             options) {}

    /// From one options struct for the factory and the training (Factory::joint_options: the
    /// built-in spaces' builtin_training_options, eval/training.hpp).
    training_evaluator(
        const typename detail::joint_options<Factory>::type& options,
        std::shared_ptr<const tensor::image_splits>
            data) requires(!std::same_as<typename detail::joint_options<Factory>::type,
                                         detail::no_joint_options>)
        : training_evaluator(Space{}, Factory(options), std::move(data), options.training()) {}

    [[nodiscard]] evaluation evaluate(const genotype& g) const {
        return evaluate(g, m_options.fidelities.back());
    }
    /// Trains for `epochs`, which must be one of fidelities().
    [[nodiscard]] evaluation evaluate(const genotype& g, double epochs) const {
        return trained(g, epochs).result;
    }
    /// evaluate(g, epochs), with the network as training left it (same seeds, same figures).
    [[nodiscard]] trained_network trained(const genotype& g, double epochs) const {
        if (!m_space.is_valid(g)) {
            return {evaluation::failure(invalid_reason_of(m_factory, g)), nullptr};
        }
        if (std::find(m_options.fidelities.begin(), m_options.fidelities.end(), epochs) ==
            m_options.fidelities.end()) {
            return {evaluation::failure("unknown fidelity"), nullptr};
        }
        if (m_options.threads == 0)
            return train(g, epochs);
        tbb::task_arena arena(static_cast<int>(m_options.threads));
        trained_network out;
        arena.execute([&] { out = train(g, epochs); });
        return out;
    }

    /// The epochs it can train for, ascending.
    [[nodiscard]] const std::vector<double>& fidelities() const noexcept {
        return m_options.fidelities;
    }
    [[nodiscard]] const training_options& options() const noexcept { return m_options; }
    [[nodiscard]] const Space& space() const noexcept { return m_space; }
    [[nodiscard]] const Factory& factory() const noexcept { return m_factory; }
    [[nodiscard]] const tensor::image_splits& data() const noexcept { return *m_data; }

    /// The network an evaluation of `g` starts from (same initial weights).
    [[nodiscard]] std::shared_ptr<tensor::nn::module> initial_network(const genotype& g) const {
        rng init = generator(g, 0);
        return m_factory.build(g, init);
    }

private:
    using clock = std::chrono::steady_clock;
    static constexpr std::size_t eval_batch = 500; // no graph is kept: larger batches are cheap

    static std::size_t input_channels(const Factory& factory) {
        const tensor::shape_t shape = factory.input_shape();
        return shape.empty() ? 0 : shape[0];
    }

    void check() const {
        const auto& o = m_options;
        const auto bad = [](const std::string& what) {
            throw std::invalid_argument("training_options: " + what);
        };
        if (!m_data)
            bad("no data set");
        const tensor::shape_t shape = m_factory.input_shape();
        const auto& images = m_data->train;
        const tensor::shape_t data_shape{images.channels(), images.height(), images.width()};
        if (shape.size() == 3 && shape[0] != data_shape[0]) {
            bad("input_channels " + std::to_string(shape[0]) + " but the data set has " +
                std::to_string(data_shape[0]) + " channels");
        }
        if (shape != data_shape) {
            bad("the networks take inputs of shape " + tensor::to_string(shape) +
                " but the data set's images have shape " + tensor::to_string(data_shape));
        }
        if (o.batch_size == 0)
            bad("batch_size 0 must be >= 1");
        if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) {
            bad("learning_rate " + std::to_string(o.learning_rate) +
                " must be positive and finite");
        }
        if (!(o.momentum > 0 && o.momentum < 1)) {
            bad("momentum " + std::to_string(o.momentum) + " must be in (0, 1) (Nesterov)");
        }
        if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) {
            bad("weight_decay " + std::to_string(o.weight_decay) + " must be >= 0 and finite");
        }
        if (o.train_subset > m_data->train.size()) {
            bad("train_subset " + std::to_string(o.train_subset) + " exceeds the " +
                std::to_string(m_data->train.size()) + " training images");
        }
        if (m_data->validation.empty())
            bad("the data set has no validation images");
        const std::size_t n_eval = m_data->test.empty()
                                       ? m_data->validation.size()
                                       : std::min(m_data->validation.size(), m_data->test.size());
        if (o.eval_subset > n_eval) {
            bad("eval_subset " + std::to_string(o.eval_subset) + " exceeds the " +
                std::to_string(n_eval) + " validation / test images");
        }
        if (o.fidelities.empty())
            bad("no fidelities (epochs)");
        for (std::size_t i = 0; i < o.fidelities.size(); ++i) {
            const double f = o.fidelities[i];
            if (!(f > 0) || !std::isfinite(f)) {
                bad("fidelity " + std::to_string(f) + " must be a positive number of epochs");
            }
            if (i > 0 && !(f > o.fidelities[i - 1])) {
                bad("fidelities must be strictly ascending, got " + std::to_string(f) + " after " +
                    std::to_string(o.fidelities[i - 1]));
            }
        }
    }

    [[nodiscard]] rng generator(const genotype& g, std::uint64_t stream) const {
        return rng(derive_seed(m_options.seed, m_space.hash(g), stream));
    }

    // Releases the thread's cached tensor blocks when an evaluation ends, however it ends (after
    // the network and the optimiser, declared later, are gone).
    struct release_blocks_on_exit {
        release_blocks_on_exit() = default;
        release_blocks_on_exit(const release_blocks_on_exit&) = delete;
        release_blocks_on_exit& operator=(const release_blocks_on_exit&) = delete;
        ~release_blocks_on_exit() { tensor::release_cached_blocks(); }
    };

    [[nodiscard]] trained_network train(const genotype& c, double epochs) const {
        namespace t = tensor;
        const auto& o = m_options;
        // Training, evaluation and whatever ran before on this thread allocate arrays of
        // different sizes (batch_size, eval_batch, another network): the tensor layer's block
        // cache would keep one phase's blocks, unusable, through the next. Release them at each
        // change of phase; a phase's first allocations then come fresh, a small one-off cost.
        const release_blocks_on_exit release_at_end;
        t::release_cached_blocks();
        const auto net = initial_network(c);
        rng order_gen = generator(c, 1);
        metrics m;

        const t::image_set& train_set = m_data->train;
        const std::size_t n_train = o.train_subset > 0 ? o.train_subset : train_set.size();
        const std::size_t batch = std::min(o.batch_size, n_train);
        const std::size_t steps_per_epoch = n_train / batch; // the last partial batch is dropped
        const auto steps = static_cast<std::size_t>(
            std::max(1.0, std::round(epochs * static_cast<double>(steps_per_epoch))));
        t::optim::sgd opt(net->parameters(), {.lr = o.learning_rate,
                                              .momentum = o.momentum,
                                              .weight_decay = o.weight_decay,
                                              .nesterov = true});
        const t::optim::cosine_schedule schedule(
            {.base_lr = o.learning_rate, .total_steps = steps});

        std::vector<std::size_t> order(n_train);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::size_t next = n_train; // start with a shuffle
        double epoch_loss = 0;      // sums over the current (finally: the last) epoch
        std::size_t epoch_correct = 0;
        std::size_t epoch_seen = 0;
        net->train();
        const auto start = clock::now();
        for (std::size_t step = 0; step < steps; ++step) {
            if (next + batch > n_train) {
                shuffle(order.begin(), order.end(), order_gen);
                next = 0;
                epoch_loss = 0;
                epoch_correct = 0;
                epoch_seen = 0;
            }
            const std::span<const std::size_t> idx(order.data() + next, batch);
            next += batch;
            const auto labels = train_set.labels(idx);
            opt.set_lr(schedule.lr(step));
            opt.zero_grad();
            const auto logits = (*net)(t::variable(train_set.images(idx)));
            const auto loss = t::softmax_cross_entropy(logits, labels);
            const double value = loss.item();
            if (!std::isfinite(value)) {
                m.append("params", static_cast<double>(net->parameter_count()));
                return {evaluation::failure("non-finite loss", m), net};
            }
            loss.backward();
            opt.step();
            epoch_loss += value * static_cast<double>(batch);
            epoch_correct += t::nn::count_correct(logits.value(), labels);
            epoch_seen += batch;
        }
        const double train_seconds = std::chrono::duration<double>(clock::now() - start).count();

        t::release_cached_blocks(); // the training steps' blocks (the last graph is gone)
        const auto valid = score_split(*net, m_data->validation, o.eval_subset, eval_batch);
        const bool has_test = !m_data->test.empty();
        const auto test =
            has_test ? score_split(*net, m_data->test, o.eval_subset, eval_batch) : split_score{};
        const double train_acc =
            100.0 * static_cast<double>(epoch_correct) / static_cast<double>(epoch_seen);
        const double train_loss = epoch_loss / static_cast<double>(epoch_seen);
        m.append("train_acc", train_acc);
        m.append("valid_acc", valid.accuracy);
        if (has_test)
            m.append("test_acc", test.accuracy);
        m.append("train_loss", train_loss);
        m.append("valid_loss", valid.loss);
        m.append("train_seconds", train_seconds);
        m.append("params", static_cast<double>(net->parameter_count()));
        // Weights can blow up without a non-finite training loss; eval-mode statistics show it.
        if (!std::isfinite(valid.loss) || !std::isfinite(test.loss)) {
            return {evaluation::failure("non-finite loss", m), net};
        }
        return {evaluation::success(valid.accuracy, m), net};
    }

    Space m_space;
    Factory m_factory;
    training_options m_options;
    std::shared_ptr<const tensor::image_splits> m_data;
};

template <class Space, class Factory>
training_evaluator(Space, Factory, std::shared_ptr<const tensor::image_splits>,
                   training_options = {}) -> training_evaluator<Space, Factory>;
template <class Space, class Factory>
training_evaluator(Space, Factory, training_options) -> training_evaluator<Space, Factory>;

} // namespace nascent::eval
