#pragma once
// The model-based strategies of `nascent run` by name, for any benchmark that supplies its
// models (the encodings differ between NAS-Bench-201 and NAS-Bench-101):
//
//   bananas  BANANAS (White et al., AAAI 2021): an ensemble of 5 MLPs on the path encoding,
//            independent Thompson sampling over 100 candidates (mutations of the 10 best and
//            random samples), the ensemble refitted after every 10 evaluations
//   bo-gp    Bayesian optimisation with a GP (Hamming kernel on the ops, one length-scale per
//            position), expected improvement; hyper-parameters by ML-II after every 10
//            evaluations (on at most 200 points, one random restart), each new evaluation added in O(n^2) between
//   bo-wl    the same with the Weisfeiler-Lehman graph kernel (NAS-BOWL, Ru et al., ICLR 2021)
//
// All start from 10 random architectures, or from the warm-start designs when given.

#include "cli.hpp"

#include <nascent/strategy/model_based.hpp>
#include <nascent/strategy/warm_start.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nascent::cli {

/// Warm-start designs for a run (drawn with the run's generator).
template <class G>
using warm_start_designs = std::function<std::vector<G>(rng&)>;

/// How a benchmark makes its three surrogates: models.ensemble(), models.hamming_gp(),
/// models.wl_gp() return fresh, unfitted models.
template <class Space, class Evaluator, class Models>
std::vector<run_result<genotype_t<Space>>>
run_model_based(const Space& space, const Evaluator& evaluator, const settings& s, const run_options& options,
                const exec::tbb_executor& executor, const Models& models,
                const std::optional<warm_start_designs<genotype_t<Space>>>& warm) {
    auto go = [&](const auto& search) {
        if (warm) return run_protocol(space, strategy::warm_started(search, *warm), evaluator, options, executor);
        return run_protocol(space, search, evaluator, options, executor);
    };
    const strategy::model_based_options bo{.initial = 10, .candidates = 100, .parents = 10,
                                           .acq = strategy::acquisition::expected_improvement,
                                           .refit_every = 10};
    if (s.strategy == "bananas") {
        auto opts = bo;
        opts.acq = strategy::acquisition::thompson;
        return go(strategy::model_based_search(space, models.ensemble(), opts));
    }
    if (s.strategy == "bo-gp") return go(strategy::model_based_search(space, models.hamming_gp(), bo));
    if (s.strategy == "bo-wl") return go(strategy::model_based_search(space, models.wl_gp(), bo));
    throw std::invalid_argument("strategy '" + s.strategy + "' is not model-based");
}

} // namespace nascent::cli
