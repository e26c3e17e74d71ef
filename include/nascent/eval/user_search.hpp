#pragma once
// A neural architecture search on a user's own images (what `nascent search` runs): a registry
// strategy (exec/registry.hpp) asks, the training evaluator (eval/training_evaluator.hpp) trains
// each architecture from scratch on the training split and scores it on the validation split,
// through the one search loop (exec/search_loop.hpp: k evaluations in flight, checkpoints and
// exact resume by replay, exec/checkpoint.hpp). Then the best architecture is trained once more
// with the same seeds (the same network, bit for bit: the evaluator's results depend on the
// genotype, the seed and the options only), scored on the test split, and exported:
//
//   DIR/best.json    architecture, metrics, settings, the input normalisation, the tensor list and
//                    the command that retrains it (docs/search.md)
//   DIR/weights.bin  the trained parameters and batch-norm statistics (tensor/weights_file.hpp)
//
// evaluate_export(DIR) rebuilds the network from the architecture string and the settings,
// loads the weights and scores the same test split: the accuracy equals the exported one to the
// last digit. The data set is read again (data files are never copied into an export).
//
// The test split is scored only for the exported network: the search itself sees training and
// validation images only (reward = valid_acc).

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/eval/mbconv_network.hpp>
#include <nascent/eval/nb101_network.hpp>
#include <nascent/eval/nb201_network.hpp>
#include <nascent/eval/training_evaluator.hpp>
#include <nascent/exec/checkpoint.hpp>
#include <nascent/exec/manifest.hpp>
#include <nascent/exec/registry.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/tensor/datasets/user_dataset.hpp>
#include <nascent/tensor/weights_file.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::eval {

/// Everything a search is run with. The defaults: REA on NB201 cells (C = 8, one cell per stage),
/// Fashion-MNIST, 1 epoch, 30 evaluations, 10 % of the training images for validation.
struct user_search_settings {
    std::string space = "nb201";       ///< nb201, nb101 or mbconv
    std::string strategy = "rea";      ///< a single-objective registry strategy
    std::optional<std::string> arch{}; ///< train this architecture only (no strategy): a retrain
    std::string dataset = "fashion-mnist"; ///< tensor::dataset_spec's syntax
    double epochs = 1;
    std::size_t budget = 30;
    double valid_fraction = 0.1;
    std::size_t subset = 0; ///< training images used (before the validation split); 0: all
    std::uint64_t seed = 0;
    std::size_t in_flight = 1;
    std::size_t threads = 2;
    std::size_t channels = 8; ///< nb201: C; nb101: stem channels
    std::size_t cells = 1;    ///< per stage / stack
    double width = 0.25;      ///< mbconv: width multiplier
    std::size_t batch = 256;
    double lr = 0.1;
    double momentum = 0.9;
    double weight_decay = 5e-4;
    std::size_t classes = 0;           ///< idx / npy: 0 infers them
    std::string cifar_labels = "fine"; ///< CIFAR-100: fine or coarse
    std::filesystem::path fashion_mnist_dir{tensor::fashion_mnist_default_dir};
    std::optional<std::filesystem::path> checkpoint{}; ///< write checkpoints here
    std::optional<std::filesystem::path> resume{};     ///< resume from (and go on writing) this one
    std::filesystem::path out{"nascent-search-out"};   ///< the export directory
};

/// The strategies `search` runs: the registry's single-objective ones that need no surrogates.
[[nodiscard]] inline std::vector<std::string> plain_search_strategies() {
    std::vector<std::string> out;
    for (const auto& s : exec::strategies) {
        if (s.kind == exec::strategy_kind::single_objective && !s.model_based)
            out.emplace_back(s.name);
    }
    return out;
}

namespace detail {

/// The shortest text that reads back as the same double.
[[nodiscard]] inline std::string shortest(double v) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    return ec == std::errc{} ? std::string(buffer, end) : std::to_string(v);
}

