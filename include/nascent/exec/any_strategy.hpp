#pragma once
// Type-erased strategies: any Strategy (or MultiFidelityStrategy) of one genotype behind a value
// type that models the same concept, so a strategy chosen by name at run time (registry.hpp: the
// CLI, Python, plug-ins) runs through the same runners as a template one, with the same results.
// Copies are deep (a copy of an unused strategy is a fresh search, as the runners require). This
// is the only type erasure in the library: strategies themselves stay templates.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>

#include <concepts>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

namespace nascent::exec {

/// Any Strategy whose genotype is G.
template <class G>
class any_strategy {
public:
    using genotype = G;

    template <Strategy St>
    requires(!std::same_as<std::remove_cvref_t<St>, any_strategy> &&
             std::same_as<genotype_t<St>, G>) explicit any_strategy(St strategy)
        : m_self(std::make_unique<model<St>>(std::move(strategy))) {}

    any_strategy(const any_strategy& other) : m_self(other.m_self->clone()) {}
    any_strategy(any_strategy&&) noexcept = default;
    any_strategy& operator=(const any_strategy& other) {
        if (this != &other)
            m_self = other.m_self->clone();
        return *this;
    }
    any_strategy& operator=(any_strategy&&) noexcept = default;
    ~any_strategy() = default;

    [[nodiscard]] G ask(rng& gen) { return m_self->ask(gen); }
    void tell(const G& g, const evaluation& e) { m_self->tell(g, e); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        [[nodiscard]] virtual std::unique_ptr<concept_t> clone() const = 0;
        virtual G ask(rng& gen) = 0;
        virtual void tell(const G& g, const evaluation& e) = 0;
    };
    template <class St>
    struct model final : concept_t {
        explicit model(St s) : strategy(std::move(s)) {}
        [[nodiscard]] std::unique_ptr<concept_t> clone() const override {
            return std::make_unique<model>(strategy);
        }
        G ask(rng& gen) override { return strategy.ask(gen); }
        void tell(const G& g, const evaluation& e) override { strategy.tell(g, e); }
        St strategy;
    };

    std::unique_ptr<concept_t> m_self;
};

/// Any MultiFidelityStrategy whose genotype is G.
template <class G>
class any_multi_fidelity_strategy {
public:
    using genotype = G;
    using request = fidelity_request<G>;

    template <MultiFidelityStrategy St>
    requires(!std::same_as<std::remove_cvref_t<St>, any_multi_fidelity_strategy> &&
             std::same_as<genotype_t<St>, G>) explicit any_multi_fidelity_strategy(St strategy)
        : m_self(std::make_unique<model<St>>(std::move(strategy))) {}

    any_multi_fidelity_strategy(const any_multi_fidelity_strategy& other)
        : m_self(other.m_self->clone()) {}
    any_multi_fidelity_strategy(any_multi_fidelity_strategy&&) noexcept = default;
    any_multi_fidelity_strategy& operator=(const any_multi_fidelity_strategy& other) {
        if (this != &other)
            m_self = other.m_self->clone();
        return *this;
    }
    any_multi_fidelity_strategy& operator=(any_multi_fidelity_strategy&&) noexcept = default;
    ~any_multi_fidelity_strategy() = default;

    void set_fidelities(std::span<const double> levels) { m_self->set_fidelities(levels); }
    [[nodiscard]] request ask(rng& gen) { return m_self->ask(gen); }
    void tell(const request& r, const evaluation& e) { m_self->tell(r, e); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        [[nodiscard]] virtual std::unique_ptr<concept_t> clone() const = 0;
        virtual void set_fidelities(std::span<const double> levels) = 0;
        virtual request ask(rng& gen) = 0;
        virtual void tell(const request& r, const evaluation& e) = 0;
    };
    template <class St>
    struct model final : concept_t {
        explicit model(St s) : strategy(std::move(s)) {}
        [[nodiscard]] std::unique_ptr<concept_t> clone() const override {
            return std::make_unique<model>(strategy);
        }
        void set_fidelities(std::span<const double> levels) override {
            strategy.set_fidelities(levels);
        }
        request ask(rng& gen) override { return strategy.ask(gen); }
        void tell(const request& r, const evaluation& e) override { strategy.tell(r, e); }
        St strategy;
    };

    std::unique_ptr<concept_t> m_self;
};

} // namespace nascent::exec
