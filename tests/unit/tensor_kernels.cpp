// The run-time SIMD dispatch of the tensor layer's kernels (simd.hpp): every level this CPU
// supports runs every convolution path and the GEMM, each against a double-precision reference;
// AVX2 and AVX-512 give bit-identical results (same order of additions, FMA on both); the
// baseline (no FMA) stays within float rounding of them; each level is bit-identical across
// thread counts. Levels are forced with simd_scope, as NASCENT_SIMD forces them for a process.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/tensor.hpp>

#include "error_of.hpp"
#include "gradient_check.hpp"

#include <doctest/doctest.h>

#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

namespace t = nascent::tensor;
using nascent::test::random;
using t::ndarray;
using t::simd_level;
using t::variable;

namespace {

std::vector<simd_level> supported_levels() {
    std::vector<simd_level> levels;
    for (const auto l : {simd_level::baseline, simd_level::avx2, simd_level::avx512}) {
        if (t::simd_supported(l))
            levels.push_back(l);
    }
    return levels;
}

struct conv_case {
    const char* name;
    std::size_t n, cin, cout, h, w;
    t::conv2d_options options;
    std::size_t k = 3;
};

// Every path of conv2d: direct forward with and without a tail tile, partial and odd blocks of
// output channels, the direct input gradient (C_in >= 8), the weight gradient by positions
// (odd C_out too) and by channels (C_out % 16 == 0, 16 and 48), and the GEMM path (pointwise,
// strided, grouped, dilated, narrow layers), with batches that share one GEMM.
const std::vector<conv_case> conv_cases{
    {"direct 32x32, 8 -> 8", 2, 8, 8, 32, 32, {.padding = 1}},
    {"direct 16x16 (tail of 16), 5 -> 9", 3, 5, 9, 16, 16, {.padding = 1}},
    {"direct 8x8 (tail of 8), 16 -> 24", 2, 16, 24, 8, 8, {.padding = 1}},
    {"by channels 8x8, 8 -> 48", 2, 8, 48, 8, 8, {.padding = 1}},
    {"by channels 16x16, 16 -> 16", 2, 16, 16, 16, 16, {.padding = 1}},
    {"direct 5x5 kernel, 12x12, 8 -> 12", 2, 8, 12, 12, 12, {.padding = 2}, 5},
    {"pointwise 8x8, 16 -> 24", 3, 16, 24, 8, 8, {}, 1},
    {"stride 2, 16x16, 8 -> 16", 2, 8, 16, 16, 16, {.stride = 2, .padding = 1}},
    {"groups 2, 8x8, 16 -> 16", 2, 16, 16, 8, 8, {.padding = 1, .groups = 2}},
    {"dilation 2, 10x10, 4 -> 4", 2, 4, 4, 10, 10, {.padding = 2, .dilation = 2}},
    {"depthwise 8x8, 8 -> 8", 2, 8, 8, 8, 8, {.padding = 1, .groups = 8}},
};

struct conv_outputs {
    ndarray y, dx, dw, db;
};

conv_outputs run_conv(const conv_case& c, simd_level level) {
    const t::simd_scope scope(level);
    const variable x(random({c.n, c.cin, c.h, c.w}, 1), true);
    const variable w(random({c.cout, c.cin / c.options.groups, c.k, c.k}, 2, 0.3), true);
    const variable b(random({c.cout}, 3), true);
    const variable y = t::conv2d(x, w, b, c.options);
    y.backward(random(y.shape(), 4));
    return {y.value(), x.grad(), w.grad(), b.grad()};
}

// conv2d and its gradients for upstream gradient r, in double precision from the definition.
conv_outputs reference_conv(const conv_case& c) {
    const ndarray x = random({c.n, c.cin, c.h, c.w}, 1);
    const ndarray w = random({c.cout, c.cin / c.options.groups, c.k, c.k}, 2, 0.3);
    const ndarray b = random({c.cout}, 3);
    const auto& o = c.options;
    const std::size_t ho = (c.h + 2 * o.padding.h - o.dilation.h * (c.k - 1) - 1) / o.stride.h + 1;
    const std::size_t wo = (c.w + 2 * o.padding.w - o.dilation.w * (c.k - 1) - 1) / o.stride.w + 1;
    const ndarray r = random({c.n, c.cout, ho, wo}, 4);
    const std::size_t cin_g = c.cin / o.groups, cout_g = c.cout / o.groups;
    std::vector<double> y(r.size()), dx(x.size()), dw(w.size()), db(c.cout);
    for (std::size_t n = 0; n < c.n; ++n) {
        for (std::size_t co = 0; co < c.cout; ++co) {
            const std::size_t grp = co / cout_g;
            for (std::size_t oy = 0; oy < ho; ++oy) {
                for (std::size_t ox = 0; ox < wo; ++ox) {
                    const std::size_t out = ((n * c.cout + co) * ho + oy) * wo + ox;
                    double s = b[co];
                    for (std::size_t ci = 0; ci < cin_g; ++ci) {
                        for (std::size_t ki = 0; ki < c.k; ++ki) {
                            for (std::size_t kj = 0; kj < c.k; ++kj) {
                                const auto iy = static_cast<std::ptrdiff_t>(oy * o.stride.h +
                                                                            ki * o.dilation.h) -
                                                static_cast<std::ptrdiff_t>(o.padding.h);
                                const auto ix = static_cast<std::ptrdiff_t>(ox * o.stride.w +
                                                                            kj * o.dilation.w) -
                                                static_cast<std::ptrdiff_t>(o.padding.w);
                                if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(c.h) ||
                                    ix >= static_cast<std::ptrdiff_t>(c.w))
                                    continue;
                                const std::size_t in =
                                    ((n * c.cin + grp * cin_g + ci) * c.h + iy) * c.w + ix;
                                const std::size_t wi = ((co * cin_g + ci) * c.k + ki) * c.k + kj;
                                s += double{w[wi]} * x[in];
                                dx[in] += double{w[wi]} * r[out];
                                dw[wi] += double{x[in]} * r[out];
                            }
                        }
                    }
                    y[out] = s;
                    db[co] += r[out];
                }
            }
        }
    }
    const auto as_array = [](const std::vector<double>& v, const t::shape_t& s) {
        ndarray a(s);
        for (std::size_t i = 0; i < v.size(); ++i)
            a[i] = static_cast<float>(v[i]);
        return a;
    };
    return {as_array(y, r.shape()), as_array(dx, x.shape()), as_array(dw, w.shape()),
            as_array(db, b.shape())};
}

