#pragma once
// The NAS-Bench-201 network built from a cell, as a trainable nascent::tensor module: stem
// conv3x3 (input channels -> C) + BN; three stages of N cells at C, 2C, 4C channels with a residual
// reduction block between stages (ReLU-conv3x3/2-BN, ReLU-conv3x3-BN, shortcut avgpool2x2 +
// conv1x1); BN + ReLU; global average pool; linear to the classes. In a cell, node j sums
// op_ij(node i) over i < j; nor_conv_kxk is ReLU-conv(kxk, no bias)-BN, avg_pool_3x3 averages
// without padding (count_include_pad = false), skip_connect is the identity and none contributes
// nothing.
//
// One options type describes the network for the builder and the cost model:
// nb201::network_options (space/nb201_cost.hpp), whose parameter count nb201::network_cost
// equals the module's, which a test checks. The defaults are the benchmark's network (C = 16,
// N = 5, 10 classes, 3 input channels, 32x32); smaller C and N give a reduced network that
// trains quickly on a CPU. nb201_factory is its NetworkFactory (eval/network_factory.hpp).

#include <nascent/core/rng.hpp>
#include <nascent/eval/network_factory.hpp>
#include <nascent/space/cost.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/nb201_cost.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/forward_mode.hpp>
#include <nascent/tensor/nn.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::eval {

/// The network's options are the cost model's.
using nb201_network_options = nb201::network_options;

namespace detail {
namespace nn = tensor::nn;

/// ReLU, convolution without bias, batch norm (NAS-Bench-201's ReLUConvBN).
class relu_conv_bn final : public nn::module {
public:
    relu_conv_bn(std::size_t c_in, std::size_t c_out, std::size_t kernel, std::size_t stride,
                 std::size_t padding, bool affine, rng& gen)
        : m_conv(register_module(
              "conv", std::make_shared<nn::conv2d>(nn::conv2d_options{.in_channels = c_in,
                                                                      .out_channels = c_out,
                                                                      .kernel = kernel,
                                                                      .stride = stride,
                                                                      .padding = padding,
                                                                      .bias = false},
                                                   gen))),
          m_bn(register_module("bn", std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{
                                         .channels = c_out, .affine = affine}))) {}

    tensor::variable forward(const tensor::variable& x) override {
        return (*m_bn)((*m_conv)(tensor::relu(x)));
    }
    [[nodiscard]] std::string_view kind() const override { return "relu_conv_bn"; }

private:
    std::shared_ptr<nn::conv2d> m_conv;
    std::shared_ptr<nn::batch_norm2d> m_bn;
};

/// One NAS-Bench-201 cell at C channels.
class nb201_cell_module final : public nn::module {
public:
    nb201_cell_module(const nb201::cell& cell, std::size_t c, bool affine, rng& gen)
        : m_cell(cell) {
        for (std::size_t e = 0; e < nb201::num_edges; ++e) {
            std::shared_ptr<nn::module> op;
            switch (cell[e]) {
            case nb201::nor_conv_1x1:
                op = std::make_shared<relu_conv_bn>(c, c, 1, 1, 0, affine, gen);
                break;
            case nb201::nor_conv_3x3:
                op = std::make_shared<relu_conv_bn>(c, c, 3, 1, 1, affine, gen);
                break;
            case nb201::avg_pool_3x3:
                op = std::make_shared<nn::avg_pool2d>(
                    tensor::avg_pool2d_options{.kernel = 3, .stride = 1, .padding = 1});
                break;
            case nb201::skip_connect:
                op = std::make_shared<nn::identity>();
                break;
            default:
                break; // none: no module, no contribution
            }
            if (op)
                m_ops[e] = register_module("edge" + std::to_string(e), std::move(op));
        }
    }

