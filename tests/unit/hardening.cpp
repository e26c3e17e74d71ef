// Property-based tests (random genotypes and random inputs, fixed seeds) and a load test with
// injected failures through the runners and the TBB executor.
#include "error_of.hpp"
#include "test_data.hpp"

#include <nascent/core/rng.hpp>
#include <nascent/exec/checkpoint.hpp>
#include <nascent/exec/guarded.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/ops/categorical.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/pareto/constraints.hpp>
#include <nascent/pareto/hypervolume.hpp>
#include <nascent/space/darts.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nb201 = nascent::nb201;
using nascent::rng;

namespace {

// The sanitizer builds run the same tests on smaller loads (they are 3-15x slower).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::size_t load_scale = 10;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr std::size_t load_scale = 10;
#else
constexpr std::size_t load_scale = 1;
#endif
#else
constexpr std::size_t load_scale = 1;
#endif

// A random edit of a text: replace, insert or delete one byte, drawn from the text's own
// alphabet and a few hostile bytes.
std::string mutate_text(std::string s, rng& gen) {
    static constexpr std::string_view extra{"|~+,-.0123456789e\n\r\0\xff ", 22};
    const auto pick = [&] {
        return uniform_index(gen, 2) == 0 || s.empty() ? extra[uniform_index(gen, extra.size())]
                                                       : s[uniform_index(gen, s.size())];
    };
    switch (uniform_index(gen, 3)) {
    case 0:
        if (!s.empty())
            s[uniform_index(gen, s.size())] = pick();
        break;
    case 1:
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(uniform_index(gen, s.size() + 1)), pick());
        break;
    default:
        if (!s.empty())
            s.erase(s.begin() + static_cast<std::ptrdiff_t>(uniform_index(gen, s.size())));
    }
    return s;
}

// Errors are one line, unless they quote an input that holds a newline itself.
bool one_line_or_quoted(const std::exception& e, const std::string& input) {
    return input.find('\n') != std::string::npos ||
           std::string(e.what()).find('\n') == std::string::npos;
}

} // namespace

TEST_CASE("property nb201: a mutated arch string parses back to itself or is rejected") {
    // "A one-line std::invalid_argument or a correct parse, never silent garbage": whatever the
    // parser accepts must print as exactly the text it read.
    rng gen(1);
    std::size_t accepted = 0;
    std::size_t rejected = 0;
    for (int i = 0; i < 20000; ++i) {
        auto text = nb201::space::to_string(nb201::space::sample(gen));
        for (std::size_t k = 1 + uniform_index(gen, 3); k > 0; --k)
            text = mutate_text(text, gen);
        try {
            const auto c = nb201::space::parse(text);
            REQUIRE(nb201::space::is_valid(c));
            REQUIRE(nb201::space::to_string(c) == text);
            ++accepted;
        } catch (const std::invalid_argument& e) {
            REQUIRE(one_line_or_quoted(e, text));
            ++rejected;
        }
    }
    // Found by this test: node numbers with leading zeros were accepted ("none~00").
    CHECK_THROWS_AS((void)nb201::space::parse("|none~00|+|none~0|none~1|+|none~0|none~1|none~2|"),
                    std::invalid_argument);
    CHECK_THROWS_AS((void)nascent::darts::cell_space::parse(
                        "skip_connect~00|sep_conv_3x3~1|skip_connect~1|max_pool_3x3~2|dil_conv_5x5~"
                        "0|sep_conv_3x3~3|dil_conv_5x5~3|sep_conv_5x5~4"),
                    std::invalid_argument);
    CHECK(rejected > 15000); // the edits do break strings...
    CHECK(accepted > 100);   // ... and some still name a valid cell (an op swapped for another)
}

TEST_CASE("property nb201: canonical keys are constant on the table's isomorphism classes") {
    const auto& table = nascent::test::nb201();
    rng gen(2);
    for (int i = 0; i < 3000; ++i) {
        const auto c = nb201::space::sample(gen);
        const auto rep = table.cell_at(table.iso(table.index_of(c)));
        REQUIRE(nb201::space::canonical_key(c) == nb201::space::canonical_key(rep));
        REQUIRE(nb201::space::parse(nb201::space::to_string(c)) == c);
    }
}

