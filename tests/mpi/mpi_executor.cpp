// The MPI executor under `mpirun -np 3` (ctest registers it so; tests/integration/mpi_resume.sh
// drives the killed-worker case). Every rank runs this program: rank 0 searches and checks, the
// others serve one evaluator per case. Each case runs the same search over the MPI executor and
// over the sequential executor and requires identical results.
//   mpi_executor_tests DATA_DIR                                   the cases below
//   mpi_executor_tests DATA_DIR --checkpoint FILE --kill-at N      a worker dies at evaluation N
//   mpi_executor_tests DATA_DIR --checkpoint FILE --kill-at N --resume   resumes; checks the cost
//   (under -np 1: checks that the remote evaluator refuses to be built without workers)

#include <nascent/bench/nb201_table.hpp>
#include <nascent/eval/nb201_network.hpp>
#include <nascent/eval/training_evaluator.hpp>
#include <nascent/exec/checkpoint.hpp>
#include <nascent/exec/guarded.hpp>
#include <nascent/exec/mpi_executor.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using nascent::nb201::cell;
using result_type = nascent::run_result<cell>;

int failures = 0;
void check(bool ok, const std::string& what) {
    std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
    std::fflush(stdout);
    failures += ok ? 0 : 1;
}

bool same(const result_type& a, const result_type& b) {
    return a.best == b.best && a.best_reward == b.best_reward && a.queries == b.queries &&
           a.repeats == b.repeats && a.failures == b.failures && a.trajectory == b.trajectory;
}

/// The table, `delay` per evaluation; throws on cells whose hash is divisible by `throw_every`;
/// on the cell `slow`, sleeps `slow_for` then answers from the table, or fails at once when
/// `slow_fails` (what a timeout books: the timeout case); raises SIGKILL on `kill` (the
/// killed-worker case). Each rank builds the same one.
struct test_evaluator {
    static constexpr auto thread_safety = nascent::thread_safety::constant;
    const nascent::bench::nb201_evaluator* table;
    std::chrono::microseconds delay{0};
    std::uint64_t throw_every = 0;
    std::string slow{};
    std::chrono::milliseconds slow_for{0};
    bool slow_fails = false;
    std::string kill{};

    [[nodiscard]] nascent::evaluation evaluate(const cell& c) const {
        const nascent::nb201::space space;
        const auto text = space.to_string(c);
        if (!kill.empty() && text == kill)
            std::raise(SIGKILL);
        std::this_thread::sleep_for(delay);
        if (throw_every != 0 && space.hash(c) % throw_every == 0)
            throw std::runtime_error("a cell this evaluator refuses");
        if (!slow.empty() && text == slow) {
            if (slow_fails)
                return nascent::evaluation::failure("timed out");
            std::this_thread::sleep_for(slow_for);
        }
        return table->evaluate(c);
    }
};

/// The order the loop booked its evaluations in (to pick the cells of the timeout and kill cases).
struct booked {
    std::vector<std::string>* texts;
    std::size_t* live = nullptr;
    void on_evaluation(const nascent::evaluation_event<cell>& e) const {
        if (texts != nullptr)
            texts->push_back(std::string(nascent::nb201::space{}.to_string(e.arch)));
        if (live != nullptr && !e.replayed)
            ++*live;
    }
};

static_assert(nascent::Executor<nascent::exec::mpi_executor>);
static_assert(
    nascent::MultiFidelityEvaluator<
        nascent::exec::mpi_remote_evaluator<nascent::nb201::space, nascent::bench::nb201_evaluator>,
        cell>); // the remote evaluator offers fidelities where the local one does

const nascent::nb201::space space;
const nascent::strategy::regularized_evolution rea{
    space, nascent::ops::point_mutation{}, {.population = 8, .sample = 3}};

/// One case: workers serve `ev`; rank 0 runs `body(remote)`, then releases them.
template <class E, class Body>
void on_workers(const nascent::exec::mpi_executor& mpi, const E& ev, Body&& body,
                nascent::exec::mpi_remote_options o = {}) {
    if (!mpi.root()) {
        mpi.serve(space, ev);
        return;
    }
    const nascent::exec::mpi_remote_evaluator remote{mpi, space, ev, o};
    body(remote);
    mpi.release();
}

