// The statistics harness (stats/) against SciPy 1.10 on the same samples, to 1e-9. The reference
// values are printed by tests/unit/stats_reference.py (Debian python3-scipy).

#include "error_of.hpp"

#include <nascent/stats/compare.hpp>
#include <nascent/stats/distributions.hpp>
#include <nascent/stats/tests.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <vector>

namespace ns = nascent::stats;

namespace {
bool near(double a, double b, double tolerance = 1e-9) {
    return std::fabs(a - b) <= tolerance;
}

const std::vector<double> x5{93.1, 94.2, 92.7, 93.9, 94.0};
const std::vector<double> y6{92.5, 93.0, 92.2, 93.3, 92.9, 91.8};
const std::vector<double> z5{92.0, 92.1, 94.5, 93.5, 91.0};
} // namespace

TEST_CASE("stats: Mann-Whitney U as scipy.stats.mannwhitneyu (exact, normal, ties)") {
    struct sample {
        std::vector<double> x, y;
        double u1, p;
        bool exact;
    };
    const std::vector<sample> cases{
        {x5, y6, 26.0, 0.05194805194805195, true},
        {{1.5, 7.25, 3.0},
         {0.5, 2.0, 4.0, 5.0, 6.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0},
         8.0,
         0.18021978021978025,
         true},
        {{0.11, 0.52, 0.33, 0.94, 0.25, 0.76, 0.47, 0.68, 0.89, 0.1},
         {0.3, 0.61, 0.42, 0.83, 0.14, 0.95, 0.56, 0.77, 0.28, 0.99},
         40.0,
         0.47267559351158717,
         false},
        {{94.37, 94.37, 94.18, 93.76, 94.37, 94.02, 93.51, 94.18, 94.37, 93.9, 94.02, 94.37},
         {94.18, 93.76, 93.76, 94.02, 93.51, 93.09, 94.37, 93.76, 92.8, 94.18, 93.51, 93.9},
         110.5,
         0.02607402579861574,
         false},
        {{1.0, 2.0, 2.0, 3.0}, {2.0, 3.0, 3.0, 4.0, 5.0}, 3.0, 0.09934224785346528, false},
    };
    for (const auto& c : cases) {
        const auto r = ns::mann_whitney_u(c.x, c.y);
        CAPTURE(c.u1);
        CHECK(r.u1 == c.u1);
        CHECK(near(r.p_value, c.p));
        CHECK(r.exact == c.exact);
        CHECK(near(ns::vargha_delaney_a(c.x, c.y),
                   c.u1 / static_cast<double>(c.x.size() * c.y.size())));
    }
    CHECK(near(ns::vargha_delaney_a(x5, y6), 0.8666666666666667));
    CHECK(nascent::test::error_of([] { (void)ns::mann_whitney_u({}, x5); }) ==
          "mann_whitney_u: both samples need values");
}

TEST_CASE("stats: Holm, Friedman and the Nemenyi critical difference") {
    const auto adjusted = ns::holm(std::vector<double>{0.01, 0.04, 0.03, 0.005, 0.2});
    const std::vector<double> holm{0.04, 0.09, 0.09, 0.025, 0.2};
    for (std::size_t i = 0; i < holm.size(); ++i)
        CHECK(near(adjusted[i], holm[i], 1e-15));

    const auto f = ns::friedman(
        {{94.1, 93.9, 94.3}, {72.5, 72.5, 73.0}, {46.0, 45.8, 46.4}, {80.1, 80.3, 80.2}});
    CHECK(near(f.statistic, 3.6));
    CHECK(near(f.p_value, 0.16529888822158653));
    // rank 1 = the highest of a block (72.5 and 72.5 share 2.5)
    CHECK(near(f.mean_ranks[0], (2 + 2.5 + 2 + 3) / 4.0, 1e-15));
    CHECK(near(f.mean_ranks[1], (3 + 2.5 + 3 + 1) / 4.0, 1e-15));
    CHECK(near(f.mean_ranks[2], (1 + 1 + 1 + 2) / 4.0, 1e-15));
    const auto f5 = ns::friedman({{94.2, 93.9, 94.3, 93.7, 94.25},
                                  {72.5, 71.0, 73.0, 70.2, 72.8},
                                  {46.0, 45.8, 46.4, 45.1, 46.3}});
    CHECK(near(f5.statistic, 12.0));
    CHECK(near(f5.p_value, 0.01735126523666451));
    CHECK(nascent::test::error_of([] {
              (void)ns::friedman({{1, 2, 3}});
          }) == "friedman: needs >= 2 blocks of >= 3 treatments, got 1 of 3");
    // Demsar's table 5a: q_0.05 = 2.569 for k = 4; CD = q sqrt(k (k + 1) / (6 N)).
    CHECK(near(ns::nemenyi_q_alpha_005(4), 2.569031772546482, 1e-15));
    CHECK(near(ns::nemenyi_cd(4, 10), 2.569031772546482 * std::sqrt(20.0 / 60.0), 1e-15));
}

