#pragma once
// An ensemble of multi-layer perceptrons on an encoding of the architecture: BANANAS' predictor
// (White, Neiswanger & Savani, AAAI 2021). Each member is a ReLU MLP trained with Adam on the mean
// absolute error of standardised targets, from its own initialisation and data order; the
// prediction is the members' mean, and its variance the members' spread — the uncertainty BANANAS'
// independent Thompson sampling draws from.
//
// Defaults follow BANANAS: 5 members, 10 hidden layers of width 20, Adam with learning rate 0.01,
// 200 epochs, batch 32. The encoder maps a genotype to a feature vector (the path encoding in
// BANANAS; see space/encodings.hpp).

#include <nascent/concepts.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/surrogate/training_data.hpp>
#include <nascent/tensor/adam.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>

#include <cmath>
#include <cstddef>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::surrogate {

struct mlp_ensemble_options {
    std::size_t members = 5;
    std::size_t hidden_layers = 10;
    std::size_t width = 20;
    std::size_t epochs = 200;
    std::size_t batch = 32;
    double lr = 0.01;
    std::uint64_t seed = 0;
    /// Centre and scale every input column by its training mean and standard deviation: needed
    /// when an encoding mixes 0/1 bits with other scales (surrogate/extra_features.hpp).
    bool standardise_inputs = false;
};

template <class G, class Encoder>
class mlp_ensemble {
public:
    explicit mlp_ensemble(Encoder encoder = {}, mlp_ensemble_options options = {})
        : m_encoder(std::move(encoder)), m_options(options) {
        if (options.members == 0 || options.width == 0 || options.epochs == 0 ||
            options.batch == 0) {
            throw std::invalid_argument(
                "mlp_ensemble: members, width, epochs and batch must be >= 1");
        }
    }

    /// Trains the members on (architectures, targets). Throws std::invalid_argument for no
    /// points, mismatched sizes or non-finite targets. Constant targets are predicted exactly,
    /// with zero spread.
    void fit(std::span<const G> xs, std::span<const double> ys) {
        detail::check_training_data(xs.size(), ys, "mlp_ensemble");
        m_target = detail::standardisation::of(ys);
        m_members.clear();
        if (!(m_target.scale > 0))
            return; // constant targets: predict the constant

        m_dims = 0;
        m_in_mean.clear();
        m_in_scale.clear();
        std::vector<std::vector<float>> features;
        for (const auto& x : xs)
            features.push_back(encode(x));
        m_dims = features.front().size();
        if (m_options.standardise_inputs)
            fit_input_scaling(features);
        std::vector<std::shared_ptr<tensor::nn::sequential>> members(m_options.members);
        detail::train_members(m_options.members, [&](std::size_t k) {
            rng member_gen(derive_seed(m_options.seed, k));
            members[k] = train_member(features, ys, member_gen);
        });
        m_members = std::move(members);
    }

    [[nodiscard]] prediction predict(const G& g) const {
        return predict_many(std::span<const G>(&g, 1)).front();
    }

    /// Predictions for many architectures with one forward pass per member.
    [[nodiscard]] std::vector<prediction> predict_many(std::span<const G> gs) const {
        if (m_members.empty() || gs.empty()) {
            return std::vector<prediction>(gs.size(), prediction{m_target.mean, 0.0});
        }
        tensor::ndarray x({gs.size(), m_dims});
        for (std::size_t r = 0; r < gs.size(); ++r) {
            const auto f = encode(gs[r]);
            for (std::size_t j = 0; j < m_dims; ++j)
                x[r * m_dims + j] = f[j];
        }
        tensor::no_grad_guard guard;
        detail::member_moments moments(gs.size(), m_target);
        for (const auto& net : m_members) {
            const auto y = (*net)(tensor::variable(x)).value();
            moments.add(0, std::span<const float>(y.data(), gs.size()));
        }
        return moments.predictions(m_members.size());
    }

private:
    std::vector<float> encode(const G& g) const {
        const auto e = m_encoder(g);
        std::vector<float> out;
        for (const auto v : e) {
            if (!std::isfinite(static_cast<double>(v))) {
                throw std::invalid_argument(
                    "mlp_ensemble: the encoder gave a non-finite feature (" +
                    std::to_string(static_cast<double>(v)) + ") at position " +
                    std::to_string(out.size()));
            }
            out.push_back(static_cast<float>(v));
        }
        if (m_dims != 0 && out.size() != m_dims) {
            throw std::invalid_argument("mlp_ensemble: the encoder gave " +
                                        std::to_string(out.size()) + " features, expected " +
                                        std::to_string(m_dims));
        }
        for (std::size_t j = 0; j < m_in_mean.size(); ++j)
            out[j] = (out[j] - m_in_mean[j]) / m_in_scale[j];
        return out;
    }

