// The MPI figures of docs/scaling.md (run by mpi_scaling.sh, which starts it under mpirun):
//  * overhead (-np 3): REA on the NAS-Bench-201 table (a lookup of tens of nanoseconds: a trivial
//    evaluator), k = 2 in flight, on the sequential executor, tbb_executor(2) and the MPI executor
//    (2 workers); evaluations/s and microseconds per evaluation of each, and a check that the
//    three runs agree;
//  * curve (-np 2, 3, 4 = 1, 2, 3 workers): the same search with an evaluator that sleeps
//    --sleep-ms per evaluation, k = workers; wall time and evaluations/s;
//  * simulate (-np 1, no workers needed): the asynchronous simulator (exec/async_simulator.hpp)
//    with 1..64 workers, durations proportional to each cell's multiply-accumulates (30-150 s,
//    like short training runs), REA, a virtual time budget; evaluations completed and speed-up
//    against one worker; beside it, what synchronous batches of k = workers would take on the
//    same durations (each batch lasts its slowest evaluation).
// Usage: mpi_scaling DATA_DIR --part overhead|curve|simulate [--budget N] [--sleep-ms MS]

#include <nascent/bench/nb201_table.hpp>
#include <nascent/exec/async_simulator.hpp>
#include <nascent/exec/mpi_executor.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/nb201_cost.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using nascent::nb201::cell;
using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

const nascent::nb201::space space;
const nascent::strategy::regularized_evolution rea{
    space, nascent::ops::point_mutation{}, {.population = 20, .sample = 5}};

struct sleeping {
    static constexpr auto thread_safety = nascent::thread_safety::constant;
    const nascent::bench::nb201_evaluator* table;
    std::chrono::milliseconds sleep{0};
    [[nodiscard]] nascent::evaluation evaluate(const cell& c) const {
        std::this_thread::sleep_for(sleep);
        return table->evaluate(c);
    }
};

template <class E, class Body>
void on_workers(const nascent::exec::mpi_executor& mpi, const E& ev, Body&& body) {
    if (!mpi.root()) {
        mpi.serve(space, ev);
        return;
    }
    const nascent::exec::mpi_remote_evaluator remote{mpi, space, ev};
    body(remote);
    mpi.release();
}

void overhead(const nascent::exec::mpi_executor& mpi, const nascent::bench::nb201_evaluator& ev,
              std::size_t budget) {
    on_workers(mpi, ev, [&](const auto& remote) {
        const nascent::run_options o{.budget = budget, .seed = 5, .in_flight = 2};
        const nascent::exec::tbb_executor tbb(2);
        auto t = clock_type::now();
        const auto a = nascent::run(rea, ev, o);
        const double ts = since(t);
        t = clock_type::now();
        const auto b = nascent::run(rea, ev, o, tbb);
        const double tt = since(t);
        t = clock_type::now();
        const auto c = nascent::run(rea, remote, o, mpi);
        const double tm = since(t);
        auto o1 = o;
        o1.in_flight = 1;
        t = clock_type::now();
        const auto d = nascent::run(rea, remote, o1, mpi);
        const double t1 = since(t);
        const auto line = [&](const char* name, double s, std::size_t n) {
            std::printf("%-34s %9.0f evaluations/s  %8.2f us/evaluation\n", name,
                        static_cast<double>(n) / s, s / static_cast<double>(n) * 1e6);
        };
        std::printf("trivial evaluator (table lookup), REA, %zu evaluations, k = 2:\n", a.queries);
        line("sequential executor", ts, a.queries);
        line("tbb_executor(2)", tt, b.queries);
        line("mpi_executor, -np 3 (2 workers)", tm, c.queries);
        line("mpi_executor, k = 1 (round trip)", t1, d.queries);
        std::printf("MPI / TBB time per evaluation: %.1fx; results identical: %s\n", tm / tt,
                    a.trajectory == b.trajectory && b.trajectory == c.trajectory ? "yes" : "NO");
    });
}

void curve(const nascent::exec::mpi_executor& mpi, const nascent::bench::nb201_evaluator& ev,
           std::size_t budget, int sleep_ms) {
    const sleeping slow{&ev, std::chrono::milliseconds(sleep_ms)};
    on_workers(mpi, slow, [&](const auto& remote) {
        const nascent::run_options o{.budget = budget, .seed = 5, .in_flight = mpi.workers()};
        const auto t = clock_type::now();
        const auto r = nascent::run(rea, remote, o, mpi);
        const double s = since(t);
        std::printf("workers %zu (k = %zu): %zu evaluations of %d ms in %.3f s: %.1f evaluations/s "
                    "(ideal %.1f)\n",
                    mpi.workers(), o.in_flight, r.queries, sleep_ms, s,
                    static_cast<double>(r.queries) / s,
                    1000.0 * static_cast<double>(mpi.workers()) / sleep_ms);
    });
}

