#include <nascent/space/nb201.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/model_based.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <span>
#include <stdexcept>

namespace nb201 = nascent::nb201;
using nascent::evaluation;

namespace {
int differing_edges(const nb201::cell& a, const nb201::cell& b) {
    int n = 0;
    for (std::size_t e = 0; e < nb201::num_edges; ++e)
        n += a[e] != b[e] ? 1 : 0;
    return n;
}
nb201::cell uniform_cell(std::uint8_t op) {
    nb201::cell c;
    c.ops.fill(op);
    return c;
}
double conv3x3_count(const nb201::cell& c) {
    double n = 0;
    for (auto op : c.ops)
        n += op == nb201::nor_conv_3x3 ? 1 : 0;
    return n;
}
} // namespace

TEST_CASE("regularized evolution: random until full, then mutations of the tournament winner") {
    const nb201::space space;
    nascent::strategy::regularized_evolution rea{
        space, nascent::ops::point_mutation{}, {.population = 3, .sample = 50}};
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
    nascent::strategy::regularized_evolution rea{
        space, nascent::ops::point_mutation{}, {.population = 2, .sample = 40}};
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
                         "regularized_evolution: sample must be >= 1, got 0",
                         std::invalid_argument);
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
            if (r > best_reward)
                best = n, best_reward = r;
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

namespace {
// A surrogate that knows the objective (conv3x3 count) exactly: isolates the search mechanics.
struct oracle_model {
    std::size_t fits = 0;
    void fit(std::span<const nb201::cell> xs, std::span<const double> ys) {
        if (xs.size() != ys.size())
            throw std::invalid_argument("sizes");
        ++fits;
    }
    [[nodiscard]] nascent::prediction predict(const nb201::cell& c) const {
        return {conv3x3_count(c), 0.01};
    }
};
} // namespace

TEST_CASE("model-based search: initial designs, acquisition, kriging believer") {
    const nb201::space space;
    static_assert(
        nascent::Strategy<nascent::strategy::model_based_search<nb201::space, oracle_model>>);
    const auto designed = space.parse("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    nascent::strategy::model_based_search bo{
        space,
        oracle_model{},
        {.initial = 3, .acq = nascent::strategy::acquisition::expected_improvement},
        {designed}};
    nascent::rng gen(4);
    const auto first = bo.ask(gen);
    CHECK(first == designed); // warm start before random samples
    bo.tell(first, evaluation::success(conv3x3_count(first)));
    for (int i = 0; i < 2; ++i) {
        const auto c = bo.ask(gen);
        bo.tell(c, evaluation::success(conv3x3_count(c)));
    }
    // With an exact model, each proposal is the best candidate: rewards climb to the optimum fast.
    double best = 0;
    for (int i = 0; i < 12 && best < 6; ++i) {
        const auto c = bo.ask(gen);
        best = std::max(best, conv3x3_count(c));
        bo.tell(c, evaluation::success(conv3x3_count(c)));
    }
    CHECK(best == 6.0);
    // Two asks before their tells propose different architectures (the first is believed).
    const auto a = bo.ask(gen);
    const auto b = bo.ask(gen);
    CHECK(a != b);
    CHECK_THROWS_AS(nascent::strategy::model_based_search(space, oracle_model{}, {.initial = 0}),
                    std::invalid_argument);
}

TEST_CASE("guided evolution: children are the model's favourite mutations") {
    const nb201::space space;
    nascent::strategy::guided_evolution ge{
        space, oracle_model{}, {.population = 4, .sample = 4, .offspring = 24}};
    nascent::rng gen(8);
    for (int i = 0; i < 4; ++i) {
        const auto c = ge.ask(gen);
        ge.tell(c, evaluation::success(conv3x3_count(c)));
    }
    // Among 24 mutations of the winner, the exact model picks one that adds a conv3x3 (if any can).
    for (int i = 0; i < 20; ++i) {
        const auto c = ge.ask(gen);
        ge.tell(c, evaluation::success(conv3x3_count(c)));
    }
    const auto c = ge.ask(gen);
    CHECK(conv3x3_count(c) >= 5.0);
}
