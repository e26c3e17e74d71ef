// The RL controllers on the NAS-Bench-201 protocol (reward valid_acc@12, reported test_acc@200 of
// the arch with the best reward, budget 150 distinct archs, 500 runs, seed 0), three modes:
//   tune      learning-rate sweep of each controller on CIFAR-10 only (the lr the registry uses is
//             the best mean test accuracy of this sweep)
//   overhead  microseconds per ask + tell (policy updates included, amortised) of each controller
//             and of REA in the same process, on a run of 150 queries answered by the table
//   protocol  (default) all three datasets for random, rea, reinforce, lstm, ppo through the
//             registry, as `nascent compare` runs them
// Usage: rl_protocol [--data DIR] [--mode tune|overhead|protocol] [--runs N] [--lstm-runs N]
//                    [--threads N]
// (benchmarks/search/rl_protocol.sh builds and runs it)

#include <nascent/bench/nb201_table.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/exec/registry.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/lstm_controller.hpp>
#include <nascent/strategy/ppo.hpp>
#include <nascent/strategy/regularized_evolution.hpp>
#include <nascent/strategy/reinforce.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace st = nascent::strategy;
namespace nb201 = nascent::nb201;

namespace {

template <class R>
nascent::mean_std report_of(const R& results) {
    std::vector<double> v;
    for (const auto& r : results)
        v.push_back(r.best_report);
    return nascent::summarize(v);
}

template <class St, class E>
nascent::mean_std protocol(const St& s, const E& ev, std::size_t runs, std::size_t threads) {
    const nb201::space space;
    return report_of(nascent::run_protocol(space, s, ev, {.budget = 150, .runs = runs, .seed = 0},
                                           nascent::exec::tbb_executor(threads)));
}

// Microseconds per query of `runs` sequential runs at budget 150 (fastest of 3).
template <class St, class E>
double micros_per_query(const St& s, const E& ev, std::size_t runs) {
    const nb201::space space;
    double best = 1e300;
    for (int rep = 0; rep < 3; ++rep) {
        std::size_t proposals = 0;
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < runs; ++i) {
            const auto r =
                nascent::run_search(space, s, ev, {.budget = 150, .runs = 1, .seed = 0}, i);
            proposals += r.queries + r.repeats;
        }
        const double us =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                .count();
        best = std::min(best, us / static_cast<double>(proposals));
    }
    return best;
}

} // namespace

int main(int argc, char** argv) {
    std::optional<std::string> data;
    std::string mode = "protocol";
    std::size_t runs = 500;
    std::size_t threads = 2;
    std::size_t lstm_runs = 100; // tune: the LSTM is ~30x slower per query than the others
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--data")
            data = argv[i + 1];
        else if (flag == "--mode")
            mode = argv[i + 1];
        else if (flag == "--runs")
            runs = std::stoul(argv[i + 1]);
        else if (flag == "--lstm-runs")
            lstm_runs = std::stoul(argv[i + 1]);
        else if (flag == "--threads")
            threads = std::stoul(argv[i + 1]);
    }
    const auto table =
        nascent::bench::nb201_table::load(nascent::io::resolve_data_dir(data, "../shared/data"));
    const nb201::space space;
    if (mode == "tune") {
        const auto ev = table.evaluator({.dataset = "cifar10", .reward = "valid_acc@12"});
        std::printf("CIFAR-10, %zu runs, budget 150: mean +- std test_acc@200 by learning rate\n",
                    runs);
        for (const double lr : {0.001, 0.01, 0.03, 0.1, 0.3}) {
            const auto r = protocol(st::reinforce{space, {.learning_rate = lr}}, ev, runs, threads);
            std::printf("reinforce lr %-6g %.3f +- %.3f\n", lr, r.mean, r.std);
        }
        for (const double lr : {0.0035, 0.01, 0.03, 0.1}) {
            const auto r =
                protocol(st::lstm_controller{space, {.learning_rate = lr}}, ev, lstm_runs, threads);
            std::printf("lstm      lr %-6g %.3f +- %.3f  (%zu runs)\n", lr, r.mean, r.std,
                        lstm_runs);
        }
        for (const double lr : {0.00035, 0.01, 0.03, 0.1}) {
            const auto r = protocol(st::ppo{space, {.learning_rate = lr}}, ev, runs, threads);
            std::printf("ppo       lr %-6g %.3f +- %.3f\n", lr, r.mean, r.std);
        }
        return 0;
    }
    if (mode == "overhead") {
        const auto ev = table.evaluator({.dataset = "cifar10", .reward = "valid_acc@12"});
        const std::size_t n = std::min<std::size_t>(runs, 50);
        const st::regularized_evolution rea{
            space, nascent::ops::point_mutation{}, {.population = 10, .sample = 3}};
        const double base = micros_per_query(rea, ev, n);
        std::printf("us per proposal (ask + table lookup + tell, updates amortised), %zu runs of "
                    "150 queries, fastest of 3, one thread\n",
                    n);
        std::printf("%-28s %10.3f us   1.0x\n", "rea", base);
        const auto row = [&](const char* name, double us) {
            std::printf("%-28s %10.3f us %6.0fx\n", name, us, us / base);
        };
        row("reinforce (M = 1)", micros_per_query(st::reinforce{space}, ev, n));
        row("reinforce (M = 10)", micros_per_query(st::reinforce{space, {.batch = 10}}, ev, n));
        row("lstm (M = 10)", micros_per_query(st::lstm_controller{space}, ev, n));
        row("ppo factorised (M = 10, 4 ep)", micros_per_query(st::ppo{space}, ev, n));
        row("ppo lstm (M = 10, 4 ep)",
            micros_per_query(st::ppo{space, {}, st::lstm_policy_options{}}, ev, n));
        return 0;
    }
    std::printf("NAS-Bench-201, %zu runs, budget 150, seed 0: test_acc@200 mean +- std\n", runs);
    for (const auto& dataset : nascent::bench::nb201_dataset_names) {
        const auto ev = table.evaluator({.dataset = dataset, .reward = "valid_acc@12"});
        const nascent::exec::strategy_context<nb201::space> ctx{.space = space};
        for (const char* name : {"random", "rea", "reinforce", "lstm", "ppo"}) {
            const auto start = std::chrono::steady_clock::now();
            const auto r = nascent::exec::visit_strategy(
                name, ctx, [&]<class St>(const St& s) -> nascent::mean_std {
                    if constexpr (nascent::Strategy<St>)
                        return protocol(s, ev, runs, threads);
                    else
                        return {};
                });
            const double sec =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::printf("%-16s %-10s %.2f +- %.2f   (%.1f s)\n", std::string(dataset).c_str(), name,
                        r.mean, r.std, sec);
            std::fflush(stdout);
        }
    }
    return 0;
}
