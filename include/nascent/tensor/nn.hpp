#pragma once
// Modules in the style of torch.nn: layers own their parameters (leaf variables with
// requires_grad) and buffers (BatchNorm running statistics), know train / eval mode, compose
// with `sequential`, and report their output to forward hooks (what NASWOT, Fisher and
// jacob_cov need to see intermediate activations). Initialisation follows PyTorch's defaults and
// draws from an explicit nascent::rng.
//
// Modules are held by std::shared_ptr and neither copied nor moved: buffers are registered by
// address, and hooks may keep references. A forward changes the module (BatchNorm's running
// statistics, dropout's generator), so a network is used by one thread at a time; build one per
// task to evaluate networks in parallel (the ops themselves run on TBB).
//
//     nascent::rng gen(seed);
//     nn::sequential net;
//     net.add(std::make_shared<nn::conv2d>(nn::conv2d_options{.in_channels = 1,
//                                          .out_channels = 8, .padding = 1}, gen));
//     net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 8}));
//     net.add(std::make_shared<nn::relu>());
//     ...
//     optim::sgd opt(net.parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
//     opt.zero_grad();
//     auto loss = softmax_cross_entropy(net(variable(images)), labels);
//     loss.backward();
//     opt.step();

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::tensor::nn {

// ---------------------------------------------------------------------------------------------
// Initialisation (torch.nn.init)

namespace init {

enum class fan_mode { fan_in, fan_out };

/// PyTorch's fans: for a weight [out, in, k...], fan_in = in * prod(k), fan_out = out * prod(k).
[[nodiscard]] inline std::size_t fan(const shape_t& shape, fan_mode mode) {
    if (shape.empty())
        throw std::invalid_argument("init: a scalar has no fan");
    if (shape.size() == 1)
        return shape[0];
    std::size_t receptive = 1;
    for (std::size_t i = 2; i < shape.size(); ++i)
        receptive *= shape[i];
    return (mode == fan_mode::fan_in ? shape[1] : shape[0]) * receptive;
}

/// Gain of a leaky ReLU with negative slope a (a = 0: ReLU, sqrt(2)).
[[nodiscard]] inline double leaky_relu_gain(double a) {
    return std::sqrt(2.0 / (1.0 + a * a));
}

/// kaiming_uniform_: U(-b, b) with b = gain(a) * sqrt(3 / fan). PyTorch's default for conv
/// and linear weights is a = sqrt(5), fan_in, i.e. b = 1 / sqrt(fan_in).
inline void kaiming_uniform(ndarray& w, rng& gen, double a = 0.0,
                            fan_mode mode = fan_mode::fan_in) {
    const double bound =
        leaky_relu_gain(a) * std::sqrt(3.0 / static_cast<double>(fan(w.shape(), mode)));
    fill_uniform(w, -bound, bound, gen);
}

/// kaiming_normal_: N(0, (gain(a) / sqrt(fan))^2); a = 0 for ReLU networks.
inline void kaiming_normal(ndarray& w, rng& gen, double a = 0.0, fan_mode mode = fan_mode::fan_in) {
    const double std = leaky_relu_gain(a) / std::sqrt(static_cast<double>(fan(w.shape(), mode)));
    fill_normal(w, 0.0, std, gen);
}

inline void uniform(ndarray& w, rng& gen, double lo, double hi) {
    fill_uniform(w, lo, hi, gen);
}
inline void normal(ndarray& w, rng& gen, double mean, double std) {
    fill_normal(w, mean, std, gen);
}
inline void constant(ndarray& w, float value) noexcept {
    w.fill(value);
}

} // namespace init

/// How conv2d and linear initialise their weights.
enum class weight_init {
    pytorch_default,        ///< weight kaiming_uniform(a = sqrt 5), bias U(+-1/sqrt(fan_in))
    kaiming_normal_fan_in,  ///< weight kaiming_normal(ReLU, fan_in), bias 0
    kaiming_normal_fan_out, ///< weight kaiming_normal(ReLU, fan_out) as torchvision's ResNet, bias
                            ///< 0
};

namespace detail {
inline void initialise(ndarray& weight, ndarray* bias, weight_init scheme, rng& gen) {
    switch (scheme) {
    case weight_init::pytorch_default: {
        init::kaiming_uniform(weight, gen, std::sqrt(5.0));
        if (bias != nullptr) {
            const double bound =
                1.0 /
                std::sqrt(static_cast<double>(init::fan(weight.shape(), init::fan_mode::fan_in)));
            init::uniform(*bias, gen, -bound, bound);
        }
        return;
    }
    case weight_init::kaiming_normal_fan_in:
    case weight_init::kaiming_normal_fan_out:
        init::kaiming_normal(weight, gen, 0.0,
                             scheme == weight_init::kaiming_normal_fan_in
                                 ? init::fan_mode::fan_in
                                 : init::fan_mode::fan_out);
        if (bias != nullptr)
            bias->fill(0.0F);
        return;
    }
    throw std::invalid_argument("weight_init: unknown scheme " +
                                std::to_string(static_cast<int>(scheme)));
}
} // namespace detail

// ---------------------------------------------------------------------------------------------
// The module base

class module {
public:
    /// Called after every forward through operator(): (module, input, output).
    using forward_hook = std::function<void(module&, const variable&, const variable&)>;

    module() = default;
    virtual ~module() = default;
    module(const module&) = delete;
    module& operator=(const module&) = delete;
    module(module&&) = delete;
    module& operator=(module&&) = delete;

    /// forward(x), then the forward hooks. Use this (not forward) to compose modules.
    variable operator()(const variable& x) {
        variable y = forward(x);
        for (auto& [id, hook] : m_hooks)
            hook(*this, x, y);
        return y;
    }

    virtual variable forward(const variable& x) = 0;
    /// The layer type ("conv2d", "relu", ...): hooks use it to pick layers.
    [[nodiscard]] virtual std::string_view kind() const = 0;

    /// Sets train (true) or eval (false) mode here and in every descendant.
    void train(bool on = true) {
        visit([on](module& m) { m.m_training = on; });
    }
    void eval() { train(false); }
    [[nodiscard]] bool is_training() const noexcept { return m_training; }

    /// All parameters, depth first in registration order (names like "0.weight").
    [[nodiscard]] std::vector<std::pair<std::string, variable>> named_parameters() const {
        std::vector<std::pair<std::string, variable>> out;
        collect_parameters("", out);
        return out;
    }
    [[nodiscard]] std::vector<variable> parameters() const {
        std::vector<variable> out;
        for (auto& [name, p] : named_parameters())
            out.push_back(p);
        return out;
    }
    [[nodiscard]] std::size_t parameter_count() const {
        std::size_t n = 0;
        for (const auto& p : parameters())
            n += p.size();
        return n;
    }
    /// All buffers (running statistics), depth first, by address.
    [[nodiscard]] std::vector<std::pair<std::string, ndarray*>> named_buffers() const {
        std::vector<std::pair<std::string, ndarray*>> out;
        collect_buffers("", out);
        return out;
    }
    void zero_grad() const {
        for (const auto& p : parameters())
            p.zero_grad();
    }

    /// Copies of every parameter and buffer value, in order: restore them with load_state
    /// (e.g. after synflow replaced weights by their absolute values).
    [[nodiscard]] std::vector<ndarray> state() const {
        std::vector<ndarray> out;
        for (const auto& [name, p] : named_parameters())
            out.push_back(p.value());
        for (const auto& [name, b] : named_buffers())
            out.push_back(*b);
        return out;
    }
    /// Restores values from state(); checks every shape before changing anything.
    void load_state(std::span<const ndarray> values) const {
        std::vector<std::pair<std::string, ndarray*>> targets;
        for (const auto& [name, p] : named_parameters())
            targets.emplace_back(name, &p.mutable_value());
        const auto buffers = named_buffers();
        targets.insert(targets.end(), buffers.begin(), buffers.end());
        if (values.size() != targets.size()) {
            throw std::invalid_argument(
                "load_state: " + std::to_string(values.size()) + " arrays for " +
                std::to_string(targets.size() - buffers.size()) + " parameters and " +
                std::to_string(buffers.size()) + " buffers");
        }
        for (std::size_t i = 0; i < targets.size(); ++i) {
            if (values[i].shape() != targets[i].second->shape()) {
                throw std::invalid_argument("load_state: '" + targets[i].first + "' has shape " +
                                            to_string(targets[i].second->shape()) + ", given " +
                                            to_string(values[i].shape()));
            }
        }
        for (std::size_t i = 0; i < targets.size(); ++i)
            *targets[i].second = values[i];
    }

    [[nodiscard]] const std::vector<std::pair<std::string, std::shared_ptr<module>>>&
    children() const noexcept {
        return m_children;
    }

    /// Calls f on this module, then on every descendant (pre-order).
    void visit(const std::function<void(module&)>& f) {
        f(*this);
        for (auto& [name, child] : m_children)
            child->visit(f);
    }

    /// Adds a hook; returns a handle for remove_forward_hook.
    std::size_t add_forward_hook(forward_hook hook) {
        m_hooks.emplace_back(m_next_hook, std::move(hook));
        return m_next_hook++;
    }
    void remove_forward_hook(std::size_t handle) {
        std::erase_if(m_hooks, [handle](const auto& h) { return h.first == handle; });
    }
    void clear_forward_hooks() { m_hooks.clear(); }

protected:
    /// A new leaf parameter (requires_grad) named `name`.
    variable register_parameter(std::string name, ndarray value) {
        variable p(std::move(value), true);
        m_parameters.emplace_back(std::move(name), p);
        return p;
    }
    /// A buffer owned by the derived module (it must outlive nothing: modules do not move).
    void register_buffer(std::string name, ndarray* buffer) {
        m_buffers.emplace_back(std::move(name), buffer);
    }
    template <class M>
    std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> child) {
        if (!child)
            throw std::invalid_argument("register_module: '" + name + "' is null");
        m_children.emplace_back(std::move(name), child);
        return child;
    }

private:
    void collect_parameters(const std::string& prefix,
                            std::vector<std::pair<std::string, variable>>& out) const {
        for (const auto& [name, p] : m_parameters)
            out.emplace_back(prefix + name, p);
        for (const auto& [name, child] : m_children)
            child->collect_parameters(prefix + name + ".", out);
    }
    void collect_buffers(const std::string& prefix,
                         std::vector<std::pair<std::string, ndarray*>>& out) const {
        for (const auto& [name, b] : m_buffers)
            out.emplace_back(prefix + name, b);
        for (const auto& [name, child] : m_children)
            child->collect_buffers(prefix + name + ".", out);
    }

    bool m_training = true;
    std::vector<std::pair<std::string, variable>> m_parameters;
    std::vector<std::pair<std::string, ndarray*>> m_buffers;
    std::vector<std::pair<std::string, std::shared_ptr<module>>> m_children;
    std::vector<std::pair<std::size_t, forward_hook>> m_hooks;
    std::size_t m_next_hook = 0;
};

