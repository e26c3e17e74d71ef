#pragma once
// The LSTM controller of NAS with RL and ENAS (Zoph & Le, ICLR 2017; Pham et al., ICML 2018): a
// stacked LSTM emits the decisions one at a time; each step's input is the embedding of the
// previous decision (a learned start input for the first), its top hidden state goes through a
// softmax head, and the logits are shaped as ENAS shapes them, tanh_constant * tanh(z / T).
// Reference values (ENAS, src/cifar10/micro_controller.py and its search script; NAS-Bench-201's
// ENAS controller, lib/models/cell_searchs/search_model_enas_utils.py):
//   2 layers of 32 units, every weight ~ U(-0.1, 0.1), Adam at 0.0035, baseline decay 0.99,
//   entropy weight 1e-4, 10 samples aggregated per update; for one op per edge (NAS-Bench-201)
//   temperature 5 and tanh constant 2.5.
// Zoph & Le's controller had 2 layers of 35 units; NASNet's one layer of 100.
// ENAS adds beta * H to the reward (no gradient through it); here, as in PPO, -beta * H is a term
// of the loss (its gradient raises the entropy), H being the batch mean of the entropies along
// each sample's path. Positions share one head and one embedding when they all have the same
// number of choices (ENAS's ops, NAS-Bench-201's edges); otherwise each position has its own
// (Zoph & Le's per-decision softmax).

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/strategy/policy_gradient.hpp>
#include <nascent/tensor/autograd/activations.hpp>
#include <nascent/tensor/autograd/core.hpp>
#include <nascent/tensor/autograd/elementwise.hpp>
#include <nascent/tensor/autograd/indexing.hpp>
#include <nascent/tensor/autograd/linear.hpp>
#include <nascent/tensor/autograd/recurrent.hpp>
#include <nascent/tensor/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::strategy {

struct lstm_policy_options {
    std::size_t hidden = 32;    ///< ENAS lstm_size (also the embedding size)
    std::size_t layers = 2;     ///< ENAS lstm_num_layers
    double temperature = 5.0;   ///< logits / T (NAS-Bench-201's ENAS controller)
    double tanh_constant = 2.5; ///< then c * tanh(.); 0 turns the squashing off
    double init_range = 0.1;    ///< every parameter ~ U(-r, r)
};

/// The controller's policy over a CategoricalSpace (see the top of this file).
template <CategoricalSpace S>
class lstm_policy {
public:
    using genotype = genotype_t<S>;
    using options = lstm_policy_options;

    static void check(std::string_view who, const options& o) {
        if (o.hidden == 0)
            detail::bad_option(who, "hidden", "0", ">= 1");
        if (o.layers == 0)
            detail::bad_option(who, "layers", "0", ">= 1");
        if (!(o.temperature > 0.0) || !std::isfinite(o.temperature))
            detail::bad_option(who, "temperature", std::to_string(o.temperature), "> 0 and finite");
        if (!(o.tanh_constant >= 0.0) || !std::isfinite(o.tanh_constant)) {
            detail::bad_option(who, "tanh_constant", std::to_string(o.tanh_constant),
                               ">= 0 and finite");
        }
        if (!(o.init_range >= 0.0) || !std::isfinite(o.init_range))
            detail::bad_option(who, "init_range", std::to_string(o.init_range), ">= 0 and finite");
    }

    template <RandomGenerator G>
    lstm_policy(const S& space, const options& o, G& gen)
        : m_options(o), m_positions(space.positions()) {
        for (std::size_t i = 0; i < m_positions; ++i)
            m_choices.push_back(space.choices(i));
        const bool shared = std::all_of(m_choices.begin(), m_choices.end(),
                                        [&](std::size_t c) { return c == m_choices[0]; });
        m_heads = shared ? 1 : m_positions;
        const double r = o.init_range;
        const std::size_t h = o.hidden;
        // Layout: start input, then per layer (w_ih, w_hh, bias), then per head (w, b, embedding).
        m_params.emplace_back(tensor::rand_uniform({1, h}, -r, r, gen), true);
        for (std::size_t l = 0; l < o.layers; ++l) {
            auto w = tensor::make_lstm_weights(h, h, r, true, gen);
            m_params.push_back(w.w_ih);
            m_params.push_back(w.w_hh);
            m_params.push_back(w.bias);
        }
        for (std::size_t k = 0; k < m_heads; ++k) {
            const std::size_t c = m_choices[k];
            m_params.emplace_back(tensor::rand_uniform({c, h}, -r, r, gen), true);
            m_params.emplace_back(tensor::rand_uniform({c}, -r, r, gen), true);
            m_params.emplace_back(tensor::rand_uniform({c, h}, -r, r, gen), true);
        }
    }

    lstm_policy(const lstm_policy& other)
        : m_options(other.m_options), m_positions(other.m_positions), m_heads(other.m_heads),
          m_choices(other.m_choices) {
        for (const auto& p : other.m_params)
            m_params.push_back(detail::clone_parameter(p));
    }
    lstm_policy& operator=(const lstm_policy& other) {
        if (this != &other)
            *this = lstm_policy(other);
        return *this;
    }
    lstm_policy(lstm_policy&&) noexcept = default;
    lstm_policy& operator=(lstm_policy&&) noexcept = default;
    ~lstm_policy() = default;