void simulate(const nascent::bench::nb201_evaluator& ev) {
    // 30 s + 120 s x (MACs / the largest cell's): all-3x3-convolution cells take 150 s.
    const cell big = space.parse(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        "nor_conv_3x3~2|");
    const double max_flops = nascent::nb201::network_cost(big).flops;
    auto duration = [&](const cell& c, double, const nascent::evaluation&) {
        return 30.0 + 120.0 * nascent::nb201::network_cost(c).flops / max_flops;
    };
    const double hours = 2; // 64 workers then evaluate ~1/3 of the 15,625 cells
    std::printf("asynchronous simulator, REA, %g virtual hours, evaluations of 30-150 s "
                "(by MACs), mean of 5 runs:\n",
                hours);
    std::printf("%8s %14s %9s %12s %16s\n", "workers", "evaluations", "speed-up", "efficiency",
                "sync batches");
    double one = 0;
    for (const std::size_t w : {1, 2, 4, 8, 16, 32, 64}) {
        const auto runs =
            nascent::run_async(space, rea, ev, duration,
                               {.workers = w, .time_budget = hours * 3600, .runs = 5, .seed = 1});
        double n = 0;
        for (const auto& r : runs)
            n += static_cast<double>(r.queries) / static_cast<double>(runs.size());
        if (w == 1)
            one = n;
        // Synchronous batches of k = w on the same durations: the batches of a search with
        // in_flight = w, each as long as its slowest evaluation, until the same virtual time.
        struct batch_clock {
            const decltype(duration)* d;
            double now = 0, longest = 0;
            std::size_t done = 0, in_batch = 0;
            double limit;
            void on_evaluation(const nascent::evaluation_event<cell>& e) {
                longest = std::max(longest, (*d)(e.arch, 0, e.result));
                ++in_batch;
            }
            void on_checkpoint(const nascent::checkpoint_event&) {
                if (now + longest <= limit)
                    done += in_batch;
                now += longest;
                longest = 0;
                in_batch = 0;
            }
        };
        double sync = 0;
        for (std::size_t run = 0; run < 5; ++run) {
            batch_clock clock{&duration, 0, 0, 0, 0, hours * 3600};
            const auto budget = static_cast<std::size_t>(n * 1.5) + 2 * w;
            (void)nascent::run_search(space, rea, ev, {.budget = budget, .seed = 1, .in_flight = w},
                                      run, clock);
            sync += static_cast<double>(clock.done) / 5;
        }
        std::printf("%8zu %14.1f %9.2f %11.0f%% %10.1f (%.2fx)\n", w, n, n / one,
                    100 * n / one / static_cast<double>(w), sync, sync / one);
    }
}

} // namespace

int main(int argc, char** argv) {
    nascent::exec::mpi_executor mpi;
    try {
        if (argc < 2)
            throw std::invalid_argument(
                "usage: mpi_scaling DATA_DIR --part overhead|curve|simulate");
        std::string part = "overhead";
        std::size_t budget = 3000;
        int sleep_ms = 20;
        for (int i = 2; i + 1 < argc; i += 2) {
            const std::string a = argv[i];
            if (a == "--part")
                part = argv[i + 1];
            else if (a == "--budget")
                budget = std::stoul(argv[i + 1]);
            else if (a == "--sleep-ms")
                sleep_ms = std::stoi(argv[i + 1]);
            else
                throw std::invalid_argument("unknown argument '" + a + "'");
        }
        const auto table =
            nascent::bench::nb201_table::load(nascent::io::resolve_data_dir(argv[1], argv[1]));
        const auto ev = table.evaluator({.dataset = "cifar10"});
        if (part == "overhead")
            overhead(mpi, ev, budget);
        else if (part == "curve")
            curve(mpi, ev, budget, sleep_ms);
        else if (part == "simulate" && mpi.root())
            simulate(ev);
        else if (part != "simulate")
            throw std::invalid_argument("unknown part '" + part + "'");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mpi_scaling: rank %d: %s\n", mpi.rank(), e.what());
        MPI_Abort(MPI_COMM_WORLD, 2);
        return 2;
    }
}
