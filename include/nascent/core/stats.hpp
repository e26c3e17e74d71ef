#pragma once
// Summary statistics for reporting results over runs, and rank correlations.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

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
        if (!std::isfinite(v))
            continue;
        ++s.count;
        const double delta = v - s.mean;
        s.mean += delta / static_cast<double>(s.count);
        m2 += delta * (v - s.mean);
    }
    if (s.count == 0)
        return {};
    s.std = std::sqrt(m2 / static_cast<double>(s.count));
    return s;
}

// Rank correlations (predictors against accuracies, proxies against published scores)

/// Ranks 1..n of `values`, ties sharing their average rank (what scipy.stats.rankdata does).
[[nodiscard]] inline std::vector<double> average_ranks(std::span<const double> values) {
    std::vector<std::size_t> order(values.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    std::vector<double> ranks(values.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i + 1;
        while (j < order.size() && values[order[j]] == values[order[i]])
            ++j;
        const double rank = 0.5 * static_cast<double>(i + j + 1); // mean of i+1 .. j
        for (std::size_t k = i; k < j; ++k)
            ranks[order[k]] = rank;
        i = j;
    }
    return ranks;
}

/// Spearman's rank correlation over the pairs where neither value is NaN (±inf are ranked like
/// any value: a zero synflow, log -inf, ranks last). NaN when fewer than two pairs remain or a
/// side is constant.
[[nodiscard]] inline double spearman(std::span<const double> a, std::span<const double> b) {
    if (a.size() != b.size()) {
        throw std::invalid_argument("spearman: " + std::to_string(a.size()) + " values against " +
                                    std::to_string(b.size()));
    }
    std::vector<double> x;
    std::vector<double> y;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) || std::isnan(b[i]))
            continue;
        x.push_back(a[i]);
        y.push_back(b[i]);
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (x.size() < 2)
        return nan;
    const auto rx = average_ranks(x);
    const auto ry = average_ranks(y);
    const double mean = 0.5 * static_cast<double>(x.size() + 1);
    double sxy = 0.0;
    double sxx = 0.0;
    double syy = 0.0;
    for (std::size_t i = 0; i < rx.size(); ++i) {
        sxy += (rx[i] - mean) * (ry[i] - mean);
        sxx += (rx[i] - mean) * (rx[i] - mean);
        syy += (ry[i] - mean) * (ry[i] - mean);
    }
    return sxx > 0.0 && syy > 0.0 ? sxy / std::sqrt(sxx * syy) : nan;
}

/// Kendall's tau-b over the pairs where neither value is NaN: (concordant - discordant) /
/// sqrt((pairs untied in a) (pairs untied in b)), as scipy.stats.kendalltau. O(n^2), which is
/// fine for the thousands of points predictor studies rank. NaN when a side is constant.
[[nodiscard]] inline double kendall_tau(std::span<const double> a, std::span<const double> b) {
    if (a.size() != b.size()) {
        throw std::invalid_argument("kendall_tau: " + std::to_string(a.size()) +
                                    " values against " + std::to_string(b.size()));
    }
    double concordant = 0;
    double discordant = 0;
    double ties_a = 0; // tied in a only
    double ties_b = 0; // tied in b only
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) || std::isnan(b[i]))
            continue;
        for (std::size_t j = i + 1; j < a.size(); ++j) {
            if (std::isnan(a[j]) || std::isnan(b[j]))
                continue;
            const double da = a[i] - a[j];
            const double db = b[i] - b[j];
            if (da == 0 && db == 0)
                continue;
            if (da == 0) {
                ++ties_a;
            } else if (db == 0) {
                ++ties_b;
            } else if ((da > 0) == (db > 0)) {
                ++concordant;
            } else {
                ++discordant;
            }
        }
    }
    const double denominator =
        (concordant + discordant + ties_a) * (concordant + discordant + ties_b);
    return denominator > 0 ? (concordant - discordant) / std::sqrt(denominator)
                           : std::numeric_limits<double>::quiet_NaN();
}

} // namespace nascent
