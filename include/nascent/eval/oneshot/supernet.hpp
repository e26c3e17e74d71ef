#pragma once
// A weight-sharing supernet over the cells of a dag_cell_space with every edge (every_edge<N>:
// NAS-Bench-201 and its relatives), on NAS-Bench-201's macro skeleton: a 3x3 stem, three stages
// of `cells_per_stage` cells at C, 2C, 4C channels joined by residual reduction blocks, BN +
// ReLU, global pooling and a linear head (the blocks of eval/nb201_network.hpp). Every
// edge of every cell is a mixed_op holding all candidate ops; the architecture parameters alpha
// are one [K] vector per edge, shared by all cells (as DARTS, GDAS and NB201's search code do).
//
// Alpha is not a module parameter: parameters() are the weights only, alpha() the architecture
// parameters, so that the two optimisers of bilevel search take disjoint sets.
//
// BN in the candidate ops is without affine parameters (as in NAS-Bench-201's search runs and
// DARTS), with running statistics: a genotype scored in single mode uses them, after optional
// recalibration (supernet_evaluator).

#include <nascent/core/rng.hpp>
#include <nascent/eval/oneshot/mixed_op.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::eval::oneshot {

/// The supernet's skeleton; defaults are the reduced NB201 network on Fashion-MNIST (C = 8, one
/// cell per stage, one grey channel padded to 32x32, 10 classes).
struct supernet_options {
    std::size_t channels = 8;
    std::size_t cells_per_stage = 1;
    std::size_t classes = 10;
    std::size_t input_channels = 1;
    std::size_t resolution = 32;
    bool affine = false; ///< affine BN in the candidate ops
    /// false: every ReLU of the network is the identity, a smooth network for the finite-
    /// difference checks of second-order terms (a ReLU network's weight gradient jumps at kinks)
    bool relu = true;
};

/// Builds the candidate op k of an edge at `channels` channels (null: the zero op).
using candidate_builder = std::function<std::shared_ptr<tensor::nn::module>(
    std::size_t k, std::size_t channels, const supernet_options& options, rng& gen)>;

namespace detail {
/// ReLU (unless options.relu is false), convolution without bias, batch norm.
class act_conv_bn final : public tensor::nn::module {
public:
    act_conv_bn(std::size_t c_in, std::size_t c_out, std::size_t kernel, std::size_t stride,
                std::size_t padding, bool affine, bool relu, rng& gen)
        : m_relu(relu),
          m_conv(register_module("conv", std::make_shared<tensor::nn::conv2d>(
                                             tensor::nn::conv2d_options{.in_channels = c_in,
                                                                        .out_channels = c_out,
                                                                        .kernel = kernel,
                                                                        .stride = stride,
                                                                        .padding = padding,
                                                                        .bias = false},
                                             gen))),
          m_bn(register_module(
              "bn", std::make_shared<tensor::nn::batch_norm2d>(
                        tensor::nn::batch_norm_options{.channels = c_out, .affine = affine}))) {}