TEST_CASE("property nb201: a point mutation changes exactly one edge and stays valid") {
    const nb201::space space;
    rng gen(3);
    for (int i = 0; i < 5000; ++i) {
        const auto parent = space.sample(gen);
        const auto child = nascent::ops::point_mutation{}(space, parent, gen);
        REQUIRE(space.is_valid(child));
        int changed = 0;
        for (std::size_t e = 0; e < nb201::num_edges; ++e)
            changed += parent[e] != child[e] ? 1 : 0;
        REQUIRE(changed == 1);
    }
}

TEST_CASE("property nb101: sampled cells print and parse back to the same network") {
    const nascent::nb101::space space;
    rng gen(4);
    for (int i = 0; i < 500; ++i) {
        const auto c = space.sample(gen);
        const auto text = space.to_string(c);
        const auto back = space.parse(text);
        REQUIRE(space.is_valid(back));
        REQUIRE(space.to_string(back) == text);
        REQUIRE(space.canonical_key(back) == space.canonical_key(c));
        // Mutated texts: rejected with one line, or accepted as a cell whose printed (pruned)
        // form is a fixed point.
        const auto edited = mutate_text(text, gen);
        try {
            const auto d = space.parse(edited);
            REQUIRE(space.is_valid(d));
            REQUIRE(space.to_string(space.parse(space.to_string(d))) == space.to_string(d));
        } catch (const std::invalid_argument& e) {
            REQUIRE(one_line_or_quoted(e, edited));
        }
    }
}

TEST_CASE("property darts: sampled genotypes print and parse back, mutations stay valid") {
    const nascent::darts::space space;
    rng gen(5);
    for (int i = 0; i < 500; ++i) {
        const auto g = space.sample(gen);
        REQUIRE(space.parse(space.to_string(g)) == g);
        const auto child = nascent::ops::default_mutator_t<nascent::darts::space>{}(space, g, gen);
        REQUIRE(space.is_valid(child));
        REQUIRE(child != g);
        const auto edited = mutate_text(space.to_string(g), gen);
        try {
            const auto d = space.parse(edited);
            REQUIRE(space.is_valid(d));
            REQUIRE(space.to_string(d) == edited);
        } catch (const std::invalid_argument& e) {
            REQUIRE(one_line_or_quoted(e, edited));
        }
    }
}

TEST_CASE("property hypervolume: monotone under adding points, unchanged by dominated ones") {
    rng gen(6);
    for (const std::size_t m : {2U, 3U, 4U}) {
        const std::vector<double> ref(m, 1.0);
        for (int trial = 0; trial < 40; ++trial) {
            std::vector<double> pts;
            double previous = 0;
            for (int k = 0; k < 12; ++k) {
                std::vector<double> p(m);
                for (auto& x : p)
                    x = uniform_real(gen);
                pts.insert(pts.end(), p.begin(), p.end());
                const double hv = nascent::pareto::hypervolume({pts, m}, ref);
                REQUIRE(hv >= previous - 1e-12);
                REQUIRE(hv <= 1.0 + 1e-12);
                // A point dominated by p (worse in every objective) adds nothing.
                auto worse = pts;
                for (std::size_t j = 0; j < m; ++j)
                    worse.push_back(p[j] + (1.0 - p[j]) * uniform_real(gen));
                REQUIRE(nascent::pareto::hypervolume({worse, m}, ref) ==
                        doctest::Approx(hv).epsilon(1e-12));
                previous = hv;
            }
        }
    }
}

