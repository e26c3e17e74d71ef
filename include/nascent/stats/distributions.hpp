#pragma once
// The distribution functions the tests of stats/ need, in double precision: the normal survival
// function, chi-squared's (regularised upper incomplete gamma), Student's t CDF and quantile
// (regularised incomplete beta), and the studentized range quantiles of the Nemenyi test.
// Each agrees with SciPy 1.10 to ~1e-12 or better where tests/unit/stats.cpp checks it.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace nascent::stats {

/// P(Z > z) for a standard normal Z (scipy.stats.norm.sf).
[[nodiscard]] inline double normal_sf(double z) noexcept {
    return 0.5 * std::erfc(z / std::sqrt(2.0));
}

namespace detail {

// Modified Lentz evaluation of the continued fractions below.
constexpr double tiny = 1e-300;
constexpr double epsilon = 1e-16;
constexpr int max_iterations = 10000;

// Q(a, x) by its continued fraction, for x >= a + 1.
inline double upper_gamma_fraction(double a, double x) {
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < max_iterations; ++i) {
        const double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (std::fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (std::fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        const double delta = d * c;
        h *= delta;
        if (std::fabs(delta - 1) < epsilon)
            break;
    }
    return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

// P(a, x) by its series, for x < a + 1.
inline double lower_gamma_series(double a, double x) {
    double ap = a;
    double sum = 1 / a;
    double term = sum;
    for (int i = 0; i < max_iterations; ++i) {
        ap += 1;
        term *= x / ap;
        sum += term;
        if (std::fabs(term) < std::fabs(sum) * epsilon)
            break;
    }
    return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// The continued fraction of the regularised incomplete beta function.
inline double beta_fraction(double a, double b, double x) {
    const double qab = a + b;
    const double qap = a + 1;
    const double qam = a - 1;
    double c = 1;
    double d = 1 - qab * x / qap;
    if (std::fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m < max_iterations; ++m) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (std::fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (std::fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (std::fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (std::fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        const double delta = d * c;
        h *= delta;
        if (std::fabs(delta - 1) < epsilon)
            break;
    }
    return h;
}

} // namespace detail

/// Q(a, x) = Gamma(a, x) / Gamma(a), the regularised upper incomplete gamma (scipy gammaincc).
[[nodiscard]] inline double upper_incomplete_gamma(double a, double x) {
    if (!(a > 0) || x < 0)
        throw std::invalid_argument("upper_incomplete_gamma: needs a > 0 and x >= 0");
    if (x == 0)
        return 1.0;
    return x < a + 1 ? 1.0 - detail::lower_gamma_series(a, x) : detail::upper_gamma_fraction(a, x);
}

/// P(X > x) for X chi-squared with `df` degrees of freedom (scipy.stats.chi2.sf).
[[nodiscard]] inline double chi2_sf(double x, double df) {
    return x <= 0 ? 1.0 : upper_incomplete_gamma(0.5 * df, 0.5 * x);
}

/// I_x(a, b), the regularised incomplete beta function (scipy.special.betainc).
[[nodiscard]] inline double incomplete_beta(double a, double b, double x) {
    if (x <= 0)
        return 0.0;
    if (x >= 1)
        return 1.0;
    const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                  a * std::log(x) + b * std::log1p(-x));
    if (x < (a + 1) / (a + b + 2))
        return front * detail::beta_fraction(a, b, x) / a;
    return 1.0 - front * detail::beta_fraction(b, a, 1 - x) / b;
}

/// P(T <= t) for Student's t with `df` degrees of freedom (scipy.stats.t.cdf).
[[nodiscard]] inline double student_t_cdf(double t, double df) {
    const double tail = 0.5 * incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
    return t > 0 ? 1.0 - tail : tail;
}

/// The p-quantile of Student's t (scipy.stats.t.ppf), by bisection to the last bit.
[[nodiscard]] inline double student_t_quantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0))
        throw std::invalid_argument("student_t_quantile: needs 0 < p < 1 and df > 0");
    if (p < 0.5)
        return -student_t_quantile(1 - p, df);
    double lo = 0;
    double hi = 1;
    while (student_t_cdf(hi, df) < p)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        (student_t_cdf(mid, df) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

/// q_0.05(k, inf) / sqrt(2): the Nemenyi test's critical values for k = 2..20 treatments at
/// alpha = 0.05 (Demsar, JMLR 2006, table 5a, to full precision: scipy.stats.studentized_range
/// .ppf(0.95, k, inf) / sqrt(2), tests/unit/stats_reference.py).
[[nodiscard]] inline double nemenyi_q_alpha_005(std::size_t k) {
    static constexpr std::array<double, 19> q{
        1.9599639845400534, 2.343700586378409,  2.569031772546482,  2.7277743708703763,
        2.8497054196100016, 2.9483200175296744, 3.030878449614413,  3.1017303413033805,
        3.163683577053373,  3.2186536073291525, 3.268003924466142,  3.31273859335082,
        3.3536177518523043, 3.391230283765257,  3.4260413793706097, 3.4584247073473247,
        3.4886847993791976, 3.517073008691811,  3.5437991315177815};
    if (k < 2 || k > 20) {
        throw std::invalid_argument("nemenyi: critical values for 2..20 treatments, got " +
                                    std::to_string(k));
    }
    return q[k - 2];
}

} // namespace nascent::stats
