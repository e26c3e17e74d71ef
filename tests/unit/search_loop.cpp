// The one search loop: counters with one meaning in every runner, k evaluations in flight with
// results independent of the executor, callbacks, and exact resume from recorded evaluations.
#include "test_data.hpp"

#include <nascent/exec/async_simulator.hpp>
#include <nascent/exec/callbacks.hpp>
#include <nascent/exec/checkpoint.hpp>
#include <nascent/exec/manifest.hpp>
#include <nascent/exec/multi_objective.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/search_loop.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/io/sha256.hpp>
#include <nascent/pareto/points.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace nb201 = nascent::nb201;
using nascent::evaluation;

namespace {

// ok on most cells, out of the table when edge 0 is skip_connect, failed when it is none.
struct picky {
    evaluation evaluate(const nb201::cell& c) const {
        if (c[0] == nb201::none)
            return evaluation::failure("edge 0 is none");
        if (c[0] == nb201::skip_connect)
            return evaluation::missing();
        nascent::metrics m;
        m.set("a", static_cast<double>(c[1]));
        m.set("b", static_cast<double>(c[2]));
        return evaluation::success(c[1], m);
    }
};

struct always_same {
    using genotype = nb201::cell;
    template <class G>
    nb201::cell ask(G&) {
        return {};
    }
    void tell(const nb201::cell&, const evaluation&) {}
};

// Records every evaluator answer, as a checkpoint does.
struct recorder {
    std::vector<nascent::evaluation_record> records;
    void on_evaluation(const nascent::evaluation_event<nb201::cell>& e) {
        records.push_back({e.hash, e.level, e.result});
    }
};

// Counts the evaluator's calls (shared by copies).
struct counting {
    const nascent::bench::nb201_evaluator* inner;
    std::atomic<int>* calls;
    static constexpr auto thread_safety = nascent::thread_safety::constant;
    evaluation evaluate(const nb201::cell& c) const {
        ++*calls;
        return inner->evaluate(c);
    }
};

// Random search that records how many requests are in flight at each ask.
struct watcher {
    using genotype = nb201::cell;
    nascent::strategy::random_search<nb201::space> inner;
    std::vector<std::size_t>* seen;
    void set_pending(std::span<const nb201::cell> p) { seen->push_back(p.size()); }
    template <class G>
    nb201::cell ask(G& gen) {
        return inner.ask(gen);
    }
    void tell(const nb201::cell&, const evaluation&) {}
};

const nascent::pareto::objectives two{{"a", nascent::pareto::direction::maximise},
                                      {"b", nascent::pareto::direction::maximise}};

} // namespace

TEST_CASE("search loop: the multi-objective runner counts out-of-table answers, free") {
    const nb201::space space;
    const nascent::strategy::random_search rs{space};
    const auto mo = nascent::run_multi_objective_search(
        space, rs, picky{}, two, {.budget = 200, .seed = 1, .reference = {-1, -1}});
    const auto so = nascent::run_search(space, rs, picky{}, {.budget = 200, .seed = 1});
    CHECK(mo.queries == 200);
    CHECK(mo.out_of_table > 20);
    CHECK(mo.failures > 20);
    // The same loop: the same proposals, so the same counters as the single-objective runner.
    CHECK(mo.out_of_table == so.out_of_table);
    CHECK(mo.failures == so.failures);
    CHECK(mo.repeats == so.repeats);
    CHECK(mo.infeasible == mo.failures); // picky's ok answers all have both objectives
    CHECK(mo.hypervolume.size() == 200);
}

