// The strategy registry (exec/registry.hpp) and the pieces issue 11 moved out of the CLI or merged:
// exact_front (pareto/), the predictor evaluation (surrogate/), the aging population, the default
// eta and the metric-name parser.

#include "error_of.hpp"
#include "test_data.hpp"

#include <nascent/bench/nb101_table.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/exec/multi_fidelity.hpp>
#include <nascent/exec/multi_objective.hpp>
#include <nascent/exec/registry.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/sequential.hpp>
#include <nascent/pareto/dominance.hpp>
#include <nascent/pareto/exact_front.hpp>
#include <nascent/pareto/hypervolume.hpp>
#include <nascent/space/encodings.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/aging_population.hpp>
#include <nascent/surrogate/features.hpp>
#include <nascent/surrogate/gp.hpp>
#include <nascent/surrogate/predictor_evaluation.hpp>
#include <nascent/surrogate/wl_kernel.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace nb201 = nascent::nb201;
namespace exec = nascent::exec;
namespace sg = nascent::surrogate;
using nascent::evaluation;

namespace {

using cell = nb201::cell;

struct path_encoder {
    std::vector<double> operator()(const cell& c) const { return nascent::encoding::paths(c); }
};

/// NB201's surrogates, as the CLI supplies them.
struct nb201_surrogates {
    static constexpr sg::gp_options settings{.restarts = 1, .optimise_on_at_most = 200};
    [[nodiscard]] static auto encoder() { return path_encoder{}; }
    [[nodiscard]] static auto hamming_gp() {
        return sg::gp<sg::hamming, sg::edge_ops<nb201::space>>(
            sg::hamming({.ard = nb201::num_edges}), {}, settings);
    }
    [[nodiscard]] static auto wl_gp() {
        return sg::gp<sg::wl_kernel, sg::wl_feature_map<nb201::space>>(sg::wl_kernel{}, {},
                                                                       settings);
    }
};

template <class G>
void check_same(const nascent::run_result<G>& a, const nascent::run_result<G>& b) {
    CHECK(a.best == b.best);
    CHECK(a.best_reward == b.best_reward);
    CHECK(a.queries == b.queries);
    CHECK(a.repeats == b.repeats);
    CHECK(a.trajectory == b.trajectory);
    CHECK(a.cost == b.cost);
}

const std::string all_names =
    "random, rea, ls, sh, hyperband, bohb, nsga2, bananas, bo-gp, bo-wl, tpe, reinforce, lstm, ppo";

} // namespace

static_assert(nascent::Strategy<exec::any_strategy<cell>>);
static_assert(nascent::MultiFidelityStrategy<exec::any_multi_fidelity_strategy<cell>>);

TEST_CASE("registry: one list of names, kinds and descriptions") {
    CHECK(exec::join(exec::strategy_names()) == all_names);
    std::set<std::string> seen;
    for (const auto& s : exec::strategies) {
        CHECK(seen.insert(std::string(s.name)).second);
        CHECK(!s.description.empty());
        CHECK(exec::find_strategy(s.name).name == s.name);
    }
    CHECK(exec::find_strategy("nsga2").kind == exec::strategy_kind::multi_objective);
    CHECK(exec::find_strategy("bohb").kind == exec::strategy_kind::multi_fidelity);
    CHECK(exec::find_strategy("bo-wl").model_based);
    CHECK(exec::find_strategy("random").reward_free);
    CHECK(!exec::find_strategy("rea").reward_free);
    CHECK(exec::join({"a", "b", "c"}, " and ") == "a, b and c");
}

TEST_CASE("registry: an unknown name lists every valid one") {
    const exec::strategy_context<nb201::space> context;
    const std::string expected = "unknown strategy 'enas' (valid: " + all_names + ")";
    CHECK(nascent::test::error_of([&] { (void)exec::make_strategy("enas", context); }) == expected);
    CHECK(nascent::test::error_of(
              [&] { (void)exec::make_multi_fidelity_strategy("enas", context); }) == expected);
    CHECK(nascent::test::error_of([] { (void)exec::find_strategy(""); }) ==
          "unknown strategy '' (valid: " + all_names + ")");
}

TEST_CASE("registry: a context that cannot build a strategy says why") {
    const exec::strategy_context<nb201::space> context;
    CHECK(nascent::test::error_of([&] { (void)exec::make_strategy("bananas", context); }) ==
          "strategy 'bananas' needs surrogates with encoder()");
    CHECK(nascent::test::error_of([&] { (void)exec::make_strategy("nsga2", context); }) ==
          "strategy 'nsga2' needs objectives");
    CHECK(nascent::test::error_of([&] { (void)exec::make_strategy("sh", context); }) ==
          "strategy 'sh' is multi-fidelity (make_multi_fidelity_strategy)");
    CHECK(nascent::test::error_of([&] {
              (void)exec::make_multi_fidelity_strategy("rea", context);
          }) == "strategy 'rea' is not multi-fidelity");
}