[[nodiscard]] inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (const char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

inline void check_settings(const user_search_settings& s) {
    const auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
    if (s.space != "nb201" && s.space != "nb101" && s.space != "mbconv")
        bad("--space '" + s.space + "' is not one of nb201, nb101, mbconv");
    if (!(s.epochs > 0) || !std::isfinite(s.epochs))
        bad("--epochs " + shortest(s.epochs) + " must be > 0");
    if (s.budget == 0)
        bad("--budget must be >= 1, got 0");
    if (s.in_flight == 0)
        bad("--in-flight must be >= 1, got 0");
    if (s.threads == 0)
        bad("--threads must be >= 1, got 0");
    if (!(s.valid_fraction > 0 && s.valid_fraction < 1))
        bad("--valid-fraction " + shortest(s.valid_fraction) + " must be in (0, 1)");
    if (s.cifar_labels != "fine" && s.cifar_labels != "coarse")
        bad("--cifar-labels '" + s.cifar_labels + "' is not fine or coarse");
    if (s.checkpoint && s.resume)
        bad("give --checkpoint FILE or --resume FILE, not both");
    if (!s.arch) {
        const auto& info = exec::find_strategy(s.strategy); // unknown: "valid: ..."
        if (info.kind != exec::strategy_kind::single_objective || info.model_based) {
            bad("--strategy " + s.strategy +
                " is not a plain single-objective strategy (search takes: " +
                exec::join(plain_search_strategies()) + ")");
        }
    }
}

} // namespace detail

/// What identifies a search (a checkpoint of another one is refused; an export records it).
[[nodiscard]] inline nlohmann::json search_problem(const user_search_settings& s) {
    return {{"space", s.space},
            {"strategy", s.arch ? std::string("(arch)") : s.strategy},
            {"arch", s.arch ? *s.arch : std::string()},
            {"dataset", s.dataset},
            {"epochs", s.epochs},
            {"budget", s.budget},
            {"valid_fraction", s.valid_fraction},
            {"subset", s.subset},
            {"seed", s.seed},
            {"in_flight", s.in_flight},
            {"channels", s.channels},
            {"cells", s.cells},
            {"width", s.width},
            {"batch", s.batch},
            {"lr", s.lr},
            {"momentum", s.momentum},
            {"weight_decay", s.weight_decay},
            {"classes", s.classes},
            {"cifar_labels", s.cifar_labels}};
}

/// The settings a problem (or an export's "settings") describes.
[[nodiscard]] inline user_search_settings settings_of(const nlohmann::json& j) {
    user_search_settings s;
    s.space = j.at("space").get<std::string>();
    s.strategy = j.at("strategy").get<std::string>();
    if (const auto a = j.at("arch").get<std::string>(); !a.empty())
        s.arch = a;
    s.dataset = j.at("dataset").get<std::string>();
    s.epochs = j.at("epochs").get<double>();
    s.budget = j.at("budget").get<std::size_t>();
    s.valid_fraction = j.at("valid_fraction").get<double>();
    s.subset = j.at("subset").get<std::size_t>();
    s.seed = j.at("seed").get<std::uint64_t>();
    s.in_flight = j.at("in_flight").get<std::size_t>();
    s.channels = j.at("channels").get<std::size_t>();
    s.cells = j.at("cells").get<std::size_t>();
    s.width = j.at("width").get<double>();
    s.batch = j.at("batch").get<std::size_t>();
    s.lr = j.at("lr").get<double>();
    s.momentum = j.at("momentum").get<double>();
    s.weight_decay = j.at("weight_decay").get<double>();
    s.classes = j.at("classes").get<std::size_t>();
    s.cifar_labels = j.at("cifar_labels").get<std::string>();
    return s;
}

