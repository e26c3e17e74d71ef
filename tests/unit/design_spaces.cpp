// Design spaces and scaling rules: RegNet (quantized linear widths, the RegNetX design space) and
// EfficientNet (B0, compound scaling, B0…B7), checked against published configurations.
//
// Exact counts: parameters are the reference implementations' own (pycls' complexity and torch's
// parameter count give 2,684,792 and 6,196,040 for RegNetX-200MF/600MF; the EfficientNet reference
// gives 5,288,548 … 66,347,960 for B0…B7). FLOPs are multiply-accumulates; pycls' counter also adds
// the classifier's 1,000 bias additions (199,040,872 and 600,891,112), which the library's
// convention leaves out.

#include <nascent/concepts.hpp>
#include <nascent/space/efficientnet.hpp>
#include <nascent/space/regnet.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace regnet = nascent::regnet;
namespace effnet = nascent::efficientnet;

static_assert(nascent::SearchSpace<regnet::space>);
static_assert(nascent::PrintableSpace<regnet::space>);
static_assert(nascent::Mutator<regnet::perturb_one, regnet::space>);
static_assert(!nascent::EnumerableSpace<regnet::space>);  // continuous wa, wm: no dense ids
static_assert(!nascent::CategoricalSpace<regnet::space>); // the categorical operators do not apply