TEST_CASE("registry: every name runs the search of the strategy constructed directly") {
    namespace st = nascent::strategy;
    const auto& table = nascent::test::nb201();
    const auto evaluator = table.evaluator({.dataset = "cifar10", .reward = "valid_acc@12"});
    const nb201::space space;
    const nascent::pareto::objectives objs{{"valid_acc@12", nascent::pareto::direction::maximise},
                                           {"test_acc@12", nascent::pareto::direction::minimise}};
    const exec::strategy_context<nb201::space, nb201_surrogates> context{
        .space = space, .options = {.population = 6, .sample = 2}, .objectives = objs};
    const nascent::run_options options{.budget = 14, .seed = 5};

    auto single = [&](const std::string& name, const auto& direct) {
        const auto by_name = exec::make_strategy(name, context);
        for (std::size_t run = 0; run < 2; ++run) {
            check_same(nascent::run_search(space, by_name, evaluator, options, run),
                       nascent::run_search(space, direct, evaluator, options, run));
        }
    };
    auto fidelity = [&](const std::string& name, const auto& direct) {
        const auto by_name = exec::make_multi_fidelity_strategy(name, context);
        const nascent::multi_fidelity_options mf{.budget = 60, .seed = 5};
        for (std::size_t run = 0; run < 2; ++run) {
            check_same(nascent::run_multi_fidelity_search(space, by_name, evaluator, mf, run),
                       nascent::run_multi_fidelity_search(space, direct, evaluator, mf, run));
        }
    };
    const std::map<std::string, std::function<void()>> direct{
        {"random", [&] { single("random", st::random_search{space}); }},
        {"rea",
         [&] {
             single("rea", st::regularized_evolution{space,
                                                     nascent::ops::point_mutation{},
                                                     {.population = 6, .sample = 2}});
         }},
        {"ls", [&] { single("ls", st::local_search{space}); }},
        {"sh", [&] { fidelity("sh", st::successive_halving(space)); }},
        {"hyperband", [&] { fidelity("hyperband", st::hyperband{space}); }},
        {"bohb", [&] { fidelity("bohb", st::make_bohb(space)); }},
        {"nsga2",
         [&] {
             const auto by_name = exec::make_strategy("nsga2", context);
             const st::nsga2 nsga{space, objs, {.population = 6}};
             const nascent::multi_objective_options mo{
                 .budget = 30, .seed = 5, .reference = {0.0, 100.0}};
             const auto a =
                 nascent::run_multi_objective_search(space, by_name, evaluator, objs, mo, 1);
             const auto b =
                 nascent::run_multi_objective_search(space, nsga, evaluator, objs, mo, 1);
             CHECK(a.front == b.front);
             CHECK(a.hypervolume == b.hypervolume);
         }},
        {"bananas", [&] { single("bananas", st::bananas(space, path_encoder{})); }},
        {"bo-gp",
         [&] {
             single("bo-gp", st::bayesian_optimisation(space, nb201_surrogates::hamming_gp()));
         }},
        {"bo-wl",
         [&] { single("bo-wl", st::bayesian_optimisation(space, nb201_surrogates::wl_gp())); }},
        {"tpe", [&] { single("tpe", st::tpe{space}); }},
        {"reinforce",
         [&] {
             single("reinforce",
                    st::reinforce{space, {.learning_rate = exec::detail::reinforce_tuned_lr}});
         }},
        {"lstm",
         [&] {
             single("lstm",
                    st::lstm_controller{space, {.learning_rate = exec::detail::lstm_tuned_lr}});
         }},
        {"ppo",
         [&] {
             single("ppo", st::ppo{space, {.learning_rate = exec::detail::ppo_tuned_lr}});
         }},
    };
    for (const auto& name : exec::strategy_names()) {
        CAPTURE(name);
        REQUIRE(direct.contains(name));
        direct.at(name)();
    }
    CHECK(direct.size() == exec::strategies.size());
}

TEST_CASE("registry: warm-start designs are asked first by model-based strategies") {
    const nb201::space space;
    const auto designs = std::vector<cell>{nb201::space::at(3), nb201::space::at(77)};
    const exec::strategy_context<nb201::space, nb201_surrogates> context{
        .space = space, .warm_start = [designs](nascent::rng&) { return designs; }};
    auto by_name = exec::make_strategy("bo-gp", context);
    auto copy = by_name; // a copy is a fresh search
    nascent::rng gen(1);
    CHECK(by_name.ask(gen) == designs[0]);
    CHECK(by_name.ask(gen) == designs[1]);
    nascent::rng same(1);
    CHECK(copy.ask(same) == designs[0]);
    CHECK(nascent::test::error_of([&] { (void)exec::make_strategy("rea", context); }) ==
          "strategy 'rea' takes no warm start");
}

