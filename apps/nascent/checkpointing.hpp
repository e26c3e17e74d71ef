#pragma once
// --checkpoint FILE / --resume FILE / --in-flight K for `nascent run`, on every path: plain and
// model-based strategies (run_protocol), multi-fidelity ones (run_multi_fidelity) and
// multi-objective runs (run_multi_objective). Each runs with a checkpoint_writer callback
// (exec/checkpoint.hpp) that keeps every run of the protocol (finished runs replay to the same
// result, unfinished ones go on), and SIGINT / SIGTERM end every run after its current batch,
// with the checkpoint written.

#include "cli.hpp"

#include <nascent/exec/checkpoint.hpp>
#include <nascent/exec/manifest.hpp>

#include <atomic>
#include <csignal>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::cli {

inline volatile std::sig_atomic_t g_interrupted = 0; // the CLI's, set by its signal handler

/// Stops every run after its current batch once SIGINT / SIGTERM arrived.
struct interrupt_callback {
    template <class Event>
    bool on_evaluation(const Event&) const noexcept {
        return g_interrupted != 0;
    }
};

/// What identifies a search: a checkpoint of another one is refused. Keys of the multi-objective
/// and warm-start options appear only when given (older checkpoints stay readable).
inline nlohmann::json checkpoint_problem(const settings& s) {
    nlohmann::json p{
        {"benchmark", s.benchmark},
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
    if (s.warm_start)
        p["warm_start"] = *s.warm_start;
    if (s.objectives) {
        p["objectives"] = *s.objectives;
        p["constraints"] = s.constraints;
        p["weights"] = s.weights.value_or("");
        p["scalarisation"] = s.scalarisation;
    }
    return p;
}

/// Runs `body(replay, callbacks...)` with the interrupt callback and a checkpoint writer to
/// --checkpoint (or, resumed from --resume, to that file again); `replay` is what the runner's
/// options take. Throws after an interrupt, once the checkpoint is written.
template <class Space, class Body>
auto with_checkpoint(const Space& space, const settings& s, Body&& body) {
    const std::string file = s.resume ? *s.resume : *s.checkpoint;
    const auto problem = checkpoint_problem(s);
    std::optional<exec::checkpoint_log> log;
    std::span<const std::vector<evaluation_record>> replay{};
    if (s.resume) {
        log.emplace(exec::load_checkpoint(file, problem));
        if (log->runs() != s.runs)
            throw std::runtime_error("checkpoint '" + file + "' holds " +
                                     std::to_string(log->runs()) + " runs, not " +
                                     std::to_string(s.runs));
        replay = log->replay();
    }
    const auto manifest = exec::make_manifest(
        {.seed = s.seed, .options = problem, .threads = s.threads, .in_flight = s.in_flight});
    exec::checkpoint_writer writer{
        file,
        problem,
        space,
        {.runs = s.runs, .every = s.checkpoint_every, .manifest = manifest},
        log ? &*log : nullptr};
    interrupt_callback interrupt;
    std::signal(SIGINT, [](int) { g_interrupted = 1; });
    std::signal(SIGTERM, [](int) { g_interrupted = 1; });
    auto results = body(replay, interrupt, writer);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (g_interrupted != 0) {
        throw std::runtime_error("interrupted; the checkpoint is in '" + file +
                                 "': go on with --resume " + file);
    }
    return results;
}

/// run_protocol, checkpointed to --checkpoint (or resumed from --resume and checkpointed there).
template <class Space, class St, class Evaluator>
std::vector<run_result<genotype_t<Space>>>
run_checkpointed(const Space& space, const St& strategy, const Evaluator& evaluator,
                 const settings& s, run_options options, const exec::tbb_executor& executor) {
    return with_checkpoint(space, s, [&](auto replay, auto& interrupt, auto& writer) {
        options.replay = replay;
        return run_protocol(space, strategy, evaluator, options, executor, interrupt, writer);
    });
}

} // namespace nascent::cli
