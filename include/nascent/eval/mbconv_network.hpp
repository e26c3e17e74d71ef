#pragma once
// The network of an MBConv genotype (space/mbconv.hpp: Once-for-All's MobileNetV3 macro space)
// as a trainable nascent::tensor module, following OFA's MobileNetV3 as get_active_subnet
// extracts it:
//
//     stem      conv3x3/2 (no bias) + BN + h-swish                    input channels -> W(16)
//     block     MBConv k3, no expansion, ReLU, identity shortcut      W(16) -> W(16)
//     stages    per stage, its depth's layers: MBConv with the layer's kernel and expansion,
//               the stage's stride on its first layer, ReLU (stages 1-2) or h-swish (3-5),
//               SE in stages 2, 4, 5                                  -> W(24, 40, 80, 112, 160)
//     head      conv1x1 + BN + h-swish -> W(960); global average pool; feature mix 1x1
//               (no bias, no BN) + h-swish -> W(1280); dropout; linear (bias) -> classes
//
// where W(w) = make_divisible(w * width_multiplier). An MBConv layer on C_in channels expands
// to mid = make_divisible(C_in * e) with conv1x1 + BN + act (absent when mid == C_in: the first
// block), applies the depthwise conv k x k (stride, padding k/2, no bias) + BN + act, then SE
// when the stage has it (global pool, 1x1 mid -> make_divisible(mid / 4) with bias, ReLU, 1x1
// back to mid with bias, hard sigmoid, channel-wise gating), and projects with conv1x1 + BN;
// the input is added when the stride is 1 and C_in == C_out.
//
// The layers that act on a 1x1 map (SE's two convolutions, the feature mix) are nn::linear on
// [N, C] rather than 1x1 convolutions on [N, C, 1, 1]: the same parameters and arithmetic
// without the convolution machinery. Convolutions are initialised as OFA does ('he_fout':
// kaiming normal over fan-out), SE's layers alike with zero biases, the classifier with
// PyTorch's default.
//
// Its parameter count equals mbconv::space::cost for the same options (cost_options below),
// which a test checks. The defaults are OFA's network (width 1.0, 1000 classes, 3 input
// channels); a width multiplier of 0.25 and 10 classes give a network that trains on
// Fashion-MNIST on a CPU (the network is fully convolutional up to the pool, so any input size
// of at least 32 / 2^5 works; 32x32 maps shrink to 1x1 before the head).

#include <nascent/core/rng.hpp>
#include <nascent/eval/network_factory.hpp>
#include <nascent/space/cost.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace nascent::eval {

struct mbconv_network_options {
    double width_multiplier = 1.0; ///< OFA's width_mult: every width make_divisible(w * m)
    std::size_t classes = 1000;
    std::size_t input_channels = 3;
    double dropout = 0.0; ///< before the classifier (OFA trains with 0.1)
};

/// The cost model's options for the same network on `image_size` x `image_size` inputs (the
/// parameter count does not depend on the image size).
[[nodiscard]] inline mbconv::network_options cost_options(const mbconv_network_options& o,
                                                          std::int64_t image_size = 224) {
    return {.resolution = image_size,
            .classes = static_cast<std::int64_t>(o.classes),
            .width_multiplier = o.width_multiplier,
            .input_channels = static_cast<std::int64_t>(o.input_channels)};
}

namespace detail {
namespace nn = tensor::nn;

/// OFA's 'he_fout' convolution: kaiming normal over fan-out, no bias.
[[nodiscard]] inline std::shared_ptr<nn::conv2d> he_conv(std::size_t c_in, std::size_t c_out,
                                                         std::size_t kernel, std::size_t stride,
                                                         std::size_t groups, rng& gen) {
    return std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = c_in,
                           .out_channels = c_out,
                           .kernel = kernel,
                           .stride = stride,
                           .padding = kernel / 2,
                           .groups = groups,
                           .bias = false,
                           .init = nn::weight_init::kaiming_normal_fan_out},
        gen);
}

[[nodiscard]] inline tensor::variable activate(const tensor::variable& x, bool hard_swish) {
    return hard_swish ? tensor::hard_swish(x) : tensor::relu(x);
}

/// Convolution (no bias), batch norm, then ReLU or h-swish (or none).
class conv_bn_act final : public nn::module {
public:
    enum class act { none, relu, hard_swish };

