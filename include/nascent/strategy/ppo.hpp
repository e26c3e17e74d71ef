#pragma once
// PPO with the clipped surrogate (Schulman et al. 2017) for either controller policy, as NASNet
// trained its controller (Zoph et al., CVPR 2018): after each batch of M rewards, `epochs` Adam
// steps on
//   -mean_j min(r_j A_j, clip(r_j, 1 - eps, 1 + eps) A_j) - beta * H,
// r_j = pi(a_j) / pi_old(a_j), pi_old being the policy that drew a_j (recorded at its ask, so
// asks in flight across an update keep their behaviour probability), A_j = R_j - b with the
// moving-average baseline (no critic, as in NASNet). Defaults: NASNet's learning rate 0.00035,
// entropy weight 1e-5 and baseline decay 0.95 (checked against the paper's appendix A.2: "PPO
// with learning rate 0.00035", "an entropy penalty with a weight of 0.00001", "an exponential
// moving average of previous rewards with a weight of 0.95", controller weights U(-0.1, 0.1));
// PPO's eps 0.2; 4 epochs and M = 10 are ours (NASNet, A.3: minibatches of 20 architectures; its
// controller is one LSTM layer of 100 units, lstm_policy_options{.hidden = 100, .layers = 1}).
//   ppo{space}                                        factorised policy
//   ppo{space, ppo_options{}, lstm_policy_options{}}  the LSTM controller's policy

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/strategy/lstm_controller.hpp>
#include <nascent/strategy/policy_gradient.hpp>
#include <nascent/strategy/reinforce.hpp>

#include <cstddef>
#include <utility>

namespace nascent::strategy {

struct ppo_options {
    double learning_rate = 0.00035; ///< Adam (NASNet)
    std::size_t batch = 10;         ///< M: rewards per update
    std::size_t epochs = 4;         ///< gradient steps per batch
    double clip = 0.2;              ///< eps, in (0, 1)
    double baseline_decay = 0.95;   ///< NASNet
    double entropy_weight = 1e-5;   ///< NASNet
};

template <CategoricalSpace S, class Policy = factorised_policy<S>>
requires CategoricalPolicy<Policy, genotype_t<S>>
class ppo {
public:
    using genotype = genotype_t<S>;
    using options = ppo_options;
    using policy_type = Policy;

    /// Throws std::invalid_argument for learning_rate <= 0, batch 0, epochs 0, clip outside
    /// (0, 1), baseline_decay outside [0, 1), entropy_weight < 0, or bad policy options.
    explicit ppo(S space = {}, ppo_options opts = {}, typename Policy::options policy = {})
        : m_options(opts), m_learner(std::move(space), policy,
                                     {.learning_rate = opts.learning_rate,
                                      .batch = opts.batch,
                                      .baseline_decay = opts.baseline_decay,
                                      .entropy_weight = opts.entropy_weight,
                                      .update = policy_update::ppo_clip,
                                      .epochs = opts.epochs,
                                      .clip = opts.clip},
                                     "ppo") {}

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        return m_learner.ask(gen);
    }
    void tell(const genotype& g, const evaluation& e) { m_learner.tell(g, e); }

    [[nodiscard]] const ppo_options& opts() const noexcept { return m_options; }
    [[nodiscard]] const S& space() const noexcept { return m_learner.space(); }
    [[nodiscard]] const policy_learner<S, Policy>& learner() const noexcept { return m_learner; }

private:
    ppo_options m_options;
    policy_learner<S, Policy> m_learner;
};

template <class S>
ppo(S) -> ppo<S>;
template <class S>
ppo(S, ppo_options) -> ppo<S>;
template <class S>
ppo(S, ppo_options, factorised_policy_options) -> ppo<S>;
template <class S>
ppo(S, ppo_options, lstm_policy_options) -> ppo<S, lstm_policy<S>>;

} // namespace nascent::strategy
