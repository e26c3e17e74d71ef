#pragma once
// The machinery every reinforcement-learning controller shares (REINFORCE, the LSTM controller,
// PPO): a policy over the positions of a CategoricalSpace, asked one architecture at a time and
// updated once a batch of M rewards is in.
//
// Asks before tells: each ask records the sample and its log-probability under the policy of the
// moment (the behaviour policy, which PPO's ratio needs). A tell is matched to the oldest pending
// ask of an equal genotype, so tells may arrive in any order and k asks may be in flight. The
// batch is processed in ask order (not tell order), so an update depends only on which samples
// it holds.
//
// What counts as a sample: every ask that is told an ok evaluation, repeats included. A repeat
// the runner answers from its history is a genuine draw from the policy, and the estimator
// E[(R - b) grad log pi] is unbiased only if every draw enters it with its reward. A failed or
// out-of-table evaluation has no reward to learn from: it leaves the pending list without
// entering a batch. A tell of a genotype that was never asked (or is no longer pending) is not a
// sample of this policy and is ignored.
//
// The baseline is an exponential moving average of the rewards, updated with each reward before
// its advantage R - b is taken (NAS-Bench-201's REINFORCE and ENAS alike), with the bias
// correction of NAS-Bench-201's ExponentialMovingAverage (ENAS starts its average at 0 instead,
// which makes the first advantages the whole reward). Parameters are initialised at the first
// ask from the run's generator, so every run of a protocol starts from its own initialisation and
// a copy of an unused controller is a fresh search.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/tensor/adam.hpp>
#include <nascent/tensor/autograd/activations.hpp>
#include <nascent/tensor/autograd/core.hpp>
#include <nascent/tensor/autograd/elementwise.hpp>
#include <nascent/tensor/optim.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::strategy {

/// What a policy gives the update for a batch: log pi(a) per sample [M] and the entropy bonus
/// term (a scalar: the policy's entropy, exact or estimated on the batch).
struct policy_terms {
    tensor::variable log_prob;
    tensor::variable entropy;
};

/// A policy over a categorical genotype: built at the first ask from the space, its options and
/// the run's generator; sample(gen) draws a genotype with its log-probability (no graph);
/// evaluate(actions, rows) records the graph of log pi and entropy for a batch whose decisions are
/// `actions` [rows x positions]; parameters() lists the leaves to optimise. Copies are deep.
template <class P, class G>
concept CategoricalPolicy = std::copy_constructible<P> &&
    requires(P& p, rng& gen, std::span<const std::int32_t> actions, std::size_t rows) {
    { p.sample(gen) } -> std::same_as<std::pair<G, double>>;
    { p.evaluate(actions, rows) } -> std::same_as<policy_terms>;
    { p.parameters() } -> std::convertible_to<std::span<const tensor::variable>>;
};

/// How the policy learns from a batch.
enum class policy_update : std::uint8_t {
    reinforce, ///< one gradient step on -mean((R - b) log pi) - beta * H
    ppo_clip,  ///< `epochs` steps on PPO's clipped surrogate (Schulman et al. 2017)
};

/// The learner's settings (each controller's options fill them).
struct learner_settings {
    double learning_rate = 1e-3;
    std::size_t batch = 1;       ///< M: rewards per update
    double baseline_decay = 0.9; ///< EMA momentum of the baseline
    double entropy_weight = 0.0; ///< beta
    policy_update update = policy_update::reinforce;
    std::size_t epochs = 1;  ///< ppo_clip: gradient steps per batch
    double clip = 0.2;       ///< ppo_clip: epsilon
    double adam_beta1 = 0.9; ///< ENAS' controller: 0
    double adam_eps = 1e-8;  ///< ENAS' controller: 1e-3
    double grad_clip = 0.0;  ///< clip the gradient's joint norm to this (0: off; ENAS: 5)
    /// true: NAS-Bench-201's bias-corrected EMA; false: ENAS' b_1 = R_1, then the plain EMA
    bool baseline_bias_correction = true;
};

