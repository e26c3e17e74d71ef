#pragma once
// A graph convolutional predictor on cell DAGs (the GCN of Wen et al., "Neural Predictor for
// Neural Architecture Search", ECCV 2020, as NASLib's predictor study runs it), trained with the
// library's autograd layer. Usable as a Surrogate (fit, predict mean and variance) and as an
// encoder: `embed(g)` is the pooled graph embedding the head reads.
//
//   node features   one-hot of the node's label (op, input slot or output), the label
//                   vocabulary taken from the training graphs (unseen labels: all zeros)
//   layer           H' = relu(A_in H W_in + A_out H W_out + b), where A_in averages a node with
//                   its predecessors and A_out with its successors: information flows along and
//                   against the edges, as the operations of a cell see both their inputs and,
//                   through the gradient, their consumers
//   pooling         mean over the graph's nodes
//   head            linear - relu - linear to one output
//   training        Adam on the mean squared error of standardised targets, mini-batches
//
// `members` > 1 trains that many networks from their own initialisation and data order; the
// prediction is their mean and the variance their spread (as BANANAS' ensemble). With one member
// the variance is 0: a point predictor, which acquisition functions then use greedily.
//
// The graph map turns a genotype into a labelled_graph: cell_graph_map for dag_cell spaces
// (NAS-Bench-201, DARTS), nb101_graph_map (surrogate/nb101_graph.hpp) for NAS-Bench-101.

#include <nascent/concepts.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/surrogate/training_data.hpp>
#include <nascent/surrogate/wl_kernel.hpp>
#include <nascent/tensor/adam.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/graph.hpp>
#include <nascent/tensor/nn.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::surrogate {

/// dag_cell genotype -> labelled_graph (see cell_graph in wl_kernel.hpp).
template <class Space>
struct cell_graph_map {
    cell_graph_options graph = {};
    [[nodiscard]] labelled_graph operator()(const genotype_t<Space>& cell) const {
        return cell_graph<Space>(cell, graph);
    }
};

struct gnn_options {
    std::size_t layers = 3;  ///< graph convolutions
    std::size_t hidden = 64; ///< width of the node states and of the head
    std::size_t epochs = 300;
    std::size_t batch = 32;
    double lr = 3e-3;
    double weight_decay = 1e-4;
    std::size_t members = 1;
    std::uint64_t seed = 0;
};

template <class G, class GraphMap>
class gnn_predictor {
public:
    explicit gnn_predictor(GraphMap graph_map = {}, gnn_options options = {})
        : m_graph_map(std::move(graph_map)), m_options(options) {
        if (options.layers == 0 || options.hidden == 0 || options.epochs == 0 ||
            options.batch == 0 || options.members == 0) {
            throw std::invalid_argument(
                "gnn_predictor: layers, hidden, epochs, batch and members must be >= 1");
        }
        if (!(options.lr > 0) || !(options.weight_decay >= 0)) {
            throw std::invalid_argument(
                "gnn_predictor: lr must be > 0 and weight_decay >= 0, got " +
                std::to_string(options.lr) + " and " + std::to_string(options.weight_decay));
        }
    }

    /// Trains on (architectures, targets). Throws std::invalid_argument for no points, mismatched
    /// sizes or non-finite targets; constant targets are predicted exactly, with zero variance.
    void fit(std::span<const G> xs, std::span<const double> ys) {
        detail::check_training_data(xs.size(), ys, "gnn_predictor");
        const std::size_t n = xs.size();
        m_target = detail::standardisation::of(ys);
        m_members.clear();
        m_vocabulary.clear();
        std::vector<labelled_graph> graphs;
        graphs.reserve(n);
        for (const auto& x : xs)
            graphs.push_back(m_graph_map(x));
        for (const auto& g : graphs)
            m_vocabulary.insert(m_vocabulary.end(), g.labels.begin(), g.labels.end());
        std::ranges::sort(m_vocabulary);
        m_vocabulary.erase(std::unique(m_vocabulary.begin(), m_vocabulary.end()),
                           m_vocabulary.end());
        if (!(m_target.scale > 0))
            return; // constant targets: predict the constant

        std::vector<float> targets(n);
        for (std::size_t i = 0; i < n; ++i)
            targets[i] = static_cast<float>((ys[i] - m_target.mean) / m_target.scale);
        std::vector<std::shared_ptr<network>> members(m_options.members);
        detail::train_members(m_options.members, [&](std::size_t k) {
            rng gen(derive_seed(m_options.seed, k));
            members[k] = train_member(graphs, targets, gen);
        });
        m_members = std::move(members);
    }

