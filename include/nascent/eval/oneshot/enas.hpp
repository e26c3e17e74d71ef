#pragma once
// ENAS, efficient NAS by parameter sharing (Pham et al., ICML 2018), on a supernet, as
// NAS-Bench-201's reference code runs it (AutoDL-Projects, exps/NAS-Bench-201-algos/ENAS.py and
// scripts-search/NAS-Bench-201-algos/ENAS.sh). Per epoch:
//   1. the shared weights: one SGD step per training batch (run_oneshot's loop and schedule), on
//      the single path of a cell drawn from the controller's current policy (no gradient to it);
//   2. the controller (strategy/lstm_controller.hpp's LSTM policy and policy_learner): S x M
//      samples, each scored on the next batch of the architecture's half: reward = the
//      supernet's top-1 accuracy on that batch (a fraction, eval-mode BN); one REINFORCE step
//      per M samples on the batch mean of -(R - b) log pi, b the moving average started at the
//      first reward (b = b - (1 - decay)(b - R)), gradient norm clipped to 5, Adam with
//      betas (0, 0.999) and eps 1e-3 (ENAS' and NAS-Bench-201's controller optimiser);
//   3. the epoch's pick, recorded: `epoch_samples` cells drawn, each scored on one batch, the best.
// After the last epoch, `final_samples` cells are drawn and the best on one validation batch
// each is the result (NB201's get_best_arch with controller_num_samples = 100).
// Defaults are NB201's: S = 50 steps of M = 20 samples, entropy weight 1e-4, baseline decay
// 0.99, controller lr 0.001, a 2 x 32 LSTM with temperature 5 and tanh constant 2.5.
// One difference: NB201 adds beta * H to the reward, here -beta * H is a term of the loss (the
// learner's; with beta = 1e-4 against rewards in [0, 1] the two differ by little).

#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/search_data.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/strategy/lstm_controller.hpp>
#include <nascent/strategy/policy_gradient.hpp>
#include <nascent/tensor/autograd.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace nascent::eval::oneshot {

struct enas_options {
    std::size_t controller_steps = 50; ///< S: controller updates per epoch (ctl_train_steps)
    std::size_t aggregate = 20;        ///< M: samples per update (ctl_num_aggregate)
    double controller_lr = 0.001;      ///< Adam (NB201's ENAS.config; the ENAS paper: 0.0035)
    double adam_beta1 = 0.0;
    double adam_eps = 1e-3;
    double grad_clip = 5.0;
    double entropy_weight = 1e-4;
    double baseline_decay = 0.99;
    std::size_t epoch_samples = 10;         ///< the per-epoch pick (get_best_arch's default)
    std::size_t final_samples = 100;        ///< the final pick (controller_num_samples)
    strategy::lstm_policy_options policy{}; ///< 2 x 32, T = 5, tanh constant 2.5
};

/// One controller sample: the cell, its reward (accuracy on its batch, a fraction).
template <class Space>
struct enas_sample {
    typename Space::genotype cell{};
    double reward = 0.0;
};

/// What the controller did in one epoch.
template <class Space>
struct enas_epoch {
    std::size_t epoch = 0;    ///< 1-based
    double mean_reward = 0;   ///< over the epoch's S x M controller samples
    double baseline = 0;      ///< after the epoch
    double entropy = 0;       ///< nats, of the policy after the epoch (uniform: edges x ln ops)
    std::size_t distinct = 0; ///< distinct cells among the controller samples
    typename Space::genotype pick{}; ///< best of epoch_samples draws on one batch each
    double pick_reward = 0;
};

/// The supernet's top-1 accuracy (a fraction) on one batch with genotype g's single path, in
/// eval mode (running BN statistics), no graph: ENAS' reward.
template <class Space>
[[nodiscard]] double batch_reward(supernet<Space>& net, const typename Space::genotype& g,
                                  labelled_set batch) {
    net.set_genotype(g);
    return accuracy(net, batch, batch.size() == 0 ? 1 : batch.size()) / 100.0;
}

/// ENAS as a run_oneshot method (see the top of this header).
template <class Space>
class enas {
public:
    static constexpr bool has_alpha = false;
    using genotype = typename Space::genotype;
    using policy_type = strategy::lstm_policy<Space>;
    using learner_type = strategy::policy_learner<Space, policy_type>;

