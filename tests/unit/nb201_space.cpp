#include <nascent/ops/categorical.hpp>
#include <nascent/space/nb201.hpp>

#include <doctest/doctest.h>

#include <array>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

namespace nb201 = nascent::nb201;

namespace {
int differing_edges(const nb201::cell& a, const nb201::cell& b) {
    int n = 0;
    for (std::size_t e = 0; e < nb201::num_edges; ++e)
        n += a[e] != b[e] ? 1 : 0;
    return n;
}
const std::string best_c10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_"
                             "conv_3x3~1|nor_conv_1x1~2|";
} // namespace

TEST_CASE("nb201: id <-> cell <-> string round trips for all 15,625 cells") {
    const nb201::space space;
    std::set<std::string> strings;
    for (std::uint64_t id = 0; id < space.size(); ++id) {
        const auto c = space.at(id);
        REQUIRE(space.is_valid(c));
        REQUIRE(space.id(c) == id);
        const auto s = space.to_string(c);
        REQUIRE(space.parse(s) == c);
        strings.insert(s);
    }
    CHECK(strings.size() == 15625);
}

TEST_CASE("nb201: string form follows the official layout") {
    const nb201::space space;
    const auto c = space.parse(best_c10);
    CHECK(c[0] == nb201::nor_conv_3x3); // 0 -> 1
    CHECK(c[3] == nb201::skip_connect); // 0 -> 3
    CHECK(c[5] == nb201::nor_conv_1x1); // 2 -> 3
    CHECK(space.to_string(c) == best_c10);
}

TEST_CASE("nb201: malformed arch strings are rejected with the string and the fault") {
    const nb201::space space;
    auto message = [&](const std::string& text) -> std::string {
        try {
            (void)space.parse(text);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "no error";
    };
    const auto unknown = message("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    CHECK(unknown.find("unknown op 'conv_5x5'") != std::string::npos);
    CHECK(unknown.find("|conv_5x5~0|") != std::string::npos);
    CHECK(
        message("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|").find("must read from node 0") !=
        std::string::npos);
    CHECK(message("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|x").find("trailing") !=
          std::string::npos);
    CHECK(message("|none~0||none~0|none~1|+|none~0|none~1|none~2|").find("expected '+'") !=
          std::string::npos);
    CHECK(message("").find("expected '|'") != std::string::npos);
    CHECK(message("|none~0|+|none~0|none~1|+|none~0|none~1|").find("missing") != std::string::npos);
    CHECK(message("|none0|+|none~0|none~1|+|none~0|none~1|none~2|").find("op~input") !=
          std::string::npos);
}

TEST_CASE("nb201: every cell has 24 distinct one-edge neighbours") {
    const nb201::space space;
    for (std::uint64_t id = 0; id < space.size(); id += 97) {
        const auto c = space.at(id);
        const auto neighbours = space.neighbours(c);
        std::set<nb201::cell> distinct(neighbours.begin(), neighbours.end());
        REQUIRE(distinct.size() == 24);
        for (const auto& n : neighbours)
            REQUIRE(differing_edges(c, n) == 1);
        // The generic categorical neighbourhood agrees with the space's own.
        std::set<nb201::cell> generic;
        for (std::size_t e = 0; e < 6; ++e) {
            for (std::uint8_t o = 0; o < 5; ++o) {
                if (o == c[e])
                    continue;
                auto n = c;
                n[e] = o;
                generic.insert(n);
            }
        }
        REQUIRE(generic == distinct);
    }
    CHECK(nascent::ops::neighbours(space, space.at(0)).size() == 24);
}

TEST_CASE("nb201: point mutation changes exactly one edge, uniformly over the 24 neighbours") {
    const nb201::space space;
    const nascent::ops::point_mutation mutate;
    nascent::rng gen(11);
    const auto parent = space.parse(best_c10);
    std::map<nb201::cell, int> counts;
    constexpr int draws = 48000;
    for (int i = 0; i < draws; ++i) {
        const auto child = mutate(space, parent, gen);
        REQUIRE(differing_edges(parent, child) == 1);
        ++counts[child];
    }
    CHECK(counts.size() == 24);
    double chi2 = 0;
    for (const auto& [cell, n] : counts)
        chi2 += (n - 2000.0) * (n - 2000.0) / 2000.0;
    CHECK(chi2 < 49.7); // 99.9 % quantile of chi-square(23)
}

TEST_CASE("nb201: uniform crossover takes every edge from one of the parents") {
    const nb201::space space;
    const nascent::ops::uniform_crossover cross;
    nascent::rng gen(2);
    const auto a = space.at(0);     // all none
    const auto b = space.at(15624); // all avg_pool
    int from_b = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto child = cross(space, a, b, gen);
        for (std::size_t e = 0; e < 6; ++e) {
            REQUIRE((child[e] == a[e] || child[e] == b[e]));
            from_b += child[e] == b[e] ? 1 : 0;
        }
    }
    CHECK(from_b > 2800);
    CHECK(from_b < 3200);
}

TEST_CASE("nb201: sampling covers the space uniformly") {
    const nb201::space space;
    nascent::rng gen(4);
    std::array<int, 5> op_counts{};
    for (int i = 0; i < 50000; ++i) {
        const auto c = space.sample(gen);
        ++op_counts[c[i % 6]];
    }
    for (int n : op_counts)
        CHECK(std::abs(n - 10000) < 400);
}

TEST_CASE("nb201: canonical key identifies cells computing the same function") {
    const nb201::space space;
    // A skip from node 0 to node 1 and a conv from 1 to the output equal a conv from 0 directly.
    const auto a = space.parse("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|");
    const auto b = space.parse("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|");
    CHECK(space.canonical_key(a) == space.canonical_key(b));
    // Edges into a node that only feeds zero edges do not matter.
    const auto c = space.parse("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
    const auto d = space.parse("|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
    CHECK(space.canonical_key(c) == space.canonical_key(d));
    // Different operations on the only path are different functions.
    CHECK(space.canonical_key(space.parse(best_c10)) != space.canonical_key(a));
    CHECK(space.canonical_key(c) == "#+#+0"); // NATS-Bench keeps one zero term per input
}
