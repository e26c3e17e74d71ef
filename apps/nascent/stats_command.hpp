#pragma once
// nascent stats: the statistics of stats/compare.hpp over the JSON files of `nascent run --json`
// (one file per strategy and dataset): anytime regret with 95 % bands, pairwise Mann-Whitney U
// with Holm correction and Vargha-Delaney A, mean ranks, Friedman and the Nemenyi critical
// difference, as JSON (tools/plot_stats.py draws the regret curves and the CD diagram).
//
//   nascent stats rs.json rea.json tpe.json ... [--json FILE] [--data DIR]
//
// The value compared is each run's reported metric (test_acc@200 by default) of its incumbent;
// NAS-Bench-201 regrets are to the table's optimum of that metric, other benchmarks' to the best
// value any run reached.

#include <optional>
#include <string>
#include <vector>

namespace nascent::cli {

struct stats_settings {
    std::vector<std::string> inputs;
    std::optional<std::string> json; ///< --json FILE; without it, JSON goes to stdout
    std::optional<std::string> data; ///< --data: for the NB201 table's optimum
};

int run_stats(const stats_settings& s);

} // namespace nascent::cli