TEST_CASE("search loop: `stalled` means the free streak reached its limit, in every runner") {
    const nb201::space space;
    const auto unit = [](const nb201::cell&, double, const evaluation&) { return 1.0; };
    const auto so =
        nascent::run_search(space, always_same{}, picky{}, {.budget = 10, .max_free_streak = 50});
    const auto mo = nascent::run_multi_objective_search(
        space, always_same{}, picky{}, two,
        {.budget = 10, .reference = {-1, -1}, .max_free_streak = 50});
    const auto as =
        nascent::run_async_search(space, always_same{}, picky{}, unit,
                                  {.workers = 2, .time_budget = 100, .max_free_streak = 50});
    CHECK(so.stalled);
    CHECK(mo.stalled);
    CHECK(as.stalled);
    CHECK(so.repeats == 50);
    CHECK(mo.repeats == 50);
    CHECK(as.repeats == 50);
    // A budget spent is not a stall, whichever runner.
    const nascent::strategy::random_search rs{space};
    CHECK_FALSE(nascent::run_search(space, rs, picky{}, {.budget = 20}).stalled);
    CHECK_FALSE(
        nascent::run_async_search(space, rs, picky{}, unit, {.workers = 2, .time_budget = 10})
            .stalled);
}

TEST_CASE("search loop: k in flight gives one result for every executor and thread count") {
    const nb201::space space;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::regularized_evolution rea{space};
    const nascent::strategy::local_search ls{space};
    for (const std::size_t k : {2U, 4U, 7U}) {
        const nascent::run_options o{.budget = 120, .seed = 5, .in_flight = k};
        const auto seq = nascent::run(rea, ev, o);
        const auto one = nascent::run(rea, ev, o, nascent::exec::tbb_executor(1));
        const auto two = nascent::run(rea, ev, o, nascent::exec::tbb_executor(2));
        CHECK(seq.queries == 120);
        CHECK(seq.trajectory == one.trajectory);
        CHECK(seq.trajectory == two.trajectory);
        CHECK(seq.best == two.best);
        CHECK(seq.repeats == two.repeats);
        const auto ls_seq = nascent::run(ls, ev, o);
        const auto ls_two = nascent::run(ls, ev, o, nascent::exec::tbb_executor(2));
        CHECK(ls_seq.queries == 120);
        CHECK(ls_seq.trajectory == ls_two.trajectory);
    }
    // A protocol nests the batches in the runs' executor: still the sequential result.
    const nascent::run_options p{.budget = 60, .runs = 8, .seed = 2, .in_flight = 3};
    const auto a = nascent::run_protocol(space, rea, ev, p);
    const auto b = nascent::run_protocol(space, rea, ev, p, nascent::exec::tbb_executor(2));
    for (std::size_t i = 0; i < a.size(); ++i)
        REQUIRE(a[i].trajectory == b[i].trajectory);
    // k = 1 is the plain loop, and k changes the search (REA breeds from an older population).
    const auto plain = nascent::run(rea, ev, {.budget = 120, .seed = 5});
    CHECK(plain.trajectory ==
          nascent::run(rea, ev, {.budget = 120, .seed = 5, .in_flight = 1}).trajectory);
    CHECK_THROWS_WITH_AS((void)nascent::run(rea, ev, {.in_flight = 0}),
                         "run_options: in_flight must be >= 1, got 0", std::invalid_argument);
}

TEST_CASE("search loop: a PendingAware strategy sees the requests in flight") {
    const nb201::space space;
    static_assert(nascent::PendingAware<watcher, nb201::cell>);
    std::vector<std::size_t> sizes;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    (void)nascent::run_search(
        space, watcher{nascent::strategy::random_search<nb201::space>{space}, &sizes}, ev,
        {.budget = 9, .in_flight = 3});
    REQUIRE(sizes.size() >= 9);
    CHECK(sizes[0] == 0);
    CHECK(sizes[1] == 1);
    CHECK(sizes[2] == 2);
    CHECK(sizes[3] == 0); // a new batch
}

