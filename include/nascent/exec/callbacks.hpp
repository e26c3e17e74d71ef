#pragma once
// Callbacks of the search loop (search_loop.hpp), after ensmallen's: any number of objects passed
// as a pack after the options; each may define any of the members below, detected with `requires`
// (an object that defines none is ignored). The loop calls them on the run's thread; callbacks
// shared by the runs of a protocol on a parallel executor must be thread-safe.
//
//   on_evaluation(const evaluation_event<G>&)  an evaluator's answer (charged or out-of-table),
//                                             in the order the loop books them; may return bool:
//                                             true stops the run after the current batch
//   on_checkpoint(const checkpoint_event&)    a point where every asked request has been told
//                                             (after each batch, or each completion when
//                                             asynchronous): where state may be persisted
//   stop(const run_result<G>&) -> bool        asked before every batch: true ends the run early
//   on_run_done(const run_result<G>&)         the run's final result
//
// The progress bar, JSON traces (exec/trace.hpp) and checkpoints (exec/checkpoint.hpp) are
// callbacks; so is early stopping (below).

#include <nascent/core/evaluation.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent {

template <class G>
struct run_result {
    std::size_t run = 0;
    std::uint64_t seed = 0;
    std::optional<G> best; ///< highest reward among ok evaluations (first reached on ties)
    double best_reward = -std::numeric_limits<double>::infinity();
    double best_report = std::numeric_limits<double>::quiet_NaN(); ///< NaN if not reported
    std::size_t queries = 0;                                       ///< charged evaluations
    std::size_t repeats = 0;      ///< proposals answered from the run's history
    std::size_t failures = 0;     ///< charged evaluations whose status was not ok
    std::size_t out_of_table = 0; ///< proposals a table could not answer
    /// The strategy's free streak (consecutive proposals that cost nothing: repeats,
    /// out-of-table answers) reached max_free_streak, so the run stopped asking. One meaning in
    /// every runner.
    bool stalled = false;
    bool stopped = false; ///< a callback ended the run early (stop() or on_evaluation)
    /// After each charged evaluation: {best reward so far, that architecture's report metric}.
    std::vector<std::array<double, 2>> trajectory;
    /// Cumulative cost after each charged evaluation, for runners whose evaluations differ in
    /// cost (multi-fidelity, asynchronous); empty where every evaluation costs 1.
    std::vector<double> cost{};
};

/// How the loop booked an evaluator's answer.
enum class booking : std::uint8_t {
    charged,      ///< counted against the budget (ok or failed)
    out_of_table, ///< a table could not answer: recorded, not charged
};

/// An evaluator's answer as the loop books it.
template <class G>
struct evaluation_event {
    std::size_t run;
    const G& arch;
    std::uint64_t hash; ///< the space's hash of arch
    std::size_t level;  ///< fidelity level (0 for single-fidelity runs)
    double fidelity;    ///< 0 for single-fidelity runs
    const evaluation& result;
    nascent::booking booking;
    bool replayed;       ///< answered from a resumed checkpoint, not by the evaluator
    std::size_t index;   ///< 0-based position among the run's evaluator answers
    std::size_t queries; ///< charged evaluations so far, this one included
};

/// A consistent point of a run: nothing asked is waiting for its tell.
struct checkpoint_event {
    std::size_t run;
    std::size_t evaluations; ///< evaluator answers booked so far
    std::size_t queries;
};

namespace callbacks {

/// Ends a run when its incumbent has not improved for `patience` charged evaluations.
struct early_stop {
    std::size_t patience = 50;

    template <class G>
    [[nodiscard]] bool stop(const run_result<G>& r) const noexcept {
        const auto& t = r.trajectory;
        if (t.size() <= patience)
            return false;
        // Unchanged over the last patience + 1 points: no improvement in `patience` evaluations.
        const double last = t.back()[0];
        for (std::size_t i = t.size() - 1 - patience; i < t.size(); ++i) {
            if (t[i][0] != last)
                return false;
        }
        return true;
    }
};

} // namespace callbacks

namespace detail {

template <class Cb, class Event>
bool call_on_evaluation(Cb& cb, const Event& event) {
    if constexpr (requires {
                      { cb.on_evaluation(event) } -> std::convertible_to<bool>;
                  }) {
        return static_cast<bool>(cb.on_evaluation(event));
    } else if constexpr (requires { cb.on_evaluation(event); }) {
        cb.on_evaluation(event);
    }
    return false;
}
template <class Cb>
void call_on_checkpoint(Cb& cb, const checkpoint_event& event) {
    if constexpr (requires { cb.on_checkpoint(event); })
        cb.on_checkpoint(event);
}
template <class Cb, class G>
bool call_stop(Cb& cb, const run_result<G>& r) {
    if constexpr (requires {
                      { cb.stop(r) } -> std::convertible_to<bool>;
                  })
        return static_cast<bool>(cb.stop(r));
    return false;
}
template <class Cb, class G>
void call_on_run_done(Cb& cb, const run_result<G>& r) {
    if constexpr (requires { cb.on_run_done(r); })
        cb.on_run_done(r);
}

} // namespace detail
} // namespace nascent