// ---------------------------------------------------------------------------------------------
// Layers

struct conv2d_options {
    std::size_t in_channels = 0;
    std::size_t out_channels = 0;
    hw kernel = 3;
    hw stride = 1;
    hw padding = 0;
    hw dilation = 1;
    std::size_t groups = 1;
    bool bias = true;
    weight_init init = weight_init::pytorch_default;
};

class conv2d final : public module {
public:
    conv2d(const conv2d_options& options, rng& gen) : m_options(options) {
        const auto& o = options;
        if (o.in_channels == 0 || o.out_channels == 0 || o.groups == 0 ||
            o.in_channels % o.groups != 0 || o.out_channels % o.groups != 0 || o.kernel.h == 0 ||
            o.kernel.w == 0) {
            throw std::invalid_argument(
                "nn::conv2d: channels " + std::to_string(o.in_channels) + " -> " +
                std::to_string(o.out_channels) + ", groups " + std::to_string(o.groups) +
                ", kernel " + to_string(o.kernel) +
                ": channels and kernel must be positive and divisible by groups");
        }
        ndarray w({o.out_channels, o.in_channels / o.groups, o.kernel.h, o.kernel.w});
        ndarray b({o.out_channels});
        detail::initialise(w, o.bias ? &b : nullptr, o.init, gen);
        m_weight = register_parameter("weight", std::move(w));
        if (o.bias)
            m_bias = register_parameter("bias", std::move(b));
    }

