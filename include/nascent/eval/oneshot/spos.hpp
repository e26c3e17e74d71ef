#pragma once
// SPOS, single-path one-shot (Guo et al., "Single Path One-Shot Neural Architecture Search with
// Uniform Sampling", ECCV 2020): the supernet's weights are trained one path at a time, the path
// of a cell drawn uniformly from the space at every step; there is no alpha. The search is then
// any Strategy run on the trained supernet as an Evaluator (supernet_evaluator, with batch-norm
// recalibration as the paper does before scoring each path): the paper runs evolution.
//
//     spos method;
//     auto trained = run_oneshot(*net, data, method, options);       // uniform single-path
//     supernet_evaluator score{net, data_ptr, {.recalibration_batches = 4}};
//     auto found = spos_search(rea, score, {.budget = 100, .seed = 0});  // e.g. REA

#include <nascent/concepts.hpp>
#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/exec/runner.hpp>

#include <utility>

namespace nascent::eval::oneshot {

struct spos {
    static constexpr bool has_alpha = false;

    void begin_epoch(std::size_t, std::size_t) const noexcept {}

    template <class Space>
    step_losses step(step_context<Space>& ctx) const {
        ctx.net.set_genotype(Space::sample(ctx.gen));
        return {.train = weight_step(ctx)};
    }
};

/// The search phase of SPOS: `strategy` (REA in the paper) on the supernet evaluator.
template <Strategy St, class E>
[[nodiscard]] auto spos_search(const St& strategy, E& evaluator, const run_options& options) {
    return nascent::run(strategy, evaluator, options);
}

} // namespace nascent::eval::oneshot
