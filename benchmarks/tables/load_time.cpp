// Load time of every benchmark table (median of --reps loads, in ms), one line per table:
// "<table> <median ms>". load_checks.sh builds it against two versions of include/ and prints
// the ratios, so the cost of the range checks is measured in one run.
#include <nascent/bench/nb101_table.hpp>
#include <nascent/bench/nb201_latency.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/bench/nb201_zc.hpp>
#include <nascent/io/data_dir.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {
template <class F>
double median_ms(int reps, F&& load) {
    std::vector<double> ms;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        load();
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    return ms[ms.size() / 2];
}
} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: load_time DATA_DIR [REPS]\n");
        return 2;
    }
    const nascent::io::data_dir dir{argv[1], "argument"};
    const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 11;
    std::printf("nb201 %.3f\n",
                median_ms(reps, [&] { (void)nascent::bench::nb201_table::load(dir); }));
    std::printf("nb201_latency %.3f\n",
                median_ms(reps, [&] { (void)nascent::bench::nb201_latency_table::load(dir); }));
    std::printf("nb101_1k %.3f\n",
                median_ms(reps, [&] { (void)nascent::bench::nb101_table::load(dir); }));
    std::printf("nb101_20k %.3f\n", median_ms(reps, [&] {
                    (void)nascent::bench::nb101_table::load_accuracy_only(dir);
                }));
    std::printf("zc_cifar10 %.3f\n", median_ms(reps, [&] {
                    (void)nascent::bench::nb201_zc_scores::load(dir, "cifar10", "synflow");
                }));
}