int cases(const nascent::exec::mpi_executor& mpi, const nascent::bench::nb201_evaluator& table) {
    const nascent::run_options base{.budget = 40, .seed = 7, .in_flight = 2};

    // The table with a 2 ms delay: k = 2 (one per worker) and k = 3 (more than the workers), and
    // a protocol of 3 runs spread over the workers.
    const test_evaluator delayed{&table, std::chrono::microseconds(2000)};
    on_workers(mpi, delayed, [&](const auto& remote) {
        for (const std::size_t k : {1, 2, 3}) {
            auto o = base;
            o.in_flight = k;
            const auto reference = nascent::run(rea, table, o);
            const auto t0 = std::chrono::steady_clock::now();
            const auto r = nascent::run(rea, remote, o, mpi);
            const double s =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            check(same(r, reference) && r.queries == 40,
                  "table, 2 ms delay, k = " + std::to_string(k) +
                      ": equals the sequential executor (" + std::to_string(s) + " s)");
        }
        auto p = base;
        p.runs = 3;
        p.in_flight = 1;
        const auto reference = nascent::run_protocol(space, rea, table, p);
        const auto runs = nascent::run_protocol(space, rea, remote, p, mpi);
        bool all = runs.size() == 3;
        for (std::size_t i = 0; i < runs.size() && all; ++i)
            all = same(runs[i], reference[i]);
        check(all, "protocol of 3 runs over the workers: equals the sequential one");
    });

    // A throwing evaluator: failed evaluations, the run goes on; as guarded{} sequentially.
    const test_evaluator throwing{&table, {}, 5};
    on_workers(mpi, throwing, [&](const auto& remote) {
        const auto reference = nascent::run(rea, nascent::exec::guarded{throwing}, base);
        const auto r = nascent::run(rea, remote, base, mpi);
        check(same(r, reference) && r.failures > 0 && r.queries == 40,
              "throwing evaluator: " + std::to_string(r.failures) +
                  " failed evaluations, equals guarded{} on the sequential executor");
    });

    // A timeout: the 6th cell evaluated sleeps 3 s against a timeout of 1 s, then answers
    // (ok): only a timeout that fires makes that evaluation failed as in the reference, where it
    // fails at once. Every rank finds the cell by running the reference search itself.
    std::vector<std::string> order;
    (void)nascent::run(rea, table, base, booked{&order});
    test_evaluator sleepy{&table};
    sleepy.slow = order.at(5);
    sleepy.slow_for = std::chrono::milliseconds(3000);
    on_workers(mpi, sleepy,
               [&](const auto& remote) {
                   auto quick = sleepy;
                   quick.slow_fails = true;
                   const auto reference = nascent::run(rea, quick, base);
                   const auto r = nascent::run(rea, remote, base, mpi);
                   check(same(r, reference) && r.failures == 1,
                         "timeout 1 s: the slow cell fails, the run goes on, and equals the "
                         "sequential executor booking that cell as failed");
               },
               {.timeout = 1.0});

    // The training evaluator on a tiny subset (64 images, 1 epoch).
    const auto fmnist =
        nascent::eval::load_fashion_mnist(nascent::tensor::fashion_mnist_default_dir);
    const nascent::eval::nb201_factory factory{
        .network = {.channels = 4, .cells_per_stage = 1, .input_channels = 1}};
    const nascent::eval::training_evaluator train{
        space, factory, fmnist,
        nascent::eval::training_options{.batch_size = 32,
                                        .train_subset = 64,
                                        .eval_subset = 32,
                                        .fidelities = {1},
                                        .threads = 1}};
    on_workers(mpi, train, [&](const auto& remote) {
        const nascent::run_options o{.budget = 4, .seed = 1, .report = "test_acc", .in_flight = 2};
        const auto reference = nascent::run(rea, train, o);
        const auto r = nascent::run(rea, remote, o, mpi);
        check(same(r, reference) && r.queries == 4 && r.failures == 0,
              "training evaluator, 4 evaluations, k = 2: equals the sequential executor");
    });
    return failures == 0 ? 0 : 1;
}

