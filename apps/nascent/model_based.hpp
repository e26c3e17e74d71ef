#pragma once
// The registry's model-based strategies (exec/registry.hpp) on a benchmark that supplies their
// surrogates: the encodings differ between NAS-Bench-201 and NAS-Bench-101. BANANAS' ensemble
// reads the benchmark's encoder, BO its Hamming and Weisfeiler-Lehman GPs (ML-II every 10
// evaluations on at most 200 points, one random restart, each evaluation added in O(n^2) between).
// All start from 10 random architectures, or from the warm-start designs when given.

#include "checkpointing.hpp" // cli.hpp, and run_checkpointed, which run_search_named calls

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nascent::cli {

/// Warm-start designs for a run (drawn with the run's generator).
template <class G>
using warm_start_designs = std::function<std::vector<G>(rng&)>;

/// What a benchmark supplies: models.encoder() (BANANAS' input encoding), models.hamming_gp()
/// and models.wl_gp() (fresh, unfitted GPs): the registry's surrogates.
template <class Space, class Evaluator, class Models>
std::vector<run_result<genotype_t<Space>>>
run_model_based(const Space& space, const Evaluator& evaluator, const settings& s,
                const run_options& options, const exec::tbb_executor& executor,
                const Models& models,
                const std::optional<warm_start_designs<genotype_t<Space>>>& warm) {
    const exec::strategy_context<Space, Models> context{
        .space = space,
        .options = strategy_options_of(s),
        .surrogates = models,
        .warm_start = warm.value_or(warm_start_designs<genotype_t<Space>>{})};
    return run_named(context, evaluator, s, options, executor);
}

} // namespace nascent::cli
