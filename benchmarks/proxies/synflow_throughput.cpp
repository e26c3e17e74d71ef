// Throughput of the data-free proxies (synflow, l2_norm, params, flops) on the full-size
// NAS-Bench-201 network: uniformly drawn cells, one network per TBB task.
//
//   synflow_throughput [--threads T] [--cells N] [--seed S]

#include <nascent/eval/proxies.hpp>
#include <nascent/exec/tbb_executor.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    try {
        std::size_t threads = 2;
        std::size_t cells = 400;
        std::uint64_t seed = 0;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (i + 1 >= argc)
                throw std::invalid_argument(a + " needs a value");
            const std::string v = argv[++i];
            if (a == "--threads")
                threads = std::stoul(v);
            else if (a == "--cells")
                cells = std::stoul(v);
            else if (a == "--seed")
                seed = std::stoull(v);
            else
                throw std::invalid_argument("unknown argument '" + a + "'");
        }
        nascent::rng gen(seed);
        std::vector<nascent::nb201::cell> sample;
        for (std::size_t i = 0; i < cells; ++i)
            sample.push_back(nascent::nb201::space{}.sample(gen));
        std::vector<double> scores(cells);
        const nascent::exec::tbb_executor executor(threads);
        const auto start = std::chrono::steady_clock::now();
        const std::clock_t cpu_start = std::clock(); // process CPU time: the machine is shared
        executor.for_each(cells, [&](std::size_t i) {
            scores[i] =
                nascent::eval::nb201_proxies(sample[i], {.seed = seed, .data_dependent = false})
                    .synflow;
        });
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
        std::printf("synflow (+ l2_norm, params, flops), full NB201 network: %zu cells on %zu "
                    "threads in %.2f s: "
                    "%.1f cells/s; %.2f CPU-s (%.2f cores busy), %.1f cells per CPU-second\n",
                    cells, threads, seconds, static_cast<double>(cells) / seconds, cpu,
                    cpu / seconds, static_cast<double>(cells) / cpu);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "synflow_throughput: %s\n", e.what());
        return 2;
    }
}
