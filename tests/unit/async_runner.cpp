// Asynchronous evaluation on threads (exec/async_runner.hpp): results told as they complete, the
// completion order recorded and replayed exactly, the deterministic order equal to the simulator's;
// and protocol checkpoints on the multi-fidelity and multi-objective runners (finished runs kept,
// unfinished ones resumed, nothing evaluated twice).
#include "test_data.hpp"

#include <nascent/exec/async_runner.hpp>
#include <nascent/exec/async_simulator.hpp>
#include <nascent/exec/checkpoint.hpp>
#include <nascent/exec/multi_fidelity.hpp>
#include <nascent/exec/multi_objective.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/hyperband.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace nb201 = nascent::nb201;
using nascent::evaluation;
using log_t = std::vector<std::vector<nascent::evaluation_record>>;

namespace {

struct recorder {
    std::vector<nascent::evaluation_record> records;
    void on_evaluation(const nascent::evaluation_event<nb201::cell>& e) {
        records.push_back({e.hash, e.level, e.result});
    }
};

// The table, with a short sleep that depends on the cell (so threads finish out of ask order)
// and a count of the calls.
struct jittered {
    const nascent::bench::nb201_evaluator* inner;
    std::atomic<int>* calls;
    static constexpr auto thread_safety = nascent::thread_safety::constant;
    evaluation evaluate(const nb201::cell& c) const {
        ++*calls;
        std::this_thread::sleep_for(std::chrono::microseconds(200 * (nb201::space{}.hash(c) % 5)));
        return inner->evaluate(c);
    }
};

// The evaluation of `held` returns only once another has been booked (or after 20 s, then the
// test fails): a driver that told results in ask order would wait for it.
struct held_first {
    const nascent::bench::nb201_evaluator* inner;
    nb201::cell held;
    std::atomic<int>* calls;
    std::mutex* m;
    std::condition_variable* cv;
    bool* booked;
    static constexpr auto thread_safety = nascent::thread_safety::constant;
    evaluation evaluate(const nb201::cell& c) const {
        ++*calls;
        if (c == held) {
            std::unique_lock lock(*m);
            cv->wait_for(lock, std::chrono::seconds(20), [&] { return *booked; });
        }
        return inner->evaluate(c);
    }
};
struct booking_signal {
    std::mutex* m;
    std::condition_variable* cv;
    bool* booked;
    std::vector<nb201::cell>* order;
    void on_evaluation(const nascent::evaluation_event<nb201::cell>& e) {
        order->push_back(e.arch);
        const std::lock_guard lock(*m);
        *booked = true;
        cv->notify_all();
    }
};

struct stop_after {
    std::size_t n;
    template <class Event>
    bool on_evaluation(const Event& e) const {
        return e.index + 1 >= n;
    }
};

// Seconds of a cell's evaluation in virtual time: 1 to 5, from its hash.
struct by_hash {
    double operator()(const nb201::cell& c, double, const evaluation&) const {
        return 1.0 + static_cast<double>(nb201::space{}.hash(c) % 5);
    }
};

// Run 1 is interrupted (after 9 answers); runs 0 and 2 finish.
struct stop_run_1 {
    template <class Event>
    bool on_evaluation(const Event& e) const {
        return e.run == 1 && e.index + 1 >= 9;
    }
};
// The table, counting calls when given a counter; either fidelity.
struct counted_mf {
    const nascent::bench::nb201_evaluator* inner;
    std::atomic<int>* calls;
    static constexpr auto thread_safety = nascent::thread_safety::constant;
    evaluation evaluate(const nb201::cell& c) const {
        if (calls != nullptr)
            ++*calls;
        return inner->evaluate(c);
    }
    evaluation evaluate(const nb201::cell& c, double f) const {
        if (calls != nullptr)
            ++*calls;
        return inner->evaluate(c, f);
    }
    [[nodiscard]] auto fidelities() const { return inner->fidelities(); }
};

const nascent::pareto::objectives accuracy_and_params{
    {"valid_acc@12", nascent::pareto::direction::maximise},
    {"params_m", nascent::pareto::direction::minimise}};

} // namespace

TEST_CASE("async live: a result is told when it completes, not in ask order") {
    const nb201::space space;
    const auto table_ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::random_search rs{space};
    std::atomic<int> calls{0};
    std::mutex m;
    std::condition_variable cv;
    bool booked = false;
    std::vector<nb201::cell> order;
    // The first ask: what sequential random search evaluates first.
    const auto first = *nascent::run(rs, table_ev, {.budget = 1, .seed = 2}).best;
    const auto r = nascent::run_async_live(
        space, rs, held_first{&table_ev, first, &calls, &m, &cv, &booked},
        {.budget = 6, .seed = 2, .workers = 2}, 0, booking_signal{&m, &cv, &booked, &order});
    REQUIRE(order.size() == 6);
    CHECK(r.queries == 6);
    CHECK(calls.load() == 6);      // the budget's last asks are not made
    CHECK(order.front() != first); // the first ask was not the first told
    CHECK(std::find(order.begin(), order.end(), first) != order.end());
}

