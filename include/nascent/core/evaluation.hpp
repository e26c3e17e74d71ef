#pragma once
// What an Evaluator returns: a status and named metrics. A failed evaluation is data: strategies
// see it through tell() like any other, with a reward of -infinity.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace nascent {

enum class eval_status : std::uint8_t {
    ok,           ///< evaluated; reward and metrics are valid
    failed,       ///< the evaluator tried and could not (missing table value, diverged training...)
    out_of_table, ///< a tabular benchmark has no entry for this architecture
};

[[nodiscard]] constexpr std::string_view to_string(eval_status s) noexcept {
    switch (s) {
    case eval_status::ok:
        return "ok";
    case eval_status::failed:
        return "failed";
    case eval_status::out_of_table:
        return "out_of_table";
    }
    return "unknown";
}

/// A small flat map from metric name to value, stored inline so that evaluating an architecture
/// allocates nothing (table lookups run at tens of nanoseconds).
///
/// Names are string_views: they must outlive the metrics object. String literals and names owned
/// by a long-lived object (a table's schema, an evaluator's options) qualify.
class metrics {
public:
    static constexpr std::size_t capacity = 12;

    constexpr metrics() noexcept {} // entries past size() stay uninitialised: nothing reads them
    constexpr metrics(const metrics& other) noexcept : m_size(other.m_size) { copy_from(other); }
    constexpr metrics& operator=(const metrics& other) noexcept {
        m_size = other.m_size;
        copy_from(other);
        return *this;
    }
    constexpr ~metrics() = default;

    /// Sets `name` to `value`, replacing an earlier value of the same name.
    /// Throws std::length_error when more than `capacity` distinct names are set.
    constexpr void set(std::string_view name, double value) {
        for (std::size_t i = 0; i < m_size; ++i) {
            if (m_entries[i].named(name)) {
                m_entries[i].value = value;
                return;
            }
        }
        append(name, value);
    }

    /// Adds a metric known not to be present yet (no duplicate check: the fast path for
    /// evaluators with fixed, distinct names). Throws std::length_error when full.
    constexpr void append(std::string_view name, double value) {
        if (m_size == capacity) [[unlikely]]
            throw_full(name);
        m_entries[m_size] = {name.data(), name.size(), value};
        ++m_size;
    }

    [[nodiscard]] constexpr std::optional<double> get(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < m_size; ++i) {
            if (m_entries[i].named(name))
                return m_entries[i].value;
        }
        return std::nullopt;
    }
    [[nodiscard]] constexpr bool contains(std::string_view name) const noexcept {
        return get(name).has_value();
    }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] constexpr bool empty() const noexcept { return m_size == 0; }
    [[nodiscard]] constexpr std::string_view name(std::size_t i) const noexcept {
        return m_entries[i].name();
    }
    [[nodiscard]] constexpr double value(std::size_t i) const noexcept {
        return m_entries[i].value;
    }

private:
    // Trivially default-constructible (unlike string_view), so an empty metrics costs nothing.
    struct entry {
        const char* data;
        std::size_t length;
        double value;
        [[nodiscard]] constexpr std::string_view name() const noexcept { return {data, length}; }
        // Inline comparison: names are short, and the same literal often backs both sides, so
        // this beats a call to memcmp on the path every improvement of a run takes.
        [[nodiscard]] constexpr bool named(std::string_view other) const noexcept {
            if (length != other.size())
                return false;
            if (data == other.data())
                return true;
            for (std::size_t i = 0; i < length; ++i) {
                if (data[i] != other[i])
                    return false;
            }
            return true;
        }
    };

    [[noreturn]] static void throw_full(std::string_view name) {
        throw std::length_error("nascent::metrics: more than " + std::to_string(capacity) +
                                " metrics; cannot add '" + std::string(name) + "'");
    }

    constexpr void copy_from(const metrics& other) noexcept {
        for (std::size_t i = 0; i < m_size; ++i)
            m_entries[i] = other.m_entries[i];
    }

    std::size_t m_size = 0;
    entry m_entries[capacity];
};

/// The result of evaluating one architecture.
struct evaluation {
    eval_status status = eval_status::failed;
    /// The search objective, maximised by every strategy. -infinity unless status is ok.
    double reward = -std::numeric_limits<double>::infinity();
    nascent::metrics metrics{};
    /// Why the evaluation is not ok (a literal or long-lived string); empty when ok.
    std::string_view reason{};

    [[nodiscard]] constexpr bool ok() const noexcept { return status == eval_status::ok; }

    /// An ok evaluation; the reward must be finite, else the evaluation is failed.
    [[nodiscard]] static evaluation success(double reward, nascent::metrics m = {}) {
        if (!std::isfinite(reward))
            return failure("non-finite reward", std::move(m));
        return {eval_status::ok, reward, std::move(m), {}};
    }
    [[nodiscard]] static constexpr evaluation failure(std::string_view why,
                                                      nascent::metrics m = {}) {
        return {eval_status::failed, -std::numeric_limits<double>::infinity(), std::move(m), why};
    }
    [[nodiscard]] static constexpr evaluation missing(std::string_view why = "not in the table") {
        return {eval_status::out_of_table, -std::numeric_limits<double>::infinity(), {}, why};
    }
};

/// What the search loops book: an ok evaluation whose reward is NaN or infinite becomes a failed
/// one (its metrics kept). A NaN incumbent would otherwise never be beaten (every comparison
/// with NaN is false) and a NaN in a population corrupts tournaments.
[[nodiscard]] inline evaluation checked_evaluation(evaluation e) noexcept {
    if (e.ok() && !std::isfinite(e.reward)) {
        e.status = eval_status::failed;
        e.reward = -std::numeric_limits<double>::infinity();
        e.reason = "non-finite reward";
    }
    return e;
}

} // namespace nascent
