#include <nascent/space/nb201.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>

namespace nb201 = nascent::nb201;
using nascent::evaluation;

namespace {
int differing_edges(const nb201::cell& a, const nb201::cell& b) {
    int n = 0;
    for (std::size_t e = 0; e < nb201::num_edges; ++e) n += a[e] != b[e] ? 1 : 0;
    return n;
}
nb201::cell uniform_cell(std::uint8_t op) {
    nb201::cell c;
    c.ops.fill(op);
    return c;
}
double conv3x3_count(const nb201::cell& c) {
    double n = 0;
    for (auto op : c.ops) n += op == nb201::nor_conv_3x3 ? 1 : 0;
    return n;
}
} // namespace

TEST_CASE("regularized evolution: random until full, then mutations of the tournament winner") {
    const nb201::space space;
    nascent::strategy::regularized_evolution rea{space, nascent::ops::point_mutation{},
                                                 {.population = 3, .sample = 50}};
    nascent::rng gen(9);
    // The first `population` proposals are samples; give them fixed, far-apart cells instead.
    (void)rea.ask(gen);
    rea.tell(uniform_cell(nb201::none), evaluation::success(100.0)); // best ever, but will die
    rea.tell(uniform_cell(nb201::skip_connect), evaluation::success(1.0));
    rea.tell(uniform_cell(nb201::nor_conv_1x1), evaluation::success(2.0));
    rea.tell(uniform_cell(nb201::nor_conv_3x3), evaluation::success(3.0)); // oldest removed
    // Alive: skip (1), conv1x1 (2), conv3x3 (3). A tournament of 50 with replacement misses the
    // best alive member with probability (2/3)^50 ~ 2e-9; the dead member must never be a parent.
    for (int i = 0; i < 200; ++i) {
        const auto child = rea.ask(gen);
        REQUIRE(differing_edges(child, uniform_cell(nb201::nor_conv_3x3)) == 1);
    }
}

TEST_CASE("regularized evolution: failed evaluations join the population but lose tournaments") {
    const nb201::space space;
    nascent::strategy::regularized_evolution rea{space, nascent::ops::point_mutation{},
                                                 {.population = 2, .sample = 40}};
    nascent::rng gen(1);
    rea.tell(uniform_cell(nb201::none), evaluation::failure("diverged"));
    rea.tell(uniform_cell(nb201::avg_pool_3x3), evaluation::success(-5.0));
    for (int i = 0; i < 100; ++i) {
        REQUIRE(differing_edges(rea.ask(gen), uniform_cell(nb201::avg_pool_3x3)) == 1);
    }
}

TEST_CASE("regularized evolution: invalid options are rejected") {
    const nb201::space space;
    using rea_t = nascent::strategy::regularized_evolution<nb201::space>;
    CHECK_THROWS_WITH_AS(rea_t(space, {}, {.population = 0, .sample = 3}),
                         "regularized_evolution: population must be >= 1, got 0",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(rea_t(space, {}, {.population = 10, .sample = 0}),
                         "regularized_evolution: sample must be >= 1, got 0", std::invalid_argument);
}

TEST_CASE("local search: scans the whole neighbourhood, then moves to the best improvement") {
    const nb201::space space;
    nascent::strategy::local_search ls{space};
    nascent::rng gen(3);
    const auto start = ls.ask(gen);
    ls.tell(start, evaluation::success(conv3x3_count(start)));
    auto current = start;
    for (int step = 0; conv3x3_count(current) < 6; ++step) {
        REQUIRE(step < 6);
        std::set<nb201::cell> scanned;
        nb201::cell best{};
        double best_reward = -1;
        for (int i = 0; i < 24; ++i) {
            const auto n = ls.ask(gen);
            REQUIRE(differing_edges(n, current) == 1);
            scanned.insert(n);
            const double r = conv3x3_count(n);
            if (r > best_reward) best = n, best_reward = r;
            ls.tell(n, evaluation::success(r));
        }
        REQUIRE(scanned.size() == 24); // every neighbour once
        current = best;
    }
    // At the optimum no neighbour improves: the next 24 proposals are its neighbours, then a
    // restart proposes a random cell.
    for (int i = 0; i < 24; ++i) {
        const auto n = ls.ask(gen);
        REQUIRE(differing_edges(n, current) == 1);
        ls.tell(n, evaluation::success(conv3x3_count(n)));
    }
    const auto restart = ls.ask(gen);
    ls.tell(restart, evaluation::success(conv3x3_count(restart)));
    const auto next = ls.ask(gen);
    CHECK(differing_edges(next, restart) == 1);
}

TEST_CASE("random search proposes independent uniform samples") {
    const nb201::space space;
    nascent::strategy::random_search rs{space};
    nascent::rng gen(5);
    std::set<nb201::cell> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto c = rs.ask(gen);
        rs.tell(c, evaluation::success(0.0));
        seen.insert(c);
    }
    // Distinct cells among 1000 uniform draws from 15,625: mean 968.6, std ~5.5.
    CHECK(seen.size() > 940);
    CHECK(seen.size() < 995);
}