    tensor::variable forward(const tensor::variable& x) override {
        std::array<std::optional<tensor::variable>, nb201::num_nodes> nodes;
        nodes[0] = x;
        for (std::size_t e = 0; e < nb201::num_edges; ++e) {
            const auto [from, to] = nb201::edge_nodes[e];
            if (!m_ops[e] || !nodes[from])
                continue;
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
        : m_a(register_module("conv_a",
                              std::make_shared<relu_conv_bn>(c_in, c_out, 3, 2, 1, affine, gen))),
          m_b(register_module("conv_b",
                              std::make_shared<relu_conv_bn>(c_out, c_out, 3, 1, 1, affine, gen))),
          m_shortcut(register_module(
              "downsample", std::make_shared<nn::conv2d>(nn::conv2d_options{.in_channels = c_in,
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
    if (o.channels == 0 || o.cells_per_stage == 0 || o.classes == 0 || o.input_channels == 0 ||
        o.resolution == 0) {
        throw std::invalid_argument("nb201 network: channels, cells per stage, classes, input "
                                    "channels and resolution must be >= 1");
    }
    auto net = std::make_shared<nn::sequential>();
    std::size_t c = o.channels;
    net->add(std::make_shared<nn::conv2d>(nn::conv2d_options{.in_channels = o.input_channels,
                                                             .out_channels = c,
                                                             .kernel = 3,
                                                             .padding = 1,
                                                             .bias = false},
                                          gen));
    net->add(std::make_shared<nn::batch_norm2d>(
        nn::batch_norm_options{.channels = c, .affine = o.affine}));
    for (std::size_t stage = 0; stage < 3; ++stage) {
        if (stage > 0) {
            net->add(std::make_shared<detail::reduction_block>(c, 2 * c, o.affine, gen));
            c *= 2;
        }
        for (std::size_t i = 0; i < o.cells_per_stage; ++i) {
            net->add(std::make_shared<detail::nb201_cell_module>(cell, c, o.affine, gen));
        }
    }
    net->add(std::make_shared<nn::batch_norm2d>(
        nn::batch_norm_options{.channels = c, .affine = o.affine}));
    net->add(std::make_shared<nn::relu>());
    net->add(std::make_shared<nn::global_avg_pool>());
    net->add(std::make_shared<nn::flatten>());
    net->add(std::make_shared<nn::linear>(
        nn::linear_options{.in_features = c, .out_features = o.classes}, gen));
    return net;
}

/// Forward-mode rules for the modules of NAS-Bench-201 networks (GraSP's exact H g).
[[nodiscard]] inline std::vector<tensor::named_tangent_rule> nb201_tangent_rules() {
    using tensor::dual;
    using tensor::tangent_forward;
    namespace nn = tensor::nn;
    std::vector<tensor::named_tangent_rule> rules;
    // ReLU, then the convolution and the batch norm.
    rules.push_back({"relu_conv_bn", [](tangent_forward& f, nn::module& m, const dual& in) {
                         dual d = tangent_forward::relu(in);
                         for (const auto& [name, child] : m.children())
                             d = f(*child, d);
                         return d;
                     }});
    // Node j sums op_ij(node i); an edge's module is the child "edge<e>" (none edges have
    // none); an output node without inputs is zero.
    rules.push_back({"nb201_cell", [](tangent_forward& f, nn::module& m, const dual& in) {
                         std::array<std::optional<dual>, nb201::num_nodes> nodes;
                         nodes[0] = in;
                         std::array<nn::module*, nb201::num_edges> ops{};
                         for (const auto& [name, c] : m.children()) {
                             std::size_t e = nb201::num_edges;
                             if (name.size() == 5 && name.starts_with("edge")) {
                                 e = static_cast<std::size_t>(name[4] - '0');
                             }
                             if (e >= nb201::num_edges) {
                                 throw std::invalid_argument(
                                     "tangent_forward: unexpected cell child '" + name + "'");
                             }
                             ops[e] = c.get();
                         }
                         for (std::size_t e = 0; e < nb201::num_edges; ++e) {
                             const auto [from, to] = nb201::edge_nodes[e];
                             if (ops[e] == nullptr || !nodes[from])
                                 continue;
                             dual y = f(*ops[e], *nodes[from]);
                             nodes[to] = nodes[to] ? tangent_forward::add(*nodes[to], y) : y;
                         }
                         if (nodes[nb201::num_nodes - 1])
                             return *nodes[nb201::num_nodes - 1];
                         return dual{tensor::scale(in.value, 0.0F), {}};
                     }});
    rules.push_back(
        {"reduction_block", [](tangent_forward& f, nn::module& m, const dual& in) {
             nn::module& a = tangent_forward::child(m, "conv_a");
             nn::module& b = tangent_forward::child(m, "conv_b");
             nn::module& shortcut = tangent_forward::child(m, "downsample");
             const tensor::avg_pool2d_options pool{.kernel = 2, .stride = 2, .padding = 0};
             const dual main = f(b, f(a, in));
             const dual pooled{tensor::avg_pool2d(in.value, pool),
                               in.tangent.defined() ? tensor::avg_pool2d(in.tangent, pool)
                                                    : tensor::variable{}};
             return tangent_forward::add(f(shortcut, pooled), main);
         }});
    return rules;
}

/// The NetworkFactory of NAS-Bench-201 cells: the network of `network` for each cell.
struct nb201_factory {
    nb201::network_options network{};

    [[nodiscard]] std::shared_ptr<tensor::nn::module> build(const nb201::cell& c, rng& gen) const {
        return make_nb201_network(c, network, gen);
    }
    [[nodiscard]] tensor::shape_t input_shape() const {
        return {network.input_channels, network.resolution, network.resolution};
    }
    [[nodiscard]] std::size_t parameter_count(const nb201::cell& c) const {
        return static_cast<std::size_t>(cost(c).params);
    }
    [[nodiscard]] nascent::cost::network_cost cost(const nb201::cell& c) const {
        return nb201::network_cost(c, network);
    }
    [[nodiscard]] static std::vector<tensor::named_tangent_rule> tangent_rules() {
        return nb201_tangent_rules();
    }
};

static_assert(NetworkFactory<nb201_factory, nb201::cell>);

} // namespace nascent::eval
