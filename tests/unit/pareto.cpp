// nascent::pareto: dominance, non-dominated sorting, crowding distance, hypervolume, archive and
// indicators. Every algorithm is checked against hand-computed values and against a brute force
// written independently here (the definition of the fronts, grid counting and inclusion-exclusion
// for volumes, a Monte-Carlo estimate), on random sets with many ties and duplicates.
#include <nascent/core/rng.hpp>
#include <nascent/pareto/pareto.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace pareto = nascent::pareto;
using pareto::direction;
using pareto::matrix_view;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

enum class kind {
    uniform, ///< uniform in [0, 1)^m
    grid,    ///< integers 0..3: many ties and exact duplicates
    front,   ///< on or near the sphere's positive orthant: large first fronts
};

std::vector<double> random_points(nascent::rng& gen, std::size_t n, std::size_t m, kind k) {
    std::vector<double> v(n * m);
    for (std::size_t i = 0; i < n; ++i) {
        double norm = 0.0;
        for (std::size_t j = 0; j < m; ++j) {
            double x = nascent::uniform_real(gen);
            if (k == kind::grid)
                x = static_cast<double>(nascent::uniform_index(gen, 4));
            if (k == kind::front)
                x = 0.05 + x;
            v[i * m + j] = x;
            norm += x * x;
        }
        if (k == kind::front) { // radius 1 or 1.05: two layers of mutually non-dominated points
            const double radius = nascent::uniform_index(gen, 2) == 0 ? 1.0 : 1.05;
            for (std::size_t j = 0; j < m; ++j)
                v[i * m + j] *= radius / std::sqrt(norm);
        }
    }
    return v;
}

// The definition: point p has rank r iff no point of rank >= r dominates it and (r > 0) some
// point of rank r - 1 does. These two conditions determine the ranks uniquely.
bool valid_fronts(matrix_view points, const pareto::fronts& f) {
    const std::size_t n = points.size();
    if (f.size() != n)
        return false;
    for (std::size_t p = 0; p < n; ++p) {
        bool by_previous = f.rank(p) == 0;
        for (std::size_t q = 0; q < n; ++q) {
            if (!pareto::dominates(points.row(q), points.row(p)))
                continue;
            if (f.rank(q) >= f.rank(p))
                return false;
            by_previous = by_previous || f.rank(q) + 1 == f.rank(p);
        }
        if (!by_previous)
            return false;
    }
    return true;
}

std::vector<std::size_t> ranks(const pareto::fronts& f) {
    return {f.ranks().begin(), f.ranks().end()};
}

// Volume of integer points in [0, K)^m by counting the unit cells [c, c + 1] some point weakly
// dominates (reference (K, ..., K)).
double grid_volume(matrix_view points, int k) {
    const std::size_t m = points.dims();
    std::vector<int> c(m, 0);
    double count = 0;
    while (true) {
        for (std::size_t i = 0; i < points.size(); ++i) {
            bool covers = true;
            for (std::size_t j = 0; j < m; ++j)
                covers = covers && points(i, j) <= c[j];
            if (covers) {
                ++count;
                break;
            }
        }
        std::size_t j = 0;
        while (j < m && ++c[j] == k)
            c[j++] = 0;
        if (j == m)
            break;
    }
    return count;
}

// Inclusion-exclusion over all non-empty subsets (n <= ~12): the union of the boxes [p, ref].
double inclusion_exclusion(matrix_view points, const std::vector<double>& ref) {
    const std::size_t n = points.size();
    const std::size_t m = points.dims();
    double total = 0.0;
    for (std::size_t mask = 1; mask < (std::size_t{1} << n); ++mask) {
        double volume = 1.0;
        for (std::size_t j = 0; j < m; ++j) {
            double lower = -inf;
            for (std::size_t i = 0; i < n; ++i) {
                if ((mask >> i) & 1U)
                    lower = std::max(lower, points(i, j));
            }
            volume *= std::max(0.0, ref[j] - lower);
        }
        total += (std::popcount(mask) % 2 == 1 ? 1.0 : -1.0) * volume;
    }
    return total;
}

