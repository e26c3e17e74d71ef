#pragma once
// The surrogates the CLI uses on NAS-Bench-201 (run --strategy bananas|bo-gp|bo-wl, predictors).

#include <nascent/bench/nb201_table.hpp>
#include <nascent/space/encodings.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/nb201_cost.hpp>
#include <nascent/surrogate/extra_features.hpp>
#include <nascent/surrogate/features.hpp>
#include <nascent/surrogate/gnn.hpp>
#include <nascent/surrogate/gp.hpp>
#include <nascent/surrogate/mlp_ensemble.hpp>
#include <nascent/surrogate/wl_kernel.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace nascent::cli::nb201_models {

namespace sg = surrogate;
using cell = nb201::cell;

struct path_encoder {
    std::vector<double> operator()(const cell& c) const { return encoding::paths(c); }
};

using ensemble_type = sg::mlp_ensemble<cell, path_encoder>;
using hamming_gp_type = sg::gp<sg::hamming, sg::edge_ops<nb201::space>>;
using wl_gp_type = sg::gp<sg::wl_kernel, sg::wl_feature_map<nb201::space>>;
using gcn_type = sg::gnn_predictor<cell, sg::cell_graph_map<nb201::space>>;

/// BANANAS' ensemble (5 MLPs of 10 x 20 on the path encoding).
[[nodiscard]] inline ensemble_type ensemble(std::uint64_t seed = 0) {
    return ensemble_type({}, {.seed = seed});
}
/// One random restart, hyper-parameters from at most 200 points: refits stay cheap as the
/// history grows (benchmarks/surrogate/bo_overhead.cpp).
inline constexpr sg::gp_options gp_settings{.restarts = 1, .optimise_on_at_most = 200};
/// Hamming kernel with one length-scale per edge.
[[nodiscard]] inline hamming_gp_type hamming_gp() {
    return hamming_gp_type(sg::hamming({.ard = nb201::num_edges}), {}, gp_settings);
}
/// NAS-BOWL's Weisfeiler-Lehman GP (h = 2).
[[nodiscard]] inline wl_gp_type wl_gp() {
    return wl_gp_type(sg::wl_kernel{}, {}, gp_settings);
}
/// The GCN predictor (3 layers of 64).
[[nodiscard]] inline gcn_type gcn(std::uint64_t seed = 0) {
    return gcn_type({}, {.seed = seed});
}

/// log params and log FLOPs of the full-size network: two zero-cost proxies for every cell.
struct cost_features {
    std::vector<double> operator()(const cell& c) const {
        const auto cost = nb201::network_cost(c);
        return {std::log(cost.params), std::log(cost.flops)};
    }
};
using cost_ensemble_type =
    sg::mlp_ensemble<cell, sg::augmented_encoder<path_encoder, cost_features>>;
using curve_ensemble_type = sg::mlp_ensemble<
    cell, sg::augmented_encoder<path_encoder, sg::metric_features<bench::nb201_evaluator>>>;

/// BANANAS' ensemble on the path encoding plus the two cost proxies (inputs standardised).
[[nodiscard]] inline cost_ensemble_type cost_ensemble(std::uint64_t seed = 0) {
    return cost_ensemble_type({}, {.seed = seed, .standardise_inputs = true});
}
/// BANANAS' ensemble on the path encoding plus the 12-epoch validation accuracy (a learning
/// curve's first point, from the table at fidelity 12; inputs standardised).
[[nodiscard]] inline curve_ensemble_type curve_ensemble(const bench::nb201_evaluator& evaluator,
                                                        std::uint64_t seed = 0) {
    return curve_ensemble_type(
        {{}, {.evaluator = &evaluator, .names = {"valid_acc@12"}, .fidelity = 12.0}},
        {.seed = seed, .standardise_inputs = true});
}

/// For run_model_based.
struct factories {
    [[nodiscard]] static auto encoder() { return path_encoder{}; }
    [[nodiscard]] static auto hamming_gp() { return nb201_models::hamming_gp(); }
    [[nodiscard]] static auto wl_gp() { return nb201_models::wl_gp(); }
};

} // namespace nascent::cli::nb201_models
