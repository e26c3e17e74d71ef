#pragma once
// Zero-cost proxies of any space with a NetworkFactory (eval/network_factory.hpp): every proxy
// of the factory's untrained network of a genotype (network_proxies), and the same as an
// Evaluator (proxy_evaluator) whose reward is one of them.
//
// The weights of genotype g are drawn from rng(derive_seed(options.seed, space.hash(g))): a
// genotype's scores do not depend on which others are scored, in which order or on which
// thread. params is the factory's parameter_count, flops its cost(g).flops when it has a cost
// model (NaN otherwise); synflow runs on one sample of the factory's input_shape(); the exact
// grasp uses the factory's tangent_rules() when it has them.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/eval/data_proxies.hpp>
#include <nascent/eval/network_factory.hpp>
#include <nascent/eval/proxy_scores.hpp>
#include <nascent/eval/synflow.hpp>
#include <nascent/tensor/fashion_mnist.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace nascent::eval {

/// A labelled mini-batch [B, C, H, W] for the data-dependent proxies.
using proxy_batch = tensor::labelled_batch;
using tensor::fashion_mnist_batch;

struct proxy_options {
    std::uint64_t seed = 0;     ///< weights: rng(derive_seed(seed, space.hash(g)))
    bool data_dependent = true; ///< false: synflow, l2_norm, params, flops only (no data)
    data_proxy_options data{};
};

/// All proxies of the factory's network of `g`. `batch` is required when
/// options.data_dependent (std::invalid_argument otherwise).
template <SearchSpace Space, NetworkFactory<genotype_t<Space>> Factory>
[[nodiscard]] proxy_scores network_proxies(const Space& space, const Factory& factory,
                                           const genotype_t<Space>& g, const proxy_options& options,
                                           const proxy_batch* batch = nullptr) {
    if (options.data_dependent && batch == nullptr) {
        throw std::invalid_argument("network proxies: data-dependent proxies need a batch");
    }
    rng gen(derive_seed(options.seed, space.hash(g)));
    const auto net = factory.build(g, gen);
    proxy_scores s;
    if (options.data_dependent) {
        if constexpr (requires { factory.tangent_rules(); }) {
            data_proxy_options data = options.data;
            for (auto& rule : factory.tangent_rules())
                data.tangent_rules.push_back(std::move(rule));
            s = data_proxies(*net, batch->images, batch->labels, data);
        } else {
            s = data_proxies(*net, batch->images, batch->labels, options.data);
        }
    }
    s.params = static_cast<double>(factory.parameter_count(g));
    if constexpr (requires { factory.cost(g).flops; })
        s.flops = factory.cost(g).flops;
    s.l2_norm = l2_norm(*net);
    s.synflow = synflow(*net, factory.input_shape());
    return s;
}

struct proxy_evaluator_options {
    std::string reward = "synflow"; ///< the proxy returned as the reward (any of proxy_fields)
    proxy_options proxies{};
    std::size_t batch_size = 32; ///< images in the mini-batch (NASLib's NB201 scores used 32)
    std::uint64_t data_seed = 0; ///< which Fashion-MNIST training images form it
    std::filesystem::path fashion_mnist_dir{tensor::fashion_mnist_default_dir};
};

/// Zero-cost proxies as an Evaluator: every computed proxy is a metric, one of them the reward.
/// A cheap search objective or warm start: synflow alone (data_dependent = false) costs one
/// forward / backward pass at batch 1.
///
/// Thread-safe for concurrent use: each evaluation builds its own network; the batch is shared
/// read-only. An evaluation whose reward is not finite (e.g. synflow of a network whose output
/// does not depend on its input, log 0) is failed, with the metrics kept; so is one whose
/// computation throws.
template <SearchSpace Space, NetworkFactory<genotype_t<Space>> Factory>
class proxy_evaluator {
public:
    using genotype = genotype_t<Space>;
    static constexpr auto thread_safety = nascent::thread_safety::constant;

