#pragma once
// The NAS-Bench-201 network built from a cell, as a trainable nascent::tensor module: stem
// conv3x3 (input channels -> C) + BN; three stages of N cells at C, 2C, 4C channels with a residual
// reduction block between stages (ReLU-conv3x3/2-BN, ReLU-conv3x3-BN, shortcut avgpool2x2 + conv1x1);
// BN + ReLU; global average pool; linear to the classes. In a cell, node j sums op_ij(node i) over
// i < j; nor_conv_kxk is ReLU-conv(kxk, no bias)-BN, avg_pool_3x3 averages without padding
// (count_include_pad = false), skip_connect is the identity and none contributes nothing.
//
// Its parameter count equals nb201::network_cost (space/nb201_cost.hpp), which a test checks. The
// defaults are the benchmark's network (C = 16, N = 5, 10 classes, 3 input channels); smaller C
// and N give a reduced network that trains quickly on a CPU.

#include <nascent/space/nb201.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nascent::eval {

struct nb201_network_options {
    std::size_t channels = 16;       ///< C of the first stage
    std::size_t cells_per_stage = 5; ///< N
    std::size_t classes = 10;
    std::size_t input_channels = 3;
    bool affine = true;              ///< batch norms with scale and shift
};

namespace detail {
namespace nn = tensor::nn;

/// ReLU, convolution without bias, batch norm (NAS-Bench-201's ReLUConvBN).
class relu_conv_bn final : public nn::module {
public:
    relu_conv_bn(std::size_t c_in, std::size_t c_out, std::size_t kernel, std::size_t stride,
                 std::size_t padding, bool affine, rng& gen)
        : m_conv(register_module("conv", std::make_shared<nn::conv2d>(
                                             nn::conv2d_options{.in_channels = c_in,
                                                                .out_channels = c_out,
                                                                .kernel = kernel,
                                                                .stride = stride,
                                                                .padding = padding,
                                                                .bias = false},
                                             gen))),
          m_bn(register_module("bn", std::make_shared<nn::batch_norm2d>(
                                         nn::batch_norm_options{.channels = c_out, .affine = affine}))) {}

    tensor::variable forward(const tensor::variable& x) override { return (*m_bn)((*m_conv)(tensor::relu(x))); }
    [[nodiscard]] std::string_view kind() const override { return "relu_conv_bn"; }

private:
    std::shared_ptr<nn::conv2d> m_conv;
    std::shared_ptr<nn::batch_norm2d> m_bn;
};

/// One NAS-Bench-201 cell at C channels.
class nb201_cell_module final : public nn::module {
public:
    nb201_cell_module(const nb201::cell& cell, std::size_t c, bool affine, rng& gen) : m_cell(cell) {
        for (std::size_t e = 0; e < nb201::num_edges; ++e) {
            std::shared_ptr<nn::module> op;
            switch (cell[e]) {
            case nb201::nor_conv_1x1: op = std::make_shared<relu_conv_bn>(c, c, 1, 1, 0, affine, gen); break;
            case nb201::nor_conv_3x3: op = std::make_shared<relu_conv_bn>(c, c, 3, 1, 1, affine, gen); break;
            case nb201::avg_pool_3x3:
                op = std::make_shared<nn::avg_pool2d>(tensor::avg_pool2d_options{.kernel = 3, .stride = 1, .padding = 1});
                break;
            case nb201::skip_connect: op = std::make_shared<nn::identity>(); break;
            default: break; // none: no module, no contribution
            }
            if (op) m_ops[e] = register_module("edge" + std::to_string(e), std::move(op));
        }
    }

    tensor::variable forward(const tensor::variable& x) override {
        std::array<std::optional<tensor::variable>, nb201::num_nodes> nodes;
        nodes[0] = x;
        for (std::size_t e = 0; e < nb201::num_edges; ++e) {
            const auto [from, to] = nb201::edge_nodes[e];
            if (!m_ops[e] || !nodes[from]) continue;
            auto y = (*m_ops[e])(*nodes[from]);
            nodes[to] = nodes[to] ? tensor::add(*nodes[to], y) : y;
        }
        // A node that receives only `none` edges is zero (and keeps the graph connected).
        return nodes[nb201::num_nodes - 1] ? *nodes[nb201::num_nodes - 1] : tensor::scale(x, 0.0F);
    }
    [[nodiscard]] std::string_view kind() const override { return "nb201_cell"; }

private:
    nb201::cell m_cell;
    std::array<std::shared_ptr<nn::module>, nb201::num_edges> m_ops{};
};

/// The residual reduction block between stages.
class reduction_block final : public nn::module {
public:
    reduction_block(std::size_t c_in, std::size_t c_out, bool affine, rng& gen)
        : m_a(register_module("conv_a", std::make_shared<relu_conv_bn>(c_in, c_out, 3, 2, 1, affine, gen))),
          m_b(register_module("conv_b", std::make_shared<relu_conv_bn>(c_out, c_out, 3, 1, 1, affine, gen))),
          m_shortcut(register_module("downsample", std::make_shared<nn::conv2d>(
                                                       nn::conv2d_options{.in_channels = c_in,
                                                                          .out_channels = c_out,
                                                                          .kernel = 1,
                                                                          .padding = 0,
                                                                          .bias = false},
                                                       gen))) {}

    tensor::variable forward(const tensor::variable& x) override {
        const auto pooled = tensor::avg_pool2d(x, {.kernel = 2, .stride = 2, .padding = 0});
        return tensor::add((*m_b)((*m_a)(x)), (*m_shortcut)(pooled));
    }
    [[nodiscard]] std::string_view kind() const override { return "reduction_block"; }

private:
    std::shared_ptr<relu_conv_bn> m_a;
    std::shared_ptr<relu_conv_bn> m_b;
    std::shared_ptr<nn::conv2d> m_shortcut;
};
} // namespace detail

/// Builds the network of `cell`; weights are initialised from `gen` (PyTorch's defaults).
[[nodiscard]] inline std::shared_ptr<tensor::nn::sequential>
make_nb201_network(const nb201::cell& cell, const nb201_network_options& o, rng& gen) {
    namespace nn = tensor::nn;
    if (o.channels == 0 || o.cells_per_stage == 0 || o.classes == 0 || o.input_channels == 0) {
        throw std::invalid_argument("nb201 network: channels, cells per stage, classes and input channels must be >= 1");
    }
    auto net = std::make_shared<nn::sequential>();
    std::size_t c = o.channels;
    net->add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = o.input_channels, .out_channels = c, .kernel = 3, .padding = 1, .bias = false}, gen));
    net->add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = c, .affine = o.affine}));
    for (std::size_t stage = 0; stage < 3; ++stage) {
        if (stage > 0) {
            net->add(std::make_shared<detail::reduction_block>(c, 2 * c, o.affine, gen));
            c *= 2;
        }
        for (std::size_t i = 0; i < o.cells_per_stage; ++i) {
            net->add(std::make_shared<detail::nb201_cell_module>(cell, c, o.affine, gen));
        }
    }
    net->add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = c, .affine = o.affine}));
    net->add(std::make_shared<nn::relu>());
    net->add(std::make_shared<nn::global_avg_pool>());
    net->add(std::make_shared<nn::flatten>());
    net->add(std::make_shared<nn::linear>(nn::linear_options{.in_features = c, .out_features = o.classes}, gen));
    return net;
}

} // namespace nascent::eval