    variable forward(const variable& x) override {
        return tensor::conv2d(x, m_weight, m_bias,
                              {.stride = m_options.stride,
                               .padding = m_options.padding,
                               .dilation = m_options.dilation,
                               .groups = m_options.groups});
    }
    [[nodiscard]] std::string_view kind() const override { return "conv2d"; }
    [[nodiscard]] const variable& weight() const noexcept { return m_weight; }
    [[nodiscard]] const variable& bias() const noexcept { return m_bias; } ///< null without bias
    [[nodiscard]] const conv2d_options& options() const noexcept { return m_options; }

private:
    conv2d_options m_options;
    variable m_weight;
    variable m_bias;
};

struct linear_options {
    std::size_t in_features = 0;
    std::size_t out_features = 0;
    bool bias = true;
    weight_init init = weight_init::pytorch_default;
};

class linear final : public module {
public:
    linear(const linear_options& options, rng& gen) : m_options(options) {
        if (options.in_features == 0 || options.out_features == 0) {
            throw std::invalid_argument("nn::linear: features " +
                                        std::to_string(options.in_features) + " -> " +
                                        std::to_string(options.out_features) + " must be positive");
        }
        ndarray w({options.out_features, options.in_features});
        ndarray b({options.out_features});
        detail::initialise(w, options.bias ? &b : nullptr, options.init, gen);
        m_weight = register_parameter("weight", std::move(w));
        if (options.bias)
            m_bias = register_parameter("bias", std::move(b));
    }
    variable forward(const variable& x) override { return tensor::linear(x, m_weight, m_bias); }
    [[nodiscard]] std::string_view kind() const override { return "linear"; }
    [[nodiscard]] const variable& weight() const noexcept { return m_weight; }
    [[nodiscard]] const variable& bias() const noexcept { return m_bias; }

private:
    linear_options m_options;
    variable m_weight;
    variable m_bias;
};