    /// Loads the mini-batch from options.fashion_mnist_dir when data-dependent proxies are on.
    proxy_evaluator(Space space, Factory factory, proxy_evaluator_options options = {})
        : proxy_evaluator(std::move(space), std::move(factory), prepare(std::move(options)),
                          nullptr) {}

    /// Uses `batch` as the mini-batch (options.batch_size, data_seed and the directory are unused).
    proxy_evaluator(Space space, Factory factory, proxy_evaluator_options options,
                    proxy_batch batch)
        : proxy_evaluator(std::move(space), std::move(factory), prepare(std::move(options)),
                          std::make_shared<const proxy_batch>(std::move(batch))) {}

    /// The same with a default space and factory (NB201's benchmark network; eval/proxies.hpp).
    explicit proxy_evaluator(proxy_evaluator_options options = {}) requires
        std::default_initializable<Space> && std::default_initializable<Factory>
        : proxy_evaluator(Space{}, Factory{}, std::move(options)) {}
    proxy_evaluator(proxy_evaluator_options options, proxy_batch batch) requires
        std::default_initializable<Space> && std::default_initializable<Factory>
        : proxy_evaluator(Space{}, Factory{}, std::move(options), std::move(batch)) {}

    [[nodiscard]] evaluation evaluate(const genotype& g) const {
        proxy_scores s;
        try {
            s = network_proxies(m_space, m_factory, g, m_options.proxies, m_batch.get());
        } catch (const std::exception&) {
            return evaluation::failure("zero-cost proxy computation failed");
        }
        metrics m;
        for (const auto& f : proxy_fields) {
            if (!f.data_dependent || m_options.proxies.data_dependent)
                m.append(f.name, s.*f.value);
        }
        return evaluation::success(s.*m_reward->value, m);
    }

    [[nodiscard]] std::string_view reward() const noexcept { return m_reward->name; }
    [[nodiscard]] const proxy_evaluator_options& options() const noexcept { return m_options; }
    [[nodiscard]] const proxy_batch* batch() const noexcept { return m_batch.get(); }
    [[nodiscard]] const Factory& factory() const noexcept { return m_factory; }

private:
    struct prepared {
        proxy_evaluator_options options;
        const proxy_field* reward;
    };
    static prepared prepare(proxy_evaluator_options options) {
        const proxy_field& f = find_proxy(options.reward);
        if (f.data_dependent && !options.proxies.data_dependent) {
            throw std::invalid_argument("proxy_evaluator: reward '" + options.reward +
                                        "' needs data, but data_dependent is off");
        }
        if (f.name == "grasp" && !options.proxies.data.grasp) {
            throw std::invalid_argument("proxy_evaluator: reward 'grasp' but grasp is off");
        }
        if (options.proxies.data_dependent && options.batch_size == 0) {
            throw std::invalid_argument("proxy_evaluator: batch_size 0");
        }
        return {std::move(options), &f};
    }
    proxy_evaluator(Space space, Factory factory, prepared p,
                    std::shared_ptr<const proxy_batch> batch)
        : m_space(std::move(space)), m_factory(std::move(factory)), m_options(std::move(p.options)),
          m_reward(p.reward), m_batch(std::move(batch)) {
        if (m_options.proxies.data_dependent && !m_batch) {
            m_batch = std::make_shared<const proxy_batch>(fashion_mnist_batch(
                m_options.batch_size, m_options.data_seed, m_options.fashion_mnist_dir));
        }
    }

    Space m_space;
    Factory m_factory;
    proxy_evaluator_options m_options;
    const proxy_field* m_reward;
    std::shared_ptr<const proxy_batch> m_batch;
};

template <class Space, class Factory>
proxy_evaluator(Space, Factory, proxy_evaluator_options = {}) -> proxy_evaluator<Space, Factory>;
template <class Space, class Factory>
proxy_evaluator(Space, Factory, proxy_evaluator_options, proxy_batch)
    -> proxy_evaluator<Space, Factory>;

} // namespace nascent::eval
