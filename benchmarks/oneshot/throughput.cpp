// Supernet training throughput of the reduced NB201 supernet (C = 8, one cell per stage, 1 x 32 x
// 32 inputs, 10 classes): images/s of weight-training steps (forward, cross-entropy, backward,
// SGD with momentum 0.9 and weight decay 3e-4) at batch 64 in
//   weighted  every op of every edge, softmax(alpha) weights (alpha receives its gradient too);
//   single    one path per step, the cell of id (step * 4001) mod 15625 (base 5, edge 0 lowest:
//             the same sequence torch_supernet.py runs);
// then the peak RSS (VmHWM). torch_supernet.py is the same in PyTorch.
//   throughput --mode weighted|single [--threads 1] [--steps 30] [--warmup 3] [--batch 64]

#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/optim.hpp>

#include <tbb/task_arena.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace os = nascent::eval::oneshot;
namespace t = nascent::tensor;

namespace {
long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stol(line.substr(6));
    }
    return -1;
}

nascent::nb201::cell cell_of_step(std::size_t step) {
    std::uint64_t id = (step * 4001) % nascent::nb201::num_cells;
    nascent::nb201::cell c{};
    for (std::size_t e = 0; e < nascent::nb201::num_edges; ++e) {
        c[e] = static_cast<std::uint8_t>(id % 5);
        id /= 5;
    }
    return c;
}
} // namespace

int main(int argc, char** argv) {
    std::string mode = "weighted";
    std::size_t threads = 1, steps = 30, warmup = 3, batch = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const std::string v = argv[i + 1];
        if (a == "--mode")
            mode = v;
        else if (a == "--threads")
            threads = std::stoul(v);
        else if (a == "--steps")
            steps = std::stoul(v);
        else if (a == "--warmup")
            warmup = std::stoul(v);
        else if (a == "--batch")
            batch = std::stoul(v);
        else {
            std::fprintf(stderr, "throughput: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (mode != "weighted" && mode != "single") {
        std::fprintf(stderr, "throughput: --mode weighted or single\n");
        return 2;
    }
    tbb::task_arena arena(static_cast<int>(threads));
    arena.execute([&] {
        nascent::rng gen(0);
        auto net = os::make_nb201_supernet({}, gen);
        const t::ndarray images = t::randn({batch, 1, 32, 32}, gen);
        std::vector<std::int32_t> labels(batch);
        for (auto& l : labels)
            l = static_cast<std::int32_t>(nascent::uniform_index(gen, 10));
        t::optim::sgd opt(net->parameters(), {.lr = 0.025, .momentum = 0.9, .weight_decay = 3e-4});
        const auto step = [&](std::size_t i) {
            if (mode == "weighted")
                net->set_weights(os::softmax_weights(*net));
            else
                net->set_genotype(cell_of_step(i));
            opt.zero_grad();
            for (const auto& a : net->alpha())
                a.zero_grad();
            const auto loss = os::batch_loss(*net, images, labels);
            loss.backward();
            opt.step();
            return loss.item();
        };
        for (std::size_t i = 0; i < warmup; ++i)
            (void)step(i);
        const auto start = std::chrono::steady_clock::now();
        double last = 0;
        for (std::size_t i = 0; i < steps; ++i)
            last = step(warmup + i);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("nascent %s threads %zu batch %zu steps %zu: %.1f images/s, peak RSS %.1f MiB "
                    "(last loss %.3f)\n",
                    mode.c_str(), threads, batch, steps, static_cast<double>(steps * batch) / s,
                    static_cast<double>(peak_rss_kib()) / 1024.0, last);
    });
    return 0;
}
