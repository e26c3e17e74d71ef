#pragma once
// Summary statistics for reporting results over runs.

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>

namespace nascent {

struct mean_std {
    double mean = std::numeric_limits<double>::quiet_NaN();
    double std = std::numeric_limits<double>::quiet_NaN(); ///< population (ddof = 0)
    std::size_t count = 0;                                 ///< finite values summarised
};

/// Mean and population standard deviation of the finite values (NaN/inf are skipped: a run
/// without a result does not count as 0). Welford's update, stable for large counts.
[[nodiscard]] inline mean_std summarize(std::span<const double> values) noexcept {
    mean_std s{0.0, 0.0, 0};
    double m2 = 0.0;
    for (const double v : values) {
        if (!std::isfinite(v)) continue;
        ++s.count;
        const double delta = v - s.mean;
        s.mean += delta / static_cast<double>(s.count);
        m2 += delta * (v - s.mean);
    }
    if (s.count == 0) return {};
    s.std = std::sqrt(m2 / static_cast<double>(s.count));
    return s;
}

} // namespace nascent
