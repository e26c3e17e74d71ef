#include <nascent/exec/runner.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/space/dag_cell.hpp>
#include <nascent/space/darts.hpp>
#include <nascent/space/hyperparameters.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/product.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

using nascent::rng;

namespace {
template <class S>
std::string parse_error(const S& space, std::string_view text) {
    try {
        (void)space.parse(text);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no error";
}
} // namespace

TEST_CASE("dag cells: a 5-node every-edge space generalises NAS-Bench-201") {
    using space5 =
        nascent::space::dag_cell_space<nascent::nb201::ops, nascent::space::every_edge<5>>;
    const space5 space;
    CHECK(space.size() == 9765625); // 5^10
    rng gen(1);
    for (int i = 0; i < 200; ++i) {
        const auto c = space.sample(gen);
        REQUIRE(space.parse(space.to_string(c)) == c);
        REQUIRE(space.at(space.id(c)) == c);
    }
    const auto c = space.at(0);
    CHECK(space.to_string(c) ==
          "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|none~1|none~2|none~3|");
    CHECK(space.neighbours(c).size() == 40);
    CHECK(space.edges(c)[9] == nascent::space::labelled_edge{3, 4, 0});
    // The canonical key sees through identities: conv after a skip equals the direct conv.
    const auto direct = space.parse(
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|nor_conv_3x3~0|none~1|none~2|none~3|");
    const auto chain = space.parse("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~"
                                   "0|nor_conv_3x3~1|none~2|none~3|");
    CHECK(space.canonical_key(direct) == space.canonical_key(chain));
}

TEST_CASE("darts: cell sampling, validity, neighbours and mutation") {
    const nascent::darts::cell_space space;
    CHECK(space.size() == doctest::Approx(1.0 * 3 * 6 * 10 * std::pow(64.0, 4)));
    rng gen(7);
    std::set<nascent::darts::cell> seen;
    for (int i = 0; i < 500; ++i) {
        const auto c = space.sample(gen);
        REQUIRE(space.is_valid(c));
        REQUIRE(space.parse(space.to_string(c)) == c);
        seen.insert(c);
        const auto m = space.mutate(c, gen);
        REQUIRE(space.is_valid(m));
        REQUIRE(m != c);
        const auto n = space.neighbours(c);
        REQUIRE(std::set(n.begin(), n.end()).size() == n.size());
        REQUIRE(std::find(n.begin(), n.end(), m) != n.end()); // a mutation is one neighbour step
    }
    CHECK(seen.size() == 500);
    // 4 nodes x 2 slots x 7 op changes + input moves: node n has n free inputs per slot.
    CHECK(space.neighbours(space.sample(gen)).size() == 8 * 7 + 2 * (0 + 1 + 2 + 3));
}

TEST_CASE("darts: NAS-Bench-301 strings parse, and order inside a node does not matter") {
    const nascent::darts::cell_space space;
    const auto a = space.parse("max_pool_3x3~0|dil_conv_3x3~1|avg_pool_3x3~1|avg_pool_3x3~0|sep_"
                               "conv_3x3~1|sep_conv_3x3~0|sep_conv_3x3~1|skip_connect~3");
    const auto b = space.parse("dil_conv_3x3~1|max_pool_3x3~0|avg_pool_3x3~0|avg_pool_3x3~1|sep_"
                               "conv_3x3~0|sep_conv_3x3~1|skip_connect~3|sep_conv_3x3~1");
    CHECK(a == b);
    CHECK(space.to_string(a) == "max_pool_3x3~0|dil_conv_3x3~1|avg_pool_3x3~0|avg_pool_3x3~1|sep_"
                                "conv_3x3~0|sep_conv_3x3~1|sep_conv_3x3~1|skip_connect~3");
    CHECK(parse_error(space, "max_pool_3x3~0|dil_conv_3x3~0|avg_pool_3x3~1|avg_pool_3x3~0|sep_conv_"
                             "3x3~1|sep_conv_3x3~0|sep_conv_3x3~1|skip_connect~3")
              .find("reads node 0 twice") != std::string::npos);
    CHECK(parse_error(space, "max_pool_3x3~0|dil_conv_3x3~2|avg_pool_3x3~1|avg_pool_3x3~0|sep_conv_"
                             "3x3~1|sep_conv_3x3~0|sep_conv_3x3~1|skip_connect~3")
              .find("must read from a node below 2") != std::string::npos);
    CHECK(parse_error(space, "conv_7x7~0|dil_conv_3x3~1|avg_pool_3x3~1|avg_pool_3x3~0|sep_conv_3x3~"
                             "1|sep_conv_3x3~0|sep_conv_3x3~1|skip_connect~3")
              .find("unknown op 'conv_7x7'") != std::string::npos);
    CHECK(parse_error(space, "max_pool_3x3~0|dil_conv_3x3~1").find("expected 8 entries") !=
          std::string::npos);
    const nascent::darts::space both;
    const auto g = both.parse("[" + space.to_string(a) + "][" + space.to_string(a) + "]");
    CHECK(std::get<1>(g) == a);
    CHECK(parse_error(both, "[x]").find("expected 2 parts") != std::string::npos);
}

TEST_CASE("product space: joint NAS + HPO without glue code") {
    const nascent::space::hyperparameter_space hpo{{"lr", {0.1, 0.05, 0.025}},
                                                   {"wd", {5e-4, 1e-4}}};
    const nascent::space::product_space joint{nascent::nb201::space{}, hpo};
    CHECK(joint.size() == 15625 * 6);
    rng gen(3);
    std::set<std::uint64_t> hashes;
    for (int i = 0; i < 300; ++i) {
        const auto g = joint.sample(gen);
        REQUIRE(joint.is_valid(g));
        REQUIRE(joint.at(joint.id(g)) == g);
        REQUIRE(joint.parse(joint.to_string(g)) == g);
        hashes.insert(joint.hash(g));
    }
    CHECK(hashes.size() > 290);
    const auto g = joint.parse(
        "[|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|][lr=0.05,wd=0.0001]");
    CHECK(hpo.value(std::get<1>(g), "lr") == 0.05);
    CHECK(joint.neighbours(g).size() == 24 + 2 + 1);
    // The default mutation changes one part by one step of that part's own mutation.
    const nascent::ops::default_mutator_t<decltype(joint)> mutate;
    int cell_changed = 0;
    for (int i = 0; i < 400; ++i) {
        const auto child = mutate(joint, g, gen);
        const bool cell = std::get<0>(child) != std::get<0>(g);
        const bool hp = std::get<1>(child) != std::get<1>(g);
        REQUIRE(cell != hp);
        cell_changed += cell ? 1 : 0;
    }
    CHECK(cell_changed > 150);
    CHECK(cell_changed < 250);
    // Regularized evolution and local search run on it unchanged, with a user evaluator.
    struct joint_evaluator {
        const nascent::space::hyperparameter_space* hpo;
        nascent::evaluation evaluate(const decltype(joint)::genotype& x) const {
            double convs = 0;
            for (auto o : std::get<0>(x).ops)
                convs += o == nascent::nb201::nor_conv_3x3 ? 1 : 0;
            return nascent::evaluation::success(
                convs - 10 * std::abs(hpo->value(std::get<1>(x), "lr") - 0.05));
        }
    };
    const auto r = nascent::run(nascent::strategy::local_search{joint}, joint_evaluator{&hpo},
                                {.budget = 400, .seed = 1});
    CHECK(r.best_reward == 6.0);
    const auto e = nascent::run(nascent::strategy::regularized_evolution{joint},
                                joint_evaluator{&hpo}, {.budget = 400, .seed = 1});
    CHECK(e.best_reward >= 4.0);
}

TEST_CASE("hyperparameter space: bad definitions and texts are named") {
    using hp = nascent::space::hyperparameter_space;
    CHECK_THROWS_WITH_AS(hp({{"lr", {}}}),
                         "hyperparameter_space: 'lr' needs 1 to 255 values, got 0",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(hp({{"lr", {0.1}}, {"lr", {0.2}}}),
                         "hyperparameter_space: repeated name 'lr'", std::invalid_argument);
    const hp space{{"lr", {0.1, 0.01}}, {"bs", {64, 128}}};
    CHECK(parse_error(space, "lr=0.1") == "invalid hyper-parameters 'lr=0.1': missing 'bs'");
    CHECK(parse_error(space, "lr=0.3,bs=64") ==
          "invalid hyper-parameters 'lr=0.3,bs=64': '0.3' is not a value of 'lr'");
    CHECK(parse_error(space, "lr=0.1,bs=64,mom=0.9") ==
          "invalid hyper-parameters 'lr=0.1,bs=64,mom=0.9': unknown name 'mom'");
    CHECK(space.to_string(space.parse("bs=128,lr=0.01")) == "lr=0.01,bs=128");
}

TEST_CASE("conditional space: one branch at a time, mutation may switch branches") {
    using nb = nascent::nb201::space;
    const nascent::space::hyperparameter_space small{{"width", {16, 32, 64}}};
    const nascent::space::conditional_space either{nb{}, small};
    rng gen(5);
    int branch1 = 0;
    for (int i = 0; i < 1000; ++i)
        branch1 += either.sample(gen).index() == 1 ? 1 : 0;
    CHECK(branch1 > 430);
    CHECK(branch1 < 570);
    const auto g = either.parse("1[width=32]");
    CHECK(either.to_string(g) == "1[width=32]");
    CHECK(parse_error(either, "2[width=32]").find("BRANCH < 2") != std::string::npos);
    const nascent::ops::conditional_mutation<nascent::ops::point_mutation,
                                             nascent::ops::point_mutation>
        mutate{.switch_probability = 0.25};
    int switched = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto child = mutate(either, g, gen);
        REQUIRE(either.is_valid(child));
        REQUIRE(child != g);
        switched += child.index() != g.index() ? 1 : 0;
    }
    CHECK(switched > 200);
    CHECK(switched < 300);
    CHECK(either.hash(g) != either.hash(either.parse("1[width=64]")));
}

TEST_CASE("mbconv: canonical genotypes, text form, neighbours and OFA mutation") {
    const nascent::mbconv::space space;
    CHECK(space.size() == doctest::Approx(std::pow(81.0 + 729.0 + 6561.0, 5)));
    rng gen(9);
    std::set<nascent::mbconv::arch> seen;
    for (int i = 0; i < 300; ++i) {
        const auto a = space.sample(gen);
        REQUIRE(space.is_valid(a));
        REQUIRE(space.parse(space.to_string(a)) == a);
        seen.insert(a);
        const auto child = nascent::mbconv::mutation{}(space, a, gen);
        REQUIRE(space.is_valid(child));
        REQUIRE(child != a);
    }
    CHECK(seen.size() == 300);
    const auto a = space.parse("k3e3-k3e3|k5e4-k5e4-k5e4|k7e6-k7e6-k7e6-k7e6|k3e3-k3e3|k3e3-k3e3");
    CHECK(a.depth_of(2) == 4);
    // 5 stages x 2 depth changes + 13 active layers x 4 choice changes.
    CHECK(space.neighbours(a).size() == 10 + 13 * 4);
    for (const auto& n : space.neighbours(a))
        REQUIRE(space.is_valid(n));
    CHECK(parse_error(space, "k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3").find("has 1 layers") !=
          std::string::npos);
    CHECK(parse_error(space, "k4e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3").find("kernel") !=
          std::string::npos);
    CHECK(parse_error(space, "k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3").find("5 stages") !=
          std::string::npos);
    CHECK(parse_error(space, "k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3")
              .find("more than 5") != std::string::npos);
    // REA uses the space's own mutation by default.
    static_assert(std::same_as<nascent::ops::default_mutator_t<nascent::mbconv::space>,
                               nascent::mbconv::mutation>);
}