    tensor::variable forward(const tensor::variable& x) override {
        return (*m_bn)((*m_conv)(m_relu ? tensor::relu(x) : x));
    }
    [[nodiscard]] std::string_view kind() const override { return "relu_conv_bn"; }

private:
    bool m_relu;
    std::shared_ptr<tensor::nn::conv2d> m_conv;
    std::shared_ptr<tensor::nn::batch_norm2d> m_bn;
};

/// NAS-Bench-201's residual reduction block (eval/nb201_network.hpp's), ReLU optional.
class reduction final : public tensor::nn::module {
public:
    reduction(std::size_t c_in, std::size_t c_out, bool relu, rng& gen)
        : m_a(register_module(
              "conv_a", std::make_shared<act_conv_bn>(c_in, c_out, 3, 2, 1, true, relu, gen))),
          m_b(register_module(
              "conv_b", std::make_shared<act_conv_bn>(c_out, c_out, 3, 1, 1, true, relu, gen))),
          m_shortcut(register_module(
              "downsample",
              std::make_shared<tensor::nn::conv2d>(tensor::nn::conv2d_options{.in_channels = c_in,
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
    std::shared_ptr<act_conv_bn> m_a;
    std::shared_ptr<act_conv_bn> m_b;
    std::shared_ptr<tensor::nn::conv2d> m_shortcut;
};
} // namespace detail

/// NAS-Bench-201's five candidates: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3.
[[nodiscard]] inline std::shared_ptr<tensor::nn::module>
nb201_candidate(std::size_t k, std::size_t c, const supernet_options& o, rng& gen) {
    namespace nn = tensor::nn;
    switch (k) {
    case nb201::none:
        return nullptr;
    case nb201::skip_connect:
        return std::make_shared<nn::identity>();
    case nb201::nor_conv_1x1:
        return std::make_shared<detail::act_conv_bn>(c, c, 1, 1, 0, o.affine, o.relu, gen);
    case nb201::nor_conv_3x3:
        return std::make_shared<detail::act_conv_bn>(c, c, 3, 1, 1, o.affine, o.relu, gen);
    case nb201::avg_pool_3x3:
        return std::make_shared<nn::avg_pool2d>(
            tensor::avg_pool2d_options{.kernel = 3, .stride = 1, .padding = 1});
    default:
        throw std::invalid_argument("nb201_candidate: op " + std::to_string(k) + " of 5");
    }
}

/// A cell of Space whose every edge is a mixed op: node j sums edge(i, j)(node i) over i < j.
template <class Space>
class supercell final : public tensor::nn::module {
public:
    static constexpr std::size_t edges = Space::num_edges;
    static constexpr std::size_t nodes = Space::num_nodes;

    supercell(std::size_t channels, const supernet_options& o, const candidate_builder& build,
              rng& gen) {
        for (std::size_t e = 0; e < edges; ++e) {
            std::vector<std::shared_ptr<tensor::nn::module>> candidates;
            for (std::size_t k = 0; k < Space::num_ops; ++k)
                candidates.push_back(build(k, channels, o, gen));
            m_edges[e] = register_module("edge" + std::to_string(e),
                                         std::make_shared<mixed_op>(std::move(candidates)));
        }
    }

    [[nodiscard]] mixed_op& edge(std::size_t e) { return *m_edges.at(e); }

    tensor::variable forward(const tensor::variable& x) override {
        std::array<std::optional<tensor::variable>, nodes> values;
        values[0] = x;
        for (std::size_t e = 0; e < edges; ++e) {
            const auto [from, to] = Space::edge_nodes[e];
            auto y = (*m_edges[e])(*values[from]);
            values[to] = values[to] ? tensor::add(*values[to], y) : y;
        }
        return *values[nodes - 1];
    }
    [[nodiscard]] std::string_view kind() const override { return "supercell"; }

private:
    std::array<std::shared_ptr<mixed_op>, edges> m_edges{};
};

/// The supernet of Space's cells (see the top of this header).
template <class Space>
class supernet final : public tensor::nn::module {
public:
    using space_type = Space;
    using genotype = typename Space::genotype;
    static constexpr std::size_t edges = Space::num_edges;
    static constexpr std::size_t ops = Space::num_ops;

    /// Weights from `gen` (PyTorch's defaults); alpha starts at 1e-3 * N(0, 1), as DARTS and
    /// NB201's search code initialise it.
    supernet(const supernet_options& o, const candidate_builder& build, rng& gen) : m_options(o) {
        namespace nn = tensor::nn;
        if (o.channels == 0 || o.cells_per_stage == 0 || o.classes == 0 || o.input_channels == 0 ||
            o.resolution < 4) {
            throw std::invalid_argument(
                "supernet: channels " + std::to_string(o.channels) + ", cells per stage " +
                std::to_string(o.cells_per_stage) + ", classes " + std::to_string(o.classes) +
                ", input channels " + std::to_string(o.input_channels) +
                " must be >= 1 and resolution " + std::to_string(o.resolution) + " >= 4");
        }
        std::size_t c = o.channels;
        add(std::make_shared<nn::conv2d>(nn::conv2d_options{.in_channels = o.input_channels,
                                                            .out_channels = c,
                                                            .kernel = 3,
                                                            .padding = 1,
                                                            .bias = false},
                                         gen));
        add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = c}));
        for (std::size_t stage = 0; stage < 3; ++stage) {
            if (stage > 0) {
                add(std::make_shared<detail::reduction>(c, 2 * c, o.relu, gen));
                c *= 2;
            }
            for (std::size_t i = 0; i < o.cells_per_stage; ++i) {
                auto cell = std::make_shared<supercell<Space>>(c, o, build, gen);
                m_cells.push_back(cell);
                add(cell);
            }
        }
        add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = c}));
        if (o.relu)
            add(std::make_shared<nn::relu>());
        add(std::make_shared<nn::global_avg_pool>());
        add(std::make_shared<nn::flatten>());
        add(std::make_shared<nn::linear>(
            nn::linear_options{.in_features = c, .out_features = o.classes}, gen));
        for (std::size_t e = 0; e < edges; ++e) {
            tensor::ndarray a({ops});
            tensor::fill_normal(a, 0.0, 1e-3, gen);
            m_alpha.emplace_back(std::move(a), true);
        }
    }

    tensor::variable forward(const tensor::variable& x) override {
        tensor::variable y = x;
        for (auto& layer : m_layers)
            y = (*layer)(y);
        return y;
    }
    [[nodiscard]] std::string_view kind() const override { return "supernet"; }

    /// The architecture parameters, one [ops] vector per edge.
    [[nodiscard]] const std::vector<tensor::variable>& alpha() const noexcept { return m_alpha; }
    [[nodiscard]] const supernet_options& options() const noexcept { return m_options; }
    [[nodiscard]] std::size_t cells() const noexcept { return m_cells.size(); }

    /// Every edge of every cell runs `paths[e]` next.
    void set_paths(const std::vector<edge_path>& paths) {
        if (paths.size() != edges) {
            throw std::invalid_argument("supernet::set_paths: " + std::to_string(paths.size()) +
                                        " paths for " + std::to_string(edges) + " edges");
        }
        for (auto& cell : m_cells) {
            for (std::size_t e = 0; e < edges; ++e)
                cell->edge(e).set_path(paths[e]);
        }
    }
    /// Single-path mode on genotype g.
    void set_genotype(const genotype& g) {
        std::vector<edge_path> paths(edges);
        for (std::size_t e = 0; e < edges; ++e)
            paths[e] = {.mode = path_mode::single, .op = g[e]};
        set_paths(paths);
    }
    /// Weighted mode with weights[e] on edge e (e.g. softmax(alpha[e])).
    void set_weights(const std::vector<tensor::variable>& weights) {
        std::vector<edge_path> paths(edges);
        for (std::size_t e = 0; e < edges; ++e)
            paths[e] = {.mode = path_mode::weighted, .weights = weights.at(e)};
        set_paths(paths);
    }

private:
    void add(std::shared_ptr<tensor::nn::module> m) {
        m_layers.push_back(register_module(std::to_string(m_layers.size()), std::move(m)));
    }

    supernet_options m_options;
    std::vector<std::shared_ptr<tensor::nn::module>> m_layers;
    std::vector<std::shared_ptr<supercell<Space>>> m_cells;
    std::vector<tensor::variable> m_alpha;
};

using nb201_supernet = supernet<nb201::space>;

/// The reduced NB201 supernet.
[[nodiscard]] inline std::shared_ptr<nb201_supernet> make_nb201_supernet(const supernet_options& o,
                                                                         rng& gen) {
    return std::make_shared<nb201_supernet>(o, candidate_builder(nb201_candidate), gen);
}

} // namespace nascent::eval::oneshot