namespace {

std::vector<std::int64_t> widths(const regnet::design& d) {
    std::vector<std::int64_t> out;
    for (const auto& s : d.stages)
        out.push_back(s.width);
    return out;
}
std::vector<std::int64_t> depths(const regnet::design& d) {
    std::vector<std::int64_t> out;
    for (const auto& s : d.stages)
        out.push_back(s.depth);
    return out;
}
double relative_error(double ours, double published) {
    return std::abs(ours - published) / published;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// RegNet

TEST_CASE("RegNetX-200MF: quantized linear widths give the published stages") {
    const auto d = regnet::generate(regnet::regnetx_200mf);
    CHECK(regnet::block_widths(regnet::regnetx_200mf) ==
          std::vector<std::int64_t>{24, 56, 152, 152, 152, 152, 368, 368, 368, 368, 368, 368, 368});
    CHECK(widths(d) == std::vector<std::int64_t>{24, 56, 152, 368});
    CHECK(depths(d) == std::vector<std::int64_t>{1, 1, 4, 7});
    CHECK(d.levels == 4);
    for (const auto& s : d.stages)
        CHECK(s.group_width == 8);
}

TEST_CASE("RegNetX-600MF: quantized linear widths give the published stages") {
    const auto d = regnet::generate(regnet::regnetx_600mf);
    CHECK(widths(d) == std::vector<std::int64_t>{48, 96, 240, 528});
    CHECK(depths(d) == std::vector<std::int64_t>{1, 3, 5, 7});
    CHECK(d.levels == 4);
    for (const auto& s : d.stages)
        CHECK(s.group_width == 24);
}

TEST_CASE("RegNetX-200MF and 600MF: params and FLOPs of the published models") {
    const auto c200 = regnet::complexity(regnet::regnetx_200mf);
    CHECK(c200.params == 2'684'792);
    CHECK(c200.flops == 199'039'872);
    CHECK(relative_error(c200.params, 2.68e6) < 0.02);
    CHECK(relative_error(c200.flops, 0.2e9) < 0.02);

    const auto c600 = regnet::complexity(regnet::regnetx_600mf);
    CHECK(c600.params == 6'196'040);
    CHECK(c600.flops == 600'890'112);
    CHECK(relative_error(c600.params, 6.2e6) < 0.02);
    CHECK(relative_error(c600.flops, 0.6e9) < 0.02);

    // the input size and classifier enter where they should: 10 classes drop 990 outputs of the FC
    const auto ten = regnet::complexity(regnet::regnetx_200mf, {.num_classes = 10});
    CHECK(c200.params - ten.params == 990 * 368 + 990);
    CHECK(regnet::complexity(regnet::regnetx_200mf, {.resolution = 448}).flops > 3.9 * c200.flops);
}

TEST_CASE("one X block by hand: projection, bottleneck, group conv") {
    // 24 -> 56 channels, stride 2, g = 8 (7 groups of 8 channels) on 56x56 -> 28x28:
    // projection 24*56, a 24*56 (at 56x56), b 56*8*9, c 56*56, four BNs of 56
    const auto c = regnet::x_block_cost(24, 56, 2, 1.0, 8, 56, 56);
    CHECK(c.params == 24 * 56 + 24 * 56 + 56 * 8 * 9 + 56 * 56 + 4 * 2 * 56);
    CHECK(c.flops ==
          24 * 56 * 28 * 28 + 24 * 56 * 56 * 56 + 56 * 8 * 9 * 28 * 28 + 56 * 56 * 28 * 28);
    // same width, stride 1: no projection
    const auto id = regnet::x_block_cost(56, 56, 1, 1.0, 8, 28, 28);
    CHECK(id.params == 56 * 56 + 56 * 8 * 9 + 56 * 56 + 3 * 2 * 56);
    // bottleneck 1/4 with g = 2: 14 channels in 7 groups
    const auto narrow = regnet::x_block_cost(56, 56, 1, 0.25, 2, 28, 28);
    CHECK(narrow.params == 56 * 14 + 14 * 2 * 9 + 14 * 56 + 2 * (14 + 14 + 56));
}

TEST_CASE("width and group compatibility follows pycls, halves to even") {
    using cw = regnet::compatible_widths;
    CHECK(regnet::adjust_compatibility(56, 1.0, 24) == cw{48, 24}); // round(56/24) = 2
    CHECK(regnet::adjust_compatibility(40, 1.0, 16) == cw{32, 16}); // round(2.5) = 2, not 3
    CHECK(regnet::adjust_compatibility(56, 1.0, 16) == cw{64, 16}); // round(3.5) = 4
    CHECK(regnet::adjust_compatibility(16, 1.0, 32) == cw{16, 16}); // g capped at the width
    CHECK(regnet::adjust_compatibility(20, 2.0, 3) == cw{21, 3});   // multiple of lcm(3, 2)
    CHECK(regnet::adjust_compatibility(64, 0.25, 8) == cw{64, 8});  // bottleneck 16 = 2 groups
    CHECK(regnet::round_half_even(2.5) == 2);
    CHECK(regnet::round_half_even(3.5) == 4);
    CHECK(regnet::round_half_even(-2.5) == -2);
    CHECK(regnet::round_half_even(2.4999) == 2);
}

TEST_CASE("malformed RegNet parameters are refused by name") {
    auto p = regnet::regnetx_200mf;
    p.w0 = 20;
    CHECK_THROWS_WITH_AS((void)regnet::generate(p), doctest::Contains("w0=20"),
                         std::invalid_argument);
    p = regnet::regnetx_200mf;
    p.wm = 1.0;
    CHECK_THROWS_WITH_AS((void)regnet::generate(p), doctest::Contains("wm=1"),
                         std::invalid_argument);
}

TEST_CASE("the default space is RegNetX: published models valid, others not") {
    const regnet::space space;
    CHECK(space.is_valid(regnet::regnetx_200mf));
    CHECK(space.is_valid(regnet::regnetx_600mf));
    auto p = regnet::regnetx_200mf;
    p.depth = 11; // d in [12, 28]
    CHECK_FALSE(space.is_valid(p));
    p = regnet::regnetx_200mf;
    p.wm = 1.9; // RegNetX has wm >= 2
    CHECK_FALSE(space.is_valid(p));
    p = regnet::regnetx_200mf;
    p.group_width = 12; // not a power of two below 8 nor a multiple of 8
    CHECK_FALSE(space.is_valid(p));
    p = regnet::regnetx_200mf;
    p.bottleneck = 2; // b = 1
    CHECK_FALSE(space.is_valid(p));
    p = regnet::regnetx_200mf;
    p.wm = 2.0; // u_12 / w0 = 19.2 = 2^4.26: 5 levels, 5 stages
    CHECK(regnet::generate(p).stages.size() == 5);
    CHECK_FALSE(space.is_valid(p));
    // skipped quantization levels (wm barely above 1: 88 levels round to the widths 8 and 16)
    const regnet::params skipped{12, 8, 1.0, 1.01, 8, 1.0};
    const auto d = regnet::generate(skipped);
    CHECK(static_cast<std::int64_t>(d.stages.size()) < d.levels);
    const regnet::space loose({.wa = {1.0, 1.0}, .wm = {1.01, 1.01}, .stages = {1, 100}});
    CHECK_FALSE(loose.is_valid(skipped));
    CHECK(regnet::space({.wa = {8.0, 8.0}, .wm = {3.0, 3.0}, .stages = {1, 100}})
              .is_valid({12, 8, 8.0, 3.0, 8, 1.0})); // widths 8, 24, 72: 3 levels, 3 stages
}

TEST_CASE("sampling the RegNetX space: valid, on pycls' grids, spread over the ranges") {
    const regnet::space space;
    nascent::rng gen(2020);
    std::set<std::uint64_t> hashes;
    std::set<std::int64_t> depths_seen, groups_seen;
    double wa_min = 1e9, wa_max = 0, wm_min = 9, wm_max = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto p = space.sample(gen);
        REQUIRE(space.is_valid(p));
        CHECK(regnet::generate(p).stages.size() == 4);
        CHECK(p.w0 % 8 == 0);
        CHECK(std::abs(p.wa * 10 - std::round(p.wa * 10)) < 1e-9);
        CHECK(std::abs(p.wm * 1000 - std::round(p.wm * 1000)) < 1e-6);
        CHECK(p.bottleneck == 1.0);
        hashes.insert(space.hash(p));
        depths_seen.insert(p.depth);
        groups_seen.insert(p.group_width);
        wa_min = std::min(wa_min, p.wa);
        wa_max = std::max(wa_max, p.wa);
        wm_min = std::min(wm_min, p.wm);
        wm_max = std::max(wm_max, p.wm);
    }
    CHECK(hashes.size() > 990);
    CHECK(depths_seen.size() == 17); // every d in [12, 28]
    CHECK(groups_seen == std::set<std::int64_t>{1, 2, 4, 8, 16, 24, 32});
    CHECK(wa_min < 10);
    CHECK(wa_max > 200);
    CHECK(wm_min < 2.05);
    CHECK(wm_max > 2.95);

    nascent::rng a(5), b(5);
    for (int i = 0; i < 20; ++i)
        CHECK(space.sample(a) == space.sample(b));
}

TEST_CASE("a refined space samples only inside its constraints") {
    const regnet::space space({.depth = {14, 14}, .group_width = {8, 24}, .flops = {190e6, 210e6}});
    nascent::rng gen(7);
    for (int i = 0; i < 100; ++i) {
        const auto p = space.sample(gen);
        const auto c = regnet::complexity(p);
        CHECK(p.depth == 14);
        CHECK((p.group_width == 8 || p.group_width == 16 || p.group_width == 24));
        CHECK(c.flops >= 190e6);
        CHECK(c.flops <= 210e6);
    }
    CHECK(space.is_valid({14, 24, 30.0, 2.49, 8, 1.0}));         // 203.8 MF
    CHECK_FALSE(space.is_valid({14, 24, 36.44, 2.49, 8, 1.0}));  // 213.6 MF
    CHECK_FALSE(space.is_valid(regnet::regnetx_200mf));          // d = 13
    CHECK_FALSE(space.is_valid({14, 48, 36.97, 2.24, 24, 1.0})); // ~0.6 GF

    const regnet::space params_capped({.params = {0, 3e6}});
    for (int i = 0; i < 50; ++i)
        CHECK(regnet::complexity(params_capped.sample(gen)).params <= 3e6);

    const regnet::space wider_bottleneck({.bottleneck = {0.25, 4}});
    std::set<double> bs;
    for (int i = 0; i < 200; ++i)
        bs.insert(wider_bottleneck.sample(gen).bottleneck);
    CHECK(bs == std::set<double>{0.25, 0.5, 1, 2, 4});
}

TEST_CASE("impossible constraints fail clearly") {
    const regnet::space tiny({.flops = {1e3, 2e3}, .max_tries = 500});
    nascent::rng gen(1);
    CHECK_THROWS_WITH_AS((void)tiny.sample(gen), doctest::Contains("500 draws"),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(regnet::space({.depth = {20, 10}}), doctest::Contains("depth [20, 10]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(regnet::space({.w0 = {9, 15}}), doctest::Contains("w0 [9, 15]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(regnet::space({.wm = {0.5, 3}}), doctest::Contains("wm [0.5, 3]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(regnet::space({.group_width = {9, 15}}),
                         doctest::Contains("group_width [9, 15]"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(regnet::space({.bottleneck = {1, 3}}),
                         doctest::Contains("bottleneck [1, 3]"), std::invalid_argument);
}

TEST_CASE("RegNet text form: exact round trip, strict parse") {
    const regnet::space space;
    CHECK(space.to_string(regnet::regnetx_200mf) == "d=13,w0=24,wa=36.44,wm=2.49,g=8,b=1");
    CHECK(space.parse("d=16,w0=48,wa=36.97,wm=2.24,g=24,b=1") == regnet::regnetx_600mf);
    nascent::rng gen(3);
    for (int i = 0; i < 200; ++i) {
        const auto p = space.sample(gen);
        CHECK(space.parse(space.to_string(p)) == p);
    }
    const regnet::params odd{12, 8, 0.1 + 0.2, 1.0 / 3 + 1, 1, 0.25};
    CHECK(space.parse(space.to_string(odd)) == odd);

    auto rejects = [&](const char* text, const char* naming) {
        CHECK_THROWS_WITH_AS((void)space.parse(text), doctest::Contains(naming),
                             std::invalid_argument);
    };
    rejects("d=13,w0=24", "missing ',wa=");
    rejects("d=13,w0=24,wa=36.44,wm=2.49,g=8,b=1,x=2", "',x=2'");
    rejects("d=13,w0=24,wa=36.44,wm=2.49,b=1,g=8", "'g=...' but found 'b=1'");
    rejects("d=x,w0=24,wa=36.44,wm=2.49,g=8,b=1", "d='x'");
    rejects("d=13,w0=24,wa=36.44,wm=2.49,g=8 ,b=1", "g='8 '");
    rejects("d=13,w0=24,wa=nan,wm=2.49,g=8,b=1", "wa='nan'");
    rejects("d=13,w0=20,wa=36.44,wm=2.49,g=8,b=1", "w0=20");
    rejects("d=13,w0=24,wa=36.44,wm=0.9,g=8,b=1", "wm=0.9");
    rejects("d=13,w0=24,wa=36.44,wm=2.49,g=8,b=3", "b=3");
    rejects("", "missing ',w0=");
}

TEST_CASE("RegNet hash: equal parameters equal hashes, distinct ones apart") {
    const regnet::space space;
    auto p = regnet::regnetx_200mf;
    CHECK(space.hash(p) == space.hash(regnet::regnetx_200mf));
    std::set<std::uint64_t> hashes{space.hash(p)};
    p.wa = 36.45;
    hashes.insert(space.hash(p));
    p.wm = 2.5;
    hashes.insert(space.hash(p));
    p.group_width = 16;
    hashes.insert(space.hash(p));
    p.bottleneck = 2;
    hashes.insert(space.hash(p));
    CHECK(hashes.size() == 5);
    regnet::params zero{12, 8, 0.0, 2, 8, 1}, negative_zero{12, 8, -0.0, 2, 8, 1};
    CHECK(zero == negative_zero);
    CHECK(space.hash(zero) == space.hash(negative_zero));
}

TEST_CASE("perturb_one changes one free parameter by one step and stays in the space") {
    const regnet::space space;
    const regnet::perturb_one mutate;
    nascent::rng gen(11);
    int changed[6] = {};
    auto parent = space.sample(gen);
    for (int i = 0; i < 2000; ++i) {
        const auto child = mutate(space, parent, gen);
        REQUIRE(space.is_valid(child));
        const int diffs = (child.depth != parent.depth) + (child.w0 != parent.w0) +
                          (child.wa != parent.wa) + (child.wm != parent.wm) +
                          (child.group_width != parent.group_width) +
                          (child.bottleneck != parent.bottleneck);
        CHECK(diffs <= 1);
        if (child.depth != parent.depth) {
            ++changed[0];
            CHECK(std::abs(child.depth - parent.depth) == 1);
        }
        if (child.w0 != parent.w0) {
            ++changed[1];
            CHECK(std::abs(child.w0 - parent.w0) == 8);
        }
        if (child.wa != parent.wa) {
            ++changed[2];
            CHECK(std::abs(std::log(child.wa / parent.wa)) < std::log(1.1) + 0.1 / parent.wa);
        }
        if (child.wm != parent.wm) {
            ++changed[3];
            CHECK(std::abs(std::log(child.wm / parent.wm)) < std::log(1.1) + 0.001 / parent.wm);
        }
        if (child.group_width != parent.group_width)
            ++changed[4];
        if (child.bottleneck != parent.bottleneck)
            ++changed[5];
        parent = child;
    }
    for (int k = 0; k < 5; ++k)
        CHECK(changed[k] > 100); // every free parameter moves
    CHECK(changed[5] == 0);      // b is fixed at 1 in RegNetX

    // a step too small to leave the grid still moves one grid step (wm: 0.001)
    const regnet::space only_wm(
        {.depth = {13, 13}, .w0 = {24, 24}, .wa = {36.44, 36.44}, .group_width = {8, 8}});
    std::set<double> moved;
    for (int i = 0; i < 50; ++i) {
        moved.insert(regnet::perturb_one{.step = 0}(only_wm, regnet::regnetx_200mf, gen).wm);
    }
    CHECK(moved.size() == 2);
    CHECK(*moved.begin() == doctest::Approx(2.489).epsilon(1e-12));
    CHECK(*moved.rbegin() == doctest::Approx(2.491).epsilon(1e-12));

    // nothing free: the parent comes back
    const regnet::space point({.depth = {13, 13},
                               .w0 = {24, 24},
                               .wa = {36.44, 36.44},
                               .wm = {2.49, 2.49},
                               .group_width = {8, 8}});
    CHECK(mutate(point, regnet::regnetx_200mf, gen) == regnet::regnetx_200mf);
}

// ---------------------------------------------------------------------------------------------
// EfficientNet

TEST_CASE("EfficientNet-B0: layout, params and FLOPs") {
    const auto n = effnet::layout();
    CHECK(n.stem_channels == 32);
    CHECK(n.head_channels == 1280);
    const std::int64_t outs[] = {16, 24, 40, 80, 112, 192, 320};
    const std::int64_t repeats[] = {1, 2, 2, 3, 3, 4, 1};
    for (std::size_t i = 0; i < 7; ++i) {
        CHECK(n.stages[i].out_channels == outs[i]);
        CHECK(n.stages[i].repeats == repeats[i]);
    }
    const auto c = effnet::complexity();
    CHECK(c.params == 5'288'548); // the reference implementation's count
    CHECK(relative_error(c.params, 5.3e6) < 0.02);
    CHECK(c.flops == 385'814'752);
    CHECK(relative_error(c.flops, 0.39e9) < 0.05);
}

TEST_CASE("MBConv block cost by hand") {
    // B0 stage 2, first block: 16 -> 96 -> 24, k3 s2, SE 4, on 112x112 -> 56x56
    const auto c = nascent::cost::mbconv_block({.in_channels = 16,
                                                .mid_channels = 96,
                                                .out_channels = 24,
                                                .kernel = 3,
                                                .stride = 2,
                                                .se_channels = 4},
                                               112, 112);
    CHECK(c.params == 16 * 96 + 192 + 96 * 9 + 192 + (96 * 4 + 4) + (4 * 96 + 96) + 96 * 24 + 48);
    CHECK(c.flops == 16 * 96 * 112 * 112 + 96 * 9 * 56 * 56 + 2 * 96 * 4 + 96 * 24 * 56 * 56);
    // no expansion (mid == in) and no SE: depthwise + projection only; k5 keeps 14x14 at stride 1
    const auto plain = nascent::cost::mbconv_block(
        {.in_channels = 32, .mid_channels = 32, .out_channels = 16, .kernel = 5, .stride = 1}, 14,
        14);
    CHECK(plain.params == 32 * 25 + 64 + 32 * 16 + 32);
    CHECK(plain.flops == (32 * 25 + 32 * 16) * 14 * 14);
    // B0's SE squeezes the block input, not the expansion: 40 in -> 10
    const auto b = effnet::blocks(effnet::b0_stages[3]);
    REQUIRE(b.size() == 3);
    CHECK(b[0].se_channels == 10);
    CHECK(b[0].mid_channels == 240);
    CHECK(b[1].in_channels == 80);
    CHECK(b[1].se_channels == 20);
    CHECK(b[1].stride == 1);
}

TEST_CASE("round_filters and round_repeats follow the reference") {
    CHECK(effnet::round_filters(32, 1.1) == 32); // 35.2 -> 32
    CHECK(effnet::round_filters(16, 1.4) == 24); // 22.4 -> 24
    CHECK(effnet::round_filters(40, 1.1) == 48); // 44 -> 48 (44 + 4 rounds up)
    CHECK(effnet::round_filters(1280, 2.0) == 2560);
    CHECK(effnet::round_filters(17, 0.7) == 16); // 11.9 -> 8 is > 10 % below: 16
    CHECK(effnet::round_filters(3, 1.0) == 8);   // at least the divisor
    CHECK(effnet::round_repeats(3, 1.1) == 4);
    CHECK(effnet::round_repeats(1, 3.1) == 4);
    CHECK(effnet::round_repeats(2, 1.0) == 2);
    CHECK(effnet::round_repeats(4, 1.8) == 8); // 7.2 -> 8
}

TEST_CASE("compound scaling: alpha^phi, beta^phi, gamma^phi") {
    const auto m = effnet::compound_scaling(1);
    CHECK(m.depth == doctest::Approx(1.2));
    CHECK(m.width == doctest::Approx(1.1));
    CHECK(m.resolution == doctest::Approx(1.15));
    const auto m2 = effnet::compound_scaling(2);
    CHECK(m2.depth == doctest::Approx(1.44));
    CHECK(m2.width == doctest::Approx(1.21));
    CHECK(m2.resolution == doctest::Approx(1.3225));
    // alpha * beta^2 * gamma^2 ~ 2: FLOPs about double per unit of phi
    CHECK(m.depth * m.width * m.width * m.resolution * m.resolution == doctest::Approx(1.92027));
    const auto s1 = effnet::scaled(1);
    CHECK(s1.resolution == 258); // 224 * 1.15 = 257.6
    const double ratio = effnet::complexity(effnet::scaled(2)).flops / effnet::complexity().flops;
    CHECK(ratio > 3.2);
    CHECK(ratio < 5.0);
    CHECK(effnet::compound_scaling(0).depth == 1.0);
    CHECK_THROWS_AS((void)effnet::compound_scaling(std::nan("")), std::invalid_argument);
}

TEST_CASE("EfficientNet B0..B7: published coefficients, params and FLOPs") {
    CHECK(effnet::variant(3) == effnet::scaling{1.2, 1.4, 300});
    CHECK(effnet::variant(7) == effnet::scaling{2.0, 3.1, 600});
    CHECK_THROWS_WITH_AS((void)effnet::variant(8), doctest::Contains("B8"), std::invalid_argument);

    // reference implementation's exact counts, and the paper's rounded figures
    const double exact_params[] = {5'288'548,  7'794'184,  9'109'994,  12'233'232,
                                   19'341'616, 30'389'784, 43'040'704, 66'347'960};
    const double paper_params[] = {5.3e6, 7.8e6, 9.2e6, 12e6, 19e6, 30e6, 43e6, 66e6};
    const double paper_flops[] = {0.39e9, 0.70e9, 1.0e9, 1.8e9, 4.2e9, 9.9e9, 19e9, 37e9};
    const double our_flops[] = {385'814'752,   686'802'832,    993'561'872,    1'827'141'392,
                                4'393'771'024, 10'266'384'752, 19'067'593'536, 37'745'884'192};
    for (int b = 0; b < 8; ++b) {
        CAPTURE(b);
        const auto c = effnet::complexity(effnet::variant(b));
        CHECK(c.params == exact_params[b]);
        CHECK(relative_error(c.params, paper_params[b]) < 0.02);
        CHECK(c.flops == our_flops[b]);
        CHECK(relative_error(c.flops, paper_flops[b]) < 0.05);
    }
    // B7's layout: widths doubled, depths x3.1 rounded up
    const auto n7 = effnet::layout(effnet::variant(7));
    CHECK(n7.stem_channels == 64);
    CHECK(n7.head_channels == 2560);
    CHECK(n7.stages[6].out_channels == 640);
    CHECK(n7.stages[5].repeats == 13); // ceil(4 * 3.1)
    CHECK_THROWS_AS((void)effnet::layout({.width = 0}), std::invalid_argument);
}
