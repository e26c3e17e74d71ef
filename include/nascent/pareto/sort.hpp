#pragma once
// Non-dominated sorting: the partition of a set of points into Pareto fronts. Front 0 holds the
// points no other point dominates; front k those dominated only by points of fronts < k.
// Equal points never dominate each other, so duplicates always share a front.
//
// Every algorithm first sorts the points lexicographically. A point can then only be dominated by
// points before it, so each point is placed once, in order, into the first front with no member
// that weakly dominates it (a weakly dominating earlier point that is not equal to it dominates
// it; runs of equal points are placed together). "Front k holds a dominator of p" is monotone in
// k (a dominator in front k+1 is itself dominated by a member of front k), so that first front is
// found by binary search. How a front answers "do you weakly dominate p?" is what differs:
//   2 objectives: the front's smallest second objective so far          O(N log N)
//   3 objectives: a staircase of the front's (2nd, 3rd) values (std::map) O(N log N log F)
//   more:         a scan of the front's members, newest first (ENS-BS, Zhang et al. 2015),
//                 O(M N^2) in the worst case, close to O(M N log N) when fronts are many.
// Deb et al.'s O(M N^2) "fast non-dominated sort" of NSGA-II is kept as a reference.

#include <nascent/pareto/dominance.hpp>
#include <nascent/pareto/points.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace nascent::pareto {

enum class sort_algorithm : std::uint8_t {
    automatic, ///< sweep for 1 to 3 objectives, ens for more
    sweep,     ///< the lexicographic sweep with per-front summaries; 1 to 3 objectives only
    ens,       ///< lexicographic order, fronts scanned newest member first; any number
    deb,       ///< Deb et al. 2002: domination counts, O(M N^2) time and O(N^2) memory
};

struct sort_options {
    sort_algorithm algorithm = sort_algorithm::automatic;
};

/// A partition of points 0..n-1 into fronts, best first; members of a front in ascending order.
class fronts {
public:
    fronts() = default;

    /// The partition with front `ranks[i]` for point i; ranks must be 0..F-1 with none skipped.
    explicit fronts(std::vector<std::size_t> ranks) : m_rank(std::move(ranks)) {
        std::size_t count = 0;
        for (const std::size_t r : m_rank)
            count = std::max(count, r + 1);
        m_offsets.assign(count + 1, 0);
        for (const std::size_t r : m_rank)
            ++m_offsets[r + 1];
        for (std::size_t k = 0; k < count; ++k) {
            if (m_offsets[k + 1] == 0)
                detail::fail("front " + std::to_string(k) + " is empty");
            m_offsets[k + 1] += m_offsets[k];
        }
        m_members.resize(m_rank.size());
        std::vector<std::size_t> next(m_offsets.begin(), m_offsets.end() - 1);
        for (std::size_t i = 0; i < m_rank.size(); ++i)
            m_members[next[m_rank[i]]++] = i;
    }

    /// Number of fronts.
    [[nodiscard]] std::size_t count() const noexcept {
        return m_offsets.empty() ? 0 : m_offsets.size() - 1;
    }
    /// Number of points.
    [[nodiscard]] std::size_t size() const noexcept { return m_rank.size(); }
    /// The points of front k, ascending.
    [[nodiscard]] std::span<const std::size_t> operator[](std::size_t k) const noexcept {
        return std::span(m_members).subspan(m_offsets[k], m_offsets[k + 1] - m_offsets[k]);
    }
    /// The front of point i (0 = non-dominated).
    [[nodiscard]] std::size_t rank(std::size_t i) const noexcept { return m_rank[i]; }
    [[nodiscard]] std::span<const std::size_t> ranks() const noexcept { return m_rank; }
    /// All points, front by front (each front ascending).
    [[nodiscard]] std::span<const std::size_t> members() const noexcept { return m_members; }

private:
    std::vector<std::size_t> m_rank;
    std::vector<std::size_t> m_members;
    std::vector<std::size_t> m_offsets; // front k is m_members[m_offsets[k], m_offsets[k + 1])
};

