#pragma once
// nascent oneshot: weight-sharing search on the reduced NAS-Bench-201 supernet trained on
// Fashion-MNIST (eval/oneshot/), then the discretised cell looked up in the NB201 table.
//
//   nascent oneshot --method spos|darts|darts2|gdas|drnas|enas --space nb201 --epochs E --seed S
//                   [--threads T] [--json FILE] [--retrain] [--data DIR] [--fmnist DIR] ...

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace nascent::cli {

struct oneshot_settings {
    std::string method;
    std::string space = "nb201";
    std::size_t epochs = 10;
    std::uint64_t seed = 0;
    std::size_t threads = 2;
    std::optional<std::string> json;
    bool retrain = false;
    std::optional<std::string> data;   ///< NB201 table directory
    std::optional<std::string> fmnist; ///< Fashion-MNIST directory
    std::size_t channels = 8;
    std::size_t cells = 1;
    std::size_t batch = 64;
    std::size_t train_subset = 10000; ///< split into the weights' and alpha's halves
    std::size_t eval_subset = 2000;   ///< validation images the supernet scores on
    std::size_t budget = 100;         ///< SPOS: genotypes REA scores on the supernet
    std::size_t recalibrate = 4;      ///< SPOS: BN recalibration batches per genotype
    double a_lr = 3e-4;
    std::size_t controller_steps = 50; ///< ENAS: controller updates per epoch
    std::size_t aggregate = 20;        ///< ENAS: samples per controller update
    std::size_t final_samples = 100;   ///< ENAS: cells drawn for the final pick
    double controller_lr = 0.001;      ///< ENAS: Adam learning rate of the controller
    bool quiet = false;                ///< no alpha table per epoch
};

/// Adds the subcommand and its options to `app`.
CLI::App* add_oneshot_command(CLI::App& app, oneshot_settings& s);

/// Runs it: 0 when the search ended ok, 1 when it failed (non-finite loss: trace still written);
/// bad settings throw std::invalid_argument.
int run_oneshot_command(const oneshot_settings& s);

} // namespace nascent::cli