    [[nodiscard]] prediction predict(const G& g) const {
        return predict_many(std::span<const G>(&g, 1)).front();
    }

    /// Predictions for many architectures, batch by batch.
    [[nodiscard]] std::vector<prediction> predict_many(std::span<const G> gs) const {
        if (m_members.empty() || gs.empty())
            return std::vector<prediction>(gs.size(), prediction{m_target.mean, 0.0});
        tensor::no_grad_guard guard;
        detail::member_moments moments(gs.size(), m_target);
        constexpr std::size_t chunk = 256;
        for (std::size_t start = 0; start < gs.size(); start += chunk) {
            const std::size_t count = std::min(chunk, gs.size() - start);
            std::vector<labelled_graph> graphs;
            graphs.reserve(count);
            for (std::size_t i = 0; i < count; ++i)
                graphs.push_back(m_graph_map(gs[start + i]));
            const auto batch = make_batch(graphs, all_indices(count));
            for (const auto& net : m_members) {
                const auto y = net->score(batch).value();
                moments.add(start, std::span<const float>(y.data(), count));
            }
        }
        return moments.predictions(m_members.size());
    }

    /// The first member's pooled embedding of g (`hidden` numbers). Needs a fitted predictor
    /// with non-constant targets.
    [[nodiscard]] std::vector<float> embed(const G& g) const {
        if (m_members.empty()) {
            throw std::invalid_argument(
                "gnn_predictor::embed: not fitted (or fitted on constant targets)");
        }
        tensor::no_grad_guard guard;
        const std::vector<labelled_graph> graphs{m_graph_map(g)};
        const auto e = m_members.front()->embed(make_batch(graphs, {0})).value();
        return {e.data(), e.data() + e.size()};
    }

    [[nodiscard]] const gnn_options& options() const noexcept { return m_options; }

private:
    struct graph_batch {
        tensor::variable features; ///< [B * n, vocabulary]
        tensor::ndarray in_mix;    ///< [B, n, n]: mean over the node and its predecessors
        tensor::ndarray out_mix;   ///< [B, n, n]: mean over the node and its successors
        tensor::ndarray pool;      ///< [B, 1, n]: 1 / nodes on real nodes, 0 on padding
    };

    class network {
    public:
        network(std::size_t in, const gnn_options& o, rng& gen) {
            namespace nn = tensor::nn;
            for (std::size_t l = 0; l < o.layers; ++l) {
                const std::size_t width = l == 0 ? in : o.hidden;
                m_along.push_back(std::make_shared<nn::linear>(
                    nn::linear_options{.in_features = width, .out_features = o.hidden}, gen));
                m_against.push_back(std::make_shared<nn::linear>(
                    nn::linear_options{
                        .in_features = width, .out_features = o.hidden, .bias = false},
                    gen));
            }
            m_head_hidden = std::make_shared<nn::linear>(
                nn::linear_options{.in_features = o.hidden, .out_features = o.hidden}, gen);
            m_head_out = std::make_shared<nn::linear>(
                nn::linear_options{.in_features = o.hidden, .out_features = 1}, gen);
        }

        [[nodiscard]] tensor::variable embed(const graph_batch& b) const {
            tensor::variable h = b.features;
            for (std::size_t l = 0; l < m_along.size(); ++l) {
                h = tensor::relu(tensor::add((*m_along[l])(tensor::propagate(b.in_mix, h)),
                                             (*m_against[l])(tensor::propagate(b.out_mix, h))));
            }
            return tensor::propagate(b.pool, h); // [B, hidden]
        }
        [[nodiscard]] tensor::variable score(const graph_batch& b) const {
            return (*m_head_out)(tensor::relu((*m_head_hidden)(embed(b)))); // [B, 1]
        }
        [[nodiscard]] std::vector<tensor::variable> parameters() const {
            std::vector<tensor::variable> out;
            auto take = [&out](const auto& layer) {
                for (auto& p : layer->parameters())
                    out.push_back(p);
            };
            for (const auto& l : m_along)
                take(l);
            for (const auto& l : m_against)
                take(l);
            take(m_head_hidden);
            take(m_head_out);
            return out;
        }

