#pragma once
// Pareto dominance between two objective vectors.
//
// On minimised values (a point_set's rows, a matrix_view's rows):
//   weakly_dominates(a, b):   a_j <= b_j for every j                  (a is at least as good)
//   dominates(a, b):          weakly, and a_j < b_j for some j        (Pareto dominance)
//   strictly_dominates(a, b): a_j <  b_j for every j                  (better in everything)
// Equal points do not dominate each other, so they always share a non-dominated front.
// The overloads taking `objectives` read values in the objectives' own directions.

#include <nascent/pareto/points.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace nascent::pareto {

/// How point a relates to point b.
enum class relation : std::uint8_t {
    equal,        ///< the same in every objective
    dominates,    ///< a dominates b
    dominated,    ///< b dominates a
    incomparable, ///< each is better in some objective
};

[[nodiscard]] constexpr std::string_view to_string(relation r) noexcept {
    switch (r) {
    case relation::equal:
        return "equal";
    case relation::dominates:
        return "dominates";
    case relation::dominated:
        return "dominated";
    case relation::incomparable:
        return "incomparable";
    }
    return "unknown";
}

namespace detail {
inline void check_pair(std::span<const double> a, std::span<const double> b) {
    if (a.empty())
        fail("empty objective list (0 objectives)");
    check_dims("point b", b.size(), a.size());
    check_not_nan("point a", a);
    check_not_nan("point b", b);
}

// One pass over both points: whether a is better somewhere and whether b is.
// `sign(j)` is +1 for minimised objectives and -1 for maximised ones.
template <class Sign>
[[nodiscard]] constexpr relation compare_signed(std::span<const double> a,
                                                std::span<const double> b, Sign sign) noexcept {
    bool a_better = false;
    bool b_better = false;
    for (std::size_t j = 0; j < a.size(); ++j) {
        const double x = sign(j) * a[j];
        const double y = sign(j) * b[j];
        a_better |= x < y;
        b_better |= y < x;
    }
    if (a_better)
        return b_better ? relation::incomparable : relation::dominates;
    return b_better ? relation::dominated : relation::equal;
}

// The hot-path tests of the algorithms: no checks, minimised values, early exit.
[[nodiscard]] inline bool weakly_dominates_raw(const double* a, const double* b,
                                               std::size_t m) noexcept {
    for (std::size_t j = 0; j < m; ++j) {
        if (a[j] > b[j])
            return false;
    }
    return true;
}
[[nodiscard]] inline bool dominates_raw(const double* a, const double* b, std::size_t m) noexcept {
    bool better = false;
    for (std::size_t j = 0; j < m; ++j) {
        if (a[j] > b[j])
            return false;
        better |= a[j] < b[j];
    }
    return better;
}
[[nodiscard]] inline bool equal_raw(const double* a, const double* b, std::size_t m) noexcept {
    for (std::size_t j = 0; j < m; ++j) {
        if (a[j] != b[j])
            return false;
    }
    return true;
}
} // namespace detail

/// The relation of a to b (minimised values). Throws if their lengths differ or are 0.
[[nodiscard]] inline relation compare(std::span<const double> a, std::span<const double> b) {
    detail::check_pair(a, b);
    return detail::compare_signed(a, b, [](std::size_t) { return 1.0; });
}

/// The relation of a to b, both given in the directions of `objs`.
[[nodiscard]] inline relation compare(std::span<const double> a, std::span<const double> b,
                                      const objectives& objs) {
    detail::check_pair(a, b);
    detail::check_dims("point a", a.size(), objs.size());
    const auto senses = objs.senses();
    return detail::compare_signed(
        a, b, [senses](std::size_t j) { return senses[j] == direction::maximise ? -1.0 : 1.0; });
}

/// a is at least as good as b in every objective (minimised values).
[[nodiscard]] inline bool weakly_dominates(std::span<const double> a, std::span<const double> b) {
    detail::check_pair(a, b);
    return detail::weakly_dominates_raw(a.data(), b.data(), a.size());
}
[[nodiscard]] inline bool weakly_dominates(std::span<const double> a, std::span<const double> b,
                                           const objectives& objs) {
    const relation r = compare(a, b, objs);
    return r == relation::dominates || r == relation::equal;
}

/// a is at least as good as b everywhere and better somewhere (minimised values).
[[nodiscard]] inline bool dominates(std::span<const double> a, std::span<const double> b) {
    detail::check_pair(a, b);
    return detail::dominates_raw(a.data(), b.data(), a.size());
}
[[nodiscard]] inline bool dominates(std::span<const double> a, std::span<const double> b,
                                    const objectives& objs) {
    return compare(a, b, objs) == relation::dominates;
}

/// a is better than b in every objective (minimised values).
[[nodiscard]] inline bool strictly_dominates(std::span<const double> a, std::span<const double> b) {
    detail::check_pair(a, b);
    for (std::size_t j = 0; j < a.size(); ++j) {
        if (!(a[j] < b[j]))
            return false;
    }
    return true;
}
[[nodiscard]] inline bool strictly_dominates(std::span<const double> a, std::span<const double> b,
                                             const objectives& objs) {
    detail::check_pair(a, b);
    detail::check_dims("point a", a.size(), objs.size());
    for (std::size_t j = 0; j < a.size(); ++j) {
        if (!(objs.minimised(j, a[j]) < objs.minimised(j, b[j])))
            return false;
    }
    return true;
}

} // namespace nascent::pareto
