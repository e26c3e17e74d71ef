// nascent oneshot (see oneshot_command.hpp): parses, composes the library's parts, prints.

#include "oneshot_command.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/eval/oneshot/darts.hpp>
#include <nascent/eval/oneshot/drnas.hpp>
#include <nascent/eval/oneshot/enas.hpp>
#include <nascent/eval/oneshot/gdas.hpp>
#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/spos.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/eval/oneshot/supernet_evaluator.hpp>
#include <nascent/eval/training.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/ops/categorical.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <nlohmann/json.hpp>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <unistd.h>

namespace nascent::cli {

namespace {

namespace os = eval::oneshot;

const std::vector<std::string> methods{"spos", "darts", "darts2", "gdas", "drnas", "enas"};

/// Epoch, step, loss and ETA on one line of a terminal's stderr.
class epoch_progress {
public:
    epoch_progress() : m_enabled(::isatty(STDERR_FILENO) == 1), m_start(clock::now()) {}
    ~epoch_progress() { clear(); }
    epoch_progress(const epoch_progress&) = delete;
    epoch_progress& operator=(const epoch_progress&) = delete;

    void update(const os::step_progress& p) {
        if (!m_enabled)
            return;
        const double done = static_cast<double>((p.epoch - 1) * p.steps + p.step);
        const double total = static_cast<double>(p.epochs * p.steps);
        const double elapsed = std::chrono::duration<double>(clock::now() - m_start).count();
        const double eta = elapsed / done * (total - done);
        const auto filled = static_cast<std::size_t>(30 * done / total);
        std::fprintf(stderr, "\r\033[Kepoch %zu/%zu [%s%s] step %zu/%zu loss %.3f ETA %.0fs",
                     p.epoch, p.epochs, std::string(filled, '#').c_str(),
                     std::string(30 - filled, ' ').c_str(), p.step, p.steps, p.loss, eta);
        std::fflush(stderr);
        m_drawn = true;
    }
    void clear() {
        if (m_enabled && m_drawn)
            std::fprintf(stderr, "\r\033[K");
        m_drawn = false;
    }

private:
    using clock = std::chrono::steady_clock;
    bool m_enabled;
    bool m_drawn = false;
    clock::time_point m_start;
};

void check(const oneshot_settings& s) {
    const auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
    if (std::find(methods.begin(), methods.end(), s.method) == methods.end())
        bad("unknown --method '" + s.method + "' (spos, darts, darts2, gdas, drnas, enas)");
    if (s.space != "nb201") {
        if (s.space == "darts" || s.space == "mbconv" || s.space == "nb101")
            bad("--space " + s.space + " has no supernet yet (only nb201)");
        bad("unknown --space '" + s.space + "' (nb201)");
    }
    if (s.epochs == 0)
        bad("--epochs 0 must be >= 1");
    if (s.threads == 0)
        bad("--threads 0 must be >= 1");
    if (s.batch < 2)
        bad("--batch " + std::to_string(s.batch) + " must be >= 2");
    if (s.train_subset < 2 * s.batch)
        bad("--train-subset " + std::to_string(s.train_subset) + " must be >= 2 x --batch");
    if (s.budget == 0)
        bad("--budget 0 must be >= 1");
    if (s.aggregate == 0)
        bad("--aggregate 0 must be >= 1");
    if (s.final_samples == 0)
        bad("--final-samples 0 must be >= 1");
    if (!(s.controller_lr > 0))
        bad("--controller-lr " + std::to_string(s.controller_lr) + " must be > 0");
}

std::string op_label(std::size_t k) {
    static const std::array<const char*, 5> short_names{"none", "skip", "conv1", "conv3", "pool"};
    return short_names.at(k);
}

void print_epoch(const os::epoch_record& r, bool quiet) {
    std::printf("epoch %3zu  train loss %.4f", r.epoch, r.train_loss);
    if (std::isfinite(r.valid_loss))
        std::printf("  valid loss %.4f", r.valid_loss);
    if (std::isfinite(r.temperature))
        std::printf("  tau %.3f", r.temperature);
    std::printf("  %.1fs\n", r.seconds);
    if (quiet || r.probabilities.empty())
        return;
    for (std::size_t e = 0; e < r.probabilities.size(); ++e) {
        const auto [from, to] = nb201::edge_nodes[e];
        std::printf("  edge %u->%u:", from, to);
        for (std::size_t k = 0; k < r.probabilities[e].size(); ++k)
            std::printf("  %s %.3f", op_label(k).c_str(), r.probabilities[e][k]);
        std::printf("\n");
    }
}

nlohmann::json trace_json(const std::vector<os::epoch_record>& trace) {
    auto out = nlohmann::json::array();
    const auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; };
    for (const auto& r : trace) {
        out.push_back({{"epoch", r.epoch},
                       {"train_loss", number(r.train_loss)},
                       {"valid_loss", number(r.valid_loss)},
                       {"temperature", number(r.temperature)},
                       {"seconds", r.seconds},
                       {"probabilities", r.probabilities},
                       {"alpha", r.alpha}});
    }
    return out;
}

using enas_method = os::enas<nb201::space>;

/// ENAS' controller after an epoch: one line.
void print_controller(const enas_method& m) {
    if (m.history().empty())
        return;
    const auto& h = m.history().back();
    std::printf(
        "  controller: mean reward %.2f%%  baseline %.2f%%  entropy %.2f nats  %zu distinct "
        "of %zu  pick %s (%.1f%% on its batch)\n",
        100 * h.mean_reward, 100 * h.baseline, h.entropy, h.distinct,
        m.opts().controller_steps * m.opts().aggregate, nb201::space::to_string(h.pick).c_str(),
        100 * h.pick_reward);
}

template <class Method>
os::search_result<nb201::space> search(os::nb201_supernet& net, const os::search_data& data,
                                       Method&& method, const os::search_options& options,
                                       bool quiet) {
    epoch_progress progress;
    return os::run_oneshot(
        net, data, method, options,
        {.on_step = [&](const os::step_progress& p) { progress.update(p); },
         .on_epoch =
             [&](const os::epoch_record& r) {
                 progress.clear();
                 // ENAS has no alpha: its controller is the line to show
                 print_epoch(r, quiet || std::is_same_v<std::remove_cvref_t<Method>, enas_method>);
                 if constexpr (std::is_same_v<std::remove_cvref_t<Method>, enas_method>)
                     print_controller(method);
                 std::fflush(stdout);
             }});
}

nlohmann::json enas_json(const enas_method& m) {
    auto epochs = nlohmann::json::array();
    for (const auto& h : m.history()) {
        epochs.push_back({{"epoch", h.epoch},
                          {"mean_reward", h.mean_reward},
                          {"baseline", h.baseline},
                          {"entropy", h.entropy},
                          {"distinct", h.distinct},
                          {"pick", nb201::space::to_string(h.pick)},
                          {"pick_batch_acc", h.pick_reward}});
    }
    const auto& o = m.opts();
    return {{"controller_steps", o.controller_steps},
            {"aggregate", o.aggregate},
            {"controller_lr", o.controller_lr},
            {"entropy_weight", o.entropy_weight},
            {"baseline_decay", o.baseline_decay},
            {"final_samples", o.final_samples},
            {"final_batch_acc", m.cell_reward()},
            {"updates", m.learner().updates()},
            {"controller", epochs}};
}

} // namespace