namespace detail {

[[noreturn]] inline void bad_option(std::string_view who, std::string_view what,
                                    const std::string& value, std::string_view need) {
    throw std::invalid_argument(std::string(who) + ": " + std::string(what) + " must be " +
                                std::string(need) + ", got " + value);
}

inline void check_learner(std::string_view who, const learner_settings& s) {
    if (!(s.learning_rate > 0.0) || !std::isfinite(s.learning_rate))
        bad_option(who, "learning_rate", std::to_string(s.learning_rate), "> 0 and finite");
    if (s.batch == 0)
        bad_option(who, "batch", "0", ">= 1");
    if (!(s.baseline_decay >= 0.0 && s.baseline_decay < 1.0))
        bad_option(who, "baseline_decay", std::to_string(s.baseline_decay), "in [0, 1)");
    if (!(s.entropy_weight >= 0.0) || !std::isfinite(s.entropy_weight))
        bad_option(who, "entropy_weight", std::to_string(s.entropy_weight), ">= 0 and finite");
    if (s.epochs == 0)
        bad_option(who, "epochs", "0", ">= 1");
    if (!(s.clip > 0.0 && s.clip < 1.0))
        bad_option(who, "clip", std::to_string(s.clip), "in (0, 1)");
    if (!(s.adam_beta1 >= 0.0 && s.adam_beta1 < 1.0))
        bad_option(who, "adam_beta1", std::to_string(s.adam_beta1), "in [0, 1)");
    if (!(s.adam_eps > 0.0) || !std::isfinite(s.adam_eps))
        bad_option(who, "adam_eps", std::to_string(s.adam_eps), "> 0 and finite");
    if (!(s.grad_clip >= 0.0) || !std::isfinite(s.grad_clip))
        bad_option(who, "grad_clip", std::to_string(s.grad_clip), ">= 0 and finite");
}

/// Rejects spaces a policy cannot cover: no positions, or a position without choices.
template <CategoricalSpace S>
void check_categorical(std::string_view who, const S& space) {
    const std::size_t n = space.positions();
    if (n == 0)
        throw std::invalid_argument(std::string(who) + ": the space has no positions");
    for (std::size_t i = 0; i < n; ++i) {
        if (space.choices(i) == 0) {
            throw std::invalid_argument(std::string(who) + ": position " + std::to_string(i) +
                                        " has no choices");
        }
    }
}

/// Exponential moving average of the rewards: bias-corrected (NAS-Bench-201's
/// ExponentialMovingAverage), or started at the first reward (ENAS' and NAS-Bench-201's ENAS.py:
/// b_1 = R_1, then b = b - (1 - decay)(b - R)).
class ema_baseline {
public:
    explicit ema_baseline(double decay = 0.9, bool bias_corrected = true)
        : m_decay(decay), m_corrected(bias_corrected) {}
    void update(double reward) {
        if (!m_corrected && m_denominator == 0.0) {
            m_numerator = reward;
            m_denominator = 1.0;
            return;
        }
        m_numerator = m_decay * m_numerator + (1.0 - m_decay) * reward;
        m_denominator = m_corrected ? m_decay * m_denominator + (1.0 - m_decay) : 1.0;
    }
    /// 0 before the first update.
    [[nodiscard]] double value() const {
        return m_denominator > 0.0 ? m_numerator / m_denominator : 0.0;
    }

private:
    double m_decay;
    bool m_corrected;
    double m_numerator = 0.0;
    double m_denominator = 0.0;
};

/// Adam's moments as values (the policy's parameters are deep-copied with the strategy, so its
/// optimiser state must be too); the arithmetic of tensor::optim::adam (torch.optim.Adam).
class adam_state {
public:
    void step(std::span<const tensor::variable> params, const tensor::optim::adam_options& o) {
        if (m_m.empty()) {
            for (const auto& p : params) {
                m_m.emplace_back(p.shape());
                m_v.emplace_back(p.shape());
            }
        }
        ++m_t;
        const double c1 = 1.0 - std::pow(o.beta1, static_cast<double>(m_t));
        const double c2 = 1.0 - std::pow(o.beta2, static_cast<double>(m_t));
        const auto b1 = static_cast<float>(o.beta1);
        const auto b2 = static_cast<float>(o.beta2);
        const auto lr = static_cast<float>(o.lr / c1);
        const auto root_c2 = static_cast<float>(std::sqrt(c2));
        const auto eps = static_cast<float>(o.eps);
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (!params[i].has_grad())
                continue;
            float* w = params[i].mutable_value().data();
            const float* g = params[i].grad().data();
            float* m = m_m[i].data();
            float* v = m_v[i].data();
            for (std::size_t k = 0; k < m_m[i].size(); ++k) {
                m[k] = b1 * m[k] + (1 - b1) * g[k];
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
                w[k] -= lr * m[k] / (std::sqrt(v[k]) / root_c2 + eps);
            }
        }
    }

private:
    std::vector<tensor::ndarray> m_m;
    std::vector<tensor::ndarray> m_v;
    std::size_t m_t = 0;
};

