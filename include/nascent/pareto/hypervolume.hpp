#pragma once
// Exact hypervolume: the measure of the region dominated by a set of points and bounded by a
// reference point (minimised values: the union of the boxes [p, reference]).
//
//   1 objective:  reference - min.
//   2 objectives: sort by the first objective and sweep, O(N log N).
//   3 objectives: sweep the third objective upwards keeping the 2-D staircase of the points seen
//                 so far and its area, updated as points enter (Beume et al. 2009, Fonseca et al.
//                 2006), O(N log N) with a std::map.
//   4 or more:    WFG (While, Bradstreet & Barone 2012). Sort by the last objective, worst first;
//                 point i's exclusive volume w.r.t. the later (better-in-that-objective) points is
//                 its slab depth times the (M-1)-D volume of its box minus that of the later
//                 points limited to its box. Limited sets are reduced to their non-dominated
//                 distinct points, and the recursion ends in the 3-D sweep.
// Points that do not dominate the reference point strictly in every objective contribute
// nothing and are dropped first; dominated points and duplicates change nothing.

#include <nascent/pareto/points.hpp>
#include <nascent/pareto/sort.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace nascent::pareto {

enum class hv_algorithm : std::uint8_t {
    automatic, ///< the sweeps for 1 to 3 objectives, WFG ending in the 3-D sweep for more
    wfg,       ///< WFG in every dimension down to 1 (slower; a cross-check of the sweeps)
};

struct hypervolume_options {
    hv_algorithm algorithm = hv_algorithm::automatic;
};

namespace detail {

inline void check_reference(std::span<const double> reference, std::size_t dims) {
    check_dims("the reference point", reference.size(), dims);
    for (std::size_t j = 0; j < dims; ++j) {
        if (!std::isfinite(reference[j])) {
            fail("the reference point has a non-finite value (" + std::to_string(reference[j]) +
                 ") in objective " + std::to_string(j));
        }
    }
}

// The rows strictly inside the reference box, flat. -infinity inside it means an unbounded volume.
[[nodiscard]] inline std::vector<double> inside_box(matrix_view points, std::span<const double> ref,
                                                    std::vector<std::size_t>* index = nullptr) {
    const std::size_t m = points.dims();
    std::vector<double> out;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto p = points.row(i);
        bool in = true;
        for (std::size_t j = 0; j < m; ++j)
            in = in && p[j] < ref[j];
        if (!in)
            continue;
        for (std::size_t j = 0; j < m; ++j) {
            if (std::isinf(p[j])) {
                fail(point_name(i) + " is -infinity in objective " + std::to_string(j) +
                     ": the hypervolume is unbounded");
            }
        }
        out.insert(out.end(), p.begin(), p.end());
        if (index != nullptr)
            index->push_back(i);
    }
    return out;
}

[[nodiscard]] inline double box_volume(const double* p, const double* ref, std::size_t m) noexcept {
    double v = 1.0;
    for (std::size_t j = 0; j < m; ++j)
        v *= ref[j] - p[j];
    return v;
}

[[nodiscard]] inline double hv1(std::span<const double> pts, const double* ref) noexcept {
    if (pts.empty())
        return 0.0;
    return ref[0] - *std::min_element(pts.begin(), pts.end());
}

[[nodiscard]] inline double hv2(std::span<const double> pts, const double* ref) {
    std::vector<std::array<double, 2>> rows(pts.size() / 2);
    for (std::size_t i = 0; i < rows.size(); ++i)
        rows[i] = {pts[2 * i], pts[2 * i + 1]};
    std::sort(rows.begin(), rows.end());
    double volume = 0.0;
    double floor = ref[1]; // the lowest second objective seen so far
    for (const auto& r : rows) {
        if (r[1] < floor) {
            volume += (ref[0] - r[0]) * (floor - r[1]);
            floor = r[1];
        }
    }
    return volume;
}

// The 2-D staircase of a growing point set and the area it dominates below the reference.
class area_staircase {
public:
    area_staircase(double rx, double ry) : m_rx(rx), m_ry(ry) {}

    /// Adds (x, y), updating the area by what it dominates that the staircase did not.
    void insert(double x, double y) {
        auto next = m_steps.upper_bound(x);
        // The staircase's height over [x, next) is that of the last step at or left of x.
        double height = m_ry;
        if (next != m_steps.begin()) {
            height = std::prev(next)->second;
            if (height <= y)
                return; // weakly dominated: adds nothing
        }
        auto it = m_steps.lower_bound(x);
        double left = x;
        while (it != m_steps.end() && it->second >= y) { // steps (x, y) now dominates
            m_area += (it->first - left) * (height - y);
            left = it->first;
            height = it->second;
            it = m_steps.erase(it);
        }
        const double right = it == m_steps.end() ? m_rx : it->first;
        m_area += (right - left) * (height - y);
        m_steps.emplace_hint(it, x, y);
    }
    [[nodiscard]] double area() const noexcept { return m_area; }

private:
    double m_rx;
    double m_ry;
    double m_area = 0.0;
    std::map<double, double> m_steps; // x ascending, y strictly descending
};