TEST_CASE("stats: distribution functions as SciPy's") {
    const std::vector<std::array<double, 3>> chi2{{0.5, 1, 0.47950012218695337},
                                                  {3.2, 2, 0.2018965179946554},
                                                  {7.9, 4, 0.09531077378816528},
                                                  {40.0, 19, 0.003272317118779744}};
    for (const auto& [x, k, sf] : chi2)
        CHECK(near(ns::chi2_sf(x, k), sf));
    const std::vector<std::array<double, 2>> ppf{{1, 12.706204736432095},
                                                 {2, 4.302652729911275},
                                                 {4, 2.7764451051977987},
                                                 {19, 2.093024054408263},
                                                 {99, 1.9842169515086827}};
    for (const auto& [df, q] : ppf)
        CHECK(near(ns::student_t_quantile(0.975, df), q));
    CHECK(near(ns::student_t_cdf(-1.3, 3), 0.14223375436394847));
    CHECK(near(ns::student_t_cdf(0.4, 10), 0.6512162951704386));
    CHECK(near(ns::student_t_cdf(2.5, 99), 0.9929687015394254));
    CHECK(near(ns::normal_sf(-1.0), 0.8413447460685429));
    CHECK(near(ns::normal_sf(2.7), 0.0034669738030406647));
    CHECK(near(ns::normal_sf(6.0), 9.865876450376946e-10, 1e-20));
}

TEST_CASE("stats: compare gives regret bands, Holm-adjusted pairs and mean ranks") {
    // Regret band by hand: regrets 3, 2, 1 at step 0 -> mean 2, s = 1, t_0.975(2) / sqrt(3).
    const auto curve = ns::anytime_regret({{1, 2}, {2, 3}, {3}}, 4.0);
    REQUIRE(curve.mean.size() == 2);
    CHECK(near(curve.mean[0], 2.0, 1e-15));
    CHECK(near(curve.upper[0], 2.0 + 4.302652729911275 / std::sqrt(3.0)));
    CHECK(near(curve.mean[1], (2.0 + 1.0 + 1.0) / 3)); // the third run keeps its last value

    auto runs = [](const std::vector<double>& finals) {
        std::vector<std::vector<double>> t;
        for (const double v : finals)
            t.push_back({v - 1, v});
        return t;
    };
    std::vector<ns::strategy_runs> in{{"a", "d1", runs(x5)},       {"b", "d1", runs(y6)},
                                      {"c", "d1", runs(z5)},       {"a", "d2", runs({3, 4})},
                                      {"b", "d2", runs({1, 2})},   {"c", "d2", runs({2, 3})},
                                      {"only", "d2", runs({9, 9})}};
    const auto report = ns::compare(in, {{"d1", 95.0}});
    REQUIRE(report.datasets.size() == 2);
    const auto& d1 = report.datasets[0];
    CHECK(d1.optimum == 95.0);
    CHECK(report.datasets[1].optimum == 9.0); // the best any run reached
    REQUIRE(d1.pairs.size() == 3);
    // SciPy: a-b 0.05194805194805195, a-c 0.30952380952380953, b-c 0.9307359307359306
    CHECK(near(d1.pairs[0].p_value, 0.05194805194805195));
    CHECK(near(d1.pairs[1].p_value, 0.30952380952380953));
    CHECK(near(d1.pairs[2].p_value, 0.9307359307359306));
    CHECK(near(d1.pairs[0].p_holm, 3 * 0.05194805194805195));
    CHECK(near(d1.pairs[1].p_holm, 2 * 0.30952380952380953));
    CHECK(near(d1.pairs[2].p_holm, 0.9307359307359306));
    CHECK(near(d1.pairs[0].a12, 26.0 / 30));
    CHECK(report.strategies == std::vector<std::string>{"a", "b", "c"}); // "only" misses d1
    // d1 means: a 93.58, b 92.617, c 92.62 -> ranks 1, 3, 2; d2: a 3.5, b 1.5, c 2.5 -> 1, 3, 2
    CHECK(report.mean_ranks == std::vector<double>{1.0, 3.0, 2.0});
    REQUIRE(report.friedman.has_value());
    CHECK(near(report.friedman->statistic, 4.0)); // 12 / (3 * 2 * 4) * (36 + 4 + 16) - 3 * 2 * 4
    CHECK(near(report.critical_difference, 2.343700586378409 * std::sqrt(12.0 / 12.0)));
}
