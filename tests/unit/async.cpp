#include "test_data.hpp"

#include <nascent/core/stats.hpp>
#include <nascent/exec/async_simulator.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/space/nb201_cost.hpp>
#include <nascent/strategy/asha.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <doctest/doctest.h>

#include <vector>

namespace nb201 = nascent::nb201;

namespace {
// A cost model for the NAS-Bench-201 table, which has no training times: seconds per epoch grow
// with the network's FLOPs (1 s per epoch per 10 MFLOPs, plus 5 s).
struct epochs_times_flops {
    double operator()(const nb201::cell& c, double fidelity, const nascent::evaluation&) const {
        const double epochs = fidelity > 0 ? fidelity : 12.0;
        return epochs * (5.0 + nb201::network_cost(c).flops / 1e7);
    }
};
double mean_report(const std::vector<nascent::run_result<nb201::cell>>& rs) {
    std::vector<double> v;
    for (const auto& r : rs)
        v.push_back(r.best_report);
    return nascent::summarize(v).mean;
}
} // namespace

TEST_CASE("async simulator: one worker with unit durations is the sequential runner") {
    const nb201::space space;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::regularized_evolution rea{space};
    const auto unit = [](const nb201::cell&, double, const nascent::evaluation&) { return 1.0; };
    const auto async = nascent::run_async_search(space, rea, ev, unit,
                                                 {.workers = 1, .time_budget = 150, .seed = 3}, 2);
    const auto seq = nascent::run_search(space, rea, ev, {.budget = 150, .seed = 3}, 2);
    CHECK(async.queries == 150);
    CHECK(async.best == seq.best);
    CHECK(async.trajectory == seq.trajectory);
    CHECK(async.cost.back() == 150.0);
}

TEST_CASE("async simulator: k workers run k evaluations at once, deterministically") {
    const nb201::space space;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::regularized_evolution rea{space};
    const auto unit = [](const nb201::cell&, double, const nascent::evaluation&) { return 1.0; };
    const auto r = nascent::run_async_search(space, rea, ev, unit,
                                             {.workers = 8, .time_budget = 20, .seed = 1});
    CHECK(r.queries == 8 * 20); // every worker busy for 20 time units
    for (std::size_t i = 0; i < r.cost.size(); ++i)
        REQUIRE(r.cost[i] == static_cast<double>(i / 8 + 1));
    const nascent::async_options options{.workers = 8, .time_budget = 5000, .runs = 32, .seed = 9};
    const auto a = nascent::run_async(space, rea, ev, epochs_times_flops{}, options);
    const auto b = nascent::run_async(space, rea, ev, epochs_times_flops{}, options,
                                      nascent::exec::tbb_executor(2));
    for (std::size_t i = 0; i < a.size(); ++i) {
        REQUIRE(a[i].best == b[i].best);
        REQUIRE(a[i].cost == b[i].cost);
        for (std::size_t k = 1; k < a[i].cost.size(); ++k)
            REQUIRE(a[i].cost[k] >= a[i].cost[k - 1]);
        REQUIRE(a[i].cost.back() <= 5000.0);
    }
    CHECK_THROWS_WITH_AS(
        (void)nascent::run_async(space, rea, ev, unit, {.workers = 0, .time_budget = 1}),
        "async_options: workers must be >= 1, got 0", std::invalid_argument);
    const auto negative = [](const nb201::cell&, double, const nascent::evaluation&) {
        return -1.0;
    };
    CHECK_THROWS_AS(
        (void)nascent::run_async_search(space, rea, ev, negative, {.workers = 2, .time_budget = 1}),
        std::invalid_argument);
}

TEST_CASE("ASHA promotes the top 1/eta of a rung as soon as it can") {
    const nb201::space space;
    nascent::strategy::asha asha{space, {.eta = 3}};
    const std::vector<double> levels{1, 3, 9};
    asha.set_fidelities(levels);
    nascent::rng gen(2);
    std::vector<nascent::fidelity_request<nb201::cell>> asked;
    for (int i = 0; i < 3; ++i)
        asked.push_back(asha.ask(gen));
    for (const auto& r : asked)
        CHECK(r.fidelity == 1.0); // nothing to promote yet
    asha.tell(asked[0], nascent::evaluation::success(1.0));
    asha.tell(asked[1], nascent::evaluation::success(5.0));
    asha.tell(asked[2], nascent::evaluation::success(3.0));
    const auto promoted = asha.ask(gen); // 3 results at level 1: the best one moves up
    CHECK(promoted.fidelity == 3.0);
    CHECK(promoted.arch == asked[1].arch);
    CHECK(asha.ask(gen).fidelity == 1.0); // it was promoted once; the rest start fresh
}

TEST_CASE("NAS-Bench-201 CIFAR-10 with 8 simulated workers: ASHA uses the time better than random "
          "search at 200 epochs") {
    const nb201::space space;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::async_options options{
        .workers = 8, .time_budget = 2.0e4, .runs = 100, .seed = 0};
    const nascent::exec::tbb_executor executor(2);
    struct at_200 { // random search that trains every architecture for 200 epochs
        const nascent::bench::nb201_evaluator* ev;
        nascent::evaluation evaluate(const nb201::cell& c) const { return ev->evaluate(c, 200.0); }
    };
    const double asha = mean_report(nascent::run_async(space, nascent::strategy::asha{space}, ev,
                                                       epochs_times_flops{}, options, executor));
    const auto at200 = [](const nb201::cell& c, double, const nascent::evaluation& e) {
        return epochs_times_flops{}(c, 200.0, e);
    };
    const double random = mean_report(nascent::run_async(
        space, nascent::strategy::random_search{space}, at_200{&ev}, at200, options, executor));
    MESSAGE("mean test accuracy after 2e4 simulated seconds on 8 workers: ASHA "
            << asha << ", random search (200 epochs) " << random);
    // Measured over 300 runs: 94.00 +- 0.23 against 93.71 +- 0.30; standard errors here ~0.03.
    CHECK(asha > random + 0.15);
}
