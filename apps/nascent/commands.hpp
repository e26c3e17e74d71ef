#pragma once
// The subcommands of the nascent CLI, one translation unit per benchmark.

#include "cli.hpp"

#include <nascent/bench/nb101_table.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/space/encodings.hpp>
#include <nascent/space/member_space.hpp>
#include <nascent/space/nb101.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace nascent::cli {

int run_nb201(const settings& s);
int compare_nb201(settings s);
int run_nb201_multi_objective(const settings& s);
int query_nb201(const settings& s, const std::string& arch, std::optional<std::size_t> index);

/// The model-based strategies of the registry (model_based.hpp) on the NAS-Bench-201 table.
std::vector<run_result<nb201::cell>> run_nb201_model_based(const bench::nb201_table& table,
                                                           const bench::nb201_evaluator& evaluator,
                                                           const settings& s,
                                                           const run_options& options,
                                                           const exec::tbb_executor& executor);

/// Path encodings give NB101's restricted space its locality: they are invariant to vertex order.
struct nb101_path_encoder {
    std::vector<double> operator()(const nb101::cell& c) const { return encoding::paths(c); }
};
using nb101_restricted_space = space::member_space<nb101::space, nb101_path_encoder>;

/// The model-based strategies on the NAS-Bench-101 table, over all cells or only the table's.
std::vector<run_result<nb101::cell>> run_nb101_model_based(const nb101::space& space,
                                                           const bench::nb101_evaluator& evaluator,
                                                           const settings& s,
                                                           const run_options& options,
                                                           const exec::tbb_executor& executor);
std::vector<run_result<nb101::cell>> run_nb101_model_based(const nb101_restricted_space& space,
                                                           const bench::nb101_evaluator& evaluator,
                                                           const settings& s,
                                                           const run_options& options,
                                                           const exec::tbb_executor& executor);

int run_nb101(const settings& s);
int query_nb101(const settings& s, const std::string& arch);

int list_spaces();

/// Everything `train` and `build-table` take from the command line (defaults: a reduced network
/// and NB201's optimiser settings; eval/training.hpp).
struct train_settings {
    std::string space = "nb201";
    std::string arch;                  ///< train
    std::optional<std::string> archs;  ///< build-table: a file of arch strings
    std::optional<std::size_t> sample; ///< build-table: a random sample of distinct cells
    std::string out;                   ///< build-table: the CSV
    bool with_seconds = false;         ///< build-table: a train_seconds column (varies run to run)
    double epochs = 1;
    std::size_t channels = 8;
    std::size_t cells = 1;
    std::size_t input_channels = 1;
    double width = 0.25; ///< mbconv: OFA's width multiplier
    std::size_t batch = 256;
    double lr = 0.1;
    double momentum = 0.9;
    double weight_decay = 5e-4;
    std::size_t train_subset = 0; ///< 0: all 50,000 training images
    std::size_t eval_subset = 0;  ///< 0: all 10,000 validation and test images
    std::uint64_t seed = 0;
    std::size_t threads = 2;
    std::optional<std::string> data;   ///< benchmark data (NB201 table: official indices)
    std::optional<std::string> fmnist; ///< Fashion-MNIST directory (default: Debian's)
};

int train_cell(const train_settings& s);
int build_table(const train_settings& s);

} // namespace nascent::cli