// max |a - b| / max(1, max |b|).
double relative_error(const ndarray& a, const ndarray& b) {
    REQUIRE(a.shape() == b.shape());
    double scale = 1.0, worst = 0.0;
    for (std::size_t i = 0; i < b.size(); ++i)
        scale = std::max(scale, std::abs(double{b[i]}));
    for (std::size_t i = 0; i < b.size(); ++i)
        worst = std::max(worst, std::abs(double{a[i]} - b[i]));
    return worst / scale;
}

bool identical(const ndarray& a, const ndarray& b) {
    return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

} // namespace

TEST_CASE("simd levels: names, parsing, support and the NASCENT_SIMD variable") {
    for (const auto l : {simd_level::baseline, simd_level::avx2, simd_level::avx512})
        CHECK(t::parse_simd(t::to_string(l)) == l);
    CHECK(nascent::test::error_of([] { (void)t::parse_simd("sse9"); }) ==
          "unknown SIMD level 'sse9' (valid: baseline, avx2, avx512)");
    CHECK(t::simd_supported(simd_level::baseline));
    CHECK(t::simd_supported(t::best_simd()));
    for (const auto l : supported_levels()) {
        const t::simd_scope scope(l);
        CHECK(t::simd() == l);
    }
    for (const auto l : {simd_level::avx2, simd_level::avx512}) {
        if (!t::simd_supported(l)) {
            CHECK(nascent::test::error_of([l] { t::set_simd(l); }) ==
                  "SIMD level " + std::string(t::to_string(l)) + " is not supported by this CPU");
        }
    }
    const char* saved = std::getenv("NASCENT_SIMD");
    const std::string before = saved != nullptr ? saved : "";
    ::setenv("NASCENT_SIMD", "baseline", 1);
    CHECK(t::detail::simd_from_environment() == simd_level::baseline);
    ::setenv("NASCENT_SIMD", "bogus", 1); // warns on stderr, runs on the best level
    CHECK(t::detail::simd_from_environment() == t::best_simd());
    ::unsetenv("NASCENT_SIMD");
    CHECK(t::detail::simd_from_environment() == t::best_simd());
    if (saved != nullptr)
        ::setenv("NASCENT_SIMD", before.c_str(), 1);
}