    // Column means and standard deviations (1 for constant columns), applied to the training
    // rows here and to every later encode().
    void fit_input_scaling(std::vector<std::vector<float>>& rows) {
        const double n = static_cast<double>(rows.size());
        m_in_mean.assign(m_dims, 0.0F);
        m_in_scale.assign(m_dims, 1.0F);
        for (std::size_t j = 0; j < m_dims; ++j) {
            double mean = 0;
            for (const auto& r : rows)
                mean += r[j];
            mean /= n;
            double var = 0;
            for (const auto& r : rows)
                var += (r[j] - mean) * (r[j] - mean);
            const double sd = std::sqrt(var / n);
            m_in_mean[j] = static_cast<float>(mean);
            m_in_scale[j] = sd > 1e-12 ? static_cast<float>(sd) : 1.0F;
            for (auto& r : rows)
                r[j] = (r[j] - m_in_mean[j]) / m_in_scale[j];
        }
    }

    std::shared_ptr<tensor::nn::sequential>
    train_member(const std::vector<std::vector<float>>& features, std::span<const double> ys,
                 rng& gen) const {
        namespace nn = tensor::nn;
        auto net = std::make_shared<nn::sequential>();
        std::size_t in = m_dims;
        for (std::size_t l = 0; l < m_options.hidden_layers; ++l) {
            net->add(std::make_shared<nn::linear>(
                nn::linear_options{.in_features = in, .out_features = m_options.width}, gen));
            net->add(std::make_shared<nn::relu>());
            in = m_options.width;
        }
        net->add(std::make_shared<nn::linear>(
            nn::linear_options{.in_features = in, .out_features = 1}, gen));
        tensor::optim::adam opt(net->parameters(), {.lr = m_options.lr});
        const std::size_t n = features.size();
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        for (std::size_t epoch = 0; epoch < m_options.epochs; ++epoch) {
            nascent::shuffle(order.begin(), order.end(), gen);
            for (std::size_t start = 0; start < n; start += m_options.batch) {
                const std::size_t b = std::min(m_options.batch, n - start);
                tensor::ndarray x({b, m_dims});
                tensor::ndarray y({b, 1});
                for (std::size_t r = 0; r < b; ++r) {
                    const auto i = order[start + r];
                    for (std::size_t j = 0; j < m_dims; ++j)
                        x[r * m_dims + j] = features[i][j];
                    y[r] = static_cast<float>((ys[i] - m_target.mean) / m_target.scale);
                }
                opt.zero_grad();
                const auto diff = tensor::sub((*net)(tensor::variable(x)), tensor::variable(y));
                // Mean absolute error, |d| = relu(d) + relu(-d).
                const auto loss = tensor::mean(
                    tensor::add(tensor::relu(diff), tensor::relu(tensor::scale(diff, -1.0F))));
                loss.backward();
                opt.step();
            }
        }
        net->eval();
        return net;
    }

    Encoder m_encoder;
    mlp_ensemble_options m_options;
    std::vector<std::shared_ptr<tensor::nn::sequential>> m_members;
    std::size_t m_dims = 0;
    std::vector<float> m_in_mean; ///< input standardisation (empty: none)
    std::vector<float> m_in_scale;
    detail::standardisation m_target; ///< of the training targets; scale 0: constant targets
};

} // namespace nascent::surrogate
