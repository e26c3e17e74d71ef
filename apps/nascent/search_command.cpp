// nascent search / evaluate-export: flags, a progress line, and the printed summary; the search
// itself is eval/user_search.hpp.

#include "search_command.hpp"

#include "checkpointing.hpp"

#include <nascent/exec/registry.hpp>
#include <nascent/io/atomic_write.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace nascent::cli {
namespace {

using clock = std::chrono::steady_clock;

/// "3m05s", "42s".
std::string duration_text(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0)
        return "?";
    const auto s = static_cast<long>(std::lround(seconds));
    char text[32];
    if (s >= 60)
        std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(text, sizeof text, "%lds", s);
    return text;
}

/// One line per finished evaluation on stdout; on a terminal, a bar on stderr: evaluations done /
/// in flight, best so far, ETA from the evaluations trained in this process.
class search_progress {
public:
    search_progress(std::size_t budget, std::size_t in_flight)
        : m_budget(budget), m_in_flight(in_flight), m_tty(::isatty(STDERR_FILENO) == 1),
          m_start(clock::now()) {}
    ~search_progress() {
        if (m_tty && m_drawn)
            std::fprintf(stderr, "\r\033[K");
    }
    search_progress(const search_progress&) = delete;
    search_progress& operator=(const search_progress&) = delete;

    template <class G>
    void on_evaluation(const evaluation_event<G>& e) {
        if (e.booking != booking::charged)
            return;
        const std::lock_guard lock(m_mutex);
        ++m_done;
        if (!e.replayed)
            ++m_live;
        if (e.result.ok() && e.result.reward > m_best)
            m_best = e.result.reward;
        if (m_tty && m_drawn)
            std::fprintf(stderr, "\r\033[K");
        char acc[32];
        std::snprintf(acc, sizeof acc, "%.2f", e.result.reward);
        std::printf("eval %zu/%zu%s  valid_acc %s  best %.2f\n", m_done, m_budget,
                    e.replayed ? " (from the checkpoint)" : "",
                    e.result.ok() ? acc : ("failed: " + std::string(e.result.reason)).c_str(),
                    m_best);
        std::fflush(stdout);
        draw();
    }

private:
    void draw() {
        if (!m_tty)
            return;
        const std::size_t width = 30;
        const std::size_t filled = m_done * width / std::max<std::size_t>(m_budget, 1);
        const std::size_t left = m_budget > m_done ? m_budget - m_done : 0;
        const std::size_t flying = std::min(m_in_flight, left);
        const double elapsed = std::chrono::duration<double>(clock::now() - m_start).count();
        const double eta = m_live > 0
                               ? elapsed / static_cast<double>(m_live) * static_cast<double>(left)
                               : std::nan("");
        std::fprintf(stderr, "\r\033[Ksearch [%s%s] %zu/%zu done, %zu in flight, best %.2f, ETA %s",
                     std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
                     m_done, m_budget, flying, m_best, duration_text(eta).c_str());
        std::fflush(stderr);
        m_drawn = true;
    }

    std::size_t m_budget;
    std::size_t m_in_flight;
    bool m_tty;
    bool m_drawn = false;
    clock::time_point m_start;
    std::size_t m_done = 0;
    std::size_t m_live = 0;
    double m_best = -std::numeric_limits<double>::infinity();
    std::mutex m_mutex;
};

CLI::Validator positive_whole(unsigned long long minimum) {
    return CLI::Validator(
        [minimum](const std::string& text) -> std::string {
            try {
                std::size_t end = 0;
                if (!text.empty() && text[0] == '-')
                    throw std::invalid_argument(text);
                const unsigned long long v = std::stoull(text, &end);
                if (end != text.size())
                    throw std::invalid_argument(text);
                return v < minimum ? "must be >= " + std::to_string(minimum) + ", got " + text : "";
            } catch (const std::exception&) {
                return "expected a whole number >= " + std::to_string(minimum) + ", got '" + text +
                       "'";
            }
        },
        "INT>=" + std::to_string(minimum));
}

CLI::Validator positive_real() {
    return CLI::Validator(
        [](const std::string& text) -> std::string {
            try {
                std::size_t end = 0;
                const double v = std::stod(text, &end);
                if (end != text.size() || !std::isfinite(v))
                    throw std::invalid_argument(text);
                return v > 0 ? "" : "must be > 0, got " + text;
            } catch (const std::exception&) {
                return "expected a number > 0, got '" + text + "'";
            }
        },
        "NUM>0");
}

} // namespace