TEST_CASE("conv2d on every supported SIMD level: reference values, equal levels, thread counts") {
    const auto levels = supported_levels();
    MESSAGE("levels on this CPU: " << levels.size() << ", best " << t::to_string(t::best_simd()));
    for (const auto& c : conv_cases) {
        INFO(c.name);
        const conv_outputs ref = reference_conv(c);
        std::vector<conv_outputs> out;
        for (const auto l : levels) {
            INFO("level " << t::to_string(l));
            out.push_back(run_conv(c, l));
            const auto& o = out.back();
            CHECK(relative_error(o.y, ref.y) < 1e-5);
            CHECK(relative_error(o.dx, ref.dx) < 1e-5);
            CHECK(relative_error(o.dw, ref.dw) < 1e-5);
            CHECK(relative_error(o.db, ref.db) < 1e-5);
            const tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
            const conv_outputs serial = run_conv(c, l);
            CHECK(identical(serial.y, o.y));
            CHECK(identical(serial.dx, o.dx));
            CHECK(identical(serial.dw, o.dw));
        }
        for (std::size_t i = 1; i < levels.size(); ++i) {
            INFO("level " << t::to_string(levels[i]) << " against " << t::to_string(levels[i - 1]));
            if (levels[i - 1] == simd_level::baseline) { // no FMA there: rounding apart
                CHECK(relative_error(out[i].y, out[i - 1].y) < 1e-5);
                CHECK(relative_error(out[i].dx, out[i - 1].dx) < 1e-5);
                CHECK(relative_error(out[i].dw, out[i - 1].dw) < 1e-5);
            } else {
                CHECK(identical(out[i].y, out[i - 1].y));
                CHECK(identical(out[i].dx, out[i - 1].dx));
                CHECK(identical(out[i].dw, out[i - 1].dw));
                CHECK(identical(out[i].db, out[i - 1].db));
            }
        }
    }
}

TEST_CASE("gemm on every supported SIMD level: edges, transposes, accumulation") {
    const auto levels = supported_levels();
    struct shape {
        std::size_t m, n, k;
    };
    // Edges of every register tile (rows 4 and 8, columns 8, 24, 32) and of the k slices (256).
    for (const shape s : {shape{1, 1, 1}, shape{5, 7, 3}, shape{8, 32, 16}, shape{13, 45, 300},
                          shape{96, 100, 9}, shape{100, 513, 600}}) {
        for (const bool ta : {false, true}) {
            for (const bool tb : {false, true}) {
                for (const bool acc : {false, true}) {
                    INFO(s.m << "x" << s.n << "x" << s.k << " trans_a " << ta << " trans_b " << tb
                             << " accumulate " << acc);
                    const ndarray a = random({s.m * s.k}, 5);
                    const ndarray b = random({s.k * s.n}, 6);
                    const ndarray c0 = random({s.m * s.n}, 7);
                    const t::detail::gemm_operand ao{a.data(), ta ? s.m : s.k, ta};
                    const t::detail::gemm_operand bo{b.data(), tb ? s.k : s.n, tb};
                    ndarray expected({s.m * s.n});
                    for (std::size_t i = 0; i < s.m; ++i) {
                        for (std::size_t j = 0; j < s.n; ++j) {
                            double sum = acc ? c0[i * s.n + j] : 0.0;
                            for (std::size_t kk = 0; kk < s.k; ++kk)
                                sum += double{ao.at(i, kk)} * bo.at(kk, j);
                            expected[i * s.n + j] = static_cast<float>(sum);
                        }
                    }
                    std::vector<ndarray> results;
                    for (const auto l : levels) {
                        const t::simd_scope scope(l);
                        ndarray c = c0;
                        t::detail::gemm(s.m, s.n, s.k, ao, bo, c.data(), s.n, acc);
                        CHECK(relative_error(c, expected) < 1e-5);
                        results.push_back(c);
                    }
                    if (results.size() == 3) // avx2 and avx512: same additions, both FMA
                        CHECK(identical(results[1], results[2]));
                }
            }
        }
    }
}