TEST_CASE("property csv: random bytes and edited rows give a table or a one-line error") {
    rng gen(7);
    const std::string valid = "index,acc,lat\n0,50.5,1.25\n1,99,0.5\n2,,3\n";
    std::size_t parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string text;
        if (i % 4 == 0) {
            for (std::size_t n = uniform_index(gen, 40); n > 0; --n)
                text += static_cast<char>(uniform_index(gen, 256));
        } else {
            text = valid;
            for (std::size_t k = 1 + uniform_index(gen, 4); k > 0; --k)
                text = mutate_text(text, gen);
        }
        try {
            const auto t = nascent::io::csv_table::from_string(text, "f.csv");
            for (std::size_t r = 0; r < t.rows(); ++r) {
                REQUIRE(t.line(r) >= 2);
                for (std::size_t c = 0; c < t.columns(); ++c) {
                    REQUIRE(t.char_column(r, c) >= 1);
                    try {
                        if (const auto v = t.number(r, c, nascent::io::percent_range))
                            REQUIRE((std::isfinite(*v) && *v >= 0 && *v <= 100));
                    } catch (const std::invalid_argument& e) {
                        REQUIRE(std::string(e.what()).rfind("f.csv:", 0) == 0);
                    }
                }
            }
            ++parsed;
        } catch (const std::invalid_argument& e) {
            REQUIRE(std::string(e.what()).rfind("f.csv", 0) == 0);
        }
    }
    CHECK(parsed > 1000);
}

namespace {

// A table evaluator that misbehaves on a fixed fraction of cells (chosen by a hash of the cell,
// so the same cell misbehaves the same way in every run and on every thread): 10 % failed,
// 5 % throw, 5 % ok with a NaN reward, 2 % out of table. Counts its calls per kind.
struct faulty_evaluator {
    static constexpr auto thread_safety = nascent::thread_safety::constant;
    enum kind : std::size_t { fine, failed, threw, nan, missing, kinds };

    const nascent::bench::nb201_evaluator* inner;
    mutable std::array<std::atomic<std::size_t>, kinds>* calls;

    static kind kind_of(const nb201::cell& c) {
        const auto h = nascent::splitmix64(nb201::space::id(c) + 12345) % 100;
        return h < 10 ? failed : h < 15 ? threw : h < 20 ? nan : h < 22 ? missing : fine;
    }
    [[nodiscard]] nascent::evaluation evaluate(const nb201::cell& c) const {
        const auto k = kind_of(c);
        (*calls)[k].fetch_add(1, std::memory_order_relaxed);
        switch (k) {
        case failed:
            return nascent::evaluation::failure("injected failure");
        case threw:
            throw std::runtime_error("injected exception");
        case nan: {
            auto e = inner->evaluate(c);
            e.reward = std::nan("");
            return e;
        }
        case missing:
            return nascent::evaluation::missing("injected out of table");
        default:
            return inner->evaluate(c);
        }
    }
};

struct load_outcome {
    std::vector<nascent::run_result<nb201::cell>> results;
    std::array<std::size_t, faulty_evaluator::kinds> calls{};
};

// Equal element by element, NaN equal to NaN (a trajectory reports NaN before any ok result).
bool same_trajectory(const std::vector<std::array<double, 2>>& a,
                     const std::vector<std::array<double, 2>>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (std::size_t j = 0; j < 2; ++j) {
            if (a[i][j] != b[i][j] && !(std::isnan(a[i][j]) && std::isnan(b[i][j])))
                return false;
        }
    }
    return true;
}

template <class X, class... Callbacks>
load_outcome faulty_protocol(const X& executor, std::size_t runs,
                             std::span<const std::vector<nascent::evaluation_record>> replay = {},
                             Callbacks&... callbacks) {
    const auto table_evaluator = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    std::array<std::atomic<std::size_t>, faulty_evaluator::kinds> calls{};
    const nascent::exec::guarded evaluator{faulty_evaluator{&table_evaluator, &calls}};
    const nb201::space space;
    const nascent::strategy::regularized_evolution rea{
        space, nascent::ops::point_mutation{}, {.population = 10, .sample = 3}};
    load_outcome out;
    out.results = nascent::run_protocol(space, rea, evaluator,
                                        {.budget = 100, .runs = runs, .seed = 14, .replay = replay},
                                        executor, callbacks...);
    for (std::size_t k = 0; k < faulty_evaluator::kinds; ++k)
        out.calls[k] = calls[k].load();
    return out;
}

} // namespace

