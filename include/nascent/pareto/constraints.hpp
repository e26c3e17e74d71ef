#pragma once
// Constraints on metrics (e.g. latency:pixel3 <= 10 ms) and the objective vector of an
// evaluation. An infeasible candidate is data, not an error: it carries its violation, the sum of
// the amounts by which its metrics leave their bounds, and is ranked by it (Deb's constrained
// domination: feasible before infeasible, less violation before more).

#include <nascent/core/evaluation.hpp>
#include <nascent/pareto/points.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace nascent::pareto {

struct constraint {
    std::string metric{};
    double min = -std::numeric_limits<double>::infinity();
    double max = std::numeric_limits<double>::infinity();
};

/// Parses "metric<=value" or "metric>=value"; throws std::invalid_argument naming the text.
[[nodiscard]] inline constraint parse_constraint(std::string_view text) {
    for (const std::string_view op : {"<=", ">="}) {
        const auto at = text.find(op);
        if (at == std::string_view::npos || at == 0)
            continue;
        // from_chars, as the CSV reader and the CLI's numbers: no locale, no leading blanks, no
        // hex ("<=0x10" is an error, not 16).
        const std::string number(text.substr(at + 2));
        double bound = 0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), bound);
        if (number.empty() || ec != std::errc{} || end != number.data() + number.size() ||
            !std::isfinite(bound)) {
            throw std::invalid_argument("invalid constraint '" + std::string(text) + "': '" +
                                        number + "' is not a number");
        }
        constraint c{std::string(text.substr(0, at))};
        (op == "<=" ? c.max : c.min) = bound;
        return c;
    }
    throw std::invalid_argument("invalid constraint '" + std::string(text) +
                                "': expected METRIC<=VALUE or METRIC>=VALUE");
}

/// An evaluation seen through objectives and constraints.
struct scored {
    std::vector<double> values; ///< objective values in their own directions (empty if unusable)
    double violation = 0; ///< 0 when feasible; +inf when the evaluation failed or lacks a metric
    [[nodiscard]] bool feasible() const noexcept { return violation == 0; }
};

[[nodiscard]] inline scored score(const evaluation& e, const objectives& objs,
                                  const std::vector<constraint>& constraints) {
    scored s;
    if (!e.ok()) {
        s.violation = std::numeric_limits<double>::infinity();
        return s;
    }
    s.values.reserve(objs.size());
    for (std::size_t j = 0; j < objs.size(); ++j) {
        const auto v = e.metrics.get(objs.name(j));
        if (!v || std::isnan(*v)) {
            s.values.clear();
            s.violation = std::numeric_limits<double>::infinity();
            return s;
        }
        s.values.push_back(*v);
    }
    for (const auto& c : constraints) {
        const auto v = e.metrics.get(c.metric);
        if (!v || std::isnan(*v)) {
            s.violation = std::numeric_limits<double>::infinity();
            return s;
        }
        if (*v > c.max)
            s.violation += *v - c.max;
        if (*v < c.min)
            s.violation += c.min - *v;
    }
    return s;
}

} // namespace nascent::pareto
