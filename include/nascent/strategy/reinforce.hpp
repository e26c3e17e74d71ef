#pragma once
// REINFORCE (Williams 1992) with a factorised categorical policy, as NAS-Bench-201 ran it
// (Dong & Yang, ICLR 2020, exps/algos/reinforce.py): one logit per (position, choice),
// initialised N(0, 1e-3^2), pi(a) = prod_i softmax(theta_i)[a_i]; after each reward, one Adam
// step (lr 0.001) on -(R - b) log pi(a), with b the bias-corrected moving average of the rewards
// (momentum 0.9) updated with R first. NAS-Bench-201 has no entropy term and updates after every
// sample (M = 1); both are options here (beta * H(pi), the exact entropy of the factorised
// policy, and M rewards per update, whose loss is the batch mean).

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/strategy/policy_gradient.hpp>
#include <nascent/tensor/autograd/activations.hpp>
#include <nascent/tensor/autograd/core.hpp>
#include <nascent/tensor/autograd/elementwise.hpp>
#include <nascent/tensor/autograd/indexing.hpp>
#include <nascent/tensor/autograd/shape.hpp>
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

struct factorised_policy_options {
    double init_std = 1e-3; ///< NAS-Bench-201: 1e-3 * randn
};

/// pi(a) = prod_i softmax(theta_i)[a_i] over the positions of a CategoricalSpace. theta is one
/// [positions, max choices] leaf; entries beyond a position's choices are masked to -1e9 (zero
/// probability, zero gradient).
template <CategoricalSpace S>
class factorised_policy {
public:
    using genotype = genotype_t<S>;
    using options = factorised_policy_options;

    static void check(std::string_view who, const options& o) {
        if (!(o.init_std >= 0.0) || !std::isfinite(o.init_std))
            detail::bad_option(who, "init_std", std::to_string(o.init_std), ">= 0 and finite");
    }

    template <RandomGenerator G>
    factorised_policy(const S& space, const options& o, G& gen) : m_positions(space.positions()) {
        for (std::size_t i = 0; i < m_positions; ++i)
            m_choices.push_back(space.choices(i));
        m_width = *std::max_element(m_choices.begin(), m_choices.end());
        tensor::ndarray theta = tensor::randn({m_positions, m_width}, gen);
        for (auto& v : theta.values())
            v = static_cast<float>(v * o.init_std);
        tensor::ndarray mask({m_positions, m_width});
        for (std::size_t i = 0; i < m_positions; ++i) {
            for (std::size_t c = m_choices[i]; c < m_width; ++c)
                mask[i * m_width + c] = -1e9F;
        }
        m_params.emplace_back(std::move(theta), true);
        m_mask = tensor::variable(std::move(mask));
    }

    factorised_policy(const factorised_policy& other)
        : m_positions(other.m_positions), m_width(other.m_width),
          m_choices(other.m_choices), m_params{detail::clone_parameter(other.m_params[0])},
          m_mask(other.m_mask) {}
    factorised_policy& operator=(const factorised_policy& other) {
        if (this != &other)
            *this = factorised_policy(other);
        return *this;
    }
    factorised_policy(factorised_policy&&) noexcept = default;
    factorised_policy& operator=(factorised_policy&&) noexcept = default;
    ~factorised_policy() = default;

    /// log softmax of each position's logits, [positions, max choices] (masked entries ~ -1e9).
    [[nodiscard]] tensor::ndarray log_probabilities() const {
        const tensor::no_grad_guard off;
        return tensor::log_softmax(tensor::add(m_params[0], m_mask)).value();
    }

    template <RandomGenerator G>
    [[nodiscard]] std::pair<genotype, double> sample(G& gen) const {
        const tensor::ndarray lp = log_probabilities();
        auto g = detail::blank_genotype<genotype>(m_positions);
        double log_prob = 0.0;
        for (std::size_t i = 0; i < m_positions; ++i) {
            const std::span<const float> row(lp.data() + i * m_width, m_choices[i]);
            const std::size_t c = detail::draw_categorical(row, gen);
            g[i] = static_cast<std::remove_cvref_t<decltype(g[i])>>(c);
            log_prob += row[c];
        }
        return {g, log_prob};
    }

    [[nodiscard]] policy_terms evaluate(std::span<const std::int32_t> actions,
                                        std::size_t rows) const {
        const auto lp = tensor::log_softmax(tensor::add(m_params[0], m_mask));
        std::vector<std::int32_t> row_of(rows * m_positions);
        for (std::size_t k = 0; k < row_of.size(); ++k)
            row_of[k] = static_cast<std::int32_t>(k % m_positions);
        const auto picked = tensor::pick(tensor::embedding(lp, row_of), actions);
        const auto log_prob = tensor::row_sums(tensor::reshape(picked, {rows, m_positions}));
        const auto entropy = tensor::scale(tensor::sum(tensor::mul(tensor::exp(lp), lp)), -1.0F);
        return {log_prob, entropy};
    }

    [[nodiscard]] std::span<const tensor::variable> parameters() const noexcept { return m_params; }

private:
    std::size_t m_positions = 0;
    std::size_t m_width = 0;
    std::vector<std::size_t> m_choices;
    std::vector<tensor::variable> m_params;
    tensor::variable m_mask;
};

struct reinforce_options {
    double learning_rate = 1e-3; ///< Adam; NAS-Bench-201's value
    std::size_t batch = 1;       ///< M: rewards per update (NAS-Bench-201: 1)
    double baseline_decay = 0.9; ///< EMA momentum (NAS-Bench-201: 0.9)
    double entropy_weight = 0.0; ///< beta (NAS-Bench-201: none)
    double init_std = 1e-3;      ///< logits ~ N(0, init_std^2)
};

/// REINFORCE on any CategoricalSpace (see the top of this file and policy_gradient.hpp).
template <CategoricalSpace S>
class reinforce {
public:
    using genotype = genotype_t<S>;
    using options = reinforce_options;
    using policy_type = factorised_policy<S>;

    /// Throws std::invalid_argument for learning_rate <= 0, batch 0, baseline_decay outside
    /// [0, 1), entropy_weight < 0, init_std < 0, or a space with a position without choices.
    explicit reinforce(S space = {}, reinforce_options opts = {})
        : m_options(opts), m_learner(std::move(space), {.init_std = opts.init_std},
                                     {.learning_rate = opts.learning_rate,
                                      .batch = opts.batch,
                                      .baseline_decay = opts.baseline_decay,
                                      .entropy_weight = opts.entropy_weight},
                                     "reinforce") {}

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        return m_learner.ask(gen);
    }
    void tell(const genotype& g, const evaluation& e) { m_learner.tell(g, e); }

    [[nodiscard]] const reinforce_options& opts() const noexcept { return m_options; }
    [[nodiscard]] const S& space() const noexcept { return m_learner.space(); }
    [[nodiscard]] const policy_learner<S, policy_type>& learner() const noexcept {
        return m_learner;
    }

private:
    reinforce_options m_options;
    policy_learner<S, policy_type> m_learner;
};

template <class S>
reinforce(S) -> reinforce<S>;
template <class S>
reinforce(S, reinforce_options) -> reinforce<S>;

} // namespace nascent::strategy
