#include <nascent/core/rng.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <set>
#include <vector>

TEST_CASE("splitmix64 matches the reference stream") {
    // Vigna's splitmix64 from state 0 yields 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, ...
    std::uint64_t state = 0;
    CHECK(nascent::splitmix64(state) == 0xe220a8397b1dcdafULL);
    state += 0x9e3779b97f4a7c15ULL;
    CHECK(nascent::splitmix64(state) == 0x6e789e6aa1b965f4ULL);
}

TEST_CASE("derived seeds differ across runs and tasks and are pure functions") {
    std::set<std::uint64_t> seeds;
    for (std::uint64_t run = 0; run < 100; ++run) {
        for (std::uint64_t task = 0; task < 10; ++task) {
            seeds.insert(nascent::derive_seed(42, run, task));
        }
    }
    CHECK(seeds.size() == 1000);
    CHECK(nascent::derive_seed(42, 3, 1) == nascent::derive_seed(42, 3, 1));
    CHECK(nascent::derive_seed(42, 3) != nascent::derive_seed(43, 3));
}

TEST_CASE("rng is deterministic per seed") {
    nascent::rng a(7), b(7), c(8);
    for (int i = 0; i < 100; ++i) {
        const auto x = a();
        CHECK(x == b());
        (void)c();
    }
    CHECK(a == b);
    CHECK_FALSE(a == c);
}

TEST_CASE("uniform_index stays in range and is close to uniform") {
    nascent::rng gen(1);
    constexpr std::uint64_t n = 24;
    constexpr int draws = 240000;
    std::array<int, n> counts{};
    for (int i = 0; i < draws; ++i) {
        const auto k = nascent::uniform_index(gen, n);
        REQUIRE(k < n);
        ++counts[k];
    }
    // Chi-square with 23 degrees of freedom: 99.9 % quantile is 49.7.
    double chi2 = 0;
    const double expected = static_cast<double>(draws) / n;
    for (int c : counts)
        chi2 += (c - expected) * (c - expected) / expected;
    CHECK(chi2 < 49.7);
    CHECK(nascent::uniform_index(gen, 1) == 0);
}

TEST_CASE("uniform_real lies in the unit interval with mean 1/2") {
    nascent::rng gen(3);
    double sum = 0;
    for (int i = 0; i < 100000; ++i) {
        const double u = nascent::uniform_real(gen);
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        sum += u;
    }
    CHECK(sum / 100000 == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("shuffle permutes and is reproducible") {
    std::vector<int> a(50), b(50);
    std::iota(a.begin(), a.end(), 0);
    b = a;
    nascent::rng g1(5), g2(5);
    nascent::shuffle(a.begin(), a.end(), g1);
    nascent::shuffle(b.begin(), b.end(), g2);
    CHECK(a == b);
    std::vector<int> sorted = a;
    std::ranges::sort(sorted);
    std::vector<int> expected(50);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(sorted == expected);
    CHECK(a != expected);
}