[[nodiscard]] inline double hv3(std::span<const double> pts, const double* ref) {
    std::vector<std::array<double, 3>> rows(pts.size() / 3);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i] = {pts[3 * i], pts[3 * i + 1], pts[3 * i + 2]};
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a[2] < b[2]; });
    area_staircase steps(ref[0], ref[1]);
    double volume = 0.0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        steps.insert(rows[i][0], rows[i][1]);
        const double top = i + 1 < rows.size() ? rows[i + 1][2] : ref[2];
        volume += steps.area() * (top - rows[i][2]);
    }
    return volume;
}

// The distinct non-dominated rows of a flat set.
[[nodiscard]] inline std::vector<double> reduced(const std::vector<double>& pts, std::size_t m) {
    const auto keep = non_dominated(matrix_view::unchecked(pts, m), true);
    std::vector<double> out;
    out.reserve(keep.size() * m);
    for (const std::size_t i : keep) {
        out.insert(out.end(), pts.begin() + static_cast<std::ptrdiff_t>(i * m),
                   pts.begin() + static_cast<std::ptrdiff_t>((i + 1) * m));
    }
    return out;
}

class wfg {
public:
    /// `sweep_dims`: the number of objectives from which down the sweeps take over (1 to 3).
    wfg(const double* ref, std::size_t sweep_dims) : m_ref(ref), m_sweep_dims(sweep_dims) {}

    /// Volume of the flat rows `pts` (all strictly inside the box) in the first m objectives.
    [[nodiscard]] double operator()(const std::vector<double>& pts, std::size_t m) const {
        const std::size_t n = pts.size() / m;
        if (n == 0)
            return 0.0;
        if (m <= m_sweep_dims) {
            if (m == 1)
                return hv1(pts, m_ref);
            if (m == 2)
                return hv2(pts, m_ref);
            return hv3(pts, m_ref);
        }
        if (n == 1)
            return box_volume(pts.data(), m_ref, m);

        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return pts[a * m + m - 1] > pts[b * m + m - 1];
        });
        std::vector<double> sorted(pts.size());
        for (std::size_t i = 0; i < n; ++i) {
            std::copy_n(pts.begin() + static_cast<std::ptrdiff_t>(order[i] * m), m,
                        sorted.begin() + static_cast<std::ptrdiff_t>(i * m));
        }

        const std::size_t k = m - 1; // the dimensions left after slicing off the last one
        double volume = 0.0;
        std::vector<double> limited;
        for (std::size_t i = 0; i < n; ++i) {
            const double* p = sorted.data() + i * m;
            limited.clear();
            for (std::size_t t = i + 1; t < n; ++t) {
                const double* q = sorted.data() + t * m;
                for (std::size_t j = 0; j < k; ++j)
                    limited.push_back(std::max(p[j], q[j]));
            }
            const double inclusive = box_volume(p, m_ref, k);
            const double covered = limited.empty() ? 0.0 : (*this)(reduced(limited, k), k);
            volume += (m_ref[k] - p[k]) * (inclusive - covered);
        }
        return volume;
    }

private:
    const double* m_ref;
    std::size_t m_sweep_dims;
};

[[nodiscard]] inline double hypervolume_inside(const std::vector<double>& pts, std::size_t m,
                                               const double* ref, hv_algorithm algorithm) {
    const std::size_t sweep_dims = algorithm == hv_algorithm::wfg ? 1 : 3;
    if (m > sweep_dims && pts.size() / m > 1) {
        return wfg(ref, sweep_dims)(reduced(pts, m), m); // WFG wants no dominated points
    }
    return wfg(ref, sweep_dims)(pts, m);
}

} // namespace detail

/// Hypervolume of minimised points w.r.t. a (finite) minimised reference point.
[[nodiscard]] inline double hypervolume(matrix_view points, std::span<const double> reference,
                                        hypervolume_options options = {}) {
    detail::check_reference(reference, points.dims());
    const auto pts = detail::inside_box(points, reference);
    return detail::hypervolume_inside(pts, points.dims(), reference.data(), options.algorithm);
}

