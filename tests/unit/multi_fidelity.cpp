#include "test_data.hpp"

#include <nascent/core/stats.hpp>
#include <nascent/exec/multi_fidelity.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/strategy/bohb.hpp>
#include <nascent/strategy/hyperband.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace nb201 = nascent::nb201;
using nascent::evaluation;

namespace {
// Reward = conv3x3 count; a higher fidelity adds 0.5 so that levels are distinguishable.
struct conv_counter {
    std::vector<double> levels{1, 3, 9};
    evaluation evaluate(const nb201::cell& c) const { return evaluate(c, levels.back()); }
    evaluation evaluate(const nb201::cell& c, double fidelity) const {
        double n = 0;
        for (auto op : c.ops)
            n += op == nb201::nor_conv_3x3 ? 1 : 0;
        nascent::metrics m;
        m.set("test_acc@200", n);
        return evaluation::success(n + (fidelity == 9 ? 0.5 : 0.0), m);
    }
    const std::vector<double>& fidelities() const { return levels; }
};

double mean_report(const std::vector<nascent::run_result<nb201::cell>>& rs) {
    std::vector<double> v;
    for (const auto& r : rs)
        v.push_back(r.best_report);
    return nascent::summarize(v).mean;
}
} // namespace

TEST_CASE("hyperband: bracket sizes and the order of requests on NAS-Bench-201's two levels") {
    const nb201::space space;
    nascent::strategy::hyperband hb{space};
    const std::vector<double> levels{12, 200};
    hb.set_fidelities(levels);
    CHECK(hb.eta() == doctest::Approx(200.0 / 12.0));
    CHECK(hb.bracket_size(1) == 17); // ceil(2/2 * 16.67)
    CHECK(hb.bracket_size(0) == 2);  // ceil(2/1 * 1)
    nascent::rng gen(1);
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    nb201::cell best{};
    double best_reward = -1;
    for (int i = 0; i < 17; ++i) {
        const auto r = hb.ask(gen);
        REQUIRE(r.fidelity == 12.0);
        const auto e = ev.evaluate(r.arch, r.fidelity);
        if (e.reward > best_reward)
            best = r.arch, best_reward = e.reward;
        hb.tell(r, e);
    }
    const auto promoted = hb.ask(gen);
    CHECK(promoted.fidelity == 200.0);
    CHECK(promoted.arch == best); // the best of the rung, now at 200 epochs
    hb.tell(promoted, ev.evaluate(promoted.arch, 200.0));
    for (int i = 0; i < 2; ++i)
        CHECK(hb.ask(gen).fidelity == 200.0); // bracket s = 0
}

TEST_CASE("multi-fidelity runner: costs, incumbent at the highest level, determinism") {
    const nb201::space space;
    const nascent::multi_fidelity_options options{.budget = 120, .runs = 16, .seed = 5};
    const auto seq = nascent::run_multi_fidelity(space, nascent::strategy::hyperband{space},
                                                 conv_counter{}, options);
    const auto par =
        nascent::run_multi_fidelity(space, nascent::strategy::hyperband{space}, conv_counter{},
                                    options, nascent::exec::tbb_executor(2));
    REQUIRE(seq.size() == 16);
    for (std::size_t i = 0; i < seq.size(); ++i) {
        const auto& r = seq[i];
        CHECK(r.best == par[i].best);
        CHECK(r.cost == par[i].cost);
        REQUIRE(r.cost.size() == r.queries);
        REQUIRE(r.trajectory.size() == r.queries);
        CHECK(r.cost.back() <= 120.0);
        CHECK(r.cost.back() > 120.0 - 9.0); // stops only when the next evaluation does not fit
        for (std::size_t k = 1; k < r.cost.size(); ++k) {
            const double step = r.cost[k] - r.cost[k - 1];
            REQUIRE((step == 1.0 || step == 3.0 || step == 9.0)); // fidelity / lowest fidelity
        }
        // The incumbent comes from the highest level: its reward carries the +0.5 of level 9.
        CHECK(r.best_reward - std::floor(r.best_reward) == 0.5);
    }
}

TEST_CASE("multi-fidelity: bad fidelities and options are rejected") {
    const nb201::space space;
    CHECK_THROWS_WITH_AS(nascent::strategy::hyperband(space, {.eta = 1.0}),
                         "hyperband: eta must be > 1, got 1.000000", std::invalid_argument);
    nascent::strategy::hyperband hb{space, {.bracket = 5}};
    const std::vector<double> levels{1, 3};
    CHECK_THROWS_AS(hb.set_fidelities(levels), std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        (void)nascent::run_multi_fidelity(space, nascent::strategy::hyperband{space},
                                          conv_counter{}, {.budget = 0}),
        "multi_fidelity_options: budget must be > 0, got 0.000000", std::invalid_argument);
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar100"});
    CHECK(ev.fidelities() == std::vector<double>{12.0}); // no 200-epoch validation accuracy
    CHECK(ev.evaluate(space.at(0), 200.0).status == nascent::eval_status::failed);
    const auto c10 = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    CHECK(c10.fidelities() == std::vector<double>{12.0, 200.0});
    CHECK(c10.evaluate(space.at(77), 200.0).reward ==
          *nascent::test::nb201().accuracy(nascent::test::nb201().index_of(space.at(77)),
                                           nascent::bench::nb201_dataset::cifar10,
                                           nascent::bench::nb201_metric::valid_200));
}

TEST_CASE("TPE proposals concentrate where the observed rewards are high") {
    const nb201::space space;
    nascent::strategy::tpe_sampler<nb201::space> tpe({.random_fraction = 0.0});
    nascent::rng gen(3);
    const conv_counter ev;
    for (int i = 0; i < 200; ++i) {
        const auto c = space.sample(gen);
        tpe.observe(c, 0, ev.evaluate(c, 1).reward);
    }
    double tpe_mean = 0, uniform_mean = 0;
    for (int i = 0; i < 200; ++i) {
        tpe_mean += ev.evaluate(tpe.propose(space, gen), 1).reward / 200;
        uniform_mean += ev.evaluate(space.sample(gen), 1).reward / 200;
    }
    MESSAGE("conv3x3 per proposal: TPE " << tpe_mean << ", uniform " << uniform_mean);
    CHECK(uniform_mean == doctest::Approx(1.2).epsilon(0.15)); // 6 edges x 1/5
    CHECK(tpe_mean > 3.0);
}

TEST_CASE("NAS-Bench-201 CIFAR-10 at 500 units of 12 epochs: BOHB beats Hyperband") {
    const nb201::space space;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::multi_fidelity_options options{.budget = 500, .runs = 300, .seed = 0};
    const nascent::exec::tbb_executor executor(2);
    const double hb = mean_report(nascent::run_multi_fidelity(
        space, nascent::strategy::hyperband{space}, ev, options, executor));
    const double bohb = mean_report(nascent::run_multi_fidelity(
        space, nascent::strategy::make_bohb(space), ev, options, executor));
    MESSAGE("mean test accuracy: hyperband " << hb << ", bohb " << bohb);
    // Standard error of each mean ~0.015 (std ~0.26, 300 runs); the measured gap is ~0.18.
    CHECK(bohb > hb + 0.08);
}