TEST_CASE("async live: replaying the recorded completion order reproduces the run exactly") {
    const nb201::space space;
    const auto table_ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::regularized_evolution rea{
        space, nascent::ops::point_mutation{}, {.population = 8, .sample = 3}};
    const nascent::async_run_options o{.budget = 60, .seed = 5, .workers = 3};
    std::atomic<int> calls{0};
    recorder full;
    const auto whole = nascent::run_async_live(space, rea, jittered{&table_ev, &calls}, o, 0, full);
    REQUIRE(whole.queries == 60);
    REQUIRE(full.records.size() == 60);
    for (const std::size_t cut : {0U, 1U, 23U, 59U, 60U}) {
        const log_t log{{full.records.begin(), full.records.begin() + static_cast<long>(cut)}};
        auto resumed_options = o;
        resumed_options.replay = log;
        std::atomic<int> again{0};
        const auto resumed =
            nascent::run_async_live(space, rea, jittered{&table_ev, &again}, resumed_options);
        CHECK(again.load() == static_cast<int>(60 - cut)); // nothing completed is redone
        REQUIRE(resumed.queries == 60);
        // The replayed part is the run's; the rest is live, so in its own order.
        for (std::size_t i = 0; i < cut; ++i)
            REQUIRE(resumed.trajectory[i] == whole.trajectory[i]);
        if (cut == 60) {
            CHECK(resumed.best == whole.best);
            CHECK(resumed.repeats == whole.repeats);
        }
    }
    // Another run's record is refused.
    const log_t wrong{full.records};
    CHECK_THROWS_AS(
        (void)nascent::run_async_live(space, rea, table_ev,
                                      {.budget = 60, .seed = 6, .workers = 3, .replay = wrong}),
        std::runtime_error);
}

TEST_CASE("async ordered: deterministic, resumable from a checkpoint, the simulator's order") {
    const nb201::space space;
    const auto table_ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::regularized_evolution rea{
        space, nascent::ops::point_mutation{}, {.population = 8, .sample = 3}};
    const nascent::async_run_options o{.budget = 50, .seed = 9, .workers = 3};
    std::atomic<int> calls{0};
    const auto a =
        nascent::run_async_ordered(space, rea, jittered{&table_ev, &calls}, by_hash{}, o);
    const auto b = nascent::run_async_ordered(space, rea, table_ev, by_hash{}, o);
    REQUIRE(a.queries == 50);
    CHECK(a.trajectory == b.trajectory);
    CHECK(a.cost == b.cost);

    // Interrupted after 17 completions, checkpointed, loaded and resumed: the same run.
    const auto file = std::filesystem::temp_directory_path() / "nascent_async_checkpoint.json";
    const nlohmann::json problem{{"strategy", "rea"}, {"async", true}};
    {
        nascent::exec::checkpoint_writer ckpt{file, problem, space, {.runs = 1, .every = 4}};
        const auto cut =
            nascent::run_async_ordered(space, rea, table_ev, by_hash{}, o, 0, stop_after{17}, ckpt);
        CHECK(cut.stopped);
    }
    const auto log = nascent::exec::load_checkpoint(file, problem);
    REQUIRE(log.replay()[0].size() == 17);
    CHECK_FALSE(log.done(0));
    auto resumed_options = o;
    resumed_options.replay = log.replay();
    std::atomic<int> again{0};
    const auto resumed = nascent::run_async_ordered(space, rea, jittered{&table_ev, &again},
                                                    by_hash{}, resumed_options);
    CHECK(resumed.trajectory == a.trajectory);
    CHECK(resumed.cost == a.cost);
    CHECK(resumed.best == a.best);
    CHECK(again.load() == 50 - 17);
    std::filesystem::remove(file);

    // The simulator: with equal durations every completion agrees; with unequal ones the first
    // budget - k + 1 (after them the simulator still asks, the budgeted run does not).
    const auto unit = [](const nb201::cell&, double, const evaluation&) { return 1.0; };
    const auto sim_unit = nascent::run_async_search(
        space, rea, table_ev, unit, {.workers = 3, .time_budget = 17.5, .seed = 9}, 0);
    const auto ord_unit = nascent::run_async_ordered(space, rea, table_ev, unit,
                                                     {.budget = 51, .seed = 9, .workers = 3});
    REQUIRE(sim_unit.queries == 51);
    CHECK(ord_unit.trajectory == sim_unit.trajectory);
    CHECK(ord_unit.cost == sim_unit.cost);
    const auto sim = nascent::run_async_search(space, rea, table_ev, by_hash{},
                                               {.workers = 3, .time_budget = 1e9, .seed = 9}, 0,
                                               stop_after{200});
    REQUIRE(sim.queries >= 48);
    for (std::size_t i = 0; i < 48; ++i) {
        REQUIRE(a.trajectory[i] == sim.trajectory[i]);
        REQUIRE(a.cost[i] == sim.cost[i]);
    }
}

