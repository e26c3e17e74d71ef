#pragma once
// Objective vectors for multi-objective search: directions, optional names, and a flat row-major
// n × m matrix of points.
//
// Every algorithm in nascent::pareto works on minimised values. Maximised objectives are negated
// once, when points enter a point_set; negation is exact in IEEE arithmetic, so the user's values
// come back bit for bit. A matrix_view is the form the algorithms read: n rows of m minimised
// values, one contiguous buffer, no allocation per point.

#include <nascent/core/evaluation.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::pareto {

/// Whether smaller or larger values of an objective are better.
enum class direction : std::uint8_t { minimise, maximise };

[[nodiscard]] constexpr std::string_view to_string(direction d) noexcept {
    return d == direction::maximise ? "maximise" : "minimise";
}

/// One objective of a problem: a metric name (as an evaluation names it) and its direction.
struct objective {
    std::string name;
    direction sense = direction::minimise;
};

namespace detail {
[[noreturn]] inline void fail(const std::string& message) {
    throw std::invalid_argument("nascent::pareto: " + message);
}

/// What a message calls the checked values: a string, or a callable making one, so that the
/// (hot) success path builds no string.
template <class Name>
[[nodiscard]] std::string describe(const Name& what) {
    if constexpr (std::invocable<const Name&>) {
        return what();
    } else {
        return std::string(what);
    }
}

template <class Name>
void check_dims(const Name& what, std::size_t got, std::size_t dims) {
    if (got != dims) {
        fail("mismatched dimensions: " + describe(what) + " has " + std::to_string(got) +
             " values, the points have " + std::to_string(dims) + " objectives");
    }
}

template <class Name>
void check_not_nan(const Name& what, std::span<const double> values) {
    for (std::size_t j = 0; j < values.size(); ++j) {
        if (std::isnan(values[j])) {
            fail(describe(what) + " has NaN in objective " + std::to_string(j));
        }
    }
}

/// "point 3": the name of row `i` in error messages.
inline std::string point_name(std::size_t i) {
    return "point " + std::to_string(i);
}

/// The name of row `i`, made only when a message needs it.
inline auto point_named(std::size_t i) {
    return [i] { return point_name(i); };
}
} // namespace detail

/// The objectives of a problem: their number, directions and (optionally) names.
/// Names, when given, are all non-empty and distinct, so that points can be read from an
/// evaluation's metrics by name.
class objectives {
public:
    objectives(std::initializer_list<direction> senses)
        : objectives(std::vector<direction>(senses)) {}
    objectives(std::initializer_list<objective> list) : objectives(std::vector<objective>(list)) {}

    explicit objectives(std::vector<direction> senses) : m_senses(std::move(senses)) {
        if (m_senses.empty())
            detail::fail("empty objective list");
    }

    explicit objectives(std::vector<objective> list) {
        if (list.empty())
            detail::fail("empty objective list");
        const bool named = !list.front().name.empty();
        for (std::size_t j = 0; j < list.size(); ++j) {
            if (list[j].name.empty() == named) {
                detail::fail("objective " + std::to_string(j) +
                             (named ? " has no name" : " is named '" + list[j].name + "'") +
                             "; name all objectives or none");
            }
            for (std::size_t k = 0; k < j; ++k) {
                if (named && list[k].name == list[j].name) {
                    detail::fail("duplicate objective name '" + list[j].name + "' (objectives " +
                                 std::to_string(k) + " and " + std::to_string(j) + ")");
                }
            }
        }
        m_senses.reserve(list.size());
        for (auto& o : list) {
            m_senses.push_back(o.sense);
            if (named)
                m_names.push_back(std::move(o.name));
        }
    }

    /// `m` unnamed objectives, all minimised.
    [[nodiscard]] static objectives minimised(std::size_t m) {
        return objectives(std::vector<direction>(m, direction::minimise));
    }

    [[nodiscard]] std::size_t size() const noexcept { return m_senses.size(); }
    [[nodiscard]] direction sense(std::size_t j) const {
        if (j >= size())
            detail::fail("objective " + std::to_string(j) + " out of range");
        return m_senses[j];
    }
    [[nodiscard]] std::span<const direction> senses() const noexcept { return m_senses; }
    [[nodiscard]] bool named() const noexcept { return !m_names.empty(); }
    /// The name of objective j ("" when the objectives are unnamed).
    [[nodiscard]] std::string_view name(std::size_t j) const {
        if (j >= size())
            detail::fail("objective " + std::to_string(j) + " out of range");
        return named() ? std::string_view(m_names[j]) : std::string_view{};
    }

