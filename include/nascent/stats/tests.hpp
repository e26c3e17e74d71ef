#pragma once
// Hypothesis tests for comparing search strategies over runs, with SciPy 1.10's definitions:
//
//   mann_whitney_u(x, y)   Wilcoxon rank-sum / Mann-Whitney U, two-sided, as
//                          scipy.stats.mannwhitneyu(x, y) with its defaults (use_continuity=True,
//                          alternative='two-sided', method='auto': the exact null distribution
//                          when a sample has at most 8 values and nothing is tied, else the
//                          normal approximation with the tie correction)
//   holm(p)                Holm's step-down adjustment (statsmodels' multipletests 'holm')
//   vargha_delaney_a(x, y) P(X > Y) + P(X = Y) / 2 = U1 / (n1 n2)
//   friedman(blocks)       scipy.stats.friedmanchisquare, with its tie correction
//   nemenyi_cd(k, n)       Demsar's critical difference of mean ranks at alpha = 0.05

#include <nascent/core/stats.hpp>
#include <nascent/stats/distributions.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::stats {

struct mann_whitney_result {
    double u1 = 0;      ///< U of the first sample (SciPy's `statistic`)
    double p_value = 1; ///< two-sided
    bool exact = false; ///< the exact null distribution (else the normal approximation)
};

namespace detail {
/// Sum of t^3 - t over the groups of t tied ranks.
inline double tie_term(std::span<const double> ranks) {
    std::map<double, double> count;
    for (const double r : ranks)
        count[r] += 1;
    double term = 0;
    for (const auto& [r, t] : count)
        term += t * t * t - t;
    return term;
}

/// P(U >= u) under H0 for samples of m and n distinct values: the counts f(m, n, k) of
/// arrangements with U = k (f(m,n,k) = f(m-1,n,k-n) + f(m,n-1,k)) over binom(m+n, m).
inline double exact_mwu_sf(std::size_t u, std::size_t m, std::size_t n) {
    // f over (i, j, k), built row by row in i with a table of (j, k).
    const std::size_t kmax = m * n;
    std::vector<std::vector<double>> prev(n + 1, std::vector<double>(kmax + 1, 0.0));
    for (std::size_t j = 0; j <= n; ++j)
        prev[j][0] = 1; // i = 0: only U = 0
    for (std::size_t i = 1; i <= m; ++i) {
        std::vector<std::vector<double>> cur(n + 1, std::vector<double>(kmax + 1, 0.0));
        cur[0][0] = 1;
        for (std::size_t j = 1; j <= n; ++j) {
            cur[j][0] = 1;
            for (std::size_t k = 1; k <= i * j; ++k)
                cur[j][k] = (k >= j ? prev[j][k - j] : 0.0) + cur[j - 1][k];
        }
        prev = std::move(cur);
    }
    double total = 0;
    for (std::size_t k = 0; k <= kmax; ++k)
        total += prev[n][k];
    // SciPy: sf(u) = cdf(mn - u) = sum_{k <= mn - u} pmf(k)
    double mass = 0;
    for (std::size_t k = 0; k + u <= kmax; ++k)
        mass += prev[n][k];
    return mass / total;
}
} // namespace detail

/// Two-sided Mann-Whitney U test of x against y (scipy.stats.mannwhitneyu defaults).
[[nodiscard]] inline mann_whitney_result mann_whitney_u(std::span<const double> x,
                                                        std::span<const double> y) {
    if (x.empty() || y.empty())
        throw std::invalid_argument("mann_whitney_u: both samples need values");
    const double n1 = static_cast<double>(x.size());
    const double n2 = static_cast<double>(y.size());
    std::vector<double> xy(x.begin(), x.end());
    xy.insert(xy.end(), y.begin(), y.end());
    const auto ranks = average_ranks(xy);
    double r1 = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
        r1 += ranks[i];
    mann_whitney_result out;
    out.u1 = r1 - n1 * (n1 + 1) / 2;
    const double u = std::max(out.u1, n1 * n2 - out.u1);
    const double term = detail::tie_term(ranks);
    out.exact = !(x.size() > 8 && y.size() > 8) && term == 0;
    double p = 0;
    if (out.exact) {
        p = detail::exact_mwu_sf(static_cast<std::size_t>(u), x.size(), y.size());
    } else {
        const double n = n1 + n2;
        const double s = std::sqrt(n1 * n2 / 12 * ((n + 1) - term / (n * (n - 1))));
        p = normal_sf((u - n1 * n2 / 2 - 0.5) / s);
    }
    out.p_value = std::clamp(2 * p, 0.0, 1.0);
    return out;
}