/// The command that trains `arch` again as the search trained it, and exports it to `out`.
[[nodiscard]] inline std::string retrain_command(const user_search_settings& s,
                                                 const std::string& arch,
                                                 const std::filesystem::path& out) {
    using detail::shell_quote;
    using detail::shortest;
    std::string c = "nascent search --space " + s.space + " --arch " + shell_quote(arch) +
                    " --dataset " + shell_quote(s.dataset) + " --epochs " + shortest(s.epochs) +
                    " --valid-fraction " + shortest(s.valid_fraction) + " --subset " +
                    std::to_string(s.subset) + " --seed " + std::to_string(s.seed) +
                    " --channels " + std::to_string(s.channels) + " --cells " +
                    std::to_string(s.cells) + " --width " + shortest(s.width) + " --batch " +
                    std::to_string(s.batch) + " --lr " + shortest(s.lr) + " --momentum " +
                    shortest(s.momentum) + " --weight-decay " + shortest(s.weight_decay);
    if (s.classes != 0)
        c += " --classes " + std::to_string(s.classes);
    if (s.cifar_labels != "fine")
        c += " --cifar-labels " + s.cifar_labels;
    if (s.fashion_mnist_dir != std::filesystem::path(tensor::fashion_mnist_default_dir))
        c += " --fmnist " + shell_quote(s.fashion_mnist_dir.string());
    return c + " --out " + shell_quote(out.string());
}

/// The data set of the settings, read and split.
[[nodiscard]] inline std::shared_ptr<const tensor::image_splits>
load_search_data(const user_search_settings& s) {
    return tensor::load_dataset(tensor::dataset_spec::parse(s.dataset),
                                {.valid_fraction = s.valid_fraction,
                                 .subset = s.subset,
                                 .seed = s.seed,
                                 .classes = s.classes,
                                 .cifar_label = s.cifar_labels == "coarse"
                                                    ? tensor::cifar100_label::coarse
                                                    : tensor::cifar100_label::fine,
                                 .fashion_mnist_dir = s.fashion_mnist_dir});
}

/// Calls f(space, factory) for the settings' space, its network sized for `data`.
template <class F>
decltype(auto) with_search_space(const user_search_settings& s, const tensor::image_splits& data,
                                 F&& f) {
    const auto& train = data.train;
    if (train.height() != train.width()) {
        throw std::invalid_argument("the networks take square images; the data set's are " +
                                    std::to_string(train.height()) + "x" +
                                    std::to_string(train.width()));
    }
    const std::size_t c = train.channels();
    const std::size_t r = train.height();
    if (s.channels == 0 || s.cells == 0)
        throw std::invalid_argument("--channels and --cells must be >= 1");
    if (s.space == "nb101") {
        return f(nb101::space{}, nb101_factory{{.stem_channels = s.channels,
                                                .cells_per_stack = s.cells,
                                                .classes = data.classes,
                                                .input_channels = c},
                                               r});
    }
    if (s.space == "mbconv") {
        if (!(s.width > 0) || !std::isfinite(s.width))
            throw std::invalid_argument("--width " + detail::shortest(s.width) + " must be > 0");
        return f(
            mbconv::space{},
            mbconv_factory{
                {.width_multiplier = s.width, .classes = data.classes, .input_channels = c}, r});
    }
    return f(nb201::space{}, nb201_factory{{.channels = s.channels,
                                            .cells_per_stage = s.cells,
                                            .classes = data.classes,
                                            .input_channels = c,
                                            .resolution = r}});
}

[[nodiscard]] inline training_options search_training_options(const user_search_settings& s) {
    return {.batch_size = s.batch,
            .learning_rate = s.lr,
            .momentum = s.momentum,
            .weight_decay = s.weight_decay,
            .train_subset = 0,
            .eval_subset = 0,
            .fidelities = {s.epochs},
            .seed = s.seed,
            .threads = 0, // the executor's threads, shared by the evaluations in flight
            .data_dir = s.fashion_mnist_dir};
}