/// Deep copies of parameter leaves (a copied controller must not share its weights).
[[nodiscard]] inline tensor::variable clone_parameter(const tensor::variable& p) {
    return p.defined() ? tensor::variable(p.value(), true) : tensor::variable{};
}

/// A constant [n] vector.
[[nodiscard]] inline tensor::variable constant_vector(const std::vector<double>& v) {
    auto a = tensor::ndarray::uninitialized({v.size()});
    for (std::size_t i = 0; i < v.size(); ++i)
        a[i] = static_cast<float>(v[i]);
    return tensor::variable(std::move(a));
}

/// A genotype with `n` positions to fill (vector genotypes are sized, array ones are already).
template <class G>
[[nodiscard]] G blank_genotype(std::size_t n) {
    G g{};
    if constexpr (requires { g.resize(n); })
        g.resize(n);
    return g;
}

/// Draws an index from log-probabilities `log_p` (one uniform draw; the last index with
/// positive probability catches rounding).
template <RandomGenerator G>
[[nodiscard]] std::size_t draw_categorical(std::span<const float> log_p, G& gen) {
    const double u = uniform_real(gen);
    double cumulative = 0.0;
    std::size_t last = 0;
    for (std::size_t c = 0; c < log_p.size(); ++c) {
        const double p = std::exp(static_cast<double>(log_p[c]));
        if (p > 0.0)
            last = c;
        cumulative += p;
        if (u < cumulative)
            return c;
    }
    return last;
}

} // namespace detail

/// The loss of one update, for a batch with advantages `advantage` and, for PPO, the behaviour
/// log-probabilities `old_log_prob`: REINFORCE -mean(A log pi) - beta H; PPO
/// -mean(min(r A, clip(r, 1 - eps, 1 + eps) A)) - beta H with r = pi / pi_old. Exposed for the
/// gradient tests.
[[nodiscard]] inline tensor::variable policy_loss(const policy_terms& terms,
                                                  const std::vector<double>& advantage,
                                                  const std::vector<double>& old_log_prob,
                                                  const learner_settings& s) {
    const std::size_t m = advantage.size();
    const double inv_m = 1.0 / static_cast<double>(m);
    tensor::variable surrogate;
    if (s.update == policy_update::reinforce) {
        std::vector<double> coef(m);
        for (std::size_t j = 0; j < m; ++j)
            coef[j] = -advantage[j] * inv_m;
        surrogate = tensor::sum(tensor::mul(terms.log_prob, detail::constant_vector(coef)));
    } else {
        // min(r A, clip(r) A) is r A where the clip is inactive or unfavourable, else a
        // constant: the gradient flows through those samples only.
        const auto& lp = terms.log_prob.value();
        std::vector<double> coef(m);
        for (std::size_t j = 0; j < m; ++j) {
            const double r = std::exp(static_cast<double>(lp[j]) - old_log_prob[j]);
            const double a = advantage[j];
            const bool active = a >= 0.0 ? r <= 1.0 + s.clip : r >= 1.0 - s.clip;
            coef[j] = active ? -a * inv_m : 0.0;
        }
        std::vector<double> minus_old(old_log_prob.size());
        for (std::size_t j = 0; j < m; ++j)
            minus_old[j] = -old_log_prob[j];
        const auto ratio =
            tensor::exp(tensor::add(terms.log_prob, detail::constant_vector(minus_old)));
        surrogate = tensor::sum(tensor::mul(ratio, detail::constant_vector(coef)));
    }
    if (s.entropy_weight > 0.0)
        return tensor::sub(surrogate,
                           tensor::scale(terms.entropy, static_cast<float>(s.entropy_weight)));
    return surrogate;
}

/// The ask/tell machinery over a policy P (see the top of this file).
template <CategoricalSpace S, class P>
class policy_learner {
public:
    using genotype = genotype_t<S>;
    using policy_options = typename P::options;

