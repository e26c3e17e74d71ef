#pragma once
// Named presets of model_based_search (strategy/model_based.hpp) for the published methods:
//
//   bananas(space, encoder)       BANANAS (White, Neiswanger & Savani, AAAI 2021): an ensemble of
//                                 5 MLPs (surrogate/mlp_ensemble.hpp) on `encoder` (the path
//                                 encoding in the paper), independent Thompson sampling over
//                                 mutations of the best and random samples, retrained every 10
//                                 evaluations
//   bayesian_optimisation(space, model)
//                                 BO with any Surrogate (a GP with a Hamming or WL kernel, as
//                                 NAS-BOWL, Ru et al., ICLR 2021), expected improvement, a full
//                                 refit every 10 evaluations and, for GPs, the O(n^2) update of
//                                 each evaluation in between
//
//   auto search = nascent::strategy::bananas(nb201::space{}, path_encoder{});
//   auto runs = nascent::run_protocol(space, search, evaluator, {.budget = 150, .runs = 100});

#include <nascent/strategy/model_based.hpp>
#include <nascent/surrogate/mlp_ensemble.hpp>

#include <utility>

namespace nascent::strategy {

struct bananas_options {
    model_based_options search{.acq = acquisition::thompson, .refit_every = 10};
    surrogate::mlp_ensemble_options ensemble{};
};

template <SearchSpace S, class Encoder>
[[nodiscard]] auto bananas(S space, Encoder encoder, const bananas_options& options = {}) {
    using model = surrogate::mlp_ensemble<genotype_t<S>, Encoder>;
    return model_based_search<S, model>(
        std::move(space), model(std::move(encoder), options.ensemble), options.search);
}

inline constexpr model_based_options bayesian_optimisation_defaults{
    .acq = acquisition::expected_improvement, .refit_every = 10};

template <SearchSpace S, class Model>
requires Surrogate<Model, genotype_t<S>>
[[nodiscard]] auto
bayesian_optimisation(S space, Model model,
                      const model_based_options& options = bayesian_optimisation_defaults) {
    return model_based_search<S, Model>(std::move(space), std::move(model), options);
}

} // namespace nascent::strategy