TEST_CASE("registry: visit_strategy hands over the template strategy") {
    const nb201::space space;
    const exec::strategy_context<nb201::space> context{.space = space,
                                                       .options = {.population = 4}};
    const auto kind = exec::visit_strategy("rea", context, []<class St>(const St&) {
        return std::is_same_v<St, nascent::strategy::regularized_evolution<nb201::space>>;
    });
    CHECK(kind);
    const auto fidelity = exec::visit_strategy("hyperband", context, []<class St>(const St&) {
        return nascent::MultiFidelityStrategy<St>;
    });
    CHECK(fidelity);
}

// ---------------------------------------------------------------------------------------------

namespace {
/// 0..29, enumerable.
struct small_space {
    using genotype = int;
    [[nodiscard]] int sample(nascent::rng& gen) const {
        return static_cast<int>(nascent::uniform_index(gen, 30));
    }
    [[nodiscard]] bool is_valid(int g) const { return g >= 0 && g < 30; }
    [[nodiscard]] std::uint64_t hash(int g) const { return static_cast<std::uint64_t>(g); }
    [[nodiscard]] std::uint64_t size() const { return 30; }
    [[nodiscard]] std::uint64_t id(int g) const { return static_cast<std::uint64_t>(g); }
    [[nodiscard]] int at(std::uint64_t id) const { return static_cast<int>(id); }
};
/// f = g % 6 (maximised), c = (7 g) % 11 (minimised); member 29 fails.
struct small_evaluator {
    [[nodiscard]] evaluation evaluate(int g) const {
        if (g == 29)
            return evaluation::failure("broken");
        nascent::metrics m;
        m.append("f", g % 6);
        m.append("c", (7 * g) % 11);
        return evaluation::success(g % 6, m);
    }
};
} // namespace

static_assert(nascent::EnumerableSpace<small_space>);

TEST_CASE("exact_front: the non-dominated feasible members of a small enumerable space") {
    namespace pa = nascent::pareto;
    const pa::objectives objs{{"f", pa::direction::maximise}, {"c", pa::direction::minimise}};
    auto brute = [&](const std::vector<pa::constraint>& constraints) {
        std::vector<std::uint64_t> front;
        for (int a = 0; a < 29; ++a) {
            const auto sa = pa::score(small_evaluator{}.evaluate(a), objs, constraints);
            if (!sa.feasible())
                continue;
            bool dominated = false;
            for (int b = 0; b < 29 && !dominated; ++b) {
                const auto sb = pa::score(small_evaluator{}.evaluate(b), objs, constraints);
                dominated = sb.feasible() && sb.values[0] >= sa.values[0] &&
                            sb.values[1] <= sa.values[1] && sb.values != sa.values;
            }
            if (!dominated)
                front.push_back(static_cast<std::uint64_t>(a));
        }
        return front;
    };
    const auto all = pa::exact_front(small_space{}, small_evaluator{}, objs);
    CHECK(all.ids == brute({}));
    REQUIRE(!all.empty());
    CHECK(all.ideal == std::vector<double>{5, 0});
    // The nadir of the front: its worst f and worst c.
    double worst_f = 5, worst_c = 0;
    for (const auto id : all.ids) {
        worst_f = std::min<double>(worst_f, static_cast<double>(id % 6));
        worst_c = std::max<double>(worst_c, static_cast<double>((7 * id) % 11));
    }
    CHECK(all.reference == std::vector<double>{worst_f, worst_c});
    pa::point_set front(objs);
    for (const auto id : all.ids) {
        front.push_back({static_cast<double>(id % 6), static_cast<double>((7 * id) % 11)});
    }
    CHECK(all.hypervolume == pa::hypervolume(front, all.reference));

    const std::vector<pa::constraint> few{pa::parse_constraint("f<=3")};
    const auto constrained = pa::exact_front(small_space{}, small_evaluator{}, objs, few);
    CHECK(constrained.ids == brute(few));
    CHECK(constrained.ideal[0] == 3);

    const auto none =
        pa::exact_front(small_space{}, small_evaluator{}, objs, {pa::parse_constraint("f>=9")});
    CHECK(none.empty());
    CHECK(none.hypervolume == 0);
}

// ---------------------------------------------------------------------------------------------