/// The killed-worker case. The search: budget 30, k = 2, checkpointed after every batch. Without
/// --resume, the worker that gets evaluation `kill_at` dies (Open MPI then aborts the job). With
/// it, the run resumes from the checkpoint; rank 0 checks what the kill cost.
int kill_case(const nascent::exec::mpi_executor& mpi, const nascent::bench::nb201_evaluator& table,
              const std::filesystem::path& file, std::size_t kill_at, bool resume) {
    const nascent::run_options base{.budget = 30, .seed = 11, .in_flight = 2};
    std::vector<std::string> order;
    const auto reference = nascent::run(rea, table, base, booked{&order});
    test_evaluator ev{&table, std::chrono::microseconds(2000)};
    if (!resume)
        ev.kill = order.at(kill_at);
    if (!mpi.root()) {
        mpi.serve(space, ev);
        return 0;
    }
    const nlohmann::json problem{{"test", "mpi_kill"}, {"seed", 11}, {"budget", 30}};
    const nascent::exec::mpi_remote_evaluator remote{mpi, space, ev};
    if (!resume) {
        nascent::exec::checkpoint_writer writer{file, problem, space, {.runs = 1, .every = 1}};
        (void)nascent::run(rea, remote, base, mpi, writer);
        check(false, "the job should have been aborted when the worker died");
        return 1;
    }
    const auto log = nascent::exec::load_checkpoint(file, problem);
    const auto kept = log.evaluations();
    auto o = base;
    o.replay = log.replay();
    nascent::exec::checkpoint_writer writer{file, problem, space, {.runs = 1, .every = 1}, &log};
    std::size_t live = 0;
    const auto r = nascent::run(rea, remote, o, mpi, writer, booked{nullptr, &live});
    std::printf("killed at evaluation %zu (k = 2): the checkpoint kept %zu of %zu; the resumed "
                "run evaluated %zu (the batch in flight again, then the rest)\n",
                kill_at, kept, order.size(), live);
    check(kept <= kill_at && kill_at - kept <= base.in_flight - 1,
          "the kill lost at most the evaluations in flight");
    check(live == order.size() - kept, "the resumed run evaluated only what the checkpoint lacked");
    check(same(r, reference), "the resumed run equals the uninterrupted one");
    return failures == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    nascent::exec::mpi_executor mpi;
    try {
        const std::string data_arg = argc > 1 ? argv[1] : "";
        std::filesystem::path file;
        std::size_t kill_at = 0;
        bool resume = false;
        for (int i = 2; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--checkpoint" && i + 1 < argc)
                file = argv[++i];
            else if (a == "--kill-at" && i + 1 < argc)
                kill_at = std::stoul(argv[++i]);
            else if (a == "--resume")
                resume = true;
            else
                throw std::invalid_argument("unknown argument '" + a + "'");
        }
        const auto table = nascent::bench::nb201_table::load(
            nascent::io::resolve_data_dir(data_arg, "../shared/data"));
        const auto ev = table.evaluator({.dataset = "cifar10"});
        if (mpi.root())
            std::printf("mpi_executor: %d ranks (%zu workers)\n", mpi.size(), mpi.workers());
        if (mpi.size() == 1) { // mpi_resume.sh checks this too: no worker is an error, said so
            try {
                const nascent::exec::mpi_remote_evaluator remote{mpi, space, ev};
                check(false, "-np 1: the remote evaluator should refuse to be built");
            } catch (const std::runtime_error& e) {
                check(std::strstr(e.what(), "no worker ranks") != nullptr,
                      std::string("-np 1: ") + e.what());
            }
            return failures == 0 ? 0 : 1;
        }
        if (mpi.size() < 3)
            throw std::invalid_argument("run under mpirun -np 3 (or more)");
        if (!file.empty())
            return kill_case(mpi, ev, file, kill_at, resume);
        return cases(mpi, ev);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rank %d: %s\n", mpi.rank(), e.what());
        MPI_Abort(MPI_COMM_WORLD, 2);
        return 2;
    }
}