    policy_learner(S space, policy_options popts, learner_settings settings, std::string_view who)
        : m_space(std::move(space)), m_policy_options(popts), m_settings(settings),
          m_baseline(settings.baseline_decay, settings.baseline_bias_correction) {
        detail::check_learner(who, settings);
        detail::check_categorical(who, m_space);
        P::check(who, popts);
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        if (!m_policy)
            m_policy.emplace(m_space, m_policy_options, gen);
        auto [g, log_prob] = m_policy->sample(gen);
        m_pending.push_back({m_next_id++, g, log_prob, 0.0});
        return g;
    }

    /// A draw from the current policy that is not a sample to learn from (no pending ask): what
    /// ENAS trains the shared weights on. Initialises the policy like a first ask.
    template <RandomGenerator G>
    [[nodiscard]] genotype draw(G& gen) {
        if (!m_policy)
            m_policy.emplace(m_space, m_policy_options, gen);
        return m_policy->sample(gen).first;
    }

    void tell(const genotype& g, const evaluation& e) {
        const auto it = std::find_if(m_pending.begin(), m_pending.end(),
                                     [&](const sample& s) { return s.arch == g; });
        if (it == m_pending.end())
            return; // never asked, or already told: not a sample of this policy
        sample done = std::move(*it);
        m_pending.erase(it);
        if (!e.ok())
            return; // no reward to learn from
        done.reward = e.reward;
        m_batch.push_back(std::move(done));
        if (m_batch.size() >= m_settings.batch)
            update();
    }

    [[nodiscard]] const S& space() const noexcept { return m_space; }
    [[nodiscard]] const learner_settings& settings() const noexcept { return m_settings; }
    /// The policy; empty before the first ask.
    [[nodiscard]] const std::optional<P>& policy() const noexcept { return m_policy; }
    [[nodiscard]] std::size_t updates() const noexcept { return m_updates; }
    [[nodiscard]] std::size_t pending() const noexcept { return m_pending.size(); }
    [[nodiscard]] double baseline() const { return m_baseline.value(); }

private:
    struct sample {
        std::uint64_t id;
        genotype arch;
        double log_prob; // under the policy at ask time
        double reward;
    };

    void update() {
        std::sort(m_batch.begin(), m_batch.end(),
                  [](const sample& a, const sample& b) { return a.id < b.id; });
        const std::size_t m = m_batch.size();
        const std::size_t n = m_space.positions();
        std::vector<std::int32_t> actions(m * n);
        std::vector<double> advantage(m);
        std::vector<double> old_log_prob(m);
        for (std::size_t j = 0; j < m; ++j) {
            for (std::size_t i = 0; i < n; ++i)
                actions[j * n + i] = static_cast<std::int32_t>(m_batch[j].arch[i]);
            m_baseline.update(m_batch[j].reward);
            advantage[j] = m_batch[j].reward - m_baseline.value();
            old_log_prob[j] = m_batch[j].log_prob;
        }
        const tensor::optim::adam_options adam{.lr = m_settings.learning_rate,
                                               .beta1 = m_settings.adam_beta1,
                                               .eps = m_settings.adam_eps};
        const std::size_t steps =
            m_settings.update == policy_update::ppo_clip ? m_settings.epochs : 1;
        for (std::size_t step = 0; step < steps; ++step) {
            const std::span<const tensor::variable> params = m_policy->parameters();
            for (const auto& p : params)
                p.zero_grad();
            const auto terms = m_policy->evaluate(actions, m);
            policy_loss(terms, advantage, old_log_prob, m_settings).backward();
            if (m_settings.grad_clip > 0.0)
                (void)tensor::optim::clip_grad_norm(params, m_settings.grad_clip);
            m_adam.step(params, adam);
        }
        m_batch.clear();
        ++m_updates;
    }

    S m_space;
    policy_options m_policy_options;
    learner_settings m_settings;
    std::optional<P> m_policy;
    detail::ema_baseline m_baseline;
    detail::adam_state m_adam;
    std::vector<sample> m_pending;
    std::vector<sample> m_batch;
    std::uint64_t m_next_id = 0;
    std::size_t m_updates = 0;
};

} // namespace nascent::strategy
