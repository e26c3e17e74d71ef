// Figures of docs/scaling.md, measured in one run:
//  * checkpoint: write time and file size of a 10^4-evaluation history (random search on the
//    NAS-Bench-201 table), load time, and the time of a resume that replays all of it;
//  * train: REA, 20 evaluations of the training evaluator on a Fashion-MNIST subset, with
//    k = 1 and one thread, k = 1 and two intra-op threads, k = 2 in flight of one thread each
//    (tbb_executor(2)); wall-time ratios against the first, and a check that the three searches
//    agree (they must: synchronous batches do not depend on the executor; k = 2 differs from
//    k = 1 only in which cells REA proposes).
// Usage: scaling --data DIR [--part checkpoint|train|all] [--evaluations 20] [--fmnist DIR]

#include <nascent/bench/nb201_table.hpp>
#include <nascent/eval/nb201_network.hpp>
#include <nascent/eval/training_evaluator.hpp>
#include <nascent/exec/checkpoint.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

namespace {
using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

struct collect {
    std::vector<nascent::evaluation_record>* out;
    void on_evaluation(const nascent::evaluation_event<nascent::nb201::cell>& e) const {
        out->push_back({e.hash, e.level, e.result});
    }
};

void checkpoint_part(const std::string& data) {
    const auto table = nascent::bench::nb201_table::load(nascent::io::resolve_data_dir(data, data));
    const auto ev = table.evaluator({.dataset = "cifar10"});
    const nascent::nb201::space space;
    const nascent::strategy::random_search rs{space};
    const nascent::run_options o{.budget = 10000, .seed = 1};
    const nlohmann::json problem{{"strategy", "random"}, {"budget", 10000}};
    const auto file = std::filesystem::temp_directory_path() / "nascent_scaling_ckpt.json";
    auto t = clock_type::now();
    const auto plain = nascent::run(rs, ev, o);
    const double run_s = since(t);
    {
        nascent::exec::checkpoint_writer writer{
            file, problem, space, {.runs = 1, .every = 1u << 30}};
        (void)nascent::run(rs, ev, o, writer); // writes once, at the end of the run
        t = clock_type::now();
        const int repeats = 5;
        for (int i = 0; i < repeats; ++i)
            writer.write();
        std::printf("checkpoint of %zu evaluations: write %.1f ms (mean of %d, atomic, fsync), "
                    "%.2f MB\n",
                    plain.queries, since(t) / repeats * 1e3, repeats,
                    static_cast<double>(std::filesystem::file_size(file)) / 1e6);
    }
    t = clock_type::now();
    const auto log = nascent::exec::load_checkpoint(file, problem);
    std::printf("load %.1f ms\n", since(t) * 1e3);
    auto r = o;
    r.replay = log.replay();
    t = clock_type::now();
    const auto resumed = nascent::run(rs, ev, r);
    std::printf("resume replaying all %zu: %.1f ms (the run itself: %.1f ms); identical: %s\n",
                log.evaluations(), since(t) * 1e3, run_s * 1e3,
                resumed.trajectory == plain.trajectory ? "yes" : "NO");
    std::filesystem::remove(file);
}

void train_part(const std::string& fmnist, std::size_t evaluations) {
    const auto data = nascent::eval::load_fashion_mnist(fmnist, 1);
    const nascent::eval::nb201_factory factory{
        .network = {.channels = 8, .cells_per_stage = 1, .input_channels = 1}};
    auto options = [](std::size_t threads) {
        return nascent::eval::training_options{.batch_size = 128,
                                               .train_subset = 2000,
                                               .eval_subset = 500,
                                               .fidelities = {1},
                                               .threads = threads};
    };
    const nascent::nb201::space space;
    const nascent::strategy::regularized_evolution rea{
        space, nascent::ops::point_mutation{}, {.population = 5, .sample = 3}};
    const nascent::eval::training_evaluator one{space, factory, data, options(1)};
    const nascent::eval::training_evaluator two{space, factory, data, options(2)};
    const nascent::run_options k1{.budget = evaluations, .seed = 3, .report = "test_acc"};
    auto k2 = k1;
    k2.in_flight = 2;
    auto t = clock_type::now();
    const auto a = nascent::run(rea, one, k1);
    const double ta = since(t);
    t = clock_type::now();
    const auto b = nascent::run(rea, two, k1);
    const double tb = since(t);
    const nascent::exec::tbb_executor workers(2);
    t = clock_type::now();
    const auto c = nascent::run(rea, one, k2, workers);
    const double tc = since(t);
    const auto k2_seq = nascent::run(rea, one, k2); // the same search without parallelism
    std::printf("REA, %zu training evaluations (NB201 C=8 N=1, 1 epoch, 2000 images):\n",
                evaluations);
    std::printf("  k=1, 1 thread          %7.2f s  1.00x\n", ta);
    std::printf("  k=1, 2 intra-op threads %6.2f s  %.2fx   same search: %s\n", tb, ta / tb,
                a.trajectory == b.trajectory ? "yes" : "NO");
    std::printf("  k=2, 1 thread each      %6.2f s  %.2fx   same as k=2 sequential: %s\n", tc,
                ta / tc, c.trajectory == k2_seq.trajectory ? "yes" : "NO");
}
} // namespace

int main(int argc, char** argv) {
    std::string data = "../shared/data";
    std::string part = "all";
    std::string fmnist(nascent::tensor::fashion_mnist_default_dir);
    std::size_t evaluations = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--data"))
            data = argv[i + 1];
        else if (!std::strcmp(argv[i], "--part"))
            part = argv[i + 1];
        else if (!std::strcmp(argv[i], "--fmnist"))
            fmnist = argv[i + 1];
        else if (!std::strcmp(argv[i], "--evaluations"))
            evaluations = std::stoul(argv[i + 1]);
    }
    if (part == "checkpoint" || part == "all")
        checkpoint_part(data);
    if (part == "train" || part == "all")
        train_part(fmnist, evaluations);
}