    /// Index of the objective called `name`; throws if there is none.
    [[nodiscard]] std::size_t index_of(std::string_view name) const {
        for (std::size_t j = 0; j < m_names.size(); ++j) {
            if (m_names[j] == name)
                return j;
        }
        detail::fail("no objective named '" + std::string(name) + "'");
    }

    /// Writes `values` (in these objectives' directions) to `out` in minimised form.
    /// Throws on a length mismatch or a NaN.
    void to_minimised(std::span<const double> values, std::span<double> out) const {
        detail::check_dims("the point", values.size(), size());
        detail::check_dims("the output", out.size(), size());
        detail::check_not_nan("the point", values);
        for (std::size_t j = 0; j < values.size(); ++j) {
            out[j] = m_senses[j] == direction::maximise ? -values[j] : values[j];
        }
    }
    [[nodiscard]] std::vector<double> to_minimised(std::span<const double> values) const {
        std::vector<double> out(size());
        to_minimised(values, out);
        return out;
    }
    /// Value v of objective j (in its own direction) in minimised form.
    [[nodiscard]] double minimised(std::size_t j, double v) const noexcept {
        return m_senses[j] == direction::maximise ? -v : v;
    }
    /// The value of objective j in its own direction, from its minimised form.
    [[nodiscard]] double from_minimised(std::size_t j, double v) const noexcept {
        return m_senses[j] == direction::maximise ? -v : v;
    }

    /// The named objectives' values from an evaluation's metrics (in their own directions).
    /// Throws if the objectives are unnamed or a metric is missing.
    [[nodiscard]] std::vector<double> values_of(const nascent::metrics& m) const {
        if (!named())
            detail::fail("objectives have no names to read metrics by");
        std::vector<double> out(size());
        for (std::size_t j = 0; j < size(); ++j) {
            const auto v = m.get(m_names[j]);
            if (!v)
                detail::fail("metric '" + m_names[j] + "' is missing from the evaluation");
            out[j] = *v;
        }
        return out;
    }

    friend bool operator==(const objectives&, const objectives&) = default;

private:
    std::vector<direction> m_senses;
    std::vector<std::string> m_names; // empty, or one per objective
};

class point_set;

/// A read-only n × m row-major matrix of minimised objective values (what every algorithm in
/// nascent::pareto reads). Constructing one from raw values checks the shape and for NaN.
class matrix_view {
public:
    /// `values` holds n rows of `dims` minimised values each.
    matrix_view(std::span<const double> values, std::size_t dims) : m_values(values), m_dims(dims) {
        if (dims == 0)
            detail::fail("empty objective list (0 objectives)");
        if (values.size() % dims != 0) {
            detail::fail("mismatched dimensions: " + std::to_string(values.size()) +
                         " values do not form rows of " + std::to_string(dims) + " objectives");
        }
        for (std::size_t i = 0; i < size(); ++i)
            detail::check_not_nan(detail::point_named(i), row(i));
    }
    matrix_view(const point_set& points) noexcept; // NOLINT: a point_set is read as its view

    [[nodiscard]] std::size_t size() const noexcept { return m_values.size() / m_dims; }
    [[nodiscard]] std::size_t dims() const noexcept { return m_dims; }
    [[nodiscard]] bool empty() const noexcept { return m_values.empty(); }
    [[nodiscard]] std::span<const double> row(std::size_t i) const noexcept {
        return m_values.subspan(i * m_dims, m_dims);
    }
    [[nodiscard]] double operator()(std::size_t i, std::size_t j) const noexcept {
        return m_values[i * m_dims + j];
    }
    [[nodiscard]] std::span<const double> values() const noexcept { return m_values; }
    [[nodiscard]] const double* data() const noexcept { return m_values.data(); }

    /// A view of already-validated values (no NaN, whole rows): the library's internal path.
    [[nodiscard]] static matrix_view unchecked(std::span<const double> values,
                                               std::size_t dims) noexcept {
        return matrix_view(values, dims, 0);
    }

private:
    matrix_view(std::span<const double> values, std::size_t dims, int) noexcept
        : m_values(values), m_dims(dims) {}

    std::span<const double> m_values;
    std::size_t m_dims = 1;
};

