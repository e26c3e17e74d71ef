// Micro benchmarks of the hot paths of a tabular search (one core each):
//   table lookups (target >= 1e7/s), mutation, one REA step, a whole run;
//   cost models (NB201 target >= 1e6/s) and NAS-Bench-101 hashing (target >= 1e5/s).
// Usage: nascent_micro [--benchmark_filter=...]; data from $NASCENT_DATA or the configured default.
#include <nascent/bench/nb201_table.hpp>
#include <nascent/core/history.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/ops/categorical.hpp>
#include <nascent/space/darts.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb101_cost.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/nb201_cost.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <benchmark/benchmark.h>

#include <optional>
#include <vector>

namespace {

const nascent::bench::nb201_table& table() {
    static const auto t = nascent::bench::nb201_table::load(
        nascent::io::resolve_data_dir(std::nullopt, NASCENT_DEFAULT_DATA_DIR));
    return t;
}

std::vector<nascent::nb201::cell> random_cells(std::size_t n) {
    nascent::rng gen(1);
    std::vector<nascent::nb201::cell> cells(n);
    for (auto& c : cells)
        c = nascent::nb201::space::sample(gen);
    return cells;
}

// An evaluation as strategies see it: status, reward and all metrics of the cell.
void bm_table_evaluate(benchmark::State& state) {
    const auto ev = table().evaluator({.dataset = "cifar10"});
    const auto cells = random_cells(4096);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(ev.evaluate(cells[i++ & 4095]));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_table_evaluate);

// A single metric by official index (the query API).
void bm_table_accuracy(benchmark::State& state) {
    const auto& t = table();
    std::uint32_t index = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(t.accuracy(index, nascent::bench::nb201_dataset::cifar100,
                                            nascent::bench::nb201_metric::test_200));
        index = (index + 7919) % 15625;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_table_accuracy);

void bm_arch_string_to_index(benchmark::State& state) {
    const auto& t = table();
    const nascent::nb201::space space;
    std::vector<std::string> strings;
    for (const auto& c : random_cells(256))
        strings.push_back(space.to_string(c));
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(t.index_of(std::string_view(strings[i++ & 255])));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_arch_string_to_index);

void bm_point_mutation(benchmark::State& state) {
    const nascent::nb201::space space;
    const nascent::ops::point_mutation mutate;
    nascent::rng gen(2);
    auto c = space.sample(gen);
    for (auto _ : state) {
        c = mutate(space, c, gen);
        benchmark::DoNotOptimize(c);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_point_mutation);

// One step of regularized evolution in steady state: ask, evaluate, tell.
void bm_rea_step(benchmark::State& state) {
    const nascent::nb201::space space;
    const auto ev = table().evaluator({.dataset = "cifar10"});
    nascent::strategy::regularized_evolution rea{space};
    nascent::rng gen(3);
    for (int i = 0; i < 10; ++i) {
        const auto c = rea.ask(gen);
        rea.tell(c, ev.evaluate(c));
    }
    for (auto _ : state) {
        const auto c = rea.ask(gen);
        rea.tell(c, ev.evaluate(c));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_rea_step);

// A whole REA run at budget 150 (history, repeats, trajectory included).
void bm_rea_run_150(benchmark::State& state) {
    const nascent::nb201::space space;
    const auto ev = table().evaluator({.dataset = "cifar10"});
    const nascent::strategy::regularized_evolution rea{space};
    std::size_t run = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(nascent::run_search(space, rea, ev, {.budget = 150}, run++));
    }
    state.SetItemsProcessed(state.iterations() * 150);
}
BENCHMARK(bm_rea_run_150);

// Exact params + FLOPs of the NAS-Bench-201 network of a cell (target >= 1e6/s).
void bm_nb201_cost(benchmark::State& state) {
    const auto cells = random_cells(4096);
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(nascent::nb201::network_cost(cells[i++ & 4095]));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_nb201_cost);

// Exact params + FLOPs of DARTS' CIFAR network (NAS-Bench-301 setting).
void bm_darts_cost(benchmark::State& state) {
    const nascent::darts::space space;
    nascent::rng gen(4);
    std::vector<nascent::darts::genotype> gs(1024);
    for (auto& g : gs)
        g = space.sample(gen);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            nascent::darts::cost(gs[i++ & 1023], nascent::darts::nb301_network));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_darts_cost);

// The official NAS-Bench-101 graph hash of random valid cells (target >= 1e5/s).
void bm_nb101_hash(benchmark::State& state) {
    nascent::rng gen(5);
    std::vector<nascent::nb101::cell> cells(512);
    for (auto& c : cells)
        c = nascent::nb101::space::sample(gen);
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(nascent::nb101::hash_hex(cells[i++ & 511]));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_nb101_hash);

// Exact parameters + FLOPs of the NAS-Bench-101 network of a cell.
void bm_nb101_cost(benchmark::State& state) {
    nascent::rng gen(6);
    std::vector<nascent::nb101::cell> cells(512);
    for (auto& c : cells)
        c = nascent::nb101::space::sample(gen);
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(nascent::nb101::network_cost(cells[i++ & 511]));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_nb101_cost);

} // namespace

BENCHMARK_MAIN();