CLI::App* add_oneshot_command(CLI::App& app, oneshot_settings& s) {
    auto* c = app.add_subcommand(
        "oneshot", "weight-sharing search (SPOS, DARTS, GDAS, DrNAS, ENAS) on a reduced NB201 "
                   "supernet trained on Fashion-MNIST; the found cell's NB201 table accuracies");
    c->add_option("--method", s.method, "spos, darts, darts2 (second order), gdas, drnas or enas")
        ->required();
    c->add_option("--space", s.space, "search space (nb201)")->capture_default_str();
    c->add_option("--epochs", s.epochs, "supernet training epochs")->capture_default_str();
    c->add_option("--seed", s.seed, "weights, alpha, batches and samples")->capture_default_str();
    c->add_option("--threads", s.threads, "TBB threads")->capture_default_str();
    c->add_option("--json", s.json, "write the alpha trace and the result as JSON to this file");
    c->add_flag("--retrain", s.retrain,
                "train the found cell alone on Fashion-MNIST (1 epoch, `nascent train`'s network)");
    c->add_option("--data", s.data, "benchmark data directory (the NB201 table)");
    c->add_option("--fmnist", s.fmnist, "Fashion-MNIST directory (default: Debian's)");
    c->add_option("--channels", s.channels, "supernet channels C")->capture_default_str();
    c->add_option("--cells", s.cells, "supernet cells per stage")->capture_default_str();
    c->add_option("--batch", s.batch, "batch size")->capture_default_str();
    c->add_option("--train-subset", s.train_subset,
                  "first N training images, halved into weights' and alpha's data")
        ->capture_default_str();
    c->add_option("--eval-subset", s.eval_subset,
                  "validation images the supernet scores genotypes on")
        ->capture_default_str();
    c->add_option("--budget", s.budget, "spos: genotypes REA scores on the supernet")
        ->capture_default_str();
    c->add_option("--recalibrate", s.recalibrate, "spos: BN recalibration batches per genotype")
        ->capture_default_str();
    c->add_option("--a-lr", s.a_lr, "Adam learning rate of alpha")->capture_default_str();
    c->add_option("--controller-steps", s.controller_steps, "enas: controller updates per epoch")
        ->capture_default_str();
    c->add_option("--aggregate", s.aggregate, "enas: samples per controller update")
        ->capture_default_str();
    c->add_option("--final-samples", s.final_samples,
                  "enas: cells drawn at the end, the best on one validation batch each is the pick")
        ->capture_default_str();
    c->add_option("--controller-lr", s.controller_lr, "enas: Adam learning rate of the controller")
        ->capture_default_str();
    c->add_flag("--quiet", s.quiet, "no alpha table per epoch");
    return c;
}