    private:
        std::vector<std::shared_ptr<tensor::nn::linear>> m_along;
        std::vector<std::shared_ptr<tensor::nn::linear>> m_against;
        std::shared_ptr<tensor::nn::linear> m_head_hidden;
        std::shared_ptr<tensor::nn::linear> m_head_out;
    };

    static std::vector<std::size_t> all_indices(std::size_t n) {
        std::vector<std::size_t> v(n);
        std::iota(v.begin(), v.end(), std::size_t{0});
        return v;
    }

    [[nodiscard]] graph_batch make_batch(const std::vector<labelled_graph>& graphs,
                                         const std::vector<std::size_t>& which) const {
        const std::size_t b = which.size();
        std::size_t n = 1;
        for (const auto i : which)
            n = std::max(n, graphs[i].size());
        const std::size_t d = m_vocabulary.size();
        tensor::ndarray features({b * n, d});
        graph_batch out{
            {}, tensor::ndarray({b, n, n}), tensor::ndarray({b, n, n}), tensor::ndarray({b, 1, n})};
        std::vector<std::size_t> in_degree(n);
        std::vector<std::size_t> out_degree(n);
        for (std::size_t r = 0; r < b; ++r) {
            const auto& g = graphs[which[r]];
            const std::size_t nodes = g.size();
            for (std::size_t v = 0; v < nodes; ++v) {
                const auto it = std::ranges::lower_bound(m_vocabulary, g.labels[v]);
                if (it != m_vocabulary.end() && *it == g.labels[v]) {
                    features[(r * n + v) * d +
                             static_cast<std::size_t>(it - m_vocabulary.begin())] = 1.0F;
                }
                out.pool[r * n + v] = 1.0F / static_cast<float>(nodes);
            }
            std::fill(in_degree.begin(), in_degree.end(), 1); // the node itself
            std::fill(out_degree.begin(), out_degree.end(), 1);
            for (const auto& [from, to] : g.edges) {
                ++in_degree[to];
                ++out_degree[from];
            }
            float* in_mix = out.in_mix.data() + r * n * n;
            float* out_mix = out.out_mix.data() + r * n * n;
            for (std::size_t v = 0; v < nodes; ++v) {
                in_mix[v * n + v] = 1.0F / static_cast<float>(in_degree[v]);
                out_mix[v * n + v] = 1.0F / static_cast<float>(out_degree[v]);
            }
            for (const auto& [from, to] : g.edges) {
                in_mix[to * n + from] += 1.0F / static_cast<float>(in_degree[to]);
                out_mix[from * n + to] += 1.0F / static_cast<float>(out_degree[from]);
            }
        }
        out.features = tensor::variable(std::move(features));
        return out;
    }

    std::shared_ptr<network> train_member(const std::vector<labelled_graph>& graphs,
                                          const std::vector<float>& targets, rng& gen) const {
        auto net = std::make_shared<network>(m_vocabulary.size(), m_options, gen);
        tensor::optim::adam opt(net->parameters(),
                                {.lr = m_options.lr, .weight_decay = m_options.weight_decay});
        const std::size_t n = graphs.size();
        // Batches are built once per epoch order; the graphs themselves never change.
        auto order = all_indices(n);
        for (std::size_t epoch = 0; epoch < m_options.epochs; ++epoch) {
            nascent::shuffle(order.begin(), order.end(), gen);
            for (std::size_t start = 0; start < n; start += m_options.batch) {
                const std::size_t count = std::min(m_options.batch, n - start);
                const std::vector<std::size_t> which(
                    order.begin() + static_cast<std::ptrdiff_t>(start),
                    order.begin() + static_cast<std::ptrdiff_t>(start + count));
                tensor::ndarray y({count, 1});
                for (std::size_t r = 0; r < count; ++r)
                    y[r] = targets[which[r]];
                opt.zero_grad();
                const auto diff = tensor::sub(net->score(make_batch(graphs, which)),
                                              tensor::variable(std::move(y)));
                tensor::mean(tensor::mul(diff, diff)).backward();
                opt.step();
            }
        }
        return net;
    }

    GraphMap m_graph_map;
    gnn_options m_options;
    std::vector<std::uint64_t> m_vocabulary;
    std::vector<std::shared_ptr<network>> m_members;
    detail::standardisation m_target; ///< of the training targets; scale 0: constant targets
};

} // namespace nascent::surrogate