namespace detail {

/// Keeps every answer of the loop with its wall-clock time (the anytime curve).
template <class Space>
struct search_recorder {
    explicit search_recorder(const Space* s) : space(s) {}
    const Space* space;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    nlohmann::json evaluations = nlohmann::json::array();
    std::size_t replayed = 0;
    std::size_t live = 0;
    double best = -std::numeric_limits<double>::infinity();
    std::mutex mutex;

    template <class G>
    void on_evaluation(const evaluation_event<G>& e) {
        const std::lock_guard lock(mutex);
        if (e.booking != booking::charged)
            return;
        const double t =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (e.result.ok() && e.result.reward > best)
            best = e.result.reward;
        nlohmann::json j{{"index", e.queries},
                         {"arch", space->to_string(e.arch)},
                         {"status", std::string(to_string(e.result.status))},
                         {"valid_acc", exec::detail::encode_number(e.result.reward)},
                         {"best_valid_acc", exec::detail::encode_number(best)},
                         {"replayed", e.replayed}};
        if (const auto s = e.result.metrics.get("train_seconds"))
            j["train_seconds"] = *s;
        if (!e.replayed)
            j["elapsed_seconds"] = t;
        if (!e.result.reason.empty())
            j["reason"] = std::string(e.result.reason);
        evaluations.push_back(std::move(j));
        ++(e.replayed ? replayed : live);
    }
};

/// The checkpoint writer when the settings ask for one.
template <class Space>
struct optional_writer {
    std::optional<exec::checkpoint_writer<Space>> writer;
    template <class G>
    bool on_evaluation(const evaluation_event<G>& e) {
        return writer ? writer->on_evaluation(e) : false;
    }
    void on_checkpoint(const checkpoint_event& e) {
        if (writer)
            writer->on_checkpoint(e);
    }
    template <class G>
    void on_run_done(const run_result<G>& r) {
        if (writer)
            writer->on_run_done(r);
    }
};

inline nlohmann::json metrics_json(const evaluation& e) {
    nlohmann::json m = nlohmann::json::object();
    for (std::size_t i = 0; i < e.metrics.size(); ++i)
        m[std::string(e.metrics.name(i))] = exec::detail::encode_number(e.metrics.value(i));
    return m;
}

} // namespace detail

