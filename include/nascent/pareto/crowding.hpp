#pragma once
// Crowding distance (Deb et al. 2002, NSGA-II): how isolated a point is within its front, the sum
// over objectives of the normalised gap between its two neighbours in that objective. Points at
// either end of any objective's order get +infinity, so the extremes of a front are always kept.
//
// Duplicates carry no diversity: among equal points of a front, the one with the smallest index
// is measured and the others get 0 (as in pymoo), so selection does not keep copies over
// distinct points. An objective that is constant, or spans an infinite range, over the front adds
// nothing between the ends (its ends are still infinite).

#include <nascent/pareto/points.hpp>
#include <nascent/pareto/sort.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace nascent::pareto {

/// Crowding distance of each point of `front` (indices into `points`) within that front; the
/// result is aligned with `front`. Throws on an index out of range.
[[nodiscard]] inline std::vector<double> crowding_distance(matrix_view points,
                                                           std::span<const std::size_t> front) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    const std::size_t n = front.size();
    const std::size_t m = points.dims();
    for (const std::size_t i : front) {
        if (i >= points.size()) {
            detail::fail("front index " + std::to_string(i) + " out of range for " +
                         std::to_string(points.size()) + " points");
        }
    }
    std::vector<double> distance(n, 0.0);

    // Positions (into `front`) of the distinct points, the smallest index of each run of equals.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const auto x = points.row(front[a]);
        const auto y = points.row(front[b]);
        for (std::size_t j = 0; j < m; ++j) {
            if (x[j] != y[j])
                return x[j] < y[j];
        }
        return front[a] < front[b];
    });
    std::vector<std::size_t> unique;
    unique.reserve(n);
    for (std::size_t t = 0; t < n; ++t) {
        if (t > 0 &&
            std::ranges::equal(points.row(front[order[t]]), points.row(front[order[t - 1]]))) {
            continue;
        }
        unique.push_back(order[t]);
    }
    if (unique.size() <= 2) {
        for (const std::size_t u : unique)
            distance[u] = inf;
        return distance;
    }

    for (std::size_t j = 0; j < m; ++j) {
        // Ties broken by index so the ends of a flat objective are well defined.
        std::sort(unique.begin(), unique.end(), [&](std::size_t a, std::size_t b) {
            const double x = points(front[a], j);
            const double y = points(front[b], j);
            return x != y ? x < y : front[a] < front[b];
        });
        distance[unique.front()] = inf;
        distance[unique.back()] = inf;
        const double range = points(front[unique.back()], j) - points(front[unique.front()], j);
        if (!(range > 0.0) || !std::isfinite(range))
            continue;
        for (std::size_t t = 1; t + 1 < unique.size(); ++t) {
            const double gap = points(front[unique[t + 1]], j) - points(front[unique[t - 1]], j);
            distance[unique[t]] += gap / range;
        }
    }
    return distance;
}

/// Crowding distance of every point within its own front; the result is indexed by point.
/// Throws if `sorted` does not partition `points`.
[[nodiscard]] inline std::vector<double> crowding_distances(matrix_view points,
                                                            const fronts& sorted) {
    if (sorted.size() != points.size()) {
        detail::fail("mismatched sizes: the fronts partition " + std::to_string(sorted.size()) +
                     " points, the set has " + std::to_string(points.size()));
    }
    std::vector<double> distance(points.size(), 0.0);
    for (std::size_t k = 0; k < sorted.count(); ++k) {
        const auto front = sorted[k];
        const auto d = crowding_distance(points, front);
        for (std::size_t t = 0; t < front.size(); ++t)
            distance[front[t]] = d[t];
    }
    return distance;
}

/// NSGA-II's survivors with what its tournaments need: rank and crowding distance of each.
struct survivors {
    std::vector<std::size_t> indices; ///< ascending
    std::vector<std::size_t> rank;    ///< front of each survivor (0 = non-dominated)
    std::vector<double> crowding;     ///< crowding distance within the survivors of its front
};

/// NSGA-II's environmental selection of `k` survivors among the points, with one sort: whole
/// fronts best first; from the first front that does not fit, the points with the largest
/// crowding distance within that front (ties: smaller index first), whose crowding is then
/// measured among those kept. Throws if k exceeds the number of points.
[[nodiscard]] inline survivors nsga2_survivors(matrix_view points, std::size_t k) {
    if (k > points.size()) {
        detail::fail("cannot select " + std::to_string(k) + " of " + std::to_string(points.size()) +
                     " points");
    }
    const auto sorted = non_dominated_sort(points);
    struct pick {
        std::size_t index;
        std::size_t rank;
        double crowding;
    };
    std::vector<pick> picks;
    picks.reserve(k);
    for (std::size_t f = 0; f < sorted.count() && picks.size() < k; ++f) {
        const auto front = sorted[f];
        const auto distance = crowding_distance(points, front);
        if (picks.size() + front.size() <= k) {
            for (std::size_t t = 0; t < front.size(); ++t)
                picks.push_back({front[t], f, distance[t]});
            continue;
        }
        std::vector<std::size_t> order(front.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return distance[a] > distance[b]; });
        std::vector<std::size_t> kept;
        for (std::size_t t = 0; picks.size() + kept.size() < k; ++t)
            kept.push_back(front[order[t]]);
        std::sort(kept.begin(), kept.end());
        const auto kept_distance = crowding_distance(points, kept);
        for (std::size_t t = 0; t < kept.size(); ++t)
            picks.push_back({kept[t], f, kept_distance[t]});
    }
    std::sort(picks.begin(), picks.end(),
              [](const pick& a, const pick& b) { return a.index < b.index; });
    survivors out;
    for (const auto& p : picks) {
        out.indices.push_back(p.index);
        out.rank.push_back(p.rank);
        out.crowding.push_back(p.crowding);
    }
    return out;
}

/// NSGA-II's environmental selection: the indices (ascending) of the `k` survivors.
[[nodiscard]] inline std::vector<std::size_t> nsga2_select(matrix_view points, std::size_t k) {
    return nsga2_survivors(points, k).indices;
}

} // namespace nascent::pareto
