// nascent: the command-line tool. A thin layer over the library: it resolves the data directory,
// loads a table, picks the strategy by name and hands everything to the runners. Errors become
// one line on stderr and exit code 2.

#include "commands.hpp"
#include "oneshot_command.hpp"
#include "predictors_command.hpp"
#include "proxies_command.hpp"
#include "search_command.hpp"
#include "stats_command.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

using nascent::cli::settings;

using nascent::exec::join;
using nascent::exec::strategy_kind;

const std::vector<std::string> dataset_names(nascent::bench::nb201_dataset_names.begin(),
                                             nascent::bench::nb201_dataset_names.end());
const std::string multi_fidelity =
    join(nascent::cli::strategies_of_kind(strategy_kind::multi_fidelity));
const std::string model_based = join(nascent::cli::model_based_strategies());
/// Strategies that learn from a reward, so a multi-objective run scalarises for them.
const std::string scalarised = [] {
    std::string out;
    for (const auto& name : nascent::cli::plain_strategies()) {
        if (!nascent::exec::find_strategy(name).reward_free)
            out += (out.empty() ? "" : "/") + name;
    }
    return out;
}();
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

/// Accepts finite numbers > 0 (or >= 0 with `allow_zero`).
CLI::Validator real_number(bool allow_zero) {
    return CLI::Validator(
        [allow_zero](const std::string& text) -> std::string {
            double value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            const std::string bound = allow_zero ? ">= 0" : "> 0";
            if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
                return "expected a number " + bound + ", got '" + text + "'";
            }
            return (allow_zero ? value >= 0 : value > 0) ? ""
                                                         : "must be " + bound + ", got " + text;
        },
        allow_zero ? "NUM>=0" : "NUM>0");
}

/// The options `train` and `build-table` share: the space, the network and the training run.
void add_training_options(CLI::App& cmd, nascent::cli::train_settings& t) {
    cmd.add_option("--space", t.space, "cell space (mbconv: OFA MobileNetV3 subnets)")
        ->check(CLI::IsMember({"nb201", "nb101", "mbconv"}))
        ->capture_default_str();
    cmd.add_option("--width", t.width, "mbconv: width multiplier")
        ->check(real_number(false))
        ->capture_default_str();
    cmd.add_option("--epochs", t.epochs, "training epochs")
        ->check(real_number(false))
        ->capture_default_str();
    cmd.add_option("--channels", t.channels, "channels of the first stage (nb101: stem channels)")
        ->check(whole_number(1))
        ->capture_default_str();
    cmd.add_option("--cells", t.cells, "cells per stage (nb101: per stack)")
        ->check(whole_number(1))
        ->capture_default_str();
    cmd.add_option("--input-channels", t.input_channels, "1 (grey) or 3 (grey replicated)")
        ->check(whole_number(1))
        ->capture_default_str();
    cmd.add_option("--batch", t.batch, "batch size")->check(whole_number(1))->capture_default_str();
    cmd.add_option("--lr", t.lr, "learning rate (cosine schedule to 0 over the epochs)")
        ->check(real_number(false))
        ->capture_default_str();
    cmd.add_option("--momentum", t.momentum, "Nesterov momentum, in (0, 1)")
        ->check(real_number(false))
        ->capture_default_str();
    cmd.add_option("--weight-decay", t.weight_decay, "L2 weight decay")
        ->check(real_number(true))
        ->capture_default_str();
    cmd.add_option("--train-subset", t.train_subset,
                   "train on the first N training images (0: all 50,000)")
        ->check(whole_number(0))
        ->capture_default_str();
    cmd.add_option("--eval-subset", t.eval_subset,
                   "evaluate on the first N validation and test images (0: all)")
        ->check(whole_number(0))
        ->capture_default_str();
    cmd.add_option("--seed", t.seed, "master seed (per-cell seeds derive from it and the cell)")
        ->check(whole_number(0))
        ->capture_default_str();
    cmd.add_option("--threads", t.threads, "worker threads")
        ->check(whole_number(1))
        ->capture_default_str();
    cmd.add_option("--fmnist", t.fmnist,
                   "Fashion-MNIST directory (default: /usr/share/datasets/fashion-mnist)");
}

