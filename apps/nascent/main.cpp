// nascent: the command-line tool. A thin layer over the library: it resolves the data directory,
// loads a table, picks the strategy by name and hands everything to the runners. Errors become
// one line on stderr and exit code 2.

#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

using nascent::cli::settings;

const std::vector<std::string> strategy_names{"random", "rea", "ls", "sh", "hyperband", "bohb", "nsga2"};
const std::vector<std::string> dataset_names{"cifar10", "cifar100", "imagenet16-120"};
const std::vector<std::string> benchmark_names{"nb201", "nb101"};

/// Accepts whole numbers >= `minimum` (below 2^64) and says so plainly otherwise.
CLI::Validator whole_number(unsigned long long minimum) {
    return CLI::Validator(
        [minimum](const std::string& text) -> std::string {
            unsigned long long value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            const std::string bound = ">= " + std::to_string(minimum);
            if (ec != std::errc{} || end != text.data() + text.size()) {
                return "expected a whole number " + bound + ", got '" + text + "'";
            }
            return value < minimum ? "must be " + bound + ", got " + text : "";
        },
        "INT>=" + std::to_string(minimum));
}

void add_common(CLI::App& cmd, settings& s) {
    cmd.add_option("--data", s.data,
                   "benchmark data directory (default: $NASCENT_DATA, else " NASCENT_DEFAULT_DATA_DIR ")");
    cmd.add_option("--benchmark", s.benchmark, "tabular benchmark")
        ->check(CLI::IsMember(benchmark_names))
        ->capture_default_str();
}

void add_search_options(CLI::App& cmd, settings& s) {
    const auto at_least_one = whole_number(1);
    cmd.add_option("--runs", s.runs, "independent runs")->check(at_least_one)->capture_default_str();
    cmd.add_option("--budget", s.budget,
                   "distinct architectures evaluated per run (sh, hyperband, bohb: in 12-epoch "
                   "evaluations, a 200-epoch one costing 200/12)")
        ->check(at_least_one)
        ->capture_default_str();
    cmd.add_option("--seed", s.seed, "master seed")->check(whole_number(0))->capture_default_str();
    cmd.add_option("--threads", s.threads, "worker threads")->check(at_least_one)->capture_default_str();
    cmd.add_option("--population", s.population, "population size (REA: 10, NSGA-II: 50)")->check(at_least_one);
    cmd.add_option("--sample", s.sample, "REA tournament size")->check(at_least_one)->capture_default_str();
    cmd.add_option("--reward", s.reward,
                   "search objective (nb201 default valid_acc@12; nb101 default valid_acc@108)");
    cmd.add_option("--report", s.report,
                   "metric reported for the chosen arch (nb201 default test_acc@200; nb101 default "
                   "valid_acc@108, the table has no test accuracy)");
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"nascent: neural architecture search on tabular benchmarks"};
    app.require_subcommand(1);
    settings s;
    std::string arch;
    std::optional<std::size_t> index;

    auto* run = app.add_subcommand("run", "run one strategy on one benchmark and dataset");
    add_common(*run, s);
    run->add_option("--dataset", s.dataset, "dataset (nb201)")
        ->check(CLI::IsMember(dataset_names))
        ->capture_default_str();
    run->add_option("--strategy", s.strategy, "search strategy (sh, hyperband, bohb: nb201 only)")
        ->check(CLI::IsMember(strategy_names))
        ->capture_default_str();
    add_search_options(*run, s);
    run->add_flag("--restrict-to-table", s.restrict_to_table,
                  "nb101: search only the cells the table holds");
    run->add_option("--json", s.json, "write all runs as JSON to this file");
    run->add_option("--objectives", s.objectives,
                    "multi-objective search (nb201): comma-separated test_acc, valid_acc, latency:<device>, "
                    "params, flops");
    run->add_option("--constraint", s.constraints, "METRIC<=VALUE or METRIC>=VALUE (repeatable)");
    run->add_option("--weights", s.weights, "scalarisation weights for rea/ls with --objectives");
    run->add_option("--scalarisation", s.scalarisation, "rea/ls with --objectives: how objectives combine")
        ->check(CLI::IsMember({"weighted", "chebyshev"}))
        ->capture_default_str();

    auto* compare = app.add_subcommand("compare", "all strategies on all NAS-Bench-201 datasets, one table");
    add_common(*compare, s);
    add_search_options(*compare, s);
    compare->add_option("--json", s.json, "write the table as JSON to this file");

    auto* query = app.add_subcommand("query", "print every metric of one cell");
    add_common(*query, s);
    auto* arch_opt = query->add_option("--arch", arch, "arch string (nb201: |op~0|+...; nb101: ADJACENCY:ops)");
    auto* index_opt = query->add_option("--index", index, "official NAS-Bench-201 index")
                          ->check(CLI::Range(std::size_t{0}, std::size_t{15624}));
    arch_opt->excludes(index_opt);

    auto* spaces = app.add_subcommand("spaces", "list the built-in search spaces with their sizes");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e); // --help
        std::fprintf(stderr, "nascent: error: %s (see nascent --help)\n", e.what());
        return 2;
    }
    if (*query && !*arch_opt && !*index_opt) {
        std::fprintf(stderr, "nascent: error: query needs --arch STRING or --index N\n");
        return 2;
    }
    if (*compare && s.benchmark != "nb201") {
        std::fprintf(stderr, "nascent: error: compare runs on nb201 only\n");
        return 2;
    }
    if (s.restrict_to_table && s.benchmark != "nb101") {
        std::fprintf(stderr, "nascent: error: --restrict-to-table applies to nb101 (nb201's table holds every cell)\n");
        return 2;
    }
    try {
        if (*run && s.objectives) {
            if (s.benchmark != "nb201") throw std::invalid_argument("--objectives applies to nb201");
            return nascent::cli::run_nb201_multi_objective(s);
        }
        if (*run && (!s.constraints.empty() || s.weights)) {
            throw std::invalid_argument("--constraint and --weights need --objectives");
        }
        if (*run && s.strategy == "nsga2") throw std::invalid_argument("nsga2 needs --objectives");
        if (*run) return s.benchmark == "nb101" ? nascent::cli::run_nb101(s) : nascent::cli::run_nb201(s);
        if (*compare) return nascent::cli::compare_nb201(s);
        if (*query) {
            if (s.benchmark == "nb101") {
                if (*index_opt) throw std::invalid_argument("--index is for nb201; give nb101 cells with --arch");
                return nascent::cli::query_nb101(s, arch);
            }
            return nascent::cli::query_nb201(s, arch, index);
        }
        if (*spaces) return nascent::cli::list_spaces();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nascent: error: %s\n", e.what());
        return 2;
    }
    return 2;
}