    conv_bn_act(std::size_t c_in, std::size_t c_out, std::size_t kernel, std::size_t stride,
                std::size_t groups, act a, rng& gen)
        : m_conv(register_module("conv", he_conv(c_in, c_out, kernel, stride, groups, gen))),
          m_bn(register_module(
              "bn", std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = c_out}))),
          m_act(a) {}

    tensor::variable forward(const tensor::variable& x) override {
        auto y = (*m_bn)((*m_conv)(x));
        return m_act == act::none ? y : activate(y, m_act == act::hard_swish);
    }
    [[nodiscard]] std::string_view kind() const override { return "conv_bn_act"; }

private:
    std::shared_ptr<nn::conv2d> m_conv;
    std::shared_ptr<nn::batch_norm2d> m_bn;
    act m_act;
};

/// Squeeze-and-excitation on `channels`: x * hard_sigmoid(W2 relu(W1 pool(x) + b1) + b2).
class squeeze_excite final : public nn::module {
public:
    squeeze_excite(std::size_t channels, std::size_t squeeze, rng& gen)
        : m_reduce(register_module("reduce", make(channels, squeeze, gen))),
          m_expand(register_module("expand", make(squeeze, channels, gen))) {}

    tensor::variable forward(const tensor::variable& x) override {
        const auto s = (*m_expand)(tensor::relu((*m_reduce)(tensor::global_avg_pool(x))));
        return tensor::scale_channels(x, tensor::hard_sigmoid(s));
    }
    [[nodiscard]] std::string_view kind() const override { return "squeeze_excite"; }

private:
    static std::shared_ptr<nn::linear> make(std::size_t in, std::size_t out, rng& gen) {
        return std::make_shared<nn::linear>(
            nn::linear_options{.in_features = in,
                               .out_features = out,
                               .init = nn::weight_init::kaiming_normal_fan_out},
            gen);
    }
    std::shared_ptr<nn::linear> m_reduce;
    std::shared_ptr<nn::linear> m_expand;
};

/// One MBConv layer (see the top of this header).
class mbconv_layer final : public nn::module {
public:
    using act = conv_bn_act::act;

    mbconv_layer(const cost::mbconv_spec& spec, bool hard_swish, rng& gen)
        : m_residual(spec.stride == 1 && spec.in_channels == spec.out_channels) {
        const auto c_in = static_cast<std::size_t>(spec.in_channels);
        const auto mid = static_cast<std::size_t>(spec.mid_channels);
        const auto c_out = static_cast<std::size_t>(spec.out_channels);
        const act a = hard_swish ? act::hard_swish : act::relu;
        if (mid != c_in) {
            m_expand = register_module("expand",
                                       std::make_shared<conv_bn_act>(c_in, mid, 1, 1, 1, a, gen));
        }
        m_depthwise = register_module(
            "depthwise",
            std::make_shared<conv_bn_act>(mid, mid, static_cast<std::size_t>(spec.kernel),
                                          static_cast<std::size_t>(spec.stride), mid, a, gen));
        if (spec.se_channels > 0) {
            m_se = register_module("se", std::make_shared<squeeze_excite>(
                                             mid, static_cast<std::size_t>(spec.se_channels), gen));
        }
        m_project = register_module(
            "project", std::make_shared<conv_bn_act>(mid, c_out, 1, 1, 1, act::none, gen));
    }

    tensor::variable forward(const tensor::variable& x) override {
        auto y = m_expand ? (*m_expand)(x) : x;
        y = (*m_depthwise)(y);
        if (m_se)
            y = (*m_se)(y);
        y = (*m_project)(y);
        return m_residual ? tensor::add(y, x) : y;
    }
    [[nodiscard]] std::string_view kind() const override { return "mbconv"; }

private:
    bool m_residual;
    std::shared_ptr<conv_bn_act> m_expand; // null without expansion
    std::shared_ptr<conv_bn_act> m_depthwise;
    std::shared_ptr<squeeze_excite> m_se; // null without SE
    std::shared_ptr<conv_bn_act> m_project;
};

/// The feature mix: linear without bias on the pooled features, then h-swish.
class feature_mix final : public nn::module {
public:
    feature_mix(std::size_t in, std::size_t out, rng& gen)
        : m_linear(register_module(
              "linear", std::make_shared<nn::linear>(
                            nn::linear_options{.in_features = in,
                                               .out_features = out,
                                               .bias = false,
                                               .init = nn::weight_init::kaiming_normal_fan_out},
                            gen))) {}

    tensor::variable forward(const tensor::variable& x) override {
        return tensor::hard_swish((*m_linear)(x));
    }
    [[nodiscard]] std::string_view kind() const override { return "feature_mix"; }

private:
    std::shared_ptr<nn::linear> m_linear;
};

} // namespace detail

