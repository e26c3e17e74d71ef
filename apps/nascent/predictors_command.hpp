#pragma once
// nascent predictors: how well surrogate predictors rank NAS-Bench-201 cells after training on
// n random cells (the protocol of White et al., "How Powerful are Performance Predictors in Neural
// Architecture Search?", NeurIPS 2021): Kendall tau and Spearman rho on held-out cells, fit and
// predict times, over seeds.
//
//   nascent predictors [--dataset cifar10] [--target valid_acc@200] [--sizes 20,50,100,200,400]
//                      [--test 1000] [--seeds 20] [--predictors gcn,bananas,gp,wl-gp]
//
//   gcn           graph convolutional predictor on the cell graph (surrogate/gnn.hpp)
//   bananas       BANANAS' ensemble of 5 MLPs on the path encoding
//   gp / wl-gp    GPs with a Hamming kernel on the edge ops / the WL graph kernel
//   bananas+cost  the ensemble with log params and log FLOPs as extra inputs (zero-cost)
//   bananas+lc    the ensemble with the 12-epoch validation accuracy as an extra input (a learning
//                 curve's first point, as the learning-curve predictors of the NASLib study)
//                      [--seed S] [--threads T] [--json FILE] [--data DIR]

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nascent::cli {

struct predictors_settings {
    std::optional<std::string> data;
    std::optional<std::string> json;
    std::string dataset = "cifar10";
    std::string target = "valid_acc@200";
    std::vector<std::size_t> sizes{20, 50, 100, 200, 400};
    std::size_t test = 1000;
    std::size_t seeds = 20;
    std::vector<std::string> predictors{"gcn", "bananas", "gp", "wl-gp"};
    std::uint64_t seed = 0;
    std::size_t threads = 2;
};

/// Per seed, draws disjoint test and training cells among those with a finite target (training
/// sets nested: the first n of one pool), fits every predictor on -log(100 - accuracy) (a monotone
/// transform, as NAS-BOWL; ranks are unchanged) and scores its mean predictions against the test
/// accuracies. Prints a table; --json writes every seed's figures. Results do not depend on the
/// thread count (the times do). Bad settings throw std::invalid_argument.
int run_predictors(const predictors_settings& s);

/// The predictors --predictors accepts, for --help: "gcn, bananas, gp (Hamming), ...".
std::string predictor_choices();

} // namespace nascent::cli
