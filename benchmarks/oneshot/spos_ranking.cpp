// SPOS' ranking quality: trains the reduced NB201 supernet by uniform single-path sampling on
// Fashion-MNIST, scores N distinct random cells with inherited weights (supernet_evaluator, BN
// recalibrated on k batches), and prints Kendall tau and Spearman rho between those scores and
// the NB201 table's CIFAR-10 test accuracy (200 epochs) of the same cells, plus one JSON line
// per cell to --out.
//   spos_ranking --data DIR [--epochs 10] [--train-subset 10000] [--eval-subset 1000]
//                [--cells 50] [--recalibrate 4] [--seed 0] [--threads 2] [--out FILE]
//                [--fmnist DIR]

#include <nascent/bench/nb201_table.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/eval/oneshot/search.hpp>
#include <nascent/eval/oneshot/spos.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/eval/oneshot/supernet_evaluator.hpp>
#include <nascent/io/data_dir.hpp>

#include <tbb/task_arena.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace os = nascent::eval::oneshot;

int main(int argc, char** argv) {
    std::string data_dir = "../shared/data";
    std::string fmnist(nascent::tensor::fashion_mnist_default_dir);
    std::string out_path;
    std::size_t epochs = 10, train_subset = 10000, eval_subset = 1000, cells = 50, recal = 4;
    std::size_t threads = 2;
    std::uint64_t seed = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const std::string v = argv[i + 1];
        if (a == "--data")
            data_dir = v;
        else if (a == "--fmnist")
            fmnist = v;
        else if (a == "--out")
            out_path = v;
        else if (a == "--epochs")
            epochs = std::stoul(v);
        else if (a == "--train-subset")
            train_subset = std::stoul(v);
        else if (a == "--eval-subset")
            eval_subset = std::stoul(v);
        else if (a == "--cells")
            cells = std::stoul(v);
        else if (a == "--recalibrate")
            recal = std::stoul(v);
        else if (a == "--threads")
            threads = std::stoul(v);
        else if (a == "--seed")
            seed = std::stoull(v);
        else {
            std::fprintf(stderr, "spos_ranking: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    const auto table = nascent::bench::nb201_table::load(
        nascent::io::resolve_data_dir(data_dir, "../shared/data"));
    auto data = std::make_shared<const os::search_data>(os::load_fashion_mnist(
        {.dir = fmnist, .train_subset = train_subset, .eval_subset = eval_subset}));
    tbb::task_arena arena(static_cast<int>(threads));
    arena.execute([&] {
        nascent::rng gen(nascent::derive_seed(seed, 0, 1));
        auto net = os::make_nb201_supernet({}, gen);
        os::spos method;
        const auto start = std::chrono::steady_clock::now();
        const auto trained = os::run_oneshot(*net, *data, method,
                                             {.epochs = epochs, .batch_size = 64, .seed = seed});
        const double train_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("SPOS: %zu epochs on %zu images, %.0f s, last train loss %.3f, status %s\n",
                    epochs, data->train.size(), train_s, trained.trace.back().train_loss,
                    std::string(nascent::to_string(trained.status)).c_str());
        os::supernet_evaluator score{net, data, {.recalibration_batches = recal}};
        nascent::rng pick(nascent::derive_seed(seed, 1, 2));
        std::set<std::uint64_t> seen;
        std::vector<double> supernet, c10, c10_valid12;
        std::ofstream out;
        if (!out_path.empty())
            out.open(out_path);
        const auto score_start = std::chrono::steady_clock::now();
        while (supernet.size() < cells) {
            const auto cell = nascent::nb201::space::sample(pick);
            if (!seen.insert(nascent::nb201::space::id(cell)).second)
                continue;
            const auto e = score.evaluate(cell);
            const auto index = table.index_of(cell);
            const auto t = table.accuracy(index, nascent::bench::nb201_dataset::cifar10,
                                          nascent::bench::nb201_metric::test_200);
            const auto v = table.accuracy(index, nascent::bench::nb201_dataset::cifar10,
                                          nascent::bench::nb201_metric::valid_12);
            supernet.push_back(e.reward);
            c10.push_back(t.value_or(0.0));
            c10_valid12.push_back(v.value_or(0.0));
            if (out) {
                out << "{\"arch\": \"" << nascent::nb201::space::to_string(cell)
                    << "\", \"index\": " << index << ", \"supernet_acc\": " << e.reward
                    << ", \"cifar10_test_acc@200\": " << c10.back() << "}\n";
            }
        }
        const double score_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - score_start).count();
        std::printf("scored %zu cells in %.0f s (recalibration %zu batches, %zu images)\n", cells,
                    score_s, recal, data->eval.size());
        std::printf("vs NB201 CIFAR-10 test_acc@200: Kendall tau %.3f, Spearman rho %.3f\n",
                    nascent::kendall_tau(supernet, c10), nascent::spearman(supernet, c10));
        std::printf("vs NB201 CIFAR-10 valid_acc@12: Kendall tau %.3f, Spearman rho %.3f\n",
                    nascent::kendall_tau(supernet, c10_valid12),
                    nascent::spearman(supernet, c10_valid12));
    });
    return 0;
}
