#pragma once
// Quality indicators of a found set A against a reference front Z (usually the true Pareto front,
// e.g. of a whole benchmark table), all on minimised values:
//   GD(A, Z)   = mean over a in A of min over z in Z of |a - z|       (convergence only)
//   IGD(A, Z)  = mean over z in Z of min over a in A of |a - z|       (convergence and spread)
//   GD+, IGD+  : the same with d+(a, z) = |max(a - z, 0)|, counting only where a is worse than z
//                (Ishibuchi et al. 2015). IGD+ is weakly Pareto-compliant, IGD is not: a set
//                that dominates the reference front has IGD+ 0.
// Distances are Euclidean; with `normalise`, each objective is divided by its range over Z, so
// that objectives in different units (accuracy in %, latency in ms) weigh alike.
// An empty found set is infinitely far (the anytime value of a search that has found nothing).
// The regret helpers compare a found result with the optimum.

#include <nascent/pareto/hypervolume.hpp>
#include <nascent/pareto/points.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace nascent::pareto {

struct indicator_options {
    /// Divide each objective's differences by its range (nadir minus ideal) over the reference
    /// front. An objective constant over the front is left unscaled.
    bool normalise = false;
};

namespace detail {

inline void check_indicator_sets(matrix_view found, matrix_view front) {
    check_dims("the found set", found.dims(), front.dims());
    if (front.empty())
        fail("empty reference front");
}

inline void check_same_objectives(const point_set& found, const point_set& front) {
    check_dims("the found set", found.dims(), front.dims());
    for (std::size_t j = 0; j < front.dims(); ++j) {
        if (found.objectives().sense(j) != front.objectives().sense(j)) {
            fail("objective " + std::to_string(j) + " is " +
                 std::string(to_string(found.objectives().sense(j))) + "d in the found set but " +
                 std::string(to_string(front.objectives().sense(j))) + "d in the reference front");
        }
    }
}

// 1 / range of each objective over the front (1 where not normalising or the range is 0).
[[nodiscard]] inline std::vector<double> inverse_scales(matrix_view front, bool normalise) {
    std::vector<double> inv(front.dims(), 1.0);
    if (!normalise)
        return inv;
    for (std::size_t j = 0; j < front.dims(); ++j) {
        double lo = front(0, j);
        double hi = lo;
        for (std::size_t i = 1; i < front.size(); ++i) {
            lo = std::min(lo, front(i, j));
            hi = std::max(hi, front(i, j));
        }
        const double range = hi - lo;
        if (range > 0.0 && std::isfinite(range))
            inv[j] = 1.0 / range;
    }
    return inv;
}

// Mean over rows `from` of the smallest distance to a row of `to`; `plus` measures only the
// excess of the first point over the second (d+), with (from, to) = (a, z) or (z, a) by
// `from_is_a`.
[[nodiscard]] inline double mean_min_distance(matrix_view from, matrix_view to,
                                              std::span<const double> inv, bool plus,
                                              bool from_is_a) {
    if (to.empty())
        return std::numeric_limits<double>::infinity();
    const std::size_t m = from.dims();
    double sum = 0.0;
    for (std::size_t i = 0; i < from.size(); ++i) {
        const double* p = from.row(i).data();
        double best = std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < to.size(); ++k) {
            const double* q = to.row(k).data();
            double d2 = 0.0;
            for (std::size_t j = 0; j < m && d2 < best; ++j) {
                double d = (from_is_a ? p[j] - q[j] : q[j] - p[j]) * inv[j];
                if (plus)
                    d = std::max(d, 0.0);
                d2 += d * d;
            }
            best = std::min(best, d2);
        }
        sum += std::sqrt(best);
    }
    return sum / static_cast<double>(from.size());
}

} // namespace detail

/// Generational distance: how far the found points are from the front, on average.
[[nodiscard]] inline double gd(matrix_view found, matrix_view front,
                               indicator_options options = {}) {
    detail::check_indicator_sets(found, front);
    if (found.empty())
        return std::numeric_limits<double>::infinity();
    const auto inv = detail::inverse_scales(front, options.normalise);
    return detail::mean_min_distance(found, front, inv, false, true);
}

/// GD+: as gd, counting only where a found point is worse than a front point.
[[nodiscard]] inline double gd_plus(matrix_view found, matrix_view front,
                                    indicator_options options = {}) {
    detail::check_indicator_sets(found, front);
    if (found.empty())
        return std::numeric_limits<double>::infinity();
    const auto inv = detail::inverse_scales(front, options.normalise);
    return detail::mean_min_distance(found, front, inv, true, true);
}

/// Inverted generational distance: how far each front point is from the found set, on average.
[[nodiscard]] inline double igd(matrix_view found, matrix_view front,
                                indicator_options options = {}) {
    detail::check_indicator_sets(found, front);
    const auto inv = detail::inverse_scales(front, options.normalise);
    return detail::mean_min_distance(front, found, inv, false, false);
}

/// IGD+: as igd, counting only where the found point is worse than the front point.
[[nodiscard]] inline double igd_plus(matrix_view found, matrix_view front,
                                     indicator_options options = {}) {
    detail::check_indicator_sets(found, front);
    const auto inv = detail::inverse_scales(front, options.normalise);
    return detail::mean_min_distance(front, found, inv, true, false);
}

// Point sets: the two sets must have the same directions.
[[nodiscard]] inline double gd(const point_set& found, const point_set& front,
                               indicator_options options = {}) {
    detail::check_same_objectives(found, front);
    return gd(found.view(), front.view(), options);
}
[[nodiscard]] inline double gd_plus(const point_set& found, const point_set& front,
                                    indicator_options options = {}) {
    detail::check_same_objectives(found, front);
    return gd_plus(found.view(), front.view(), options);
}
[[nodiscard]] inline double igd(const point_set& found, const point_set& front,
                                indicator_options options = {}) {
    detail::check_same_objectives(found, front);
    return igd(found.view(), front.view(), options);
}
[[nodiscard]] inline double igd_plus(const point_set& found, const point_set& front,
                                     indicator_options options = {}) {
    detail::check_same_objectives(found, front);
    return igd_plus(found.view(), front.view(), options);
}

/// Hypervolume regret: the volume of the (true) front that the found set misses,
/// hv(front) - hv(found). 0 when the found set contains the front; negative only if `front` is
/// not the true front. Minimised values and reference point.
[[nodiscard]] inline double hypervolume_regret(matrix_view found, matrix_view front,
                                               std::span<const double> reference) {
    detail::check_dims("the found set", found.dims(), front.dims());
    return hypervolume(front, reference) - hypervolume(found, reference);
}
/// Hypervolume regret of point sets; the reference point in the objectives' own directions.
[[nodiscard]] inline double hypervolume_regret(const point_set& found, const point_set& front,
                                               std::span<const double> reference) {
    detail::check_same_objectives(found, front);
    return hypervolume(front, reference) - hypervolume(found, reference);
}

/// Simple regret of a single objective: how much worse the found value is than the optimum
/// (>= 0 when `optimum` is the true optimum), whichever the direction.
[[nodiscard]] inline double simple_regret(double found, double optimum, direction sense) {
    if (std::isnan(found) || std::isnan(optimum)) {
        detail::fail("simple_regret: NaN value (found " + std::to_string(found) + ", optimum " +
                     std::to_string(optimum) + ")");
    }
    return sense == direction::maximise ? optimum - found : found - optimum;
}

} // namespace nascent::pareto
