#pragma once
// The NAS-Bench-101 network built from a cell, as a trainable nascent::tensor module, following
// the benchmark's model_builder: a conv3x3-BN-ReLU stem (input channels -> C); 3 stacks of N
// cells, a 2x2 max-pool (stride 2) and a doubling of the channels before stacks 2 and 3; global
// average pooling; a dense layer (with bias) to the classes.
//
// In a cell mapping C_in to C_out channels, the widths of the vertices are NAS-Bench-101's
// compute_vertex_channels (nb101::vertex_channels in space/nb101_cost.hpp, reused here so that the
// two cannot drift apart). Interior vertex v sums its inputs: the outputs of earlier interior
// vertices, truncated to its width (their first channels), and, when the input feeds it, a
// conv1x1-BN-ReLU projection of the input to its width; then it applies its op (conv3x3-BN-ReLU,
// conv1x1-BN-ReLU, or a 3x3 max-pool with stride 1 and 'same' padding). The output concatenates
// the interior vertices that feed it (in vertex order) and adds a projection of the input to
// C_out when the input feeds it directly. Convolutions have no bias; batch norms are affine.
//
// Its parameter count equals nb101::network_cost (space/nb101_cost.hpp) for the same options,
// which a test checks. The defaults are the benchmark's network (C = 128, 3 cells per stack,
// 10 classes, 3 input channels); smaller C and N give a reduced network for CPU training.
//
// Differences from the TensorFlow original that do not change the parameter count: PyTorch's
// initialisation and batch-norm momentum (0.1; the benchmark's 0.997 decay suits 108 epochs, not
// a few), and, on maps of odd size only, the down-sampling max-pool pads both sides (TF's 'same'
// pads the bottom/right). The Fashion-MNIST evaluator feeds 32x32 maps, which stay even.

#include <nascent/eval/network_factory.hpp>
#include <nascent/space/cost.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb101_cost.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::eval {

struct nb101_network_options {
    std::size_t stem_channels = 128; ///< C: the stem's output and the first stack's width
    std::size_t cells_per_stack = 3; ///< N
    std::size_t stacks = 3;          ///< a max-pool and a doubling of channels between stacks
    std::size_t classes = 10;
    std::size_t input_channels = 3;
};

/// The cost model's options for the same network on `image_size` x `image_size` inputs (the
/// parameter count does not depend on the image size).
[[nodiscard]] inline nb101::network_options cost_options(const nb101_network_options& o,
                                                         std::int64_t image_size = 32) {
    return {.image_size = image_size,
            .image_channels = static_cast<std::int64_t>(o.input_channels),
            .stem_channels = static_cast<std::int64_t>(o.stem_channels),
            .stacks = static_cast<std::int64_t>(o.stacks),
            .cells_per_stack = static_cast<std::int64_t>(o.cells_per_stack),
            .classes = static_cast<std::int64_t>(o.classes)};
}

namespace detail {
namespace nn = tensor::nn;

/// Convolution (no bias, 'same' padding), batch norm, ReLU: NAS-Bench-101's conv_bn_relu.
class conv_bn_relu final : public nn::module {
public:
    conv_bn_relu(std::size_t c_in, std::size_t c_out, std::size_t kernel, rng& gen)
        : m_conv(register_module(
              "conv", std::make_shared<nn::conv2d>(nn::conv2d_options{.in_channels = c_in,
                                                                      .out_channels = c_out,
                                                                      .kernel = kernel,
                                                                      .padding = kernel / 2,
                                                                      .bias = false},
                                                   gen))),
          m_bn(register_module("bn", std::make_shared<nn::batch_norm2d>(
                                         nn::batch_norm_options{.channels = c_out}))) {}

    tensor::variable forward(const tensor::variable& x) override {
        return tensor::relu((*m_bn)((*m_conv)(x)));
    }
    [[nodiscard]] std::string_view kind() const override { return "conv_bn_relu"; }

private:
    std::shared_ptr<nn::conv2d> m_conv;
    std::shared_ptr<nn::batch_norm2d> m_bn;
};

/// 2x2 max-pool with stride 2 and 'same' output size ceil(n / 2): the down-sampling between
/// stacks. Even maps need no padding; odd ones are padded by one on each side.
class downsample final : public nn::module {
public:
    tensor::variable forward(const tensor::variable& x) override {
        const std::size_t ph = x.dim(2) % 2;
        const std::size_t pw = x.dim(3) % 2;
        return tensor::max_pool2d(x, {.kernel = 2, .stride = 2, .padding = {ph, pw}});
    }
    [[nodiscard]] std::string_view kind() const override { return "downsample"; }
};

/// One NAS-Bench-101 module (cell) of a pruned, valid cell, mapping c_in to c_out channels.
class nb101_cell_module final : public nn::module {
public:
    nb101_cell_module(const nb101::cell& pruned, std::size_t c_in, std::size_t c_out, rng& gen)
        : m_cell(pruned), m_width(nb101::vertex_channels(pruned, static_cast<std::int64_t>(c_in),
                                                         static_cast<std::int64_t>(c_out))) {
        const std::size_t last = m_cell.output();
        for (std::size_t v = 1; v < last; ++v) {
            const auto w = static_cast<std::size_t>(m_width[v]);
            if (w == 0) {
                throw std::invalid_argument(
                    "nb101 network: " + std::to_string(c_out) +
                    " output channels cannot be split among the cell's inputs to its output "
                    "(one channel each at least); use more channels");
            }
            const std::string name = "vertex" + std::to_string(v);
            if (m_cell.edge(0, v)) {
                m_projection[v] = register_module(name + ".projection",
                                                  std::make_shared<conv_bn_relu>(c_in, w, 1, gen));
            }
            std::shared_ptr<nn::module> op;
            switch (m_cell.ops[v]) {
            case nb101::conv3x3:
                op = std::make_shared<conv_bn_relu>(w, w, 3, gen);
                break;
            case nb101::conv1x1:
                op = std::make_shared<conv_bn_relu>(w, w, 1, gen);
                break;
            default:
                op = std::make_shared<nn::max_pool2d>(
                    tensor::max_pool2d_options{.kernel = 3, .stride = 1, .padding = 1});
                break;
            }
            m_ops[v] = register_module(name + ".op", std::move(op));
        }
        if (m_cell.edge(0, last)) {
            m_projection[last] = register_module(
                "output.projection", std::make_shared<conv_bn_relu>(c_in, c_out, 1, gen));
        }
    }