struct batch_norm_options {
    std::size_t channels = 0;
    float eps = 1e-5F;
    float momentum = 0.1F;
    bool affine = true;              ///< learnable gamma (1) and beta (0)
    bool track_running_stats = true; ///< false: batch statistics in eval mode too
};

/// BatchNorm over the channel axis of [N, C, H, W] (or [N, C]).
class batch_norm2d final : public module {
public:
    explicit batch_norm2d(const batch_norm_options& options)
        : m_options(options), m_running_mean({options.channels}, 0.0F),
          m_running_var({options.channels}, 1.0F) {
        if (options.channels == 0)
            throw std::invalid_argument("nn::batch_norm2d: 0 channels");
        if (options.affine) {
            m_weight = register_parameter("weight", ndarray({options.channels}, 1.0F));
            m_bias = register_parameter("bias", ndarray({options.channels}, 0.0F));
        }
        if (options.track_running_stats) {
            register_buffer("running_mean", &m_running_mean);
            register_buffer("running_var", &m_running_var);
        }
    }

    variable forward(const variable& x) override {
        const bool track = m_options.track_running_stats;
        return tensor::batch_norm(x, m_weight, m_bias, track ? &m_running_mean : nullptr,
                                  track ? &m_running_var : nullptr,
                                  {.training = is_training() || !track,
                                   .momentum = m_options.momentum,
                                   .eps = m_options.eps});
    }
    [[nodiscard]] std::string_view kind() const override { return "batch_norm2d"; }
    [[nodiscard]] const variable& weight() const noexcept { return m_weight; }
    [[nodiscard]] const variable& bias() const noexcept { return m_bias; }
    [[nodiscard]] const ndarray& running_mean() const noexcept { return m_running_mean; }
    [[nodiscard]] const ndarray& running_var() const noexcept { return m_running_var; }

private:
    batch_norm_options m_options;
    variable m_weight;
    variable m_bias;
    ndarray m_running_mean;
    ndarray m_running_var;
};

class relu final : public module {
public:
    variable forward(const variable& x) override { return tensor::relu(x); }
    [[nodiscard]] std::string_view kind() const override { return "relu"; }
};

class hard_swish final : public module {
public:
    variable forward(const variable& x) override { return tensor::hard_swish(x); }
    [[nodiscard]] std::string_view kind() const override { return "hard_swish"; }
};

class hard_sigmoid final : public module {
public:
    variable forward(const variable& x) override { return tensor::hard_sigmoid(x); }
    [[nodiscard]] std::string_view kind() const override { return "hard_sigmoid"; }
};

class max_pool2d final : public module {
public:
    explicit max_pool2d(const max_pool2d_options& options = {}) : m_options(options) {}
    variable forward(const variable& x) override { return tensor::max_pool2d(x, m_options); }
    [[nodiscard]] std::string_view kind() const override { return "max_pool2d"; }

private:
    max_pool2d_options m_options;
};