/// Runs the search of `s` (or, with s.arch, trains that architecture only) and exports the best
/// to s.out. `callbacks` go to the search loop (a progress bar, an interrupt). Returns the summary
/// (best, metrics, every evaluation with its time, the export's files); "interrupted": true when a
/// callback stopped the run (the checkpoint then holds what was done, nothing is exported).
/// Bad settings, data or checkpoints throw std::invalid_argument / std::runtime_error.
template <class... Callbacks>
[[nodiscard]] nlohmann::json run_user_search(const user_search_settings& s,
                                             Callbacks&&... callbacks) {
    detail::check_settings(s);
    const auto load_start = std::chrono::steady_clock::now();
    const auto data = load_search_data(s);
    const double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    return with_search_space(s, *data, [&](const auto& space, const auto& factory) {
        using Space = std::remove_cvref_t<decltype(space)>;
        using G = genotype_t<Space>;
        const training_evaluator evaluator{space, factory, data, search_training_options(s)};
        const auto problem = search_problem(s);
        detail::search_recorder<Space> recorder{&space};
        const auto search_start = std::chrono::steady_clock::now();

        run_result<G> result;
        if (s.arch) {
            const G g = Space::parse(*s.arch);
            const auto e = evaluator.evaluate(g);
            recorder.on_evaluation(
                evaluation_event<G>{0, g, space.hash(g), 0, 0, e, booking::charged, false, 0, 1});
            result.queries = 1;
            if (e.ok()) {
                result.best = g;
                result.best_reward = e.reward;
            }
        } else {
            run_options options{.budget = s.budget,
                                .runs = 1,
                                .seed = s.seed,
                                .report = "train_acc",
                                .in_flight = s.in_flight};
            std::optional<exec::checkpoint_log> log;
            if (s.resume) {
                log.emplace(exec::load_checkpoint(*s.resume, problem));
                if (log->runs() != 1) {
                    throw std::runtime_error("checkpoint '" + s.resume->string() + "' holds " +
                                             std::to_string(log->runs()) + " runs, not 1");
                }
                options.replay = log->replay();
            }
            detail::optional_writer<Space> writer;
            if (s.checkpoint || s.resume) {
                const auto manifest = exec::make_manifest({.seed = s.seed,
                                                           .options = problem,
                                                           .threads = s.threads,
                                                           .in_flight = s.in_flight});
                writer.writer.emplace(
                    s.resume ? *s.resume : *s.checkpoint, problem, space,
                    exec::checkpoint_options{.runs = 1, .every = 1, .manifest = manifest},
                    log ? &*log : nullptr);
            }
            const exec::tbb_executor executor(s.threads);
            const exec::strategy_context<Space> context{.space = space};
            result = exec::visit_strategy(
                s.strategy, context, [&]<class St>(St&& strategy) -> run_result<G> {
                    if constexpr (Strategy<std::remove_cvref_t<St>>) {
                        return run_search(space, std::forward<St>(strategy), evaluator, options, 0,
                                          executor, recorder, writer, callbacks...);
                    } else {
                        throw std::invalid_argument("--strategy " + s.strategy +
                                                    " is multi-fidelity: search takes " +
                                                    exec::join(plain_search_strategies()));
                    }
                });
        }
        const double search_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - search_start).count();

        nlohmann::json summary{
            {"format", "nascent-search"},
            {"settings", problem},
            {"data",
             {{"train", data->train.size()},
              {"validation", data->validation.size()},
              {"test", data->test.size()},
              {"classes", data->classes},
              {"input_shape",
               {data->train.channels(), data->train.height(), data->train.width()}}}},
            {"evaluations", recorder.evaluations},
            {"evaluated", recorder.live},
            {"replayed", recorder.replayed},
            {"load_seconds", load_seconds},
            {"search_seconds", search_seconds},
            {"interrupted", result.stopped}};
        if (result.stopped)
            return summary;
        if (!result.best)
            throw std::runtime_error("no architecture trained successfully (" +
                                     std::to_string(result.queries) + " failed)");

        // The best architecture again, to keep its network (the same seeds: the same weights).
        const G best = *result.best;
        const std::string arch = space.to_string(best);
        const exec::tbb_executor retrain_threads(s.threads);
        trained_network trained;
        retrain_threads.for_each(1,
                                 [&](std::size_t) { trained = evaluator.trained(best, s.epochs); });
        if (!trained.network || !trained.result.ok())
            throw std::runtime_error("retraining the best architecture '" + arch + "' failed");
        nlohmann::json metrics = detail::metrics_json(trained.result);
        metrics.erase("train_seconds"); // varies run to run; kept in the summary
        std::optional<double> test_acc;
        if (!data->test.empty()) {
            test_acc = score_split(*trained.network, data->test).accuracy;
            metrics["test_acc"] = *test_acc;
        }
        const auto tensors = tensor::named_state(*trained.network);
        nlohmann::json tensor_list = nlohmann::json::array();
        for (const auto& t : tensors)
            tensor_list.push_back({{"name", t.name}, {"shape", t.value.shape()}});
        const auto [mean, sd] =
            std::pair{data->train.format().channel_mean, data->train.format().channel_std};
        nlohmann::json exported{
            {"format", "nascent-search-export"},
            {"version", 1},
            {"space", s.space},
            {"arch", arch},
            {"metrics", metrics},
            {"valid_acc_in_search", result.best_reward},
            {"retrained_identically", trained.result.reward == result.best_reward},
            {"settings", problem},
            {"input",
             {{"shape", {data->train.channels(), data->train.height(), data->train.width()}},
              {"stored_shape",
               {data->train.stored_shape().channels, data->train.stored_shape().rows,
                data->train.stored_shape().cols}},
              {"scale", data->train.holds_floats() ? "as stored" : "bytes / 255"},
              {"channel_mean", mean},
              {"channel_std", sd},
              {"padding",
               data->train.format().pad_to_32 ? "zero (black) to 32x32, centred" : "none"},
              {"classes", data->classes}}},
            {"weights", "weights.bin"},
            {"tensors", tensor_list},
            {"retrain_command", retrain_command(s, arch, s.out)},
            {"evaluate_command", "nascent evaluate-export " + detail::shell_quote(s.out.string())}};
        std::filesystem::create_directories(s.out);
        io::write_file_atomically(s.out / "weights.bin", tensor::encode_weights(tensors));
        io::write_file_atomically(s.out / "best.json", exported.dump(2) + "\n");

        summary["best"] = {
            {"arch", arch},
            {"metrics", metrics},
            {"train_seconds", trained.result.metrics.get("train_seconds").value_or(0)},
            {"retrained_identically", exported["retrained_identically"]}};
        summary["export"] = {{"dir", s.out.string()},
                             {"files", {"best.json", "weights.bin"}},
                             {"retrain_command", exported["retrain_command"]}};
        return summary;
    });
}