    tensor::variable forward(const tensor::variable& x) override {
        const std::size_t last = m_cell.output();
        std::array<tensor::variable, nb101::max_vertices> out{};
        out[0] = x;
        std::vector<tensor::variable> concat_in;
        for (std::size_t v = 1; v < last; ++v) {
            const auto w = static_cast<std::size_t>(m_width[v]);
            std::optional<tensor::variable> sum;
            const auto accumulate = [&](const tensor::variable& y) {
                sum = sum ? tensor::add(*sum, y) : y;
            };
            for (std::size_t u = 1; u < v; ++u) {
                if (!m_cell.edge(u, v))
                    continue;
                // Truncation: a wider input gives its first w channels (model_builder's truncate).
                accumulate(out[u].dim(1) > w ? tensor::narrow(out[u], 1, 0, w) : out[u]);
            }
            if (m_projection[v])
                accumulate((*m_projection[v])(x));
            // A pruned cell's interior vertex always has an input (it lies on an input path).
            out[v] = (*m_ops[v])(*sum);
            if (m_cell.edge(v, last))
                concat_in.push_back(out[v]);
        }
        if (concat_in.empty())
            return (*m_projection[last])(x); // input -> output only
        tensor::variable y = concat_in.size() == 1 ? concat_in[0] : tensor::concat(concat_in, 1);
        if (m_projection[last])
            y = tensor::add(y, (*m_projection[last])(x));
        return y;
    }
    [[nodiscard]] std::string_view kind() const override { return "nb101_cell"; }

private:
    nb101::cell m_cell;
    std::array<std::int64_t, nb101::max_vertices> m_width;
    std::array<std::shared_ptr<nn::module>, nb101::max_vertices> m_projection{};
    std::array<std::shared_ptr<nn::module>, nb101::max_vertices> m_ops{};
};

} // namespace detail

/// Builds the network of `cell` (pruned first); weights are initialised from `gen` (PyTorch's
/// defaults). Throws std::invalid_argument for an invalid cell or a zero option.
[[nodiscard]] inline std::shared_ptr<tensor::nn::sequential>
make_nb101_network(const nb101::cell& cell, const nb101_network_options& o, rng& gen) {
    namespace nn = tensor::nn;
    const auto pruned = nb101::prune(cell);
    if (!pruned || pruned->num_edges() > nb101::max_edges) {
        throw std::invalid_argument("nb101 network: invalid NAS-Bench-101 cell '" +
                                    nb101::to_string(cell) + "'");
    }
    if (o.stem_channels == 0 || o.cells_per_stack == 0 || o.stacks == 0 || o.classes == 0 ||
        o.input_channels == 0) {
        throw std::invalid_argument("nb101 network: stem channels, cells per stack, stacks, "
                                    "classes and input channels must be >= 1");
    }
    auto net = std::make_shared<nn::sequential>();
    net->add(std::make_shared<detail::conv_bn_relu>(o.input_channels, o.stem_channels, 3, gen));
    std::size_t channels = o.stem_channels;
    for (std::size_t stack = 0; stack < o.stacks; ++stack) {
        std::size_t out = channels;
        if (stack > 0) {
            net->add(std::make_shared<detail::downsample>());
            out = 2 * channels;
        }
        for (std::size_t m = 0; m < o.cells_per_stack; ++m) {
            net->add(std::make_shared<detail::nb101_cell_module>(*pruned, channels, out, gen));
            channels = out;
        }
    }
    net->add(std::make_shared<nn::global_avg_pool>());
    net->add(std::make_shared<nn::linear>(
        nn::linear_options{.in_features = channels, .out_features = o.classes}, gen));
    return net;
}

/// The NetworkFactory of NAS-Bench-101 cells: the network of `network` for each cell, on
/// `resolution` x `resolution` inputs. A cell the space rejects is an "invalid cell".
struct nb101_factory {
    nb101_network_options network{};
    std::size_t resolution = 32;

    [[nodiscard]] std::shared_ptr<tensor::nn::module> build(const nb101::cell& c, rng& gen) const {
        return make_nb101_network(c, network, gen);
    }
    [[nodiscard]] tensor::shape_t input_shape() const {
        return {network.input_channels, resolution, resolution};
    }
    [[nodiscard]] std::size_t parameter_count(const nb101::cell& c) const {
        return static_cast<std::size_t>(cost(c).params);
    }
    [[nodiscard]] nascent::cost::network_cost cost(const nb101::cell& c) const {
        return nb101::network_cost(c, cost_options(network, static_cast<std::int64_t>(resolution)));
    }
    [[nodiscard]] static std::string_view invalid_reason(const nb101::cell&) noexcept {
        return "invalid cell";
    }
};

static_assert(NetworkFactory<nb101_factory, nb101::cell>);

} // namespace nascent::eval