/// The Vargha-Delaney A of x over y: the probability that a value of x exceeds one of y, ties
/// counting half (0.5: no effect; 0.56 / 0.64 / 0.71: small / medium / large).
[[nodiscard]] inline double vargha_delaney_a(std::span<const double> x, std::span<const double> y) {
    return mann_whitney_u(x, y).u1 /
           (static_cast<double>(x.size()) * static_cast<double>(y.size()));
}

/// Holm-adjusted p-values, in the input's order: the i-th smallest p times (m - i + 1), made
/// monotone and capped at 1.
[[nodiscard]] inline std::vector<double> holm(std::span<const double> p) {
    const std::size_t m = p.size();
    std::vector<std::size_t> order(m);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
    std::vector<double> adjusted(m);
    double running = 0;
    for (std::size_t i = 0; i < m; ++i) {
        running = std::max(running, std::min(1.0, static_cast<double>(m - i) * p[order[i]]));
        adjusted[order[i]] = running;
    }
    return adjusted;
}

struct friedman_result {
    double statistic = 0; ///< chi-squared, tie-corrected
    double p_value = 1;
    std::vector<double> mean_ranks; ///< per treatment, rank 1 = the highest value
};

/// Friedman's test over `blocks` (rows: e.g. datasets; columns: k >= 3 treatments, e.g.
/// strategies), as scipy.stats.friedmanchisquare(*columns). Mean ranks put the highest value of
/// each block first (rank 1), which leaves the statistic unchanged.
[[nodiscard]] inline friedman_result friedman(const std::vector<std::vector<double>>& blocks) {
    const std::size_t n = blocks.size();
    const std::size_t k = n == 0 ? 0 : blocks.front().size();
    if (n < 2 || k < 3) {
        throw std::invalid_argument("friedman: needs >= 2 blocks of >= 3 treatments, got " +
                                    std::to_string(n) + " of " + std::to_string(k));
    }
    std::vector<double> rank_sum(k, 0.0);
    std::vector<double> high_first(k, 0.0);
    double ties = 0;
    for (const auto& row : blocks) {
        if (row.size() != k)
            throw std::invalid_argument("friedman: blocks of different sizes");
        const auto ranks = average_ranks(row);
        for (std::size_t j = 0; j < k; ++j) {
            rank_sum[j] += ranks[j];
            high_first[j] += static_cast<double>(k) + 1 - ranks[j];
        }
        ties += detail::tie_term(ranks);
    }
    const double kd = static_cast<double>(k);
    const double nd = static_cast<double>(n);
    const double c = 1 - ties / (kd * (kd * kd - 1) * nd);
    double ssbn = 0;
    for (const double r : rank_sum)
        ssbn += r * r;
    friedman_result out;
    out.statistic = (12.0 / (kd * nd * (kd + 1)) * ssbn - 3 * nd * (kd + 1)) / c;
    out.p_value = chi2_sf(out.statistic, kd - 1);
    for (auto& r : high_first)
        r /= nd;
    out.mean_ranks = std::move(high_first);
    return out;
}

/// The Nemenyi critical difference of mean ranks for k treatments over n blocks at alpha 0.05:
/// q_alpha sqrt(k (k + 1) / (6 n)) (Demsar, JMLR 2006).
[[nodiscard]] inline double nemenyi_cd(std::size_t k, std::size_t n) {
    if (n == 0)
        throw std::invalid_argument("nemenyi_cd: no blocks");
    const double kd = static_cast<double>(k);
    return nemenyi_q_alpha_005(k) * std::sqrt(kd * (kd + 1) / (6 * static_cast<double>(n)));
}

} // namespace nascent::stats