/// Hypervolume of a point set; the reference point is given in the objectives' own directions
/// (e.g. the worst acceptable accuracy and the largest acceptable latency).
[[nodiscard]] inline double hypervolume(const point_set& points, std::span<const double> reference,
                                        hypervolume_options options = {}) {
    detail::check_dims("the reference point", reference.size(), points.dims());
    detail::check_not_nan("the reference point", reference);
    const auto ref = points.objectives().to_minimised(reference);
    return hypervolume(points.view(), ref, options);
}

/// Each point's exclusive hypervolume contribution: how much the volume shrinks without it. 0 for
/// points outside the box, points with an equal copy in the set, and dominated points; a point
/// that alone dominates others gets only what those others do not cover. (For the contributions
/// within one front, as SMS-EMOA wants, pass that front alone.) O(N log N) for 2 objectives; for
/// more, one volume of a limited set per non-dominated point.
[[nodiscard]] inline std::vector<double>
hypervolume_contributions(matrix_view points, std::span<const double> reference,
                          hypervolume_options options = {}) {
    const std::size_t m = points.dims();
    detail::check_reference(reference, m);
    const double* ref = reference.data();
    std::vector<std::size_t> index; // original index of each row inside the box
    const auto pts = detail::inside_box(points, reference, &index);
    const auto view = matrix_view::unchecked(pts, m);
    std::vector<double> contribution(points.size(), 0.0);
    const auto same = [&](std::size_t a, std::size_t b) {
        return std::ranges::equal(view.row(a), view.row(b));
    };

    // The non-dominated rows in lexicographic order; copies are adjacent and contribute 0.
    auto front = detail::non_dominated(view, false);
    const auto lex_less = [&](std::size_t a, std::size_t b) {
        return std::ranges::lexicographical_compare(view.row(a), view.row(b));
    };
    std::sort(front.begin(), front.end(), lex_less);
    const auto has_copy = [&](std::size_t t) {
        return (t > 0 && same(front[t], front[t - 1])) ||
               (t + 1 < front.size() && same(front[t], front[t + 1]));
    };

    if (m == 2) {
        // On the staircase (first objective ascending, second descending) point u alone covers
        // the rectangle R up to its right neighbour's first and its left neighbour's second
        // objective. Without u, only rows with a first objective in [u's, the right
        // neighbour's) can cover parts of R: those between u and its neighbour in lex order.
        std::vector<std::size_t> all(view.size());
        std::iota(all.begin(), all.end(), std::size_t{0});
        std::sort(all.begin(), all.end(), lex_less);
        std::size_t at = 0; // position of the current front row in `all`
        std::vector<double> inside_r;
        for (std::size_t t = 0; t < front.size(); ++t) {
            while (!same(all[at], front[t]))
                ++at;
            if (has_copy(t))
                continue;
            const std::size_t u = front[t];
            const double right = t + 1 < front.size() ? view(front[t + 1], 0) : ref[0];
            const double above = t > 0 ? view(front[t - 1], 1) : ref[1];
            inside_r.clear();
            for (std::size_t k = at + 1; k < all.size() && view(all[k], 0) < right; ++k) {
                if (view(all[k], 1) < above) {
                    inside_r.push_back(view(all[k], 0));
                    inside_r.push_back(view(all[k], 1));
                }
            }
            const std::array<double, 2> corner{right, above};
            contribution[index[u]] =
                (right - view(u, 0)) * (above - view(u, 1)) - detail::hv2(inside_r, corner.data());
        }
        return contribution;
    }
    std::vector<double> limited;
    std::vector<double> strictly;
    for (std::size_t t = 0; t < front.size(); ++t) {
        if (has_copy(t))
            continue;
        const std::size_t u = front[t];
        const auto p = view.row(u);
        limited.clear();
        for (std::size_t v = 0; v < view.size(); ++v) {
            if (v == u)
                continue;
            for (std::size_t j = 0; j < m; ++j)
                limited.push_back(std::max(p[j], view(v, j)));
        }
        // Limited rows on an upper face of the box add nothing; drop them (the algorithms
        // expect rows strictly inside).
        strictly.clear();
        for (std::size_t r = 0; r < limited.size() / m; ++r) {
            const auto row = std::span(limited).subspan(r * m, m);
            bool in = true;
            for (std::size_t j = 0; j < m; ++j)
                in = in && row[j] < ref[j];
            if (in)
                strictly.insert(strictly.end(), row.begin(), row.end());
        }
        const double covered = detail::hypervolume_inside(strictly, m, ref, options.algorithm);
        contribution[index[u]] = detail::box_volume(p.data(), ref, m) - covered;
    }
    return contribution;
}

} // namespace nascent::pareto