/// An owning set of points of given objectives. Values enter and leave in the objectives' own
/// directions; `row(i)` and the view are minimised.
class point_set {
public:
    explicit point_set(pareto::objectives objs) : m_objectives(std::move(objs)) {}

    /// n points from row-major values in the objectives' directions.
    point_set(pareto::objectives objs, std::span<const double> rows)
        : m_objectives(std::move(objs)) {
        const std::size_t m = dims();
        if (rows.size() % m != 0) {
            detail::fail("mismatched dimensions: " + std::to_string(rows.size()) +
                         " values do not form rows of " + std::to_string(m) + " objectives");
        }
        m_values.resize(rows.size());
        for (std::size_t i = 0; i < rows.size() / m; ++i) {
            const auto r = rows.subspan(i * m, m);
            detail::check_not_nan(detail::point_named(i), r);
            for (std::size_t j = 0; j < m; ++j)
                m_values[i * m + j] = m_objectives.minimised(j, r[j]);
        }
    }

    /// Appends a point given in the objectives' directions; throws on a length mismatch or NaN.
    void push_back(std::span<const double> values) {
        detail::check_dims(detail::point_named(size()), values.size(), dims());
        detail::check_not_nan(detail::point_named(size()), values);
        const std::size_t at = m_values.size();
        m_values.resize(at + dims());
        m_objectives.to_minimised(values, std::span(m_values).subspan(at, dims()));
    }
    void push_back(std::initializer_list<double> values) {
        push_back(std::span<const double>(values.begin(), values.size()));
    }
    /// Appends the point an evaluation's metrics give for the named objectives.
    void push_back(const nascent::metrics& m) { push_back(m_objectives.values_of(m)); }

    /// Removes the points at `indices` (ascending, distinct), keeping the others' order.
    void erase(std::span<const std::size_t> indices) {
        const std::size_t m = dims();
        std::size_t out = 0;
        std::size_t next = 0;
        for (std::size_t i = 0; i < size(); ++i) {
            if (next < indices.size() && indices[next] == i) {
                ++next;
                continue;
            }
            if (out != i)
                std::copy_n(m_values.begin() + i * m, m, m_values.begin() + out * m);
            ++out;
        }
        if (next != indices.size()) {
            detail::fail("erase: indices must be ascending, distinct and below " +
                         std::to_string(size()));
        }
        m_values.resize(out * m);
    }

    void reserve(std::size_t n) { m_values.reserve(n * dims()); }
    void clear() noexcept { m_values.clear(); }

    [[nodiscard]] std::size_t size() const noexcept { return m_values.size() / dims(); }
    [[nodiscard]] std::size_t dims() const noexcept { return m_objectives.size(); }
    [[nodiscard]] bool empty() const noexcept { return m_values.empty(); }
    [[nodiscard]] const pareto::objectives& objectives() const noexcept { return m_objectives; }

    /// Point i, minimised.
    [[nodiscard]] std::span<const double> row(std::size_t i) const noexcept {
        return std::span(m_values).subspan(i * dims(), dims());
    }
    /// Objective j of point i, in the objective's own direction.
    [[nodiscard]] double value(std::size_t i, std::size_t j) const noexcept {
        return m_objectives.from_minimised(j, m_values[i * dims() + j]);
    }
    /// Point i in the objectives' own directions.
    [[nodiscard]] std::vector<double> values(std::size_t i) const {
        std::vector<double> out(dims());
        for (std::size_t j = 0; j < dims(); ++j)
            out[j] = value(i, j);
        return out;
    }
    [[nodiscard]] matrix_view view() const noexcept {
        return matrix_view::unchecked(m_values, dims());
    }

    /// The points at `indices` (in that order), with the same objectives.
    [[nodiscard]] point_set subset(std::span<const std::size_t> indices) const {
        point_set out(m_objectives);
        out.m_values.reserve(indices.size() * dims());
        for (const std::size_t i : indices) {
            if (i >= size()) {
                detail::fail("index " + std::to_string(i) + " out of range for " +
                             std::to_string(size()) + " points");
            }
            const auto r = row(i);
            out.m_values.insert(out.m_values.end(), r.begin(), r.end());
        }
        return out;
    }

private:
    pareto::objectives m_objectives;
    std::vector<double> m_values; // row-major, minimised
};

inline matrix_view::matrix_view(const point_set& points) noexcept : matrix_view(points.view()) {}

} // namespace nascent::pareto