TEST_CASE("load: 10^4 evaluations with injected failures, exceptions and NaNs, all booked") {
    const std::size_t runs = 100 / (load_scale == 1 ? 1 : 2); // 10^4 evaluations (5,000 sanitized)
    const auto sequential = faulty_protocol(nascent::exec::sequential_executor{}, runs);
    const auto parallel = faulty_protocol(nascent::exec::tbb_executor(2), runs);
    std::size_t queries = 0;
    std::size_t failures = 0;
    std::size_t out_of_table = 0;
    for (std::size_t i = 0; i < runs; ++i) {
        const auto& r = parallel.results[i];
        const auto& s = sequential.results[i];
        // Deterministic whatever the thread count.
        REQUIRE(r.best == s.best);
        REQUIRE(same_trajectory(r.trajectory, s.trajectory));
        REQUIRE(r.failures == s.failures);
        REQUIRE(r.queries == 100);
        REQUIRE(r.trajectory.size() == 100);
        // A NaN reward never becomes the incumbent: the best is finite and is the table value.
        REQUIRE(r.best);
        REQUIRE(std::isfinite(r.best_reward));
        REQUIRE(faulty_evaluator::kind_of(*r.best) == faulty_evaluator::fine);
        queries += r.queries;
        failures += r.failures;
        out_of_table += r.out_of_table;
    }
    // Every evaluation asked for is accounted for exactly once: ok + failed = charged, and the
    // out-of-table answers are the missing calls.
    const auto& c = parallel.calls;
    std::size_t asked = 0;
    for (const auto n : c)
        asked += n;
    CHECK(asked == queries + out_of_table);
    CHECK(failures ==
          c[faulty_evaluator::failed] + c[faulty_evaluator::threw] + c[faulty_evaluator::nan]);
    CHECK(out_of_table == c[faulty_evaluator::missing]);
    CHECK(c == sequential.calls);
    CHECK(c[faulty_evaluator::threw] > 100); // the faults did happen
    CHECK(c[faulty_evaluator::nan] > 100);
}

namespace {
// Stops every run at its next evaluation once the protocol has seen `after` of them, whichever
// run they came from: on 2 threads, where each run is cut is not known in advance.
struct kill_after {
    std::size_t after;
    std::atomic<std::size_t>* seen;
    bool on_evaluation(const nascent::evaluation_event<nb201::cell>& e) const {
        return !e.replayed && seen->fetch_add(1) + 1 >= after;
    }
};
} // namespace

TEST_CASE("load: the faulty protocol killed mid-way and resumed from its checkpoint is the "
          "uninterrupted one, and redoes no evaluation") {
    const std::size_t runs = 100 / (load_scale == 1 ? 1 : 2);
    const auto whole = faulty_protocol(nascent::exec::sequential_executor{}, runs);
    const nb201::space space;
    const nlohmann::json problem{{"test", "faulty load"}, {"runs", runs}};
    const auto file = std::filesystem::temp_directory_path() / "nascent_load_checkpoint.json";
    const nascent::exec::checkpoint_options every{.runs = runs, .every = 97};
    std::atomic<std::size_t> seen{0};
    kill_after kill{.after = 100 * runs / 3, .seen = &seen};
    load_outcome first;
    {
        nascent::exec::checkpoint_writer ckpt{file, problem, space, every};
        first = faulty_protocol(nascent::exec::tbb_executor(2), runs, {}, kill, ckpt);
    }
    const auto log = nascent::exec::load_checkpoint(file, problem);
    REQUIRE(log.runs() == runs);
    const std::size_t recorded = log.evaluations();
    std::size_t first_calls = 0;
    for (const auto n : first.calls)
        first_calls += n;
    CHECK(recorded == first_calls); // every answer given before the kill is in the file
    REQUIRE(recorded < 100 * runs);
    load_outcome resumed;
    {
        nascent::exec::checkpoint_writer ckpt{file, problem, space, every, &log};
        resumed = faulty_protocol(nascent::exec::tbb_executor(2), runs, log.replay(), ckpt);
    }
    std::size_t whole_calls = 0;
    std::size_t resumed_calls = 0;
    for (std::size_t k = 0; k < faulty_evaluator::kinds; ++k) {
        whole_calls += whole.calls[k];
        resumed_calls += resumed.calls[k];
        // Per kind of fault, too: replayed answers are the recorded ones, not new calls.
        CHECK(first.calls[k] + resumed.calls[k] == whole.calls[k]);
    }
    CHECK(recorded + resumed_calls == whole_calls);
    for (std::size_t i = 0; i < runs; ++i) {
        REQUIRE(resumed.results[i].best == whole.results[i].best);
        REQUIRE(same_trajectory(resumed.results[i].trajectory, whole.results[i].trajectory));
        REQUIRE(resumed.results[i].failures == whole.results[i].failures);
        REQUIRE(resumed.results[i].out_of_table == whole.results[i].out_of_table);
    }
    const auto finished = nascent::exec::load_checkpoint(file, problem);
    CHECK(finished.evaluations() == whole_calls);
    for (std::size_t i = 0; i < runs; ++i)
        CHECK(finished.done(i));
    std::filesystem::remove(file);
}