std::pair<CLI::App*, CLI::App*> add_search_commands(CLI::App& app, search_command_settings& c) {
    auto& s = c.search;
    auto* cmd = app.add_subcommand(
        "search", "NAS with real training on your own images; exports the best network");
    cmd->add_option("--space", s.space, "nb201, nb101 or mbconv")
        ->check(CLI::IsMember({"nb201", "nb101", "mbconv"}))
        ->capture_default_str();
    cmd->add_option("--strategy", s.strategy,
                    "one of " + exec::join(eval::plain_search_strategies()))
        ->capture_default_str();
    cmd->add_option("--dataset", s.dataset,
                    "fashion-mnist, idx:DIR, cifar-bin:DIR or npy:X.npy,Y.npy[,XT.npy,YT.npy]")
        ->capture_default_str();
    cmd->add_option("--epochs", s.epochs, "training epochs per evaluation")
        ->check(positive_real())
        ->capture_default_str();
    cmd->add_option("--budget", s.budget, "architectures trained")
        ->check(positive_whole(1))
        ->capture_default_str();
    cmd->add_option("--valid-fraction", s.valid_fraction,
                    "of the training images, held out for the reward (seeded)")
        ->check(positive_real())
        ->capture_default_str();
    cmd->add_option("--subset", s.subset,
                    "use N training images (a seeded draw, before the split; 0: all)")
        ->check(positive_whole(0))
        ->capture_default_str();
    cmd->add_option("--seed", s.seed, "master seed (split, strategy, weights, batches)")
        ->check(positive_whole(0))
        ->capture_default_str();
    cmd->add_option("--in-flight", s.in_flight, "evaluations trained at once")
        ->check(positive_whole(1))
        ->capture_default_str();
    cmd->add_option("--threads", s.threads, "worker threads")
        ->check(positive_whole(1))
        ->capture_default_str();
    cmd->add_option("--channels", s.channels, "nb201: C of the first stage; nb101: stem channels")
        ->check(positive_whole(1))
        ->capture_default_str();
    cmd->add_option("--cells", s.cells, "cells per stage (nb101: per stack)")
        ->check(positive_whole(1))
        ->capture_default_str();
    cmd->add_option("--width", s.width, "mbconv: width multiplier")
        ->check(positive_real())
        ->capture_default_str();
    cmd->add_option("--batch", s.batch, "batch size")
        ->check(positive_whole(1))
        ->capture_default_str();
    cmd->add_option("--lr", s.lr, "learning rate (cosine to 0)")
        ->check(positive_real())
        ->capture_default_str();
    cmd->add_option("--momentum", s.momentum, "Nesterov momentum")
        ->check(positive_real())
        ->capture_default_str();
    cmd->add_option("--weight-decay", s.weight_decay, "L2 weight decay")->capture_default_str();
    cmd->add_option("--classes", s.classes, "idx / npy: classes (0: largest label + 1)")
        ->check(positive_whole(0))
        ->capture_default_str();
    cmd->add_option("--cifar-labels", s.cifar_labels, "CIFAR-100: fine or coarse")
        ->check(CLI::IsMember({"fine", "coarse"}))
        ->capture_default_str();
    cmd->add_option("--arch", c.search.arch,
                    "train this architecture only (the export's retrain command)");
    cmd->add_option("--checkpoint", s.checkpoint, "write a checkpoint after every evaluation");
    cmd->add_option("--resume", s.resume, "go on from this checkpoint (and keep writing it)");
    cmd->add_option("--json", c.json, "write the summary and every evaluation as JSON");
    cmd->add_option("--out", s.out, "export directory (best.json, weights.bin)")
        ->capture_default_str();
    cmd->add_option("--fmnist", c.fmnist,
                    "Fashion-MNIST directory (default: /usr/share/datasets/fashion-mnist)");

    auto* reload = app.add_subcommand(
        "evaluate-export", "rebuild an exported network, load its weights, score its test split");
    reload->add_option("dir", c.export_dir, "the export directory of nascent search")->required();
    reload->add_option("--fmnist", c.fmnist, "Fashion-MNIST directory");
    return {cmd, reload};
}

int run_search_command(const search_command_settings& c) {
    auto s = c.search;
    if (c.fmnist)
        s.fashion_mnist_dir = *c.fmnist;
    const std::size_t budget = s.arch ? 1 : s.budget;
    const auto start = clock::now();
    nlohmann::json summary;
    {
        search_progress progress(budget, s.arch ? 1 : s.in_flight);
        std::signal(SIGINT, [](int) { g_interrupted = 1; });
        std::signal(SIGTERM, [](int) { g_interrupted = 1; });
        summary = eval::run_user_search(s, progress, interrupt_callback{});
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
    }
    summary["wall_seconds"] = std::chrono::duration<double>(clock::now() - start).count();
    if (c.json)
        io::write_file_atomically(*c.json, summary.dump(1) + "\n");
    if (summary.at("interrupted").get<bool>()) {
        const auto file = s.resume       ? s.resume->string()
                          : s.checkpoint ? s.checkpoint->string()
                                         : "";
        throw std::runtime_error(file.empty() ? "interrupted (no --checkpoint: nothing kept)"
                                              : "interrupted; the checkpoint is in '" + file +
                                                    "': go on with --resume " + file);
    }
    const auto& best = summary.at("best");
    const auto& m = best.at("metrics");
    std::printf("best %s\n", best.at("arch").get<std::string>().c_str());
    for (const auto& [name, value] : m.items())
        std::printf("  %s %s\n", name.c_str(), value.dump().c_str());
    std::printf(
        "evaluated %zu (from the checkpoint %zu) in %.1f s; data loaded in %.1f s\n",
        summary.at("evaluated").get<std::size_t>(), summary.at("replayed").get<std::size_t>(),
        summary.at("search_seconds").get<double>(), summary.at("load_seconds").get<double>());
    if (!best.at("retrained_identically").get<bool>())
        std::printf("warning: the retrained network's valid_acc differs from the search's\n");
    std::printf("exported to %s (best.json, weights.bin)\nretrain: %s\n",
                summary.at("export").at("dir").get<std::string>().c_str(),
                summary.at("export").at("retrain_command").get<std::string>().c_str());
    return 0;
}

int run_evaluate_export(const search_command_settings& c) {
    std::optional<std::filesystem::path> fmnist;
    if (c.fmnist)
        fmnist = *c.fmnist;
    const auto r = eval::evaluate_export(c.export_dir, fmnist);
    std::printf("arch %s\n%s %s\nexported %s %s\n%s\n", r.at("arch").get<std::string>().c_str(),
                r.at("metric").get<std::string>().c_str(), r.at("accuracy").dump().c_str(),
                r.at("metric").get<std::string>().c_str(), r.at("exported").dump().c_str(),
                r.at("equal").get<bool>() ? "equal" : "DIFFERENT");
    return r.at("equal").get<bool>() ? 0 : 1;
}

} // namespace nascent::cli