    explicit enas(enas_options o = {})
        : m_options(o), m_learner(Space{}, o.policy,
                                  {.learning_rate = o.controller_lr,
                                   .batch = o.aggregate,
                                   .baseline_decay = o.baseline_decay,
                                   .entropy_weight = o.entropy_weight,
                                   .adam_beta1 = o.adam_beta1,
                                   .adam_eps = o.adam_eps,
                                   .grad_clip = o.grad_clip,
                                   .baseline_bias_correction = false},
                                  "enas") {
        if (o.epoch_samples == 0 || o.final_samples == 0) {
            throw std::invalid_argument("enas: epoch_samples " + std::to_string(o.epoch_samples) +
                                        " and final_samples " + std::to_string(o.final_samples) +
                                        " must be >= 1");
        }
    }

    void begin_epoch(std::size_t epoch, std::size_t epochs) {
        m_epoch = epoch;
        m_epochs = epochs;
    }

    /// Phase 1: a weight step on a cell drawn from the policy.
    step_losses step(step_context<Space>& ctx) {
        ctx.net.set_genotype(m_learner.draw(ctx.gen));
        return {.train = weight_step(ctx)};
    }

    /// One controller sample scored on `batch` and told to the learner (which updates after
    /// every M of them).
    template <RandomGenerator G>
    enas_sample<Space> controller_step(supernet<Space>& net, labelled_set batch, G& gen) {
        const genotype g = m_learner.ask(gen);
        const double r = batch_reward(net, g, std::move(batch));
        m_learner.tell(g, evaluation::success(r));
        return {g, r};
    }

    /// Phases 2 and 3 (and the final pick after the last epoch).
    void end_epoch(supernet<Space>& net, const search_data& data, const search_options& options,
                   rng& gen) {
        batch_cycle batches{data.valid, options.batch_size};
        enas_epoch<Space> record;
        record.epoch = m_epoch + 1;
        const std::size_t n = m_options.controller_steps * m_options.aggregate;
        std::vector<genotype> seen;
        double total = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto s = controller_step(net, batches.next(gen), gen);
            total += s.reward;
            if (std::find(seen.begin(), seen.end(), s.cell) == seen.end())
                seen.push_back(s.cell);
        }
        record.mean_reward = n > 0 ? total / static_cast<double>(n) : 0.0;
        record.baseline = m_learner.baseline();
        record.distinct = seen.size();
        if (const auto& policy = m_learner.policy()) {
            double h = 0.0; // -E[log pi], Monte Carlo over fresh draws of the current policy
            for (std::size_t i = 0; i < entropy_draws; ++i)
                h -= policy->sample(gen).second;
            record.entropy = h / static_cast<double>(entropy_draws);
        }
        std::tie(record.pick, record.pick_reward) =
            best_of(net, batches, m_options.epoch_samples, gen);
        m_history.push_back(record);
        if (m_epoch + 1 == m_epochs) {
            auto [cell, reward] = best_of(net, batches, m_options.final_samples, gen);
            m_cell = cell;
            m_cell_reward = reward;
        }
    }

    /// The final pick (after the last epoch).
    [[nodiscard]] std::optional<genotype> cell() const { return m_cell; }
    [[nodiscard]] double cell_reward() const noexcept { return m_cell_reward; }
    [[nodiscard]] const std::vector<enas_epoch<Space>>& history() const noexcept {
        return m_history;
    }
    [[nodiscard]] const learner_type& learner() const noexcept { return m_learner; }
    [[nodiscard]] const enas_options& opts() const noexcept { return m_options; }

private:
    static constexpr std::size_t entropy_draws = 200;

    // The architecture half's batches in shuffled order, reshuffled when used up (as NB201
    // restarts its valid loader).
    struct batch_cycle {
        const labelled_set& set;
        std::size_t batch;
        std::vector<std::vector<std::size_t>> order{};
        std::size_t at = 0;

        labelled_set next(rng& gen) {
            if (at >= order.size()) {
                order = minibatches(set.size(), batch, gen);
                at = 0;
                if (order.empty())
                    throw std::invalid_argument("enas: no batch of 2 in the architecture half");
            }
            auto [images, labels] = set.gather(order[at++]);
            return {std::move(images), std::move(labels)};
        }
    };

    std::pair<genotype, double> best_of(supernet<Space>& net, batch_cycle& batches,
                                        std::size_t count, rng& gen) {
        genotype best{};
        double best_reward = -1.0;
        for (std::size_t i = 0; i < count; ++i) {
            const genotype g = m_learner.draw(gen);
            const double r = batch_reward(net, g, batches.next(gen));
            if (r > best_reward) { // the first of equals, as np.argmax
                best = g;
                best_reward = r;
            }
        }
        return {best, best_reward};
    }

    enas_options m_options;
    learner_type m_learner;
    std::size_t m_epoch = 0;
    std::size_t m_epochs = 1;
    std::vector<enas_epoch<Space>> m_history;
    std::optional<genotype> m_cell;
    double m_cell_reward = 0.0;
};

} // namespace nascent::eval::oneshot
