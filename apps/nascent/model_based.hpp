#pragma once
// The model-based strategies of `nascent run` by name, for any benchmark that supplies its
// models (the encodings differ between NAS-Bench-201 and NAS-Bench-101):
//
//   bananas  strategy::bananas: 5 MLPs on the path encoding, independent Thompson sampling over 100
//            candidates (mutations of the 10 best and random samples), retrained every 10
//            evaluations
//   bo-gp    strategy::bayesian_optimisation with a GP (Hamming kernel on the ops, one
//            length-scale per position), expected improvement; ML-II after every 10 evaluations
//            (on at most 200 points, one random restart), each evaluation added in O(n^2) between
//   bo-wl    the same with the Weisfeiler-Lehman graph kernel (NAS-BOWL, Ru et al., ICLR 2021)
//
// All start from 10 random architectures, or from the warm-start designs when given.

#include "cli.hpp"

#include <nascent/strategy/bananas.hpp>
#include <nascent/strategy/warm_start.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nascent::cli {

/// Warm-start designs for a run (drawn with the run's generator).
template <class G>
using warm_start_designs = std::function<std::vector<G>(rng&)>;

/// What a benchmark supplies: models.encoder() (BANANAS' input encoding), models.hamming_gp()
/// and models.wl_gp() (fresh, unfitted GPs).
template <class Space, class Evaluator, class Models>
std::vector<run_result<genotype_t<Space>>>
run_model_based(const Space& space, const Evaluator& evaluator, const settings& s,
                const run_options& options, const exec::tbb_executor& executor,
                const Models& models,
                const std::optional<warm_start_designs<genotype_t<Space>>>& warm) {
    auto go = [&](const auto& search) {
        if (warm)
            return run_protocol(space, strategy::warm_started(search, *warm), evaluator, options,
                                executor);
        return run_protocol(space, search, evaluator, options, executor);
    };
    if (s.strategy == "bananas")
        return go(strategy::bananas(space, models.encoder()));
    if (s.strategy == "bo-gp")
        return go(strategy::bayesian_optimisation(space, models.hamming_gp()));
    if (s.strategy == "bo-wl")
        return go(strategy::bayesian_optimisation(space, models.wl_gp()));
    throw std::invalid_argument("strategy '" + s.strategy + "' is not model-based");
}

} // namespace nascent::cli