int run_oneshot_command(const oneshot_settings& s) {
    check(s);
    const auto table =
        bench::nb201_table::load(io::resolve_data_dir(s.data, NASCENT_DEFAULT_DATA_DIR));
    const std::string fmnist = s.fmnist.value_or(std::string(tensor::fashion_mnist_default_dir));
    std::shared_ptr<const os::search_data> data;
    try {
        data = std::make_shared<const os::search_data>(os::load_fashion_mnist(
            {.dir = fmnist, .train_subset = s.train_subset, .eval_subset = s.eval_subset}));
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string(e.what()) + "; or pass --fmnist DIR");
    }
    tbb::task_arena arena(static_cast<int>(s.threads));
    return arena.execute([&]() -> int {
        rng gen(derive_seed(s.seed, 0, 1));
        auto net =
            os::make_nb201_supernet({.channels = s.channels, .cells_per_stage = s.cells}, gen);
        const os::search_options options{
            .epochs = s.epochs, .batch_size = s.batch, .a_lr = s.a_lr, .seed = s.seed};
        std::printf("oneshot %s on %s: supernet C = %zu, %zu cell(s) per stage, %zu weights; "
                    "%zu + %zu training images, %zu scoring images; %zu epochs, seed %llu, %zu "
                    "thread(s)\n",
                    s.method.c_str(), s.space.c_str(), s.channels, s.cells, net->parameter_count(),
                    data->train.size(), data->valid.size(), data->eval.size(), s.epochs,
                    static_cast<unsigned long long>(s.seed), s.threads);
        os::search_result<nb201::space> result;
        std::optional<enas_method> enas;
        if (s.method == "spos")
            result = search(*net, *data, os::spos{}, options, s.quiet);
        else if (s.method == "darts")
            result = search(*net, *data, os::darts{}, options, s.quiet);
        else if (s.method == "darts2")
            result = search(*net, *data, os::darts{.second_order = true}, options, s.quiet);
        else if (s.method == "gdas")
            result = search(*net, *data, os::gdas{}, options, s.quiet);
        else if (s.method == "drnas")
            result = search(*net, *data, os::drnas{}, options, s.quiet);
        else
            enas.emplace(os::enas_options{.controller_steps = s.controller_steps,
                                          .aggregate = s.aggregate,
                                          .controller_lr = s.controller_lr,
                                          .final_samples = s.final_samples});
        if (enas)
            result = search(*net, *data, *enas, options, s.quiet);

        nlohmann::json out{{"method", s.method},
                           {"space", s.space},
                           {"epochs", s.epochs},
                           {"seed", s.seed},
                           {"threads", s.threads},
                           {"channels", s.channels},
                           {"cells_per_stage", s.cells},
                           {"train_subset", s.train_subset},
                           {"status", std::string(to_string(result.status))},
                           {"search_seconds", result.seconds}};
        if (!result.reason.empty())
            out["reason"] = result.reason;
        if (result.status == eval_status::ok && s.method == "spos") {
            os::supernet_evaluator score{
                net, data, {.recalibration_batches = s.recalibrate, .batch_size = s.batch}};
            const strategy::regularized_evolution rea{
                nb201::space{}, ops::point_mutation{}, {.population = 20, .sample = 5}};
            const auto found = os::spos_search(rea, score, {.budget = s.budget, .seed = s.seed});
            result.cell = found.best;
            std::printf("REA on the supernet: %zu genotypes, best supernet accuracy %.2f%%\n",
                        found.queries, found.best_reward);
            out["spos"] = {{"budget", s.budget},
                           {"recalibration_batches", s.recalibrate},
                           {"best_supernet_acc", found.best_reward}};
        }
        if (enas) {
            out["enas"] = enas_json(*enas);
            if (result.cell) {
                std::printf(
                    "ENAS' pick: the best of %zu cells drawn from the controller, %.1f%% on "
                    "its validation batch\n",
                    s.final_samples, 100 * enas->cell_reward());
            }
        }
        out["trace"] = trace_json(result.trace);
        int code = 0;
        if (result.status != eval_status::ok) {
            std::printf("status         failed (%s)\n", result.reason.c_str());
            code = 1;
        } else if (result.cell) {
            const auto& cell = *result.cell;
            const auto index = table.index_of(cell);
            std::printf("status         ok\ncell           %s\nnb201 index    %u\n",
                        nb201::space::to_string(cell).c_str(), index);
            out["cell"] = nb201::space::to_string(cell);
            out["nb201_index"] = index;
            for (std::size_t d = 0; d < bench::nb201_dataset_names.size(); ++d) {
                const auto acc = table.accuracy(index, static_cast<bench::nb201_dataset>(d),
                                                bench::nb201_metric::test_200);
                const std::string name(bench::nb201_dataset_names[d]);
                std::printf("%-14s %s\n", ("test " + name).c_str(),
                            acc ? (std::to_string(*acc).substr(0, 6) + " %").c_str() : "n/a");
                out["test_acc@200"][name] = acc ? nlohmann::json(*acc) : nullptr;
            }
            if (s.retrain) {
                const eval::builtin_training_options to{.channels = s.channels,
                                                        .cells_per_stage = s.cells,
                                                        .fidelities = {1},
                                                        .seed = s.seed,
                                                        .data_dir = fmnist};
                eval::training_evaluator trainer(to, eval::load_fashion_mnist(fmnist, 1));
                const auto e = trainer.evaluate(eval::builtin_genotype{cell}, 1.0);
                const auto acc = e.metrics.get("test_acc");
                std::printf(
                    "retrained      %s (1 epoch, C = %zu, test accuracy on Fashion-MNIST)\n",
                    acc ? (std::to_string(*acc).substr(0, 6) + " %").c_str()
                        : std::string(e.reason).c_str(),
                    s.channels);
                out["retrain_test_acc"] = acc ? nlohmann::json(*acc) : nullptr;
            }
        }
        if (s.json)
            io::write_file_atomically(*s.json, out.dump(1) + "\n");
        return code;
    });
}

} // namespace nascent::cli
