#pragma once
// Random search: every proposal is a uniform sample of the space. The baseline every NAS
// method is measured against (Li & Talwalkar, 2019).

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>

#include <utility>

namespace nascent::strategy {

template <SearchSpace S>
class random_search {
public:
    using genotype = genotype_t<S>;

    explicit random_search(S space = {}) : m_space(std::move(space)) {}

    template <RandomGenerator G>
    [[nodiscard]] genotype ask(G& gen) {
        return m_space.sample(gen);
    }
    void tell(const genotype& /*g*/, const evaluation& /*e*/) noexcept {}

    [[nodiscard]] const S& space() const noexcept { return m_space; }

private:
    S m_space;
};

} // namespace nascent::strategy
