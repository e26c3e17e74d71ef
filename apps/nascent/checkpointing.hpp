#pragma once
// --checkpoint FILE / --resume FILE / --in-flight K for `nascent run` (single-objective plain
// strategies): the protocol runs with a checkpoint_writer callback (exec/checkpoint.hpp), and
// SIGINT / SIGTERM end every run after its current batch, with the checkpoint written.

#include "cli.hpp"

#include <nascent/exec/checkpoint.hpp>
#include <nascent/exec/manifest.hpp>

#include <atomic>
#include <csignal>
#include <optional>
#include <stdexcept>
#include <string>

namespace nascent::cli {

inline volatile std::sig_atomic_t g_interrupted = 0; // the CLI's, set by its signal handler

/// Stops every run after its current batch once SIGINT / SIGTERM arrived.
struct interrupt_callback {
    template <class Event>
    bool on_evaluation(const Event&) const noexcept {
        return g_interrupted != 0;
    }
};

/// What identifies a search: a checkpoint of another one is refused.
inline nlohmann::json checkpoint_problem(const settings& s) {
    return {{"benchmark", s.benchmark},
            {"dataset", s.dataset},
            {"strategy", s.strategy},
            {"reward", s.reward.value_or("")},
            {"runs", s.runs},
            {"budget", s.budget},
            {"seed", s.seed},
            {"population", s.population ? nlohmann::json(*s.population) : nlohmann::json()},
            {"sample", s.sample},
            {"in_flight", s.in_flight},
            {"restrict_to_table", s.restrict_to_table}};
}

/// run_protocol, checkpointed to --checkpoint (or resumed from --resume and checkpointed there).
template <class Space, class St, class Evaluator>
std::vector<run_result<genotype_t<Space>>>
run_checkpointed(const Space& space, const St& strategy, const Evaluator& evaluator,
                 const settings& s, run_options options, const exec::tbb_executor& executor) {
    const std::string file = s.resume ? *s.resume : *s.checkpoint;
    const auto problem = checkpoint_problem(s);
    std::optional<exec::checkpoint_log> log;
    if (s.resume) {
        log.emplace(exec::load_checkpoint(file, problem));
        if (log->runs() != s.runs)
            throw std::runtime_error("checkpoint '" + file + "' holds " +
                                     std::to_string(log->runs()) + " runs, not " +
                                     std::to_string(s.runs));
        options.replay = log->replay();
    }
    const auto manifest = exec::make_manifest(
        {.seed = s.seed, .options = problem, .threads = s.threads, .in_flight = s.in_flight});
    exec::checkpoint_writer writer{
        file,
        problem,
        space,
        {.runs = s.runs, .every = s.checkpoint_every, .manifest = manifest},
        log ? &*log : nullptr};
    std::signal(SIGINT, [](int) { g_interrupted = 1; });
    std::signal(SIGTERM, [](int) { g_interrupted = 1; });
    auto results =
        run_protocol(space, strategy, evaluator, options, executor, interrupt_callback{}, writer);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (g_interrupted != 0) {
        throw std::runtime_error("interrupted; the checkpoint is in '" + file +
                                 "': go on with --resume " + file);
    }
    return results;
}

} // namespace nascent::cli