    template <RandomGenerator G>
    [[nodiscard]] std::pair<genotype, double> sample(G& gen) const {
        const tensor::no_grad_guard off;
        auto g = detail::blank_genotype<genotype>(m_positions);
        double log_prob = 0.0;
        (void)unroll(1, [&](std::size_t i, const tensor::ndarray& lp) {
            const std::size_t c =
                detail::draw_categorical(std::span<const float>(lp.data(), m_choices[i]), gen);
            g[i] = static_cast<std::remove_cvref_t<decltype(g[i])>>(c);
            log_prob += lp[c];
            return std::vector<std::int32_t>{static_cast<std::int32_t>(c)};
        });
        return {g, log_prob};
    }

    [[nodiscard]] policy_terms evaluate(std::span<const std::int32_t> actions,
                                        std::size_t rows) const {
        std::vector<std::int32_t> column(rows);
        return unroll(rows, [&](std::size_t i, const tensor::ndarray&) {
            for (std::size_t j = 0; j < rows; ++j)
                column[j] = actions[j * m_positions + i];
            return column;
        });
    }

    [[nodiscard]] std::span<const tensor::variable> parameters() const noexcept { return m_params; }
    [[nodiscard]] const lstm_policy_options& opts() const noexcept { return m_options; }

private:
    // Runs the controller over `rows` sequences; choose(i, log_probs [rows, C]) returns the rows'
    // decisions at position i. Returns the sum of log pi over positions [rows] and the batch mean
    // of the summed per-step entropies.
    template <class Choose>
    policy_terms unroll(std::size_t rows, Choose&& choose) const {
        namespace t = tensor;
        const std::size_t h = m_options.hidden;
        const std::size_t layers = m_options.layers;
        std::vector<t::lstm_state> state(layers, t::zero_lstm_state(rows, h));
        std::vector<std::int32_t> zeros(rows, 0);
        t::variable x = t::embedding(m_params[0], zeros);
        t::variable log_prob;
        t::variable entropy;
        const auto inv_t = static_cast<float>(1.0 / m_options.temperature);
        const auto tanh_c = static_cast<float>(m_options.tanh_constant);
        for (std::size_t i = 0; i < m_positions; ++i) {
            for (std::size_t l = 0; l < layers; ++l) {
                const t::lstm_weights w{m_params[1 + 3 * l], m_params[2 + 3 * l],
                                        m_params[3 + 3 * l]};
                state[l] = t::lstm_cell(x, state[l], w);
                x = state[l].h;
            }
            const std::size_t head = 1 + 3 * layers + 3 * (m_heads == 1 ? 0 : i);
            t::variable z = t::scale(t::linear(x, m_params[head], m_params[head + 1]), inv_t);
            if (tanh_c > 0.0F)
                z = t::scale(t::tanh(z), tanh_c);
            const t::variable lp = t::log_softmax(z);
            const std::vector<std::int32_t> a = choose(i, lp.value());
            const t::variable step_lp = t::pick(lp, a);
            const t::variable step_h = t::row_sums(t::mul(t::exp(lp), lp));
            log_prob = i == 0 ? step_lp : t::add(log_prob, step_lp);
            entropy = i == 0 ? step_h : t::add(entropy, step_h);
            if (i + 1 < m_positions)
                x = t::embedding(m_params[head + 2], a);
        }
        return {log_prob, t::scale(t::mean(entropy), -1.0F)};
    }

    lstm_policy_options m_options;
    std::size_t m_positions = 0;
    std::size_t m_heads = 1;
    std::vector<std::size_t> m_choices;
    std::vector<tensor::variable> m_params;
};

struct lstm_controller_options {
    double learning_rate = 0.0035; ///< Adam (ENAS controller_lr)
    std::size_t batch = 10;        ///< M (ENAS controller_num_aggregate)
    double baseline_decay = 0.99;  ///< ENAS controller_bl_dec
    double entropy_weight = 1e-4;  ///< ENAS controller_entropy_weight
    lstm_policy_options policy{};  ///< sizes and logit shaping
};

/// The LSTM controller trained by REINFORCE on any CategoricalSpace.
template <CategoricalSpace S>
class lstm_controller {
public:
    using genotype = genotype_t<S>;
    using options = lstm_controller_options;
    using policy_type = lstm_policy<S>;

    /// Throws std::invalid_argument for learning_rate <= 0, batch 0, baseline_decay outside
    /// [0, 1), entropy_weight < 0, hidden or layers 0, temperature <= 0, tanh_constant < 0.
    explicit lstm_controller(S space = {}, lstm_controller_options opts = {})
        : m_options(opts), m_learner(std::move(space), opts.policy,
                                     {.learning_rate = opts.learning_rate,
                                      .batch = opts.batch,
                                      .baseline_decay = opts.baseline_decay,
                                      .entropy_weight = opts.entropy_weight},
                                     "lstm_controller") {}

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        return m_learner.ask(gen);
    }
    void tell(const genotype& g, const evaluation& e) { m_learner.tell(g, e); }

    [[nodiscard]] const lstm_controller_options& opts() const noexcept { return m_options; }
    [[nodiscard]] const S& space() const noexcept { return m_learner.space(); }
    [[nodiscard]] const policy_learner<S, policy_type>& learner() const noexcept {
        return m_learner;
    }

private:
    lstm_controller_options m_options;
    policy_learner<S, policy_type> m_learner;
};

template <class S>
lstm_controller(S) -> lstm_controller<S>;
template <class S>
lstm_controller(S, lstm_controller_options) -> lstm_controller<S>;

} // namespace nascent::strategy