void add_common(CLI::App& cmd, settings& s) {
    cmd.add_option(
        "--data", s.data,
        "benchmark data directory (default: $NASCENT_DATA, else " NASCENT_DEFAULT_DATA_DIR ")");
    cmd.add_option("--benchmark", s.benchmark, "tabular benchmark")
        ->check(CLI::IsMember(benchmark_names))
        ->capture_default_str();
}

void add_search_options(CLI::App& cmd, settings& s) {
    const auto at_least_one = whole_number(1);
    cmd.add_option("--runs", s.runs, "independent runs")
        ->check(at_least_one)
        ->capture_default_str();
    cmd.add_option("--budget", s.budget,
                   "distinct architectures evaluated per run (" + multi_fidelity +
                       ": in 12-epoch evaluations, a 200-epoch one costing 200/12)")
        ->check(at_least_one)
        ->capture_default_str();
    cmd.add_option("--seed", s.seed, "master seed")->check(whole_number(0))->capture_default_str();
    cmd.add_option("--threads", s.threads, "worker threads")
        ->check(at_least_one)
        ->capture_default_str();
    cmd.add_option("--population", s.population, "population size (REA: 10, NSGA-II: 50)")
        ->check(at_least_one);
    cmd.add_option("--sample", s.sample, "REA tournament size")
        ->check(at_least_one)
        ->capture_default_str();
    cmd.add_option("--reward", s.reward,
                   "search objective (nb201 default valid_acc@12; nb101 default valid_acc@108)");
    cmd.add_option("--report", s.report,
                   "metric reported for the chosen arch (nb201 default test_acc@200; nb101 default "
                   "valid_acc@108, the table has no test accuracy)");
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"nascent: neural architecture search on tabular benchmarks and real training"};
    app.require_subcommand(1);
    settings s;
    std::string arch;
    std::optional<std::size_t> index;

    auto* run = app.add_subcommand("run", "run one strategy on one benchmark and dataset");
    add_common(*run, s);
    run->add_option("--dataset", s.dataset, "dataset (nb201)")
        ->check(CLI::IsMember(dataset_names))
        ->capture_default_str();
    run->add_option("--strategy", s.strategy,
                    "search strategy (" + multi_fidelity + ": nb201 only)")
        ->check(CLI::IsMember(nascent::exec::strategy_names()))
        ->capture_default_str();
    add_search_options(*run, s);
    run->add_flag("--restrict-to-table", s.restrict_to_table,
                  "nb101: search only the cells the table holds");
    run->add_option("--warm-start", s.warm_start,
                    model_based +
                        " on nb201: start from the top published zero-cost scores (a proxy "
                        "of data/zc/nb201_<dataset>.csv, e.g. synflow) or transfer:DATASET (a GP "
                        "fitted on that "
                        "dataset's table ranks random cells)");
    run->add_option("--json", s.json, "write all runs as JSON to this file");
    run->add_option("--checkpoint", s.checkpoint,
                    "write a checkpoint to this file (every strategy and path; atomic, every "
                    "--checkpoint-every evaluations and on SIGINT/SIGTERM)");
    run->add_option("--resume", s.resume,
                    "resume from this checkpoint, exactly, and go on checkpointing to it");
    run->add_option("--checkpoint-every", s.checkpoint_every, "evaluations between checkpoints")
        ->check(whole_number(1))
        ->capture_default_str();
    run->add_option("--in-flight", s.in_flight,
                    "evaluations in flight per run (synchronous batches: same result for any "
                    "--threads)")
        ->check(whole_number(1))
        ->capture_default_str();
    run->add_option(
        "--objectives", s.objectives,
        "multi-objective search (nb201): comma-separated test_acc, valid_acc, latency:<device>, "
        "params, flops");
    run->add_option("--constraint", s.constraints, "METRIC<=VALUE or METRIC>=VALUE (repeatable)");
    run->add_option("--weights", s.weights,
                    "scalarisation weights for " + scalarised + " with --objectives");
    run->add_option("--scalarisation", s.scalarisation,
                    scalarised + " with --objectives: how objectives combine")
        ->check(CLI::IsMember({"weighted", "chebyshev"}))
        ->capture_default_str();

    auto* compare =
        app.add_subcommand("compare", "strategies on all NAS-Bench-201 datasets, one table");
    add_common(*compare, s);
    add_search_options(*compare, s);
    compare->add_option("--json", s.json, "write the table as JSON to this file");
    compare
        ->add_option("--strategies", s.compare_strategies,
                     "comma-separated plain strategies to compare (default random,rea,ls)")
        ->delimiter(',');

    auto* query = app.add_subcommand("query", "print every metric of one cell");
    add_common(*query, s);
    auto* arch_opt =
        query->add_option("--arch", arch, "arch string (nb201: |op~0|+...; nb101: ADJACENCY:ops)");
    auto* index_opt = query->add_option("--index", index, "official NAS-Bench-201 index")
                          ->check(CLI::Range(std::size_t{0}, std::size_t{15624}));
    arch_opt->excludes(index_opt);

    auto* spaces = app.add_subcommand("spaces", "list the built-in search spaces with their sizes");

    nascent::cli::train_settings t;
    auto* train =
        app.add_subcommand("train", "train one cell on Fashion-MNIST and print every metric");
    add_training_options(*train, t);
    train->add_option("--arch", t.arch, "arch string (nb201: |op~0|+...; nb101: ADJACENCY:ops)")
        ->required();
    auto* build = app.add_subcommand(
        "build-table", "train a list or a sample of cells on Fashion-MNIST into a CSV table "
                       "(resumable: rows already in the file are kept)");
    add_training_options(*build, t);
    auto* archs_opt = build->add_option("--archs", t.archs, "file of arch strings, one per line");
    auto* sample_opt = build
                           ->add_option("--sample", t.sample,
                                        "a random sample of N distinct cells (drawn with --seed)")
                           ->check(whole_number(1));
    archs_opt->excludes(sample_opt);
    build->add_option("--out", t.out, "the CSV table to write or resume")->required();
    build->add_option(
        "--data", t.data,
        "benchmark data directory: nb201 rows get their official index from its table (default: "
        "$NASCENT_DATA, else " NASCENT_DEFAULT_DATA_DIR " if present, else the row number)");
    build->add_flag("--with-seconds", t.with_seconds,
                    "add a train_seconds column (then the file differs from run to run)");

    nascent::cli::proxies_settings px;
    auto* proxies = app.add_subcommand(
        "proxies", "zero-cost proxies of a random sample of NAS-Bench-201 cells");
    proxies->add_option("--space", px.space, "search space")
        ->check(CLI::IsMember({"nb201"}))
        ->capture_default_str();
    proxies->add_option("--sample", px.sample, "distinct cells")
        ->check(whole_number(1))
        ->capture_default_str();
    proxies->add_option("--seed", px.seed, "cells, weights and images")
        ->check(whole_number(0))
        ->capture_default_str();
    proxies->add_option("--json", px.json,
                        "write the scores as JSON to this file (default: stdout)");
    proxies->add_option("--threads", px.threads, "worker threads")
        ->check(whole_number(1))
        ->capture_default_str();
    proxies->add_option("--batch", px.batch, "images for the data-dependent proxies")
        ->check(whole_number(1))
        ->capture_default_str();
    proxies->add_option("--data", px.data, "benchmark data directory (official indices)");
    proxies->add_option("--fmnist", px.fmnist, "Fashion-MNIST directory (default: Debian's)");
    proxies->add_flag("--data-free", px.data_free, "only synflow, l2_norm, params and flops");

    nascent::cli::stats_settings st;
    auto* stats = app.add_subcommand(
        "stats", "regret bands, rank tests (Holm), effect sizes and a CD diagram's ranks over "
                 "`run --json` files");
    stats->add_option("files", st.inputs, "run files, one per strategy and dataset")
        ->required()
        ->check(CLI::ExistingFile);
    stats->add_option("--json", st.json, "write the report here (default: stdout)");
    stats->add_option("--data", st.data, "benchmark data directory (the NB201 optimum)");

    nascent::cli::predictors_settings pr;
    auto* predictors = app.add_subcommand(
        "predictors",
        "rank correlation of surrogate predictors trained on n random NAS-Bench-201 cells");
    predictors->add_option("--dataset", pr.dataset, "dataset")
        ->check(CLI::IsMember(dataset_names))
        ->capture_default_str();
    predictors
        ->add_option("--target", pr.target,
                     "accuracy metric predicted (e.g. valid_acc@200, test_acc@200)")
        ->capture_default_str();
    predictors->add_option("--sizes", pr.sizes, "training-set sizes")
        ->delimiter(',')
        ->capture_default_str();
    predictors->add_option("--test", pr.test, "held-out cells")
        ->check(whole_number(2))
        ->capture_default_str();
    predictors->add_option("--seeds", pr.seeds, "repetitions (splits)")
        ->check(whole_number(1))
        ->capture_default_str();
    predictors->add_option("--predictors", pr.predictors, nascent::cli::predictor_choices())
        ->delimiter(',')
        ->capture_default_str();
    predictors->add_option("--seed", pr.seed, "master seed")
        ->check(whole_number(0))
        ->capture_default_str();
    predictors->add_option("--threads", pr.threads, "worker threads")
        ->check(whole_number(1))
        ->capture_default_str();
    predictors->add_option("--json", pr.json, "write every seed's figures as JSON to this file");
    predictors->add_option("--data", pr.data, "benchmark data directory");

    nascent::cli::oneshot_settings os;
    auto* oneshot = nascent::cli::add_oneshot_command(app, os);

    nascent::cli::search_command_settings sc;
    const auto [search, evaluate_export] = nascent::cli::add_search_commands(app, sc);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0)
            return app.exit(e); // --help
        std::fprintf(stderr, "nascent: error: %s (see nascent --help)\n", e.what());
        return 2;
    }
    if (*query && !*arch_opt && !*index_opt) {
        std::fprintf(stderr, "nascent: error: query needs --arch STRING or --index N\n");
        return 2;
    }
    if (*build && !t.archs && !t.sample) {
        std::fprintf(stderr, "nascent: error: build-table needs --sample N or --archs FILE\n");
        return 2;
    }
    if (*compare && s.benchmark != "nb201") {
        std::fprintf(stderr, "nascent: error: compare runs on nb201 only\n");
        return 2;
    }
    if (s.restrict_to_table && s.benchmark != "nb101") {
        std::fprintf(stderr, "nascent: error: --restrict-to-table applies to nb101 (nb201's table "
                             "holds every cell)\n");
        return 2;
    }
    try {
        if (*run && s.checkpoint && s.resume)
            throw std::invalid_argument("give --checkpoint FILE or --resume FILE, not both");
        if (*run && s.objectives) {
            if (s.benchmark != "nb201")
                throw std::invalid_argument("--objectives applies to nb201");
            return nascent::cli::run_nb201_multi_objective(s);
        }
        if (*run && (!s.constraints.empty() || s.weights)) {
            throw std::invalid_argument("--constraint and --weights need --objectives");
        }
        if (*run &&
            nascent::exec::find_strategy(s.strategy).kind == strategy_kind::multi_objective) {
            throw std::invalid_argument(s.strategy + " needs --objectives");
        }
        if (*run && s.warm_start &&
            (!nascent::cli::is_model_based(s.strategy) || s.benchmark != "nb201")) {
            throw std::invalid_argument("--warm-start applies to " +
                                        join(nascent::cli::model_based_strategies(), " and ") +
                                        " on nb201");
        }
        if (*run)
            return s.benchmark == "nb101" ? nascent::cli::run_nb101(s) : nascent::cli::run_nb201(s);
        if (*compare)
            return nascent::cli::compare_nb201(s);
        if (*query) {
            if (s.benchmark == "nb101") {
                if (*index_opt)
                    throw std::invalid_argument(
                        "--index is for nb201; give nb101 cells with --arch");
                return nascent::cli::query_nb101(s, arch);
            }
            return nascent::cli::query_nb201(s, arch, index);
        }
        if (*spaces)
            return nascent::cli::list_spaces();
        if (*train)
            return nascent::cli::train_cell(t);
        if (*build)
            return nascent::cli::build_table(t);
        if (*proxies)
            return nascent::cli::compute_proxies(px);
        if (*predictors)
            return nascent::cli::run_predictors(pr);
        if (*oneshot)
            return nascent::cli::run_oneshot_command(os);
        if (*search)
            return nascent::cli::run_search_command(sc);
        if (*evaluate_export)
            return nascent::cli::run_evaluate_export(sc);
        if (*stats)
            return nascent::cli::run_stats(st);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nascent: error: %s\n", e.what());
        return 2;
    }
    return 2;
}