std::vector<double> rows_of(matrix_view points, std::span<const std::size_t> indices) {
    std::vector<double> out;
    for (const std::size_t i : indices) {
        const auto r = points.row(i);
        out.insert(out.end(), r.begin(), r.end());
    }
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Objectives, point sets and bad input

TEST_CASE("pareto: objectives and point sets keep the user's directions, minimise inside") {
    const pareto::objectives objs{{"test_acc@200", direction::maximise},
                                  {"latency:pixel3", direction::minimise}};
    CHECK(objs.size() == 2);
    CHECK(objs.named());
    CHECK(objs.index_of("latency:pixel3") == 1);
    pareto::point_set set(objs);
    set.push_back({93.5, 12.25});
    set.push_back({-0.0, 3.0});
    CHECK(set.size() == 2);
    CHECK(set.row(0)[0] == -93.5); // maximised values are negated once
    CHECK(set.row(0)[1] == 12.25);
    CHECK(set.value(0, 0) == 93.5); // and come back exactly
    CHECK(set.values(1) == std::vector<double>{0.0, 3.0});

    nascent::metrics m;
    m.set("latency:pixel3", 7.5);
    m.set("test_acc@200", 91.0);
    m.set("params", 1e6);
    set.push_back(m);
    CHECK(set.values(2) == std::vector<double>{91.0, 7.5});

    const auto sub = set.subset(std::vector<std::size_t>{2, 0});
    CHECK(sub.values(0) == std::vector<double>{91.0, 7.5});
    CHECK(sub.values(1) == std::vector<double>{93.5, 12.25});
    set.erase(std::vector<std::size_t>{0, 1});
    CHECK(set.size() == 1);
    CHECK(set.values(0) == std::vector<double>{91.0, 7.5});

    const std::vector<double> rows{1, 2, 3, 4, 5, 6};
    const pareto::point_set from_rows({direction::minimise, direction::maximise}, rows);
    CHECK(from_rows.size() == 3);
    CHECK(from_rows.row(2)[1] == -6.0);
}

TEST_CASE("pareto: bad input is rejected with a message naming the problem") {
    using pareto::objectives;
    CHECK_THROWS_WITH_AS(objectives(std::vector<direction>{}),
                         "nascent::pareto: empty objective list", std::invalid_argument);
    CHECK_THROWS_WITH_AS(objectives(std::vector<pareto::objective>{}),
                         "nascent::pareto: empty objective list", std::invalid_argument);
    CHECK_THROWS_WITH_AS((objectives{{"acc", direction::maximise},
                                     {"lat", direction::minimise},
                                     {"acc", direction::minimise}}),
                         "nascent::pareto: duplicate objective name 'acc' (objectives 0 and 2)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((objectives{{"acc", direction::maximise}, {"", direction::minimise}}),
                         "nascent::pareto: objective 1 has no name; name all objectives or none",
                         std::invalid_argument);

    pareto::point_set set(objectives{direction::minimise, direction::minimise});
    set.push_back({1.0, 2.0});
    CHECK_THROWS_WITH_AS(set.push_back({1.0, 2.0, 3.0}),
                         "nascent::pareto: mismatched dimensions: point 1 has 3 values, the "
                         "points have 2 objectives",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(set.push_back({1.0, std::nan("")}),
                         "nascent::pareto: point 1 has NaN in objective 1", std::invalid_argument);
    CHECK(set.size() == 1); // a rejected point leaves the set as it was

    const std::vector<double> five{1, 2, 3, 4, 5};
    CHECK_THROWS_WITH_AS(matrix_view(five, 2),
                         "nascent::pareto: mismatched dimensions: 5 values do not form rows of 2 "
                         "objectives",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(matrix_view(five, 0),
                         "nascent::pareto: empty objective list (0 objectives)",
                         std::invalid_argument);
    const std::vector<double> with_nan{1, 2, 3, std::nan("")};
    CHECK_THROWS_WITH_AS(matrix_view(with_nan, 2),
                         "nascent::pareto: point 1 has NaN in objective 1", std::invalid_argument);

    const std::vector<double> a{1, 2};
    const std::vector<double> b{1, 2, 3};
    CHECK_THROWS_WITH_AS((void)pareto::dominates(a, b),
                         "nascent::pareto: mismatched dimensions: point b has 3 values, the points "
                         "have 2 objectives",
                         std::invalid_argument);
    CHECK_THROWS_AS((void)pareto::dominates(std::vector<double>{}, std::vector<double>{}),
                    std::invalid_argument);

    const std::vector<double> ref3{4, 4, 4};
    CHECK_THROWS_WITH_AS((void)pareto::hypervolume(set, ref3),
                         "nascent::pareto: mismatched dimensions: the reference point has 3 "
                         "values, the points have 2 objectives",
                         std::invalid_argument);
    const std::vector<double> ref_nan{4, std::nan("")};
    CHECK_THROWS_WITH_AS((void)pareto::hypervolume(set, ref_nan),
                         "nascent::pareto: the reference point has NaN in objective 1",
                         std::invalid_argument);
    const std::vector<double> ref_inf{4, inf};
    CHECK_THROWS_AS((void)pareto::hypervolume(set.view(), ref_inf), std::invalid_argument);
    const std::vector<double> unbounded{-inf, 1.0};
    CHECK_THROWS_WITH_AS(
        (void)pareto::hypervolume(matrix_view(unbounded, 2), std::vector<double>{2, 2}),
        "nascent::pareto: point 0 is -infinity in objective 0: the hypervolume "
        "is unbounded",
        std::invalid_argument);

    const pareto::point_set three(objectives::minimised(3));
    CHECK_THROWS_AS((void)pareto::igd(set, three), std::invalid_argument);
    const pareto::point_set empty(objectives::minimised(2));
    CHECK_THROWS_WITH_AS((void)pareto::igd(set, empty), "nascent::pareto: empty reference front",
                         std::invalid_argument);
    const pareto::point_set maximised(objectives{direction::maximise, direction::minimise});
    CHECK_THROWS_WITH_AS((void)pareto::igd(maximised, set),
                         "nascent::pareto: objective 0 is maximised in the found set but "
                         "minimised in the reference front",
                         std::invalid_argument);

    CHECK_THROWS_AS(pareto::fronts(std::vector<std::size_t>{0, 2}), std::invalid_argument);
    CHECK_THROWS_AS((void)pareto::non_dominated_sort(matrix_view(std::vector<double>(8, 1.0), 4),
                                                     {.algorithm = pareto::sort_algorithm::sweep}),
                    std::invalid_argument);
    CHECK_THROWS_AS((void)pareto::crowding_distance(set, std::vector<std::size_t>{1}),
                    std::invalid_argument);
    nascent::metrics missing;
    missing.set("acc", 1.0);
    CHECK_THROWS_WITH_AS(
        (void)(objectives{{"acc", direction::maximise}, {"lat", direction::minimise}}.values_of(
            missing)),
        "nascent::pareto: metric 'lat' is missing from the evaluation", std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Dominance

TEST_CASE("pareto: weak, Pareto and strict dominance, with mixed directions") {
    using V = std::vector<double>;
    CHECK(pareto::compare(V{1, 2}, V{1, 2}) == pareto::relation::equal);
    CHECK(pareto::compare(V{1, 2}, V{1, 3}) == pareto::relation::dominates);
    CHECK(pareto::compare(V{1, 3}, V{1, 2}) == pareto::relation::dominated);
    CHECK(pareto::compare(V{0, 3}, V{1, 2}) == pareto::relation::incomparable);

    CHECK(pareto::weakly_dominates(V{1, 2}, V{1, 2}));
    CHECK_FALSE(pareto::dominates(V{1, 2}, V{1, 2})); // equal points do not dominate
    CHECK(pareto::dominates(V{1, 2}, V{1, 3}));
    CHECK_FALSE(pareto::strictly_dominates(V{1, 2}, V{1, 3}));
    CHECK(pareto::strictly_dominates(V{0, 2}, V{1, 3}));
    CHECK_FALSE(pareto::weakly_dominates(V{0, 3}, V{1, 2}));

    // Accuracy maximised, latency minimised: higher accuracy at equal latency dominates.
    const pareto::objectives objs{direction::maximise, direction::minimise};
    CHECK(pareto::compare(V{94, 10}, V{93, 10}, objs) == pareto::relation::dominates);
    CHECK(pareto::compare(V{94, 10}, V{93, 5}, objs) == pareto::relation::incomparable);
    CHECK(pareto::dominates(V{94, 5}, V{93, 10}, objs));
    CHECK(pareto::strictly_dominates(V{94, 5}, V{93, 10}, objs));
    CHECK_FALSE(pareto::dominates(V{93, 10}, V{94, 5}, objs));
    CHECK(pareto::weakly_dominates(V{93, 10}, V{93, 10}, objs));
}

// ---------------------------------------------------------------------------------------------
// Non-dominated sorting

TEST_CASE("pareto: non-dominated sort of a hand-made set with duplicates") {
    // 0,1 equal; 2,5 equal; 7 is dominated only by 0/1; 2/5 by 7; 6 by 2/5.
    const std::vector<double> v{1, 1, 1, 1, 2, 2, 0, 3, 3, 0, 2, 2, 3, 3, 1, 2};
    const matrix_view points(v, 2);
    const std::vector<std::size_t> expected{0, 0, 2, 0, 0, 2, 3, 1};
    for (const auto algorithm : {pareto::sort_algorithm::automatic, pareto::sort_algorithm::sweep,
                                 pareto::sort_algorithm::ens, pareto::sort_algorithm::deb}) {
        const auto f = pareto::non_dominated_sort(points, {.algorithm = algorithm});
        CHECK(ranks(f) == expected);
        REQUIRE(f.count() == 4);
        CHECK(std::vector<std::size_t>(f[0].begin(), f[0].end()) ==
              std::vector<std::size_t>{0, 1, 3, 4});
        CHECK(std::vector<std::size_t>(f[2].begin(), f[2].end()) == std::vector<std::size_t>{2, 5});
        CHECK(f.members().size() == 8);
    }
    CHECK(pareto::non_dominated(points) == std::vector<std::size_t>{0, 1, 3, 4});

    // Maximising both objectives turns the order around.
    const pareto::point_set both_max({direction::maximise, direction::maximise}, v);
    CHECK(pareto::non_dominated(both_max) == std::vector<std::size_t>{6}); // (3, 3) beats all

    // 1 objective: fronts are the distinct values in order.
    const std::vector<double> one{3, 1, 2, 1, 3};
    CHECK(ranks(pareto::non_dominated_sort(matrix_view(one, 1))) ==
          std::vector<std::size_t>{2, 0, 1, 0, 2});
    CHECK(pareto::non_dominated(matrix_view(one, 1)) == std::vector<std::size_t>{1, 3});

    // Empty sets.
    const auto none = pareto::non_dominated_sort(matrix_view(std::vector<double>{}, 3));
    CHECK(none.count() == 0);
    CHECK(none.size() == 0);
    CHECK(pareto::non_dominated(matrix_view(std::vector<double>{}, 3)).empty());
}

TEST_CASE("pareto: every sorting algorithm agrees with the definition of the fronts") {
    nascent::rng gen(20240601);
    for (std::size_t m = 1; m <= 5; ++m) {
        for (const kind k : {kind::uniform, kind::grid, kind::front}) {
            for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{7},
                                        std::size_t{60}, std::size_t{400}}) {
                CAPTURE(m);
                CAPTURE(static_cast<int>(k));
                CAPTURE(n);
                const auto v = random_points(gen, n, m, k);
                const matrix_view points(v, m);
                const auto reference =
                    pareto::non_dominated_sort(points, {.algorithm = pareto::sort_algorithm::deb});
                REQUIRE(valid_fronts(points, reference));
                const auto automatic = pareto::non_dominated_sort(points);
                CHECK(ranks(automatic) == ranks(reference));
                CHECK(ranks(pareto::non_dominated_sort(
                          points, {.algorithm = pareto::sort_algorithm::ens})) == ranks(reference));
                const auto first = reference[0];
                CHECK(pareto::non_dominated(points) ==
                      std::vector<std::size_t>(first.begin(), first.end()));
            }
        }
    }
}

TEST_CASE("pareto: non_dominated on a NAS-Bench-201-sized table (15,625 points, 2 objectives)") {
    nascent::rng gen(7);
    // Accuracy-like (maximised, 3 decimals, many ties) against latency-like (minimised).
    pareto::point_set table(pareto::objectives{direction::maximise, direction::minimise});
    for (int i = 0; i < 15625; ++i) {
        const double latency = 1.0 + static_cast<double>(nascent::uniform_index(gen, 2000)) / 100;
        const double acc =
            std::round(1000 * (90 - 40 / latency + nascent::uniform_real(gen))) / 1000;
        table.push_back({acc, latency});
    }
    const auto front = pareto::non_dominated(table);
    REQUIRE(!front.empty());
    // Brute force: nothing dominates a front member; a non-member is dominated by a member.
    std::vector<bool> in_front(table.size(), false);
    for (const std::size_t i : front)
        in_front[i] = true;
    for (std::size_t i = 0; i < table.size(); ++i) {
        bool dominated = false;
        for (const std::size_t f : front)
            dominated = dominated || pareto::dominates(table.row(f), table.row(i));
        if (in_front[i]) {
            for (std::size_t j = 0; j < table.size() && !dominated; ++j) {
                dominated = pareto::dominates(table.row(j), table.row(i));
            }
            REQUIRE_FALSE(dominated);
        } else {
            REQUIRE(dominated);
        }
    }
    CHECK(ranks(pareto::non_dominated_sort(table)) ==
          ranks(pareto::non_dominated_sort(table, {.algorithm = pareto::sort_algorithm::ens})));
}

// ---------------------------------------------------------------------------------------------
// Crowding distance

TEST_CASE("pareto: crowding distance by hand, with duplicates and flat objectives") {
    // (0,5) (1,2) (3,1) (4,0): objective 0 spans 4, objective 1 spans 5.
    const std::vector<double> v{0, 5, 1, 2, 3, 1, 4, 0, 1, 2, 0, 5};
    const matrix_view points(v, 2);
    const std::vector<std::size_t> front{0, 1, 2, 3, 4, 5};
    const auto d = pareto::crowding_distance(points, front);
    CHECK(d[0] == inf);
    CHECK(d[1] == doctest::Approx(3.0 / 4 + 4.0 / 5)); // (3 - 0)/4 + (5 - 1)/5
    CHECK(d[2] == doctest::Approx(3.0 / 4 + 2.0 / 5)); // (4 - 1)/4 + (2 - 0)/5
    CHECK(d[3] == inf);
    CHECK(d[4] == 0.0); // a copy of point 1: no diversity
    CHECK(d[5] == 0.0); // a copy of end point 0

    // Per-front distances, indexed by point.
    const std::vector<double> w{0, 5, 1, 2, 3, 1, 4, 0, 2, 3, 5, 0.5};
    const matrix_view two_fronts(w, 2);
    const auto f = pareto::non_dominated_sort(two_fronts);
    REQUIRE(f.count() == 2);
    const auto all = pareto::crowding_distances(two_fronts, f);
    CHECK(all[1] == doctest::Approx(1.55));
    CHECK(all[4] == inf); // fronts of two points: both ends
    CHECK(all[5] == inf);

    // A constant objective adds nothing between the ends.
    const std::vector<double> flat{0, 7, 1, 7, 3, 7, 4, 7};
    const auto df =
        pareto::crowding_distance(matrix_view(flat, 2), std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(df[0] == inf);
    CHECK(df[1] == doctest::Approx(3.0 / 4));
    CHECK(df[2] == doctest::Approx(3.0 / 4));
    CHECK(df[3] == inf);
}

TEST_CASE("pareto: NSGA-II selection takes whole fronts, then the least crowded") {
    // Front 0: (0,4) (1,2) (2,1) (4,0); front 1: (5,5). Inner points tie at 1.25: index decides.
    const std::vector<double> v{0, 4, 1, 2, 2, 1, 4, 0, 5, 5};
    const matrix_view points(v, 2);
    CHECK(pareto::nsga2_select(points, 3) == std::vector<std::size_t>{0, 1, 3});
    CHECK(pareto::nsga2_select(points, 4) == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(pareto::nsga2_select(points, 5) == std::vector<std::size_t>{0, 1, 2, 3, 4});
    CHECK(pareto::nsga2_select(points, 0).empty());
    CHECK_THROWS_WITH_AS((void)pareto::nsga2_select(points, 6),
                         "nascent::pareto: cannot select 6 of 5 points", std::invalid_argument);

    nascent::rng gen(77);
    const auto r = random_points(gen, 300, 3, kind::front);
    const matrix_view many(r, 3);
    const auto chosen = pareto::nsga2_select(many, 100);
    REQUIRE(chosen.size() == 100);
    CHECK(std::is_sorted(chosen.begin(), chosen.end()));
    const auto f = pareto::non_dominated_sort(many);
    std::vector<bool> in(many.size(), false);
    for (const std::size_t i : chosen)
        in[i] = true;
    std::size_t split = 0; // the first front not taken whole
    while (split < f.count() &&
           std::all_of(f[split].begin(), f[split].end(), [&](std::size_t i) { return in[i]; })) {
        ++split;
    }
    REQUIRE(split < f.count());
    const auto d = pareto::crowding_distance(many, f[split]);
    double worst_in = inf;
    double best_out = -inf;
    for (std::size_t t = 0; t < f[split].size(); ++t) {
        if (in[f[split][t]]) {
            worst_in = std::min(worst_in, d[t]);
        } else {
            best_out = std::max(best_out, d[t]);
        }
    }
    CHECK(worst_in >= best_out);
    for (const std::size_t i : chosen)
        CHECK(f.rank(i) <= split);
}

// ---------------------------------------------------------------------------------------------
// Hypervolume

TEST_CASE("pareto: hypervolume of hand-computed sets") {
    using V = std::vector<double>;
    // 2-D staircase: 3 + 2 + 1.
    CHECK(pareto::hypervolume(matrix_view(V{1, 3, 2, 2, 3, 1}, 2), V{4, 4}) == 6.0);
    // Points outside (or on the border of) the box add nothing; a dominated point neither.
    CHECK(pareto::hypervolume(matrix_view(V{1, 3, 5, 0, 2, 4, 3, 3}, 2), V{4, 4}) == 3.0);
    CHECK(pareto::hypervolume(matrix_view(V{}, 2), V{4, 4}) == 0.0);
    // 1-D.
    CHECK(pareto::hypervolume(matrix_view(V{3, 1.5, 7}, 1), V{4}) == 2.5);
    // 3-D: three unit-thick slabs of [0, 2]^3 leave only [0, 1)^3 uncovered.
    CHECK(pareto::hypervolume(matrix_view(V{0, 0, 1, 0, 1, 0, 1, 0, 0}, 3), V{2, 2, 2}) == 7.0);
    // 4-D: a box, a dominated point, two overlapping boxes.
    CHECK(pareto::hypervolume(matrix_view(V{0, 0, 0, 0, 1, 1, 1, 1}, 4), V{1, 2, 3, 4}) == 24.0);
    CHECK(pareto::hypervolume(matrix_view(V{0, 1, 0, 0, 1, 0, 0, 0}, 4), V{2, 2, 2, 2}) == 12.0);
    // 5-D: 2 * 2 * 2 * 2 * 1 twice, overlapping in 1 * 1 * 2 * 2 * 1.
    CHECK(pareto::hypervolume(matrix_view(V{0, 1, 0, 0, 1, 1, 0, 0, 0, 1}, 5), V{2, 2, 2, 2, 2}) ==
          12.0);

    // Mixed directions: accuracy (maximised) above 70, latency (minimised) below 20.
    pareto::point_set set(pareto::objectives{direction::maximise, direction::minimise});
    set.push_back({90, 10});
    set.push_back({80, 5});
    set.push_back({75, 30});                             // slower than the reference: outside
    CHECK(pareto::hypervolume(set, V{70, 20}) == 250.0); // 200 + 150 - 100 overlap
}

TEST_CASE("pareto: hypervolume agrees with grid counting and inclusion-exclusion") {
    nascent::rng gen(99);
    for (std::size_t m = 2; m <= 5; ++m) {
        for (const std::size_t n : {std::size_t{1}, std::size_t{5}, std::size_t{30}}) {
            CAPTURE(m);
            CAPTURE(n);
            // Integers 0..5 (ties, duplicates, points on the reference's faces) against 6^m cells.
            std::vector<double> v(n * m);
            for (auto& x : v)
                x = static_cast<double>(nascent::uniform_index(gen, 7)); // 6: on the face
            const matrix_view points(v, m);
            const std::vector<double> ref(m, 6.0);
            const double count = grid_volume(points, 6);
            CHECK(pareto::hypervolume(points, ref) == count);
            CHECK(pareto::hypervolume(points, ref, {.algorithm = pareto::hv_algorithm::wfg}) ==
                  count);
        }
        for (int trial = 0; trial < 5; ++trial) {
            const auto v = random_points(gen, 9, m, trial % 2 == 0 ? kind::uniform : kind::front);
            const matrix_view points(v, m);
            const std::vector<double> ref(m, 1.1);
            const double exact = inclusion_exclusion(points, ref);
            CHECK(pareto::hypervolume(points, ref) == doctest::Approx(exact).epsilon(1e-12));
            CHECK(pareto::hypervolume(points, ref, {.algorithm = pareto::hv_algorithm::wfg}) ==
                  doctest::Approx(exact).epsilon(1e-12));
        }
    }
}

TEST_CASE("pareto: WFG agrees with the 2-D and 3-D sweeps on random sets") {
    nascent::rng gen(5);
    for (std::size_t m = 2; m <= 3; ++m) {
        for (const kind k : {kind::uniform, kind::front, kind::grid}) {
            const auto v = random_points(gen, 300, m, k);
            const matrix_view points(v, m);
            const std::vector<double> ref(m, k == kind::grid ? 3.5 : 1.2);
            const double sweep = pareto::hypervolume(points, ref);
            const double wfg =
                pareto::hypervolume(points, ref, {.algorithm = pareto::hv_algorithm::wfg});
            CAPTURE(m);
            CHECK(sweep > 0.0);
            CHECK(wfg == doctest::Approx(sweep).epsilon(1e-11));
        }
    }
}

TEST_CASE("pareto: hypervolume is invariant under permutation and duplication") {
    nascent::rng gen(11);
    for (std::size_t m = 2; m <= 4; ++m) {
        const std::size_t n = m == 4 ? 60 : 500;
        auto v = random_points(gen, n, m, kind::front);
        const std::vector<double> ref(m, 1.1);
        const double base = pareto::hypervolume(matrix_view(v, m), ref);
        // Shuffle the rows.
        std::vector<std::size_t> perm(n);
        std::iota(perm.begin(), perm.end(), std::size_t{0});
        nascent::shuffle(perm.begin(), perm.end(), gen);
        const auto shuffled = rows_of(matrix_view(v, m), perm);
        CHECK(pareto::hypervolume(matrix_view(shuffled, m), ref) ==
              doctest::Approx(base).epsilon(1e-12));
        // Append copies of a third of the rows.
        auto doubled = shuffled;
        for (std::size_t i = 0; i < n; i += 3) {
            doubled.insert(doubled.end(), v.begin() + static_cast<std::ptrdiff_t>(i * m),
                           v.begin() + static_cast<std::ptrdiff_t>((i + 1) * m));
        }
        CHECK(pareto::hypervolume(matrix_view(doubled, m), ref) ==
              doctest::Approx(base).epsilon(1e-12));
        // Adding a dominated point changes nothing; adding a dominating one does.
        std::vector<double> worse(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m));
        for (auto& x : worse)
            x += 0.01;
        auto plus_worse = v;
        plus_worse.insert(plus_worse.end(), worse.begin(), worse.end());
        CHECK(pareto::hypervolume(matrix_view(plus_worse, m), ref) ==
              doctest::Approx(base).epsilon(1e-12));
        auto plus_better = v;
        for (std::size_t j = 0; j < m; ++j)
            plus_better.push_back(0.5);
        CHECK(pareto::hypervolume(matrix_view(plus_better, m), ref) > base + 1e-6);
    }
}

TEST_CASE("pareto: 4-D hypervolume agrees with a Monte-Carlo estimate within its error") {
    nascent::rng gen(2026);
    const std::size_t m = 4;
    const auto v = random_points(gen, 80, m, kind::front);
    const matrix_view points(v, m);
    const std::vector<double> ref(m, 1.0);
    const double exact = pareto::hypervolume(points, ref);
    // Sample the box [0, 1]^4: the fraction dominated by some point estimates the volume.
    const int samples = 200000;
    int hits = 0;
    std::vector<double> s(m);
    for (int t = 0; t < samples; ++t) {
        for (auto& x : s)
            x = nascent::uniform_real(gen);
        for (std::size_t i = 0; i < points.size(); ++i) {
            if (pareto::weakly_dominates(points.row(i), s)) {
                ++hits;
                break;
            }
        }
    }
    const double p = static_cast<double>(hits) / samples;
    const double error = std::sqrt(p * (1 - p) / samples);
    MESSAGE("4-D hypervolume " << exact << ", Monte-Carlo " << p << " +- " << error);
    CHECK(exact > 0.05);
    CHECK(std::abs(exact - p) < 4 * error);
}

TEST_CASE("pareto: hypervolume contributions equal the volume lost without each point") {
    // By hand: (0.5, 0.5) alone covers [0.5, 0.9) x [0.5, 0.8), of which (0.6, 0.6), dominated
    // by it alone, covers [0.6, 0.9) x [0.6, 0.8) once it is gone: 0.12 - 0.06.
    const std::vector<double> hand{0.1, 0.9, 0.5, 0.5, 0.9, 0.1, 0.3, 0.8, 0.6, 0.6};
    const auto ch =
        pareto::hypervolume_contributions(matrix_view(hand, 2), std::vector<double>{1, 1});
    CHECK(ch[0] == doctest::Approx(0.2 * 0.1));
    CHECK(ch[1] == doctest::Approx(0.12 - 0.06));
    CHECK(ch[2] == doctest::Approx(0.1 * 0.4));
    CHECK(ch[3] == doctest::Approx(0.2 * 0.1));
    CHECK(ch[4] == 0.0);

    nascent::rng gen(314);
    for (std::size_t m = 2; m <= 4; ++m) {
        auto v = random_points(gen, m == 4 ? 40 : 120, m, kind::front);
        // A duplicate pair and a point outside the box.
        v.insert(v.end(), v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m));
        for (std::size_t j = 0; j < m; ++j)
            v.push_back(j == 0 ? 2.0 : 0.0);
        const matrix_view points(v, m);
        const std::vector<double> ref(m, 1.1);
        const double total = pareto::hypervolume(points, ref);
        const auto c = pareto::hypervolume_contributions(points, ref);
        REQUIRE(c.size() == points.size());
        std::size_t positive = 0;
        for (std::size_t i = 0; i < points.size(); ++i) {
            std::vector<double> without;
            for (std::size_t k = 0; k < points.size(); ++k) {
                if (k != i)
                    without.insert(without.end(), points.row(k).begin(), points.row(k).end());
            }
            const double lost = total - pareto::hypervolume(matrix_view(without, m), ref);
            CAPTURE(m);
            CAPTURE(i);
            CHECK(c[i] == doctest::Approx(lost).epsilon(1e-9).scale(total));
            positive += c[i] > 0 ? 1 : 0;
        }
        CHECK(c.front() == 0.0); // has a copy at the end
        CHECK(c[points.size() - 2] == 0.0);
        CHECK(c.back() == 0.0); // outside the box
        CHECK(positive > 5);
    }
}

// ---------------------------------------------------------------------------------------------
// Archive

TEST_CASE("pareto: the archive keeps the non-dominated points and their payloads") {
    pareto::archive<std::string> a(pareto::objectives{direction::minimise, direction::minimise});
    CHECK(a.insert({1, 3}, "a") == pareto::insert_status::added);
    CHECK(a.insert({3, 1}, "b") == pareto::insert_status::added);
    CHECK(a.insert({2, 2}, "c") == pareto::insert_status::added);
    CHECK(a.insert({3, 3}, "d") == pareto::insert_status::dominated);
    CHECK(a.insert({2, 2}, "e") == pareto::insert_status::added); // equal points are kept
    CHECK(a.size() == 4);
    CHECK(a.hypervolume(std::vector<double>{4, 4}) == 6.0);
    CHECK(a.insert({1, 2}, "f") == pareto::insert_status::added); // removes a, c, e
    REQUIRE(a.size() == 2);
    CHECK(a.payload(0) == "b");
    CHECK(a.payload(1) == "f");
    CHECK(a.values(1) == std::vector<double>{1, 2});
    CHECK(a.hypervolume(std::vector<double>{4, 4}) == 7.0); // 3 * 2 + 1 * 1
    CHECK_THROWS_AS(a.insert({std::nan(""), 0}, "g"), std::invalid_argument);
    CHECK_THROWS_AS(a.insert({0, 0, 0}, "g"), std::invalid_argument);
    CHECK(a.size() == 2);

    pareto::archive<int> unique(pareto::objectives{direction::maximise, direction::minimise},
                                {.keep_duplicates = false});
    CHECK(unique.insert({94.0, 10.0}, 1) == pareto::insert_status::added);
    CHECK(unique.insert({94.0, 10.0}, 2) == pareto::insert_status::duplicate);
    CHECK(unique.insert({93.0, 10.0}, 3) == pareto::insert_status::dominated);
    CHECK(unique.insert({93.0, 5.0}, 4) == pareto::insert_status::added);
    CHECK(unique.insert({95.0, 5.0}, 5) == pareto::insert_status::added); // dominates both
    REQUIRE(unique.size() == 1);
    CHECK(unique.payload(0) == 5);
    CHECK(unique.front().value(0, 0) == 95.0);
}

TEST_CASE("pareto: an archive reads named objectives from evaluations") {
    pareto::archive<int> a(pareto::objectives{{"test_acc@200", direction::maximise},
                                              {"latency:pixel3", direction::minimise}});
    nascent::metrics m;
    m.set("latency:pixel3", 12.0);
    m.set("test_acc@200", 93.0);
    CHECK(a.insert(m, 1) == pareto::insert_status::added);
    m.set("latency:pixel3", 13.0);
    CHECK(a.insert(m, 2) == pareto::insert_status::dominated); // as accurate, slower
    m.set("test_acc@200", 94.0);
    CHECK(a.insert(m, 3) == pareto::insert_status::added); // more accurate, slower
    CHECK(a.size() == 2);
    CHECK(a.values(1) == std::vector<double>{94.0, 13.0});
    // accuracy above 90, latency below 20: 3 * 8 + 1 * 7
    CHECK(a.hypervolume(std::vector<double>{90.0, 20.0}) == 31.0);
}

TEST_CASE("pareto: an archive fed a stream holds exactly its non-dominated points") {
    nascent::rng gen(8);
    for (std::size_t m = 2; m <= 4; ++m) {
        const std::size_t n = 600;
        const auto v = random_points(gen, n, m, kind::grid);
        const matrix_view points(v, m);
        pareto::archive<std::size_t> all(pareto::objectives::minimised(m));
        pareto::archive<std::size_t> distinct(pareto::objectives::minimised(m),
                                              {.keep_duplicates = false});
        for (std::size_t i = 0; i < n; ++i) {
            (void)all.insert(points.row(i), i);
            (void)distinct.insert(points.row(i), i);
        }
        const auto expected = pareto::non_dominated(points);
        std::vector<std::size_t> got(all.payloads().begin(), all.payloads().end());
        CHECK(got == expected); // insertion order is index order here
        // Without duplicates: the first occurrence of each distinct non-dominated value.
        std::set<std::vector<double>> seen;
        std::vector<std::size_t> firsts;
        for (const std::size_t i : expected) {
            if (seen.insert(std::vector<double>(points.row(i).begin(), points.row(i).end()))
                    .second) {
                firsts.push_back(i);
            }
        }
        CHECK(std::vector<std::size_t>(distinct.payloads().begin(), distinct.payloads().end()) ==
              firsts);
        const std::vector<double> ref(m, 4.0);
        CHECK(all.hypervolume(ref) == pareto::hypervolume(points, ref));
    }
}

// ---------------------------------------------------------------------------------------------
// Indicators

TEST_CASE("pareto: GD, IGD and their plus variants by hand") {
    using V = std::vector<double>;
    const V front_v{0, 1, 1, 0};
    const matrix_view front(front_v, 2);
    const V middle_v{0.5, 0.5};
    const matrix_view middle(middle_v, 2);
    CHECK(pareto::igd(front, front) == 0.0);
    CHECK(pareto::gd(front, front) == 0.0);
    CHECK(pareto::igd(middle, front) == doctest::Approx(std::sqrt(0.5)));
    CHECK(pareto::igd_plus(middle, front) == doctest::Approx(0.5)); // only the worse part counts
    CHECK(pareto::gd(middle, front) == doctest::Approx(std::sqrt(0.5)));
    CHECK(pareto::gd_plus(middle, front) == doctest::Approx(0.5));
    // A set dominating the front: IGD+ is 0, IGD is not (IGD is not Pareto-compliant).
    const V better_v{-1, -1};
    const matrix_view better(better_v, 2);
    CHECK(pareto::igd_plus(better, front) == 0.0);
    CHECK(pareto::igd(better, front) == doctest::Approx(std::sqrt(5.0)));
    // Half the front found: IGD averages 0 and sqrt(2).
    const V half_v{0, 1};
    CHECK(pareto::igd(matrix_view(half_v, 2), front) == doctest::Approx(std::sqrt(2.0) / 2));
    // Nothing found yet: infinitely far.
    CHECK(pareto::igd(matrix_view(V{}, 2), front) == inf);
    CHECK(pareto::gd(matrix_view(V{}, 2), front) == inf);

    // Normalised by the front's ranges (1 and 100): the far point is sqrt(2) away, not ~100.
    const V wide_v{0, 100, 1, 0};
    const matrix_view wide(wide_v, 2);
    const V found_v{0, 100};
    const matrix_view found(found_v, 2);
    CHECK(pareto::igd(found, wide) == doctest::Approx(std::sqrt(10001.0) / 2));
    CHECK(pareto::igd(found, wide, {.normalise = true}) == doctest::Approx(std::sqrt(2.0) / 2));

    // Point sets with mixed directions: distances do not depend on the sign convention, d+ does.
    pareto::point_set true_front(pareto::objectives{direction::maximise, direction::minimise});
    true_front.push_back({94, 10});
    true_front.push_back({90, 5});
    pareto::point_set found_set(true_front.objectives());
    found_set.push_back({92, 10}); // 2 points of accuracy short of the first front point
    CHECK(pareto::igd_plus(found_set, true_front) == doctest::Approx((2.0 + 5.0) / 2));
    CHECK(pareto::igd(found_set, true_front) == doctest::Approx((2.0 + std::sqrt(4.0 + 25.0)) / 2));
}

TEST_CASE("pareto: regret helpers") {
    nascent::rng gen(42);
    const auto v = random_points(gen, 200, 2, kind::uniform);
    const pareto::point_set set(pareto::objectives{direction::maximise, direction::minimise}, v);
    const auto front = set.subset(pareto::non_dominated(set));
    const std::vector<double> ref{-0.1, 1.1}; // accuracy above -0.1, latency below 1.1
    CHECK(pareto::hypervolume_regret(front, front, ref) == 0.0);
    CHECK(pareto::hypervolume_regret(set, front, ref) == doctest::Approx(0.0).epsilon(1e-12));
    REQUIRE(front.size() >= 3);
    const std::vector<std::size_t> first_two{0, 1};
    const auto part = front.subset(first_two);
    const double regret = pareto::hypervolume_regret(part, front, ref);
    CHECK(regret > 0.0);
    CHECK(regret ==
          doctest::Approx(pareto::hypervolume(front, ref) - pareto::hypervolume(part, ref)));
    CHECK(pareto::simple_regret(93.5, 94.37, direction::maximise) == doctest::Approx(0.87));
    CHECK(pareto::simple_regret(12.0, 10.0, direction::minimise) == 2.0);
    CHECK_THROWS_AS((void)pareto::simple_regret(std::nan(""), 1.0, direction::minimise),
                    std::invalid_argument);
}
