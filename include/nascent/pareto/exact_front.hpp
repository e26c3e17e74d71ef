#pragma once
// The exact Pareto front of an enumerable space: every member evaluated, the feasible ones sorted,
// the non-dominated kept. What a search's found front is measured against (e.g. all 15,625
// NAS-Bench-201 cells under accuracy and latency).

#include <nascent/concepts.hpp>
#include <nascent/pareto/constraints.hpp>
#include <nascent/pareto/hypervolume.hpp>
#include <nascent/pareto/points.hpp>
#include <nascent/pareto/sort.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace nascent::pareto {

struct exact_front_result {
    std::vector<std::uint64_t> ids; ///< the front's members (space ids), ascending
    std::vector<double> reference;  ///< the front's nadir: the worst value of each objective on it
    std::vector<double> ideal;      ///< the best value of each objective on it
    double hypervolume = 0;         ///< of the front with respect to `reference`
    [[nodiscard]] std::size_t size() const noexcept { return ids.size(); }
    [[nodiscard]] bool empty() const noexcept { return ids.empty(); }
};

/// Evaluates every member of `space` and returns the non-dominated feasible ones under `objs`
/// and `constraints`. Empty (no reference, hypervolume 0) when no member is feasible.
template <EnumerableSpace S, class E>
requires Evaluator<const E, genotype_t<S>>
[[nodiscard]] exact_front_result exact_front(const S& space, const E& evaluator,
                                             const objectives& objs,
                                             const std::vector<constraint>& constraints = {}) {
    point_set all(objs);
    std::vector<std::uint64_t> feasible;
    for (std::uint64_t id = 0; id < space.size(); ++id) {
        const auto s = score(evaluator.evaluate(space.at(id)), objs, constraints);
        if (!s.feasible())
            continue;
        all.push_back(s.values);
        feasible.push_back(id);
    }
    exact_front_result out;
    if (all.empty())
        return out;
    const auto members = non_dominated(all);
    const auto front = all.subset(members);
    for (const auto i : members)
        out.ids.push_back(feasible[i]);
    std::ranges::sort(out.ids);
    for (std::size_t j = 0; j < objs.size(); ++j) {
        const bool max = objs.sense(j) == direction::maximise;
        double worst = max ? std::numeric_limits<double>::infinity()
                           : -std::numeric_limits<double>::infinity();
        double best = -worst;
        for (std::size_t i = 0; i < front.size(); ++i) {
            const double v = front.value(i, j);
            worst = max ? std::min(worst, v) : std::max(worst, v);
            best = max ? std::max(best, v) : std::min(best, v);
        }
        out.reference.push_back(worst);
        out.ideal.push_back(best);
    }
    out.hypervolume = hypervolume(front, out.reference);
    return out;
}

} // namespace nascent::pareto