TEST_CASE("load: an unguarded throwing evaluator's exception reaches the caller, not terminate") {
    const auto table_evaluator = nascent::test::nb201().evaluator({.dataset = "cifar10"});
    std::array<std::atomic<std::size_t>, faulty_evaluator::kinds> calls{};
    const faulty_evaluator evaluator{&table_evaluator, &calls};
    const nb201::space space;
    const nascent::strategy::random_search rs{space};
    CHECK(nascent::test::error_of<std::runtime_error>([&] {
              (void)nascent::run_protocol(space, rs, evaluator,
                                          {.budget = 100, .runs = 8, .seed = 0},
                                          nascent::exec::tbb_executor(2));
          }) == "injected exception");
}

TEST_CASE("load: 10^7 table queries from 2 threads agree with one thread") {
    const auto& table = nascent::test::nb201();
    const auto evaluator = table.evaluator({.dataset = "cifar100", .reward = "valid_acc@12"});
    const std::size_t n = 10'000'000 / load_scale;
    // Query i asks for cell at(splitmix64(i) mod 15625); the sum of rewards of ok answers and
    // the count of answers are order-independent integers (rewards have <= 4 decimals).
    const auto sum_range = [&](std::size_t lo, std::size_t hi) {
        std::array<std::int64_t, 2> acc{0, 0};
        for (std::size_t i = lo; i < hi; ++i) {
            const auto e = evaluator.evaluate(nb201::space::at(nascent::splitmix64(i) % 15625));
            if (e.ok()) {
                acc[0] += std::llround(e.reward * 1e4);
                ++acc[1];
            }
        }
        return acc;
    };
    const auto one = sum_range(0, n);
    // Two threads through the library's executor, chunk partial sums added in chunk order.
    constexpr std::size_t chunk = std::size_t{1} << 16;
    std::vector<std::array<std::int64_t, 2>> parts((n + chunk - 1) / chunk);
    nascent::exec::tbb_executor(2).for_each(parts.size(), [&](std::size_t c) {
        parts[c] = sum_range(c * chunk, std::min(n, (c + 1) * chunk));
    });
    std::array<std::int64_t, 2> two{0, 0};
    for (const auto& part : parts) {
        two[0] += part[0];
        two[1] += part[1];
    }
    CHECK(two == one);
    CHECK(one[1] == static_cast<std::int64_t>(n)); // every cell has a CIFAR-100 12-epoch value
}

TEST_CASE("constraint values are read as strictly as the CSV and CLI numbers") {
    CHECK(nascent::pareto::parse_constraint("latency:pixel3<=1e1").max == 10.0);
    CHECK(nascent::pareto::parse_constraint("test_acc@200>=-0.5").min == -0.5);
    // std::stod accepted a leading blank, hex and a leading plus sign.
    for (const auto* bad : {"latency<= 5", "latency<=0x10", "latency<=+5",
                            "latency<=", "latency<=inf", "latency<=nan", "latency<=5 "}) {
        CHECK(nascent::test::contains(
            nascent::test::error_of([&] { (void)nascent::pareto::parse_constraint(bad); }),
            "is not a number"));
    }
}