class avg_pool2d final : public module {
public:
    explicit avg_pool2d(const avg_pool2d_options& options = {}) : m_options(options) {}
    variable forward(const variable& x) override { return tensor::avg_pool2d(x, m_options); }
    [[nodiscard]] std::string_view kind() const override { return "avg_pool2d"; }

private:
    avg_pool2d_options m_options;
};

class global_avg_pool final : public module {
public:
    variable forward(const variable& x) override { return tensor::global_avg_pool(x); }
    [[nodiscard]] std::string_view kind() const override { return "global_avg_pool"; }
};

class flatten final : public module {
public:
    variable forward(const variable& x) override { return tensor::flatten(x); }
    [[nodiscard]] std::string_view kind() const override { return "flatten"; }
};

class identity final : public module {
public:
    variable forward(const variable& x) override { return x; }
    [[nodiscard]] std::string_view kind() const override { return "identity"; }
};

/// Dropout with its own generator, seeded from the one given at construction (so a network's
/// masks are a function of its construction seed and its history of forwards).
class dropout final : public module {
public:
    dropout(double p, rng& gen) : m_p(p), m_gen(gen()) {
        if (!(p >= 0.0 && p < 1.0)) {
            throw std::invalid_argument("nn::dropout: probability " + std::to_string(p) +
                                        " outside [0, 1)");
        }
    }
    variable forward(const variable& x) override {
        return tensor::dropout(x, m_p, m_gen, is_training());
    }
    [[nodiscard]] std::string_view kind() const override { return "dropout"; }

private:
    double m_p;
    rng m_gen;
};

/// A parameter-free layer from a function (e.g. `[](auto& x) { return scale(x, 0.0F); }`).
class lambda final : public module {
public:
    lambda(std::string kind, std::function<variable(const variable&)> f)
        : m_kind(std::move(kind)), m_f(std::move(f)) {
        if (!m_f)
            throw std::invalid_argument("nn::lambda: '" + m_kind + "' has no function");
    }
    variable forward(const variable& x) override { return m_f(x); }
    [[nodiscard]] std::string_view kind() const override { return m_kind; }

private:
    std::string m_kind;
    std::function<variable(const variable&)> m_f;
};

/// Layers applied in order; children are named "0", "1", ...
class sequential final : public module {
public:
    sequential() = default;
    explicit sequential(std::vector<std::shared_ptr<module>> layers) {
        for (auto& l : layers)
            add(std::move(l));
    }

    template <class M>
    std::shared_ptr<M> add(std::shared_ptr<M> layer) {
        auto added = register_module(std::to_string(m_layers.size()), std::move(layer));
        m_layers.push_back(added);
        return added;
    }

    variable forward(const variable& x) override {
        variable y = x;
        for (auto& layer : m_layers)
            y = (*layer)(y);
        return y;
    }
    [[nodiscard]] std::string_view kind() const override { return "sequential"; }
    [[nodiscard]] std::size_t size() const noexcept { return m_layers.size(); }
    [[nodiscard]] module& operator[](std::size_t i) const { return *m_layers.at(i); }

private:
    std::vector<std::shared_ptr<module>> m_layers;
};

// ---------------------------------------------------------------------------------------------
// Metrics

/// Index of the largest value of each row of a [N, C] array (first on ties).
[[nodiscard]] inline std::vector<std::int32_t> argmax_rows(const ndarray& logits) {
    if (logits.rank() != 2) {
        throw std::invalid_argument("argmax_rows: needs [N, C], got " + to_string(logits.shape()));
    }
    const std::size_t n = logits.dim(0);
    const std::size_t c = logits.dim(1);
    std::vector<std::int32_t> out(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const float* row = logits.data() + i * c;
        std::size_t best = 0;
        for (std::size_t j = 1; j < c; ++j)
            best = row[j] > row[best] ? j : best;
        out[i] = static_cast<std::int32_t>(best);
    }
    return out;
}

/// How many rows of `logits` have their largest value at the label.
[[nodiscard]] inline std::size_t count_correct(const ndarray& logits,
                                               std::span<const std::int32_t> labels) {
    const auto predicted = argmax_rows(logits);
    if (predicted.size() != labels.size()) {
        throw std::invalid_argument("count_correct: " + std::to_string(labels.size()) +
                                    " labels for " + std::to_string(predicted.size()) + " rows");
    }
    std::size_t correct = 0;
    for (std::size_t i = 0; i < labels.size(); ++i)
        correct += predicted[i] == labels[i] ? 1 : 0;
    return correct;
}

} // namespace nascent::tensor::nn