/// Builds the network of `a`; weights are initialised from `gen`. Throws std::invalid_argument
/// for an invalid genotype or a bad option.
[[nodiscard]] inline std::shared_ptr<tensor::nn::sequential>
make_mbconv_network(const mbconv::arch& a, const mbconv_network_options& o, rng& gen) {
    namespace nn = tensor::nn;
    using space = mbconv::space;
    using act = detail::conv_bn_act::act;
    if (!space::is_valid(a)) {
        throw std::invalid_argument("mbconv network: invalid (or non-canonical) genotype '" +
                                    space::to_string(a) + "'");
    }
    if (!(o.width_multiplier > 0) || !std::isfinite(o.width_multiplier)) {
        throw std::invalid_argument("mbconv network: width multiplier " +
                                    std::to_string(o.width_multiplier) + " must be positive");
    }
    if (!(o.dropout >= 0 && o.dropout < 1)) {
        throw std::invalid_argument("mbconv network: dropout " + std::to_string(o.dropout) +
                                    " outside [0, 1)");
    }
    if (o.classes == 0 || o.input_channels == 0) {
        throw std::invalid_argument("mbconv network: classes " + std::to_string(o.classes) +
                                    " and input channels " + std::to_string(o.input_channels) +
                                    " must be >= 1");
    }
    const double m = o.width_multiplier;
    const auto width = [m](int w) { return static_cast<std::size_t>(space::scaled(w, m)); };
    auto net = std::make_shared<nn::sequential>();
    std::size_t channels = width(space::stem_width);
    net->add(std::make_shared<detail::conv_bn_act>(o.input_channels, channels, 3, 2, 1,
                                                   act::hard_swish, gen));
    const auto c = static_cast<std::int64_t>(channels);
    net->add(std::make_shared<detail::mbconv_layer>(
        cost::mbconv_spec{.in_channels = c, .mid_channels = c, .out_channels = c}, false, gen));
    for (std::size_t st = 0; st < mbconv::num_stages; ++st) {
        const std::size_t out = width(space::widths[st]);
        for (int l = 0; l < a.depth_of(st); ++l) {
            const auto i = st * mbconv::max_depth + static_cast<std::size_t>(l);
            const auto in = static_cast<std::int64_t>(channels);
            const auto mid = space::expanded(in, a.expand[i]);
            net->add(std::make_shared<detail::mbconv_layer>(
                cost::mbconv_spec{.in_channels = in,
                                  .mid_channels = mid,
                                  .out_channels = static_cast<std::int64_t>(out),
                                  .kernel = mbconv::kernel_choices[a.kernel[i]],
                                  .stride = l == 0 ? space::strides[st] : 1,
                                  .se_channels =
                                      space::squeeze_excite[st] ? space::squeezed(mid) : 0},
                space::hard_swish[st], gen));
            channels = out;
        }
    }
    const std::size_t last = width(space::final_width);
    const std::size_t mix = width(space::mix_width);
    net->add(std::make_shared<detail::conv_bn_act>(channels, last, 1, 1, 1, act::hard_swish, gen));
    net->add(std::make_shared<nn::global_avg_pool>());
    net->add(std::make_shared<detail::feature_mix>(last, mix, gen));
    if (o.dropout > 0)
        net->add(std::make_shared<nn::dropout>(o.dropout, gen));
    net->add(std::make_shared<nn::linear>(
        nn::linear_options{.in_features = mix, .out_features = o.classes}, gen));
    return net;
}

/// The NetworkFactory of MBConv genotypes: the network of `network` for each genotype, on
/// `resolution` x `resolution` inputs (OFA's 224 by default; Fashion-MNIST's padded 32 works).
struct mbconv_factory {
    mbconv_network_options network{};
    std::size_t resolution = 224;

    [[nodiscard]] std::shared_ptr<tensor::nn::module> build(const mbconv::arch& a, rng& gen) const {
        return make_mbconv_network(a, network, gen);
    }
    [[nodiscard]] tensor::shape_t input_shape() const {
        return {network.input_channels, resolution, resolution};
    }
    [[nodiscard]] std::size_t parameter_count(const mbconv::arch& a) const {
        return static_cast<std::size_t>(cost(a).params);
    }
    [[nodiscard]] nascent::cost::network_cost cost(const mbconv::arch& a) const {
        return mbconv::space::cost(a, cost_options(network, static_cast<std::int64_t>(resolution)));
    }
};

static_assert(NetworkFactory<mbconv_factory, mbconv::arch>);

} // namespace nascent::eval