TEST_CASE("async live: options are checked, exceptions reach the caller, protocols run") {
    const nb201::space space;
    const auto table_ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::random_search rs{space};
    CHECK_THROWS_WITH_AS((void)nascent::run_async_live(space, rs, table_ev, {.workers = 0}),
                         "async_run_options: workers must be >= 1, got 0", std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)nascent::run_async_live(space, rs, table_ev, {.budget = 0}),
                         "async_run_options: budget must be >= 1, got 0", std::invalid_argument);
    const auto throwing = [](const nb201::cell&) -> evaluation {
        throw std::runtime_error("evaluator broke");
    };
    struct thrower {
        decltype(throwing) f;
        evaluation evaluate(const nb201::cell& c) const { return f(c); }
    };
    CHECK_THROWS_WITH_AS((void)nascent::run_async_live(space, rs, thrower{throwing}, {.budget = 5}),
                         "evaluator broke", std::runtime_error);
    const auto runs = nascent::run_async_live_protocol(
        space, rs, table_ev, {.budget = 20, .runs = 3, .seed = 1, .workers = 2},
        nascent::exec::tbb_executor(2));
    REQUIRE(runs.size() == 3);
    for (const auto& r : runs)
        CHECK(r.queries == 20);
}

TEST_CASE("checkpoint: multi-fidelity and multi-objective protocols keep finished runs and resume "
          "the others") {
    const nb201::space space;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const auto file = std::filesystem::temp_directory_path() / "nascent_protocol_checkpoint.json";
    const nlohmann::json problem{{"strategy", "any"}};
    using writer_t = nascent::exec::checkpoint_writer<nb201::space>;
    auto check = [&](auto&& run, auto&& same) {
        const auto whole = run(log_t{}, nullptr);
        std::vector<std::size_t> answers; // evaluator answers per run
        for (const auto& r : whole)
            answers.push_back(r.queries + r.out_of_table);
        {
            writer_t ckpt{file, problem, space, {.runs = 3, .every = 3}};
            (void)run(log_t{}, &ckpt);
        }
        auto log = nascent::exec::load_checkpoint(file, problem);
        REQUIRE(log.runs() == 3);
        CHECK(log.done(0));
        CHECK_FALSE(log.done(1));
        CHECK(log.done(2));
        CHECK(log.replay()[0].size() == answers[0]);
        CHECK(log.replay()[2].size() == answers[2]);
        const std::size_t cut = log.replay()[1].size(); // the batch in flight completes
        CHECK(cut >= 9);
        CHECK(cut < answers[1]);
        std::atomic<int> calls{0};
        writer_t again{file, problem, space, {.runs = 3, .every = 3}, &log};
        const auto resumed = run(log_t(log.replay().begin(), log.replay().end()), &again, &calls);
        for (std::size_t i = 0; i < 3; ++i)
            same(resumed[i], whole[i]);
        CHECK(calls.load() == static_cast<int>(answers[1] - cut)); // only run 1's rest
        const auto finished = nascent::exec::load_checkpoint(file, problem);
        CHECK(finished.done(1));
        CHECK(finished.evaluations() == answers[0] + answers[1] + answers[2]);
        std::filesystem::remove(file);
    };
    SUBCASE("hyperband") {
        const nascent::strategy::hyperband hb{space};
        const auto mf = [&](const log_t& replay, writer_t* ckpt,
                            std::atomic<int>* calls = nullptr) {
            nascent::multi_fidelity_options o{
                .budget = 120, .runs = 3, .seed = 3, .in_flight = 2, .replay = replay};
            const counted_mf counted{&ev, calls};
            if (ckpt == nullptr)
                return nascent::run_multi_fidelity(space, hb, counted, o);
            if (replay.empty())
                return nascent::run_multi_fidelity(
                    space, hb, counted, o, nascent::exec::tbb_executor(2), stop_run_1{}, *ckpt);
            return nascent::run_multi_fidelity(space, hb, counted, o,
                                               nascent::exec::tbb_executor(2), *ckpt);
        };
        check(mf, [](const auto& x, const auto& y) {
            REQUIRE(x.trajectory == y.trajectory);
            REQUIRE(x.cost == y.cost);
            REQUIRE(x.best == y.best);
        });
    }
    SUBCASE("multi-objective random search") {
        const nascent::strategy::random_search rs{space};
        const auto mo = [&](const log_t& replay, writer_t* ckpt,
                            std::atomic<int>* calls = nullptr) {
            nascent::multi_objective_options o{.budget = 40,
                                               .runs = 3,
                                               .seed = 3,
                                               .reference = {0.0, 2.0},
                                               .in_flight = 3,
                                               .replay = replay};
            const counted_mf counted{&ev, calls};
            if (ckpt == nullptr)
                return nascent::run_multi_objective(space, rs, counted, accuracy_and_params, o);
            if (replay.empty())
                return nascent::run_multi_objective(space, rs, counted, accuracy_and_params, o,
                                                    nascent::exec::tbb_executor(2), stop_run_1{},
                                                    *ckpt);
            return nascent::run_multi_objective(space, rs, counted, accuracy_and_params, o,
                                                nascent::exec::tbb_executor(2), *ckpt);
        };
        check(mo, [](const auto& x, const auto& y) {
            REQUIRE(x.hypervolume == y.hypervolume);
            REQUIRE(x.front == y.front);
        });
    }
}
