#pragma once
// An evaluator that never throws: guarded{inner} answers what `inner` answers, and a failed
// evaluation ("the evaluator threw") where `inner` throws. The Evaluator
// concept says failure is returned, not thrown; a training run that runs out of memory or a
// Python callable that raises should cost one evaluation, not the 499 other runs of a protocol.
// Non-finite rewards need no guard: every search loop books them as failed (checked_evaluation).

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>

#include <exception>
#include <utility>

namespace nascent::exec {

template <class E>
class guarded {
public:
    static constexpr auto thread_safety = thread_safety_of<E>;

    explicit guarded(E inner) : m_inner(std::move(inner)) {}

    template <class G>
    requires Evaluator<E, G>
    [[nodiscard]] evaluation evaluate(const G& g) noexcept {
        try {
            return m_inner.evaluate(g);
        } catch (...) { // whatever it throws: nothing may leave a task
            return evaluation::failure("the evaluator threw");
        }
    }
    template <class G>
    requires Evaluator<const E, G>
    [[nodiscard]] evaluation evaluate(const G& g) const noexcept {
        try {
            return m_inner.evaluate(g);
        } catch (...) { // whatever it throws: nothing may leave a task
            return evaluation::failure("the evaluator threw");
        }
    }
    template <class G>
    requires MultiFidelityEvaluator<const E, G>
    [[nodiscard]] evaluation evaluate(const G& g, double fidelity) const noexcept {
        try {
            return m_inner.evaluate(g, fidelity);
        } catch (...) { // whatever it throws: nothing may leave a task
            return evaluation::failure("the evaluator threw");
        }
    }
    [[nodiscard]] decltype(auto) fidelities() const requires requires(const E& e) {
        e.fidelities();
    }
    { return m_inner.fidelities(); }

    [[nodiscard]] const E& inner() const noexcept { return m_inner; }

private:
    E m_inner;
};

template <class E>
guarded(E) -> guarded<E>;

} // namespace nascent::exec