TEST_CASE(
    "predictor evaluation: nested splits, scores in predictor-size-seed order, errors in the row") {
    // Candidates 0..199: cell i of the space, accuracy rising with its number of 3x3 convolutions.
    auto accuracy = [](const cell& c) {
        double n = 0;
        for (const auto op : c.ops)
            n += op == nb201::nor_conv_3x3 ? 1 : 0;
        return 80 + 2 * n;
    };
    auto lookup = [&](std::uint64_t i) -> std::optional<std::pair<cell, double>> {
        if (i % 10 == 3)
            return std::nullopt; // missing from the "table"
        const cell c = nb201::space::at(i * 71);
        return std::pair{c, accuracy(c)};
    };
    const auto split = sg::draw_predictor_split<cell>(200, lookup, 40, 60, 9);
    CHECK(split.test.size() == 40);
    CHECK(split.train.size() == 60);
    CHECK(split.train_target[0] == doctest::Approx(-std::log(100 - accuracy(split.train[0]))));
    CHECK(sg::draw_predictor_split<cell>(200, lookup, 40, 60, 9).train == split.train); // seeded
    CHECK(sg::draw_predictor_split<cell>(50, lookup, 40, 60, 9).train.size() == 5);     // ran out

    const std::vector<std::size_t> sizes{20, 60};
    const std::vector<sg::predictor_split<cell>> splits{
        split, sg::draw_predictor_split<cell>(200, lookup, 40, 60, 10)};
    std::vector<std::size_t> progress;
    const auto results = sg::evaluate_predictors(
        2, std::span<const std::size_t>(sizes), std::span<const sg::predictor_split<cell>>(splits),
        [&](std::size_t p, const auto& data, std::size_t n, std::size_t) {
            if (p == 1)
                throw std::invalid_argument("no model " + std::to_string(n));
            return sg::score_predictor(nb201_surrogates::hamming_gp(), data, n);
        },
        exec::sequential_executor{}, [&](std::size_t done) { progress.push_back(done); });
    REQUIRE(results.size() == 8);
    CHECK(progress.back() == 8);
    for (std::size_t t = 0; t < 4; ++t) {
        CHECK(results[t].error.empty());
        CHECK(std::isfinite(results[t].tau));
        CHECK(std::isfinite(results[t].rho));
    }
    // Order: predictor, then size, then seed.
    const auto again = sg::score_predictor(nb201_surrogates::hamming_gp(), splits[1], 60);
    CHECK(results[3].tau == again.tau);
    CHECK(results[4].error == "no model 20");
    CHECK(results[7].error == "no model 60");
    CHECK(std::isnan(results[7].tau));
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("aging population: the oldest dies, tournaments pick the first best drawn") {
    nascent::strategy::aging_population<int> population(3);
    CHECK(!population.full());
    population.add(1, 0.5);
    population.add(2, 0.9);
    population.add(3, 0.1);
    CHECK(population.full());
    nascent::rng gen(4);
    CHECK(population.tournament(gen, 50).arch == 2);
    population.add(4, 0.2); // 1 dies
    population.add(5, 0.3); // 2 dies
    CHECK(population.size() == 3);
    CHECK(population.tournament(gen, 50).arch == 5);
}

TEST_CASE("default eta: the ratio of consecutive fidelity levels, 3 for one level") {
    const std::vector<double> two{12, 200};
    const std::vector<double> three{1, 3, 9};
    const std::vector<double> one{12};
    CHECK(nascent::strategy::default_eta(two) == doctest::Approx(200.0 / 12.0));
    CHECK(nascent::strategy::default_eta(three) == doctest::Approx(3.0));
    CHECK(nascent::strategy::default_eta(one) == 3.0);
}

TEST_CASE("metric names: one parser for NB201 and NB101, the valid list built from the names") {
    using nascent::bench::nb101_metric;
    using nascent::bench::nb201_metric;
    CHECK(nascent::bench::parse_nb201_metric("test_acc@200") == nb201_metric::test_200);
    CHECK(nascent::bench::parse_nb101_metric("train_seconds@108") ==
          nb101_metric::train_seconds_108);
    CHECK(nascent::bench::parse_nb201_dataset("imagenet16-120") ==
          nascent::bench::nb201_dataset::imagenet16_120);
    CHECK(nascent::test::error_of([] { (void)nascent::bench::parse_nb201_metric("acc"); }) ==
          "unknown metric 'acc' (valid: valid_acc@12, test_acc@12, valid_acc@200, test_acc@200)");
    CHECK(nascent::test::error_of([] {
              (void)nascent::bench::parse_nb101_metric("test_acc@200");
          }) == "unknown metric 'test_acc@200' (valid: valid_acc@4, valid_acc@12, valid_acc@36, "
                "valid_acc@108, "
                "params, train_seconds@108)");
    CHECK(nascent::test::error_of([] { (void)nascent::bench::parse_nb201_dataset("mnist"); }) ==
          "unknown dataset 'mnist' (valid: cifar10, cifar100, imagenet16-120)");
}
