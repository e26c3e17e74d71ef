// Forward+backward timings of the tensor layer at batch 64, the same cases as torch_timing.py
// (run.sh runs both and prints the ratios). One line per case:
// "<case> <median wall ms> <median process CPU ms> <reps>".
//
// Cases: the reduced NAS-Bench-201 network (C = 8, N = 1), the full one (C = 16, N = 5), both of
// the cell
// |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|
// on 32x32x3 input with a cross-entropy loss; and single conv layers (no bias) with a fixed
// upstream gradient: 16->16 3x3 pad 1 on 32x32, 64->64 3x3 pad 1 on 8x8. Inputs require grad,
// so every case computes the input, weight (and BN) gradients.
//
// Usage: tensor_timing --threads T [--reps R] [--cases a,b,...] [--train-steps S]
//   --train-steps S: instead, trains the reduced network for S SGD steps (for peak-RSS checks).
//        tensor_timing --simd
//   prints the SIMD level the kernels run on here ("avx512", "avx2", "baseline": the CPU's best
//   unless NASCENT_SIMD asks for a lower one; see tensor/autograd/simd.hpp).

#include <nascent/core/rng.hpp>
#include <nascent/eval/nb201_network.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/autograd/simd.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/optim.hpp>

#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

namespace t = nascent::tensor;

namespace {

constexpr const char* arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_"
                             "conv_3x3~1|nor_conv_1x1~2|";
constexpr std::size_t batch = 64;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return 1e3 * static_cast<double>(ts.tv_sec) + 1e-6 * static_cast<double>(ts.tv_nsec);
}

struct timing {
    double wall_ms = 0; // median wall time
    double cpu_ms = 0;  // median CPU time of the process (all threads): less disturbed by other
                        // work on a shared machine
};

// Medians of `step` over `reps` runs after two warm-up runs.
timing time_ms(std::size_t reps, const std::function<void()>& step) {
    step();
    step();
    std::vector<double> wall, cpu;
    for (std::size_t r = 0; r < reps; ++r) {
        const double c0 = cpu_ms();
        const auto t0 = std::chrono::steady_clock::now();
        step();
        wall.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        cpu.push_back(cpu_ms() - c0);
    }
    return {median(std::move(wall)), median(std::move(cpu))};
}

std::shared_ptr<t::nn::sequential> network(std::size_t channels, std::size_t cells,
                                           nascent::rng& gen) {
    const nascent::nb201::space space;
    return nascent::eval::make_nb201_network(space.parse(arch),
                                             {.channels = channels, .cells_per_stage = cells}, gen);
}

timing time_network(std::size_t channels, std::size_t cells, std::size_t reps) {
    nascent::rng gen(0);
    const auto net = network(channels, cells, gen);
    net->train();
    const t::variable x(t::randn({batch, 3, 32, 32}, gen), true);
    std::vector<std::int32_t> labels(batch);
    for (std::size_t i = 0; i < batch; ++i)
        labels[i] = static_cast<std::int32_t>(i % 10);
    return time_ms(reps, [&] {
        net->zero_grad();
        x.zero_grad();
        t::softmax_cross_entropy((*net)(x), labels).backward();
    });
}

timing time_conv(std::size_t c, std::size_t hw, std::size_t reps) {
    nascent::rng gen(0);
    const t::variable x(t::randn({batch, c, hw, hw}, gen), true);
    const t::variable w(t::randn({c, c, 3, 3}, gen), true);
    const auto seed = t::randn({batch, c, hw, hw}, gen);
    return time_ms(reps, [&] {
        x.zero_grad();
        w.zero_grad();
        t::conv2d(x, w, {}, {.padding = 1}).backward(seed);
    });
}

int train(std::size_t steps) {
    nascent::rng gen(0);
    const auto net = network(8, 1, gen);
    t::optim::sgd opt(net->parameters(),
                      {.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true});
    net->train();
    std::vector<std::int32_t> labels(batch);
    float first = 0, last = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t s = 0; s < steps; ++s) {
        const t::variable x(t::randn({batch, 3, 32, 32}, gen));
        for (auto& l : labels)
            l = static_cast<std::int32_t>(gen() % 10);
        opt.zero_grad();
        const auto loss = t::softmax_cross_entropy((*net)(x), labels);
        loss.backward();
        opt.step();
        (s == 0 ? first : last) = loss.item();
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("trained %zu steps in %.2f s (%.1f ms per step), loss %.4f -> %.4f\n", steps, secs,
                1e3 * secs / static_cast<double>(steps), first, last);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::size_t threads = 1;
    std::size_t reps = 15;
    std::size_t train_steps = 0;
    std::string cases = "conv16_32,conv64_8,nb201_c8_n1,nb201_c16_n5";
    if (argc == 2 && std::string(argv[1]) == "--simd") {
        std::printf("%s\n", std::string(t::to_string(t::simd())).c_str());
        return 0;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const std::string v = argv[i + 1];
        if (a == "--threads")
            threads = std::stoul(v);
        else if (a == "--reps")
            reps = std::stoul(v);
        else if (a == "--cases")
            cases = v;
        else if (a == "--train-steps")
            train_steps = std::stoul(v);
        else {
            std::fprintf(stderr, "tensor_timing: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    const tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    if (train_steps > 0)
        return train(train_steps);
    const auto has = [&](const std::string& name) {
        return ("," + cases + ",").find("," + name + ",") != std::string::npos;
    };
    // The full network is ~10x the work of the others: fewer repetitions.
    const std::size_t big_reps = std::max<std::size_t>(3, reps / 3);
    const auto report = [](const char* name, timing t, std::size_t n) {
        std::printf("%s %.4f %.4f %zu\n", name, t.wall_ms, t.cpu_ms, n);
        std::fflush(stdout);
    };
    if (has("conv16_32"))
        report("conv16_32", time_conv(16, 32, reps), reps);
    if (has("conv64_8"))
        report("conv64_8", time_conv(64, 8, reps), reps);
    if (has("nb201_c8_n1"))
        report("nb201_c8_n1", time_network(8, 1, reps), reps);
    if (has("nb201_c16_n5"))
        report("nb201_c16_n5", time_network(16, 5, big_reps), big_reps);
    return 0;
}