TEST_CASE("search loop: early stop and on_run_done are callbacks") {
    const nb201::space space;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::random_search rs{space};
    struct done_counter {
        int runs = 0;
        void on_run_done(const nascent::run_result<nb201::cell>&) { ++runs; }
    } done;
    const auto r = nascent::run(rs, ev, {.budget = 5000, .seed = 3},
                                nascent::callbacks::early_stop{.patience = 30}, done);
    CHECK(r.stopped);
    CHECK(r.queries < 5000);
    CHECK(done.runs == 1);
    // The last 31 points are one value, and the one before differs: stopped at the first chance.
    const auto& t = r.trajectory;
    REQUIRE(t.size() > 31);
    for (std::size_t i = t.size() - 31; i < t.size(); ++i)
        REQUIRE(t[i][0] == t.back()[0]);
    CHECK(t[t.size() - 32][0] != t.back()[0]);
}

TEST_CASE("search loop: a run resumed from its recorded evaluations is the uninterrupted run") {
    const nb201::space space;
    const auto table_ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::regularized_evolution rea{space};
    const nascent::strategy::local_search ls{space};
    for (const std::size_t k : {1U, 3U}) {
        recorder full;
        const nascent::run_options o{.budget = 100, .seed = 8, .in_flight = k};
        const auto whole = nascent::run(rea, table_ev, o, full);
        REQUIRE(full.records.size() == 100);
        for (const std::size_t cut : {0U, 1U, 37U, 99U, 100U}) {
            const std::vector<std::vector<nascent::evaluation_record>> log{
                {full.records.begin(), full.records.begin() + static_cast<std::ptrdiff_t>(cut)}};
            std::atomic<int> calls{0};
            auto resumed_options = o;
            resumed_options.replay = log;
            recorder again;
            const auto resumed =
                nascent::run(rea, counting{&table_ev, &calls}, resumed_options, again);
            REQUIRE(resumed.trajectory == whole.trajectory);
            REQUIRE(resumed.best == whole.best);
            REQUIRE(resumed.repeats == whole.repeats);
            CHECK(calls.load() == static_cast<int>(100 - cut)); // nothing evaluated twice
            CHECK(again.records.size() == 100);
        }
    }
    // A log of another run (another seed) is refused at its first difference.
    recorder other;
    (void)nascent::run(ls, table_ev, {.budget = 20, .seed = 1}, other);
    const std::vector<std::vector<nascent::evaluation_record>> wrong{other.records};
    CHECK_THROWS_AS((void)nascent::run(ls, table_ev, {.budget = 20, .seed = 2, .replay = wrong}),
                    std::runtime_error);
}

TEST_CASE("sha256: the FIPS 180-4 vectors, across block boundaries, and of a file") {
    using nascent::io::sha256_hex;
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const std::string million(1000000, 'a');
    const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    CHECK(sha256_hex(million) == expected);
    nascent::io::sha256 pieces; // fed in uneven pieces: the same digest
    for (std::size_t at = 0; at < million.size(); at += 997)
        pieces.update(std::string_view(million).substr(at, 997));
    CHECK(pieces.hex() == expected);
    const auto file = std::filesystem::temp_directory_path() / "nascent_sha256_test.txt";
    nascent::io::write_file_atomically(file, million);
    CHECK(nascent::io::sha256_file(file) == expected);
    std::filesystem::remove(file);
    CHECK_THROWS_AS((void)nascent::io::sha256_file(file), std::runtime_error);
}

namespace {
// Interrupts a run after n evaluator answers (as a SIGTERM would).
struct interrupt_after {
    std::size_t n;
    bool on_evaluation(const nascent::evaluation_event<nb201::cell>& e) const {
        return e.index + 1 >= n;
    }
};
std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
} // namespace

