#pragma once
// An incremental Pareto archive: the non-dominated points seen so far, each with a payload (the
// architecture, its evaluation...). An insert that some member dominates is rejected; members the
// new point dominates are removed. Members keep their insertion order, so an archive fed the same
// stream always lists the same front in the same order.
//
// Each insert is one pass over the members, O(M |front|): fronts of NAS problems hold tens to a
// few thousand points, and a flat scan beats a tree at those sizes.

#include <nascent/core/evaluation.hpp>
#include <nascent/pareto/dominance.hpp>
#include <nascent/pareto/hypervolume.hpp>
#include <nascent/pareto/points.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace nascent::pareto {

/// What an insert did.
enum class insert_status : std::uint8_t {
    added,     ///< the point joined the front (possibly removing members it dominates)
    dominated, ///< a member dominates the point; the archive is unchanged
    duplicate, ///< a member has the same values and duplicates are not kept; unchanged
};

[[nodiscard]] constexpr std::string_view to_string(insert_status s) noexcept {
    switch (s) {
    case insert_status::added:
        return "added";
    case insert_status::dominated:
        return "dominated";
    case insert_status::duplicate:
        return "duplicate";
    }
    return "unknown";
}

struct archive_options {
    /// Keep a point equal to a member (equal points are mutually non-dominated: two different
    /// architectures with the same accuracy and latency are both Pareto-optimal). When false,
    /// the first one stays and later copies are rejected.
    bool keep_duplicates = true;
};

template <class Payload = std::monostate>
class archive {
public:
    explicit archive(pareto::objectives objs, archive_options options = {})
        : m_points(std::move(objs)), m_options(options) {}

    /// Offers a point (in the objectives' own directions) with its payload.
    /// Throws on a length mismatch or NaN, leaving the archive unchanged.
    insert_status insert(std::span<const double> values, Payload payload = Payload{}) {
        const std::size_t m = dims();
        detail::check_dims(detail::point_named(size()), values.size(), m);
        detail::check_not_nan("the point", values);
        m_scratch.resize(m);
        m_points.objectives().to_minimised(values, m_scratch);
        const double* p = m_scratch.data();

        // One pass: reject if dominated (or a rejected duplicate); mark members p dominates.
        const auto view = m_points.view();
        m_doomed.clear();
        for (std::size_t i = 0; i < view.size(); ++i) {
            const double* q = view.row(i).data();
            if (detail::weakly_dominates_raw(q, p, m)) {
                if (!detail::equal_raw(q, p, m))
                    return insert_status::dominated;
                if (!m_options.keep_duplicates)
                    return insert_status::duplicate;
            } else if (detail::dominates_raw(p, q, m)) {
                m_doomed.push_back(i);
            }
        }
        if (!m_doomed.empty())
            remove_doomed();
        m_points.push_back(values);
        m_payloads.push_back(std::move(payload));
        return insert_status::added;
    }
    insert_status insert(std::initializer_list<double> values, Payload payload = Payload{}) {
        return insert(std::span<const double>(values.begin(), values.size()), std::move(payload));
    }

    /// Offers the point an evaluation's metrics give for the (named) objectives.
    insert_status insert(const nascent::metrics& m, Payload payload = Payload{}) {
        return insert(m_points.objectives().values_of(m), std::move(payload));
    }

    [[nodiscard]] std::size_t size() const noexcept { return m_payloads.size(); }
    [[nodiscard]] bool empty() const noexcept { return m_payloads.empty(); }
    [[nodiscard]] std::size_t dims() const noexcept { return m_points.dims(); }
    [[nodiscard]] const pareto::objectives& objectives() const noexcept {
        return m_points.objectives();
    }

    /// The current front, in insertion order (values in the objectives' own directions via
    /// `value`/`values`, minimised via `row`/`view`).
    [[nodiscard]] const point_set& front() const noexcept { return m_points; }
    [[nodiscard]] std::vector<double> values(std::size_t i) const { return m_points.values(i); }
    [[nodiscard]] const Payload& payload(std::size_t i) const noexcept { return m_payloads[i]; }
    [[nodiscard]] std::span<const Payload> payloads() const noexcept { return m_payloads; }

    /// Hypervolume of the front; the reference point in the objectives' own directions.
    [[nodiscard]] double hypervolume(std::span<const double> reference) const {
        return pareto::hypervolume(m_points, reference);
    }

    void clear() noexcept {
        m_points.clear();
        m_payloads.clear();
    }

private:
    // Drops the doomed members (ascending), keeping the others' order.
    void remove_doomed() {
        std::size_t out = 0;
        std::size_t next = 0;
        for (std::size_t i = 0; i < m_payloads.size(); ++i) {
            if (next < m_doomed.size() && m_doomed[next] == i) {
                ++next;
                continue;
            }
            if (out != i)
                m_payloads[out] = std::move(m_payloads[i]);
            ++out;
        }
        m_payloads.erase(m_payloads.begin() + static_cast<std::ptrdiff_t>(out), m_payloads.end());
        m_points.erase(m_doomed);
    }

    point_set m_points;
    std::vector<Payload> m_payloads;
    archive_options m_options;
    std::vector<double> m_scratch;
    std::vector<std::size_t> m_doomed;
};

} // namespace nascent::pareto