namespace detail {

template <std::size_t M>
struct keyed_row {
    std::array<double, M> v;
    std::size_t index;
};

// The rows as fixed-size records sorted lexicographically: contiguous and cache-friendly, which
// matters more than anything else at 10^4..10^5 points.
template <std::size_t M>
[[nodiscard]] std::vector<keyed_row<M>> lex_sorted(matrix_view points) {
    std::vector<keyed_row<M>> rows(points.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        for (std::size_t j = 0; j < M; ++j)
            rows[i].v[j] = points(i, j);
        rows[i].index = i;
    }
    std::sort(rows.begin(), rows.end(), [](const keyed_row<M>& a, const keyed_row<M>& b) {
        for (std::size_t j = 0; j + 1 < M; ++j) {
            if (a.v[j] != b.v[j])
                return a.v[j] < b.v[j];
        }
        return a.v[M - 1] < b.v[M - 1];
    });
    return rows;
}

// Indices in lexicographic order of their rows (any number of objectives).
[[nodiscard]] inline std::vector<std::size_t> lex_order(matrix_view points) {
    std::vector<std::size_t> order(points.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const std::size_t m = points.dims();
    const double* data = points.data();
    std::sort(order.begin(), order.end(), [m, data](std::size_t a, std::size_t b) {
        const double* x = data + a * m;
        const double* y = data + b * m;
        for (std::size_t j = 0; j + 1 < m; ++j) {
            if (x[j] != y[j])
                return x[j] < y[j];
        }
        return x[m - 1] < y[m - 1];
    });
    return order;
}

// Calls place(first, last) for each run [first, last) of equal rows of lex-sorted `rows`.
template <std::size_t M, class Place>
void for_each_run(const std::vector<keyed_row<M>>& rows, Place place) {
    for (std::size_t i = 0; i < rows.size();) {
        std::size_t j = i + 1;
        while (j < rows.size() && rows[j].v == rows[i].v)
            ++j;
        place(i, j);
        i = j;
    }
}

// The non-dominated (y, z) pairs of a set: y ascending, z strictly descending. A pair is weakly
// dominated by the set iff the member with the largest y' <= y has z' <= z.
class staircase {
public:
    [[nodiscard]] bool weakly_dominates(double y, double z) const {
        auto it = m_steps.upper_bound(y);
        if (it == m_steps.begin())
            return false;
        return std::prev(it)->second <= z;
    }
    /// Adds (y, z), which the staircase must not weakly dominate, dropping the pairs it dominates.
    void insert(double y, double z) {
        auto it = m_steps.lower_bound(y);
        while (it != m_steps.end() && it->second >= z)
            it = m_steps.erase(it);
        m_steps.emplace_hint(it, y, z);
    }

private:
    std::map<double, double> m_steps;
};

// First front (of `count`) that holds no weak dominator, by binary search on the monotone
// predicate `dominated_by(k)`.
template <class Pred>
[[nodiscard]] std::size_t first_free_front(std::size_t count, Pred dominated_by) {
    std::size_t lo = 0;
    std::size_t hi = count;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (dominated_by(mid)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

[[nodiscard]] inline std::vector<std::size_t> ranks_sweep_1(matrix_view points) {
    const auto rows = lex_sorted<1>(points);
    std::vector<std::size_t> rank(rows.size());
    std::size_t front = 0;
    for_each_run(rows, [&](std::size_t first, std::size_t last) {
        for (std::size_t t = first; t < last; ++t)
            rank[rows[t].index] = front;
        ++front;
    });
    return rank;
}

[[nodiscard]] inline std::vector<std::size_t> ranks_sweep_2(matrix_view points) {
    const auto rows = lex_sorted<2>(points);
    std::vector<std::size_t> rank(rows.size());
    // min_y[k]: the smallest second objective in front k so far (its newest member's); fronts
    // placed earlier dominate later ones, so min_y is non-decreasing in k.
    std::vector<double> min_y;
    for_each_run(rows, [&](std::size_t first, std::size_t last) {
        const double y = rows[first].v[1];
        const auto k = static_cast<std::size_t>(std::upper_bound(min_y.begin(), min_y.end(), y) -
                                                min_y.begin());
        if (k == min_y.size()) {
            min_y.push_back(y);
        } else {
            min_y[k] = y;
        }
        for (std::size_t t = first; t < last; ++t)
            rank[rows[t].index] = k;
    });
    return rank;
}

[[nodiscard]] inline std::vector<std::size_t> ranks_sweep_3(matrix_view points) {
    const auto rows = lex_sorted<3>(points);
    std::vector<std::size_t> rank(rows.size());
    std::vector<staircase> steps;
    for_each_run(rows, [&](std::size_t first, std::size_t last) {
        const double y = rows[first].v[1];
        const double z = rows[first].v[2];
        const std::size_t k = first_free_front(
            steps.size(), [&](std::size_t f) { return steps[f].weakly_dominates(y, z); });
        if (k == steps.size())
            steps.emplace_back();
        steps[k].insert(y, z);
        for (std::size_t t = first; t < last; ++t)
            rank[rows[t].index] = k;
    });
    return rank;
}

[[nodiscard]] inline std::vector<std::size_t> ranks_ens(matrix_view points) {
    const std::size_t m = points.dims();
    const double* data = points.data();
    const auto order = lex_order(points);
    std::vector<std::size_t> rank(order.size());
    std::vector<std::vector<const double*>> members; // per front, in placement order
    for (std::size_t i = 0; i < order.size();) {
        const double* p = data + order[i] * m;
        std::size_t j = i + 1;
        while (j < order.size() && equal_raw(data + order[j] * m, p, m))
            ++j;
        const std::size_t k = first_free_front(members.size(), [&](std::size_t f) {
            const auto& front = members[f];
            // Newest first: the latest members are closest to p in the sort order.
            for (auto it = front.rbegin(); it != front.rend(); ++it) {
                if (weakly_dominates_raw(*it, p, m))
                    return true;
            }
            return false;
        });
        if (k == members.size())
            members.emplace_back();
        members[k].push_back(p);
        for (std::size_t t = i; t < j; ++t)
            rank[order[t]] = k;
        i = j;
    }
    return rank;
}

[[nodiscard]] inline std::vector<std::size_t> ranks_deb(matrix_view points) {
    const std::size_t n = points.size();
    const std::size_t m = points.dims();
    const double* data = points.data();
    std::vector<std::size_t> count(n, 0);               // how many points dominate i
    std::vector<std::vector<std::size_t>> dominated(n); // the points i dominates
    for (std::size_t a = 0; a < n; ++a) {
        for (std::size_t b = a + 1; b < n; ++b) {
            if (dominates_raw(data + a * m, data + b * m, m)) {
                dominated[a].push_back(b);
                ++count[b];
            } else if (dominates_raw(data + b * m, data + a * m, m)) {
                dominated[b].push_back(a);
                ++count[a];
            }
        }
    }
    std::vector<std::size_t> rank(n, 0);
    std::vector<std::size_t> current;
    for (std::size_t i = 0; i < n; ++i) {
        if (count[i] == 0)
            current.push_back(i);
    }
    for (std::size_t k = 0; !current.empty(); ++k) {
        std::vector<std::size_t> next;
        for (const std::size_t i : current) {
            rank[i] = k;
            for (const std::size_t d : dominated[i]) {
                if (--count[d] == 0)
                    next.push_back(d);
            }
        }
        current = std::move(next);
    }
    return rank;
}

} // namespace detail

/// Sorts points into non-dominated fronts (minimised values; a point_set converts).
[[nodiscard]] inline fronts non_dominated_sort(matrix_view points, sort_options options = {}) {
    const std::size_t m = points.dims();
    switch (options.algorithm) {
    case sort_algorithm::deb:
        return fronts(detail::ranks_deb(points));
    case sort_algorithm::ens:
        return fronts(detail::ranks_ens(points));
    case sort_algorithm::sweep:
        if (m > 3) {
            detail::fail("sort_algorithm::sweep handles 1 to 3 objectives, got " +
                         std::to_string(m));
        }
        break;
    case sort_algorithm::automatic:
        break;
    }
    switch (m) {
    case 1:
        return fronts(detail::ranks_sweep_1(points));
    case 2:
        return fronts(detail::ranks_sweep_2(points));
    case 3:
        return fronts(detail::ranks_sweep_3(points));
    default:
        return fronts(detail::ranks_ens(points));
    }
}

namespace detail {
// Front 0. With `distinct`, only the first (lexicographic run order) of equal points is kept,
// which is what hypervolume computations want.
[[nodiscard]] inline std::vector<std::size_t> non_dominated(matrix_view points, bool distinct) {
    std::vector<std::size_t> kept;
    const std::size_t m = points.dims();
    if (points.empty())
        return kept;
    const auto keep_run = [&](auto&& index_at, std::size_t first, std::size_t last) {
        if (distinct)
            last = first + 1;
        for (std::size_t t = first; t < last; ++t)
            kept.push_back(index_at(t));
    };
    if (m == 1) {
        const auto rows = lex_sorted<1>(points);
        const std::size_t last = static_cast<std::size_t>(
            std::find_if(rows.begin(), rows.end(),
                         [&](const keyed_row<1>& r) { return r.v != rows.front().v; }) -
            rows.begin());
        keep_run([&](std::size_t t) { return rows[t].index; }, 0, last);
    } else if (m == 2) {
        const auto rows = lex_sorted<2>(points);
        double min_y = 0.0;
        bool any = false;
        for_each_run(rows, [&](std::size_t first, std::size_t last) {
            const double y = rows[first].v[1];
            if (any && !(y < min_y))
                return;
            any = true;
            min_y = y;
            keep_run([&](std::size_t t) { return rows[t].index; }, first, last);
        });
    } else if (m == 3) {
        const auto rows = lex_sorted<3>(points);
        staircase steps;
        for_each_run(rows, [&](std::size_t first, std::size_t last) {
            const double y = rows[first].v[1];
            const double z = rows[first].v[2];
            if (steps.weakly_dominates(y, z))
                return;
            steps.insert(y, z);
            keep_run([&](std::size_t t) { return rows[t].index; }, first, last);
        });
    } else {
        const double* data = points.data();
        const auto order = lex_order(points);
        std::vector<const double*> front;
        for (std::size_t i = 0; i < order.size();) {
            const double* p = data + order[i] * m;
            std::size_t j = i + 1;
            while (j < order.size() && equal_raw(data + order[j] * m, p, m))
                ++j;
            const bool dominated = std::any_of(front.rbegin(), front.rend(), [&](const double* q) {
                return weakly_dominates_raw(q, p, m);
            });
            if (!dominated) {
                front.push_back(p);
                keep_run([&](std::size_t t) { return order[t]; }, i, j);
            }
            i = j;
        }
    }
    std::sort(kept.begin(), kept.end());
    return kept;
}
} // namespace detail

/// The indices (ascending) of the non-dominated points (front 0) without sorting the rest; equal
/// points are all kept. O(N log N) for up to 3 objectives; for more, each point is checked
/// against the kept points in lexicographic order (O(M N F) for F non-dominated points).
[[nodiscard]] inline std::vector<std::size_t> non_dominated(matrix_view points) {
    return detail::non_dominated(points, false);
}

} // namespace nascent::pareto