TEST_CASE("checkpoint: interrupted, written, loaded and resumed, a protocol ends as if never "
          "stopped") {
    const nb201::space space;
    const auto ev = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    const nascent::strategy::regularized_evolution rea{space};
    const nascent::run_options o{.budget = 60, .runs = 3, .seed = 4, .in_flight = 2};
    const nlohmann::json problem{{"strategy", "rea"}, {"seed", 4}, {"budget", 60}};
    const auto file = std::filesystem::temp_directory_path() / "nascent_checkpoint_test.json";
    const auto whole = nascent::run_protocol(space, rea, ev, o);
    {
        nascent::exec::checkpoint_writer ckpt{file, problem, space, {.runs = 3, .every = 5}};
        (void)nascent::run_protocol(space, rea, ev, o, nascent::exec::sequential_executor{},
                                    interrupt_after{25}, ckpt);
    }
    auto log = nascent::exec::load_checkpoint(file, problem);
    REQUIRE(log.runs() == 3);
    CHECK_FALSE(log.done(0));
    CHECK(log.replay()[0].size() == 26); // the batch in flight at the interrupt completes
    std::atomic<int> calls{0};
    auto resumed_options = o;
    resumed_options.replay = log.replay();
    std::vector<nascent::run_result<nb201::cell>> resumed;
    {
        nascent::exec::checkpoint_writer ckpt{file, problem, space, {.runs = 3, .every = 5}, &log};
        resumed = nascent::run_protocol(space, rea, counting{&ev, &calls}, resumed_options,
                                        nascent::exec::tbb_executor(2), ckpt);
    }
    for (std::size_t i = 0; i < 3; ++i) {
        REQUIRE(resumed[i].trajectory == whole[i].trajectory);
        REQUIRE(resumed[i].best == whole[i].best);
    }
    CHECK(calls.load() == 3 * (60 - 26));
    const auto finished = nascent::exec::load_checkpoint(file, problem);
    CHECK(finished.done(2));
    CHECK(finished.evaluations() == 180);
    // The metrics came back with their names, values and order.
    const auto& first = finished.replay()[1][0].result;
    const auto direct = ev.evaluate(space.at(0)); // any ok answer of the table has its schema
    REQUIRE(first.metrics.size() == direct.metrics.size());
    for (std::size_t m = 0; m < first.metrics.size(); ++m)
        CHECK(first.metrics.name(m) == direct.metrics.name(m));

    // Refusals name what differs and leave the file as it was.
    const auto before = slurp(file);
    auto other = problem;
    other["strategy"] = "rs";
    CHECK_THROWS_WITH_AS(
        (void)nascent::exec::load_checkpoint(file, other),
        doctest::Contains("another problem: strategy is \"rea\" there, \"rs\" here"),
        std::runtime_error);
    nascent::io::write_file_atomically(file, before.substr(0, before.size() / 2));
    CHECK_THROWS_WITH_AS((void)nascent::exec::load_checkpoint(file, problem),
                         doctest::Contains("is not valid JSON (truncated or corrupt)"),
                         std::runtime_error);
    auto bumped = nlohmann::json::parse(before);
    bumped["version"] = 99;
    nascent::io::write_file_atomically(file, bumped.dump());
    CHECK_THROWS_WITH_AS((void)nascent::exec::load_checkpoint(file, problem),
                         doctest::Contains("has format version 99; this build reads version 1"),
                         std::runtime_error);
    std::filesystem::remove(file);
}

TEST_CASE("manifest: data files by SHA-256, seed, options, threads") {
    const auto file = std::filesystem::temp_directory_path() / "nascent_manifest_test.csv";
    nascent::io::write_file_atomically(file, "abc");
    const auto m = nascent::exec::make_manifest(
        {.data_files = {file}, .seed = 7, .options = {{"budget", 150}}, .threads = 2});
    CHECK(m.at("data").at(0).at("sha256") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(m.at("data").at(0).at("bytes") == 3);
    CHECK(m.at("seed") == 7);
    CHECK(m.at("options").at("budget") == 150);
    CHECK(m.at("threads") == 2);
    CHECK(m.at("version") == "0.1.0");
    std::filesystem::remove(file);
    CHECK_THROWS_AS((void)nascent::exec::make_manifest({.data_files = {file}}), std::runtime_error);
}