/// Reloads an export (best.json + weights.bin in `dir`): rebuilds the network from its
/// architecture and settings, loads the weights, and scores the test split (or, when the data set
/// has none, the validation split) as the export did. Returns {"split", "accuracy", "exported",
/// "equal"}. `fashion_mnist_dir` overrides where Fashion-MNIST is read from.
[[nodiscard]] inline nlohmann::json
evaluate_export(const std::filesystem::path& dir,
                const std::optional<std::filesystem::path>& fashion_mnist_dir = {}) {
    const auto file = dir / "best.json";
    std::ifstream in(file);
    if (!in)
        throw std::invalid_argument("cannot read '" + file.string() + "'");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
        if (j.value("format", "") != "nascent-search-export")
            throw std::invalid_argument("'" + file.string() + "' is not a nascent search export");
    } catch (const nlohmann::json::exception&) {
        throw std::invalid_argument("'" + file.string() + "' is not valid JSON");
    }
    user_search_settings s;
    std::string arch;
    try {
        s = settings_of(j.at("settings"));
        arch = j.at("arch").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument("'" + file.string() + "' is malformed: " + e.what());
    }
    if (fashion_mnist_dir)
        s.fashion_mnist_dir = *fashion_mnist_dir;
    const auto data = load_search_data(s);
    const auto tensors = tensor::read_weights(dir / j.value("weights", "weights.bin"));
    return with_search_space(s, *data, [&](const auto& space, const auto& factory) {
        using Space = std::remove_cvref_t<decltype(space)>;
        const auto g = Space::parse(arch);
        rng gen(0); // the initial weights are replaced
        const auto net = factory.build(g, gen);
        tensor::load_weights(*net, tensors, (dir / "weights.bin").string());
        const bool has_test = !data->test.empty();
        const std::string split = has_test ? "test" : "validation";
        const std::string metric = has_test ? "test_acc" : "valid_acc";
        double accuracy = 0;
        const exec::tbb_executor threads(s.threads);
        threads.for_each(1, [&](std::size_t) {
            accuracy = score_split(*net, has_test ? data->test : data->validation).accuracy;
        });
        const auto& m = j.at("metrics");
        const double exported = m.contains(metric) ? m.at(metric).get<double>()
                                                   : std::numeric_limits<double>::quiet_NaN();
        return nlohmann::json{{"arch", arch},         {"split", split},
                              {"metric", metric},     {"accuracy", accuracy},
                              {"exported", exported}, {"equal", accuracy == exported}};
    });
}

} // namespace nascent::eval
