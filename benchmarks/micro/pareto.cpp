// Micro benchmarks of nascent::pareto (one core each), for 10^3, 10^4 and 10^5 points:
//   non-dominated sort into all fronts   target: 10^4 points, 2 objectives, under 5 ms
//   first front only (non_dominated)     used on the 15,625-cell NAS-Bench-201 table per device
//   exact hypervolume                    target: 10^4 points, 3 objectives, under 50 ms
// on three kinds of sets: uniform in the unit cube (many fronts, small first front), points on
// the unit sphere's positive orthant ("front": one front holding every point, the worst case of
// hypervolume and archive updates), and points near it (radius 1 to 1.01: many intertwined fronts).
// Usage: nascent_micro_pareto [--benchmark_filter=...]
#include <nascent/core/rng.hpp>
#include <nascent/pareto/pareto.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace {

namespace pareto = nascent::pareto;

enum class kind { uniform, front, near };

std::vector<double> make_points(std::size_t n, std::size_t m, kind k) {
    nascent::rng gen(n * 31 + m * 7 + static_cast<std::size_t>(k));
    std::vector<double> v(n * m);
    for (std::size_t i = 0; i < n; ++i) {
        double norm = 0.0;
        for (std::size_t j = 0; j < m; ++j) {
            v[i * m + j] = nascent::uniform_real(gen) + (k == kind::uniform ? 0.0 : 1e-3);
            norm += v[i * m + j] * v[i * m + j];
        }
        if (k == kind::uniform)
            continue;
        const double radius = k == kind::front ? 1.0 : 1.0 + 0.01 * nascent::uniform_real(gen);
        for (std::size_t j = 0; j < m; ++j)
            v[i * m + j] *= radius / std::sqrt(norm);
    }
    return v;
}

template <std::size_t M, kind K>
void bm_sort(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto v = make_points(n, M, K);
    const pareto::matrix_view points(v, M);
    std::size_t fronts = 0;
    for (auto _ : state) {
        const auto f = pareto::non_dominated_sort(points);
        fronts = f.count();
        benchmark::DoNotOptimize(f.ranks().data());
    }
    state.counters["fronts"] = static_cast<double>(fronts);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

template <std::size_t M, kind K>
void bm_non_dominated(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto v = make_points(n, M, K);
    const pareto::matrix_view points(v, M);
    std::size_t size = 0;
    for (auto _ : state) {
        const auto front = pareto::non_dominated(points);
        size = front.size();
        benchmark::DoNotOptimize(front.data());
    }
    state.counters["front"] = static_cast<double>(size);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

template <std::size_t M, kind K>
void bm_hypervolume(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto v = make_points(n, M, K);
    const pareto::matrix_view points(v, M);
    const std::vector<double> reference(M, 1.1);
    double volume = 0.0;
    for (auto _ : state) {
        volume = pareto::hypervolume(points, reference);
        benchmark::DoNotOptimize(volume);
    }
    state.counters["volume"] = volume;
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

// A stream of points into an archive (the front of a search, kept up to date).
template <std::size_t M, kind K>
void bm_archive(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto v = make_points(n, M, K);
    std::size_t size = 0;
    for (auto _ : state) {
        pareto::archive<std::size_t> a(pareto::objectives::minimised(M));
        for (std::size_t i = 0; i < n; ++i) {
            (void)a.insert(std::span<const double>(v).subspan(i * M, M), i);
        }
        size = a.size();
        benchmark::DoNotOptimize(size);
    }
    state.counters["front"] = static_cast<double>(size);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

// IGD+ of a found set of 150 points against a reference front of n points.
void bm_igd_plus(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto front = make_points(n, 2, kind::front);
    const auto found = make_points(150, 2, kind::near);
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            pareto::igd_plus(pareto::matrix_view(found, 2), pareto::matrix_view(front, 2)));
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n) * 150);
}

void sizes(benchmark::internal::Benchmark* b) {
    b->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);
}

BENCHMARK(bm_sort<2, kind::uniform>)->Apply(sizes);
BENCHMARK(bm_sort<2, kind::near>)->Apply(sizes);
BENCHMARK(bm_sort<2, kind::front>)->Apply(sizes);
BENCHMARK(bm_sort<3, kind::uniform>)->Apply(sizes);
BENCHMARK(bm_sort<3, kind::near>)->Apply(sizes);
BENCHMARK(bm_sort<3, kind::front>)->Apply(sizes);
// 4 objectives: ENS-BS, quadratic within a front; the front case is its worst.
BENCHMARK(bm_sort<4, kind::uniform>)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_sort<4, kind::near>)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

BENCHMARK(bm_non_dominated<2, kind::uniform>)->Apply(sizes);
BENCHMARK(bm_non_dominated<2, kind::near>)->Apply(sizes);
BENCHMARK(bm_non_dominated<3, kind::uniform>)->Apply(sizes);
BENCHMARK(bm_non_dominated<3, kind::near>)->Apply(sizes);

BENCHMARK(bm_hypervolume<2, kind::uniform>)->Apply(sizes);
BENCHMARK(bm_hypervolume<2, kind::front>)->Apply(sizes);
BENCHMARK(bm_hypervolume<3, kind::uniform>)->Apply(sizes);
BENCHMARK(bm_hypervolume<3, kind::near>)->Apply(sizes);
BENCHMARK(bm_hypervolume<3, kind::front>)->Apply(sizes);
// 4 and 5 objectives: WFG, exponential in the worst case; fronts of a few hundred points.
BENCHMARK(bm_hypervolume<4, kind::front>)
    ->Arg(100)
    ->Arg(300)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_hypervolume<5, kind::front>)->Arg(100)->Arg(300)->Unit(benchmark::kMillisecond);

BENCHMARK(bm_archive<2, kind::near>)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_archive<3, kind::near>)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

BENCHMARK(bm_igd_plus)->Arg(1000)->Arg(15625)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
