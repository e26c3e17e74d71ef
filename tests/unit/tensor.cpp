// The tensor / autograd layer: every op's forward against an independent double-precision
// reference, and its gradient against central finite differences of that reference; the checker
// itself is shown to reject wrong gradients. Then graph mechanics, modules, optimisers and
// determinism across thread counts.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/optim.hpp>
#include <nascent/tensor/tensor.hpp>

#include <doctest/doctest.h>

#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace t = nascent::tensor;
namespace nn = nascent::tensor::nn;
using t::ndarray;
using t::shape_t;
using t::variable;

namespace {

// ---------------------------------------------------------------------------------------------
// Double-precision reference implementations: plain loops, written from the definitions and
// sharing no code with the library.

struct dt {
    shape_t shape;
    std::vector<double> v;
    [[nodiscard]] std::size_t size() const { return v.size(); }
};

dt zeros(const shape_t& s) {
    return {s, std::vector<double>(t::element_count(s), 0.0)};
}
dt to_double(const ndarray& a) {
    return {a.shape(), {a.begin(), a.end()}};
}

// NumPy broadcasting of a binary op.
dt ref_broadcast(const dt& a, const dt& b, const std::function<double(double, double)>& f) {
    const std::size_t rank = std::max(a.shape.size(), b.shape.size());
    const auto padded = [rank](const shape_t& s) {
        shape_t p(rank - s.size(), 1);
        p.insert(p.end(), s.begin(), s.end());
        return p;
    };
    const shape_t pa = padded(a.shape);
    const shape_t pb = padded(b.shape);
    shape_t out(rank);
    for (std::size_t i = 0; i < rank; ++i)
        out[i] = std::max(pa[i], pb[i]);
    dt r = zeros(out);
    std::vector<std::size_t> idx(rank, 0);
    for (std::size_t o = 0; o < r.size(); ++o) {
        std::size_t rem = o;
        for (std::size_t i = rank; i-- > 0;) {
            idx[i] = rem % out[i];
            rem /= out[i];
        }
        std::size_t ia = 0;
        std::size_t ib = 0;
        for (std::size_t i = 0; i < rank; ++i) {
            ia = ia * pa[i] + (pa[i] == 1 ? 0 : idx[i]);
            ib = ib * pb[i] + (pb[i] == 1 ? 0 : idx[i]);
        }
        r.v[o] = f(a.v[ia], b.v[ib]);
    }
    return r;
}

dt ref_matmul(const dt& a, const dt& b) {
    const std::size_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
    dt r = zeros({m, n});
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t l = 0; l < k; ++l)
                r.v[i * n + j] += a.v[i * k + l] * b.v[l * n + j];
    return r;
}

dt ref_linear(const dt& x, const dt& w, const dt* b) {
    const std::size_t n = x.shape[0], in = x.shape[1], out = w.shape[0];
    dt r = zeros({n, out});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t o = 0; o < out; ++o) {
            double acc = b != nullptr ? b->v[o] : 0.0;
            for (std::size_t l = 0; l < in; ++l)
                acc += x.v[i * in + l] * w.v[o * in + l];
            r.v[i * out + o] = acc;
        }
    return r;
}

dt ref_conv2d(const dt& x, const dt& w, const dt* b, const t::conv2d_options& o) {
    const std::size_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
    const std::size_t oc = w.shape[0], cg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
    const std::size_t ocg = oc / o.groups;
    const auto ho = static_cast<std::size_t>(
        (static_cast<long>(h + 2 * o.padding.h) - static_cast<long>(o.dilation.h * (kh - 1) + 1)) /
            static_cast<long>(o.stride.h) +
        1);
    const auto wo = static_cast<std::size_t>(
        (static_cast<long>(wd + 2 * o.padding.w) - static_cast<long>(o.dilation.w * (kw - 1) + 1)) /
            static_cast<long>(o.stride.w) +
        1);
    dt r = zeros({n, oc, ho, wo});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t oo = 0; oo < oc; ++oo) {
            const std::size_t grp = oo / ocg;
            for (std::size_t oy = 0; oy < ho; ++oy)
                for (std::size_t ox = 0; ox < wo; ++ox) {
                    double acc = b != nullptr ? b->v[oo] : 0.0;
                    for (std::size_t ci = 0; ci < cg; ++ci)
                        for (std::size_t ky = 0; ky < kh; ++ky)
                            for (std::size_t kx = 0; kx < kw; ++kx) {
                                const long iy =
                                    static_cast<long>(oy * o.stride.h + ky * o.dilation.h) -
                                    static_cast<long>(o.padding.h);
                                const long ix =
                                    static_cast<long>(ox * o.stride.w + kx * o.dilation.w) -
                                    static_cast<long>(o.padding.w);
                                if (iy < 0 || ix < 0 || iy >= static_cast<long>(h) ||
                                    ix >= static_cast<long>(wd))
                                    continue;
                                const std::size_t ch = grp * cg + ci;
                                acc += x.v[((i * c + ch) * h + static_cast<std::size_t>(iy)) * wd +
                                           static_cast<std::size_t>(ix)] *
                                       w.v[((oo * cg + ci) * kh + ky) * kw + kx];
                            }
                    r.v[((i * oc + oo) * ho + oy) * wo + ox] = acc;
                }
        }
    return r;
}

// Batch norm with given (eval) or batch (train) statistics.
dt ref_batch_norm(const dt& x, const dt* gamma, const dt* beta, const dt* mean, const dt* var,
                  double eps) {
    const std::size_t n = x.shape[0], c = x.shape[1];
    const std::size_t plane = x.shape.size() == 4 ? x.shape[2] * x.shape[3] : 1;
    dt r = zeros(x.shape);
    for (std::size_t ch = 0; ch < c; ++ch) {
        double mu = 0.0, s2 = 0.0;
        if (mean != nullptr) {
            mu = mean->v[ch];
            s2 = var->v[ch];
        } else {
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < plane; ++j)
                    mu += x.v[(i * c + ch) * plane + j];
            mu /= static_cast<double>(n * plane);
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < plane; ++j) {
                    const double d = x.v[(i * c + ch) * plane + j] - mu;
                    s2 += d * d;
                }
            s2 /= static_cast<double>(n * plane);
        }
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < plane; ++j) {
                const std::size_t k = (i * c + ch) * plane + j;
                const double y = (x.v[k] - mu) / std::sqrt(s2 + eps);
                r.v[k] = y * (gamma != nullptr ? gamma->v[ch] : 1.0) +
                         (beta != nullptr ? beta->v[ch] : 0.0);
            }
    }
    return r;
}

dt ref_relu(dt x) {
    for (auto& v : x.v)
        v = std::max(v, 0.0);
    return x;
}

// Pooling over windows clipped to the image; `avg` divides by the real pixels or by k*k.
dt ref_pool(const dt& x, t::hw k, t::hw s, t::hw p, bool is_max, bool include_pad) {
    if (s == t::hw(0))
        s = k;
    const std::size_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
    const std::size_t ho = (h + 2 * p.h - k.h) / s.h + 1, wo = (w + 2 * p.w - k.w) / s.w + 1;
    dt r = zeros({n, c, ho, wo});
    for (std::size_t pl = 0; pl < n * c; ++pl)
        for (std::size_t oy = 0; oy < ho; ++oy)
            for (std::size_t ox = 0; ox < wo; ++ox) {
                double best = -std::numeric_limits<double>::infinity(), acc = 0.0;
                std::size_t count = 0;
                for (std::size_t ky = 0; ky < k.h; ++ky)
                    for (std::size_t kx = 0; kx < k.w; ++kx) {
                        const long iy = static_cast<long>(oy * s.h + ky) - static_cast<long>(p.h);
                        const long ix = static_cast<long>(ox * s.w + kx) - static_cast<long>(p.w);
                        if (iy < 0 || ix < 0 || iy >= static_cast<long>(h) ||
                            ix >= static_cast<long>(w))
                            continue;
                        const double v = x.v[(pl * h + static_cast<std::size_t>(iy)) * w +
                                             static_cast<std::size_t>(ix)];
                        best = std::max(best, v);
                        acc += v;
                        ++count;
                    }
                r.v[(pl * ho + oy) * wo + ox] =
                    is_max ? best : acc / static_cast<double>(include_pad ? k.h * k.w : count);
            }
    return r;
}

dt ref_global_avg_pool(const dt& x) {
    const std::size_t planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3];
    dt r = zeros({x.shape[0], x.shape[1]});
    for (std::size_t p = 0; p < planes; ++p) {
        for (std::size_t j = 0; j < plane; ++j)
            r.v[p] += x.v[p * plane + j];
        r.v[p] /= static_cast<double>(plane);
    }
    return r;
}

dt ref_softmax_ce(const dt& z, const std::vector<std::int32_t>& labels) {
    const std::size_t n = z.shape[0], c = z.shape[1];
    double loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        double total = 0.0;
        for (std::size_t j = 0; j < c; ++j)
            total += std::exp(z.v[i * c + j]);
        loss += std::log(total) - z.v[i * c + static_cast<std::size_t>(labels[i])];
    }
    return {{}, {loss / static_cast<double>(n)}};
}

dt ref_concat1(const std::vector<dt>& xs) {
    shape_t s = xs[0].shape;
    s[1] = 0;
    for (const auto& x : xs)
        s[1] += x.shape[1];
    dt r = zeros(s);
    const std::size_t inner = t::element_count(s) / (s[0] * s[1]);
    for (std::size_t i = 0; i < s[0]; ++i) {
        std::size_t ch0 = 0;
        for (const auto& x : xs) {
            for (std::size_t ch = 0; ch < x.shape[1]; ++ch)
                for (std::size_t j = 0; j < inner; ++j)
                    r.v[(i * s[1] + ch0 + ch) * inner + j] = x.v[(i * x.shape[1] + ch) * inner + j];
            ch0 += x.shape[1];
        }
    }
    return r;
}

// ---------------------------------------------------------------------------------------------
// The gradient checker

struct check_result {
    double forward_error = 0.0;          // max |f32 op - f64 reference| / max(1, max |ref|)
    std::vector<double> gradient_errors; // per input: max |analytic - numeric| / max |numeric|
    [[nodiscard]] double worst() const {
        return gradient_errors.empty()
                   ? 0.0
                   : *std::max_element(gradient_errors.begin(), gradient_errors.end());
    }
};

using op_fn = std::function<variable(const std::vector<variable>&)>;
using ref_fn = std::function<dt(const std::vector<dt>&)>;

// L = sum(R * op(inputs)) with fixed random R. The analytic gradient comes from op's backward
// in float32 (seeded with R); the numeric one from central differences of the double reference
// (step 1e-5, truncation and rounding errors ~1e-9, far below the 1e-3 tolerance).
check_result check_gradients(const std::vector<ndarray>& inputs, const op_fn& op, const ref_fn& ref,
                             std::uint64_t seed = 99) {
    std::vector<variable> vars;
    std::vector<dt> ref_inputs;
    for (const auto& a : inputs) {
        vars.emplace_back(a, true);
        ref_inputs.push_back(to_double(a));
    }
    const variable out = op(vars);
    nascent::rng gen(seed);
    const ndarray weights = t::randn(out.shape(), gen);
    const auto loss = [&](const std::vector<dt>& xs) {
        const dt y = ref(xs);
        REQUIRE(y.shape == out.shape());
        double l = 0.0;
        for (std::size_t i = 0; i < y.size(); ++i)
            l += weights[i] * y.v[i];
        return l;
    };
    check_result result;
    const dt expected = ref(ref_inputs);
    REQUIRE(expected.shape == out.shape());
    double scale = 1.0;
    for (const double v : expected.v)
        scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < expected.size(); ++i) {
        result.forward_error =
            std::max(result.forward_error, std::abs(out.value()[i] - expected.v[i]) / scale);
    }
    out.backward(weights);
    constexpr double h = 1e-5;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        const ndarray& analytic = vars[k].grad();
        std::vector<double> numeric(inputs[k].size());
        for (std::size_t j = 0; j < numeric.size(); ++j) {
            auto xs = ref_inputs;
            xs[k].v[j] += h;
            const double up = loss(xs);
            xs[k].v[j] -= 2 * h;
            numeric[j] = (up - loss(xs)) / (2 * h);
        }
        double largest = 0.0;
        double worst = 0.0;
        for (std::size_t j = 0; j < numeric.size(); ++j) {
            largest = std::max(largest, std::abs(numeric[j]));
            worst = std::max(worst, std::abs(analytic[j] - numeric[j]));
        }
        result.gradient_errors.push_back(worst / std::max(largest, 1e-12));
    }
    return result;
}

// Asserts a passing check and reports it.
void require_good(const check_result& r, const char* what) {
    INFO(what << ": forward error " << r.forward_error << ", worst gradient error " << r.worst());
    CHECK(r.forward_error < 1e-5);
    CHECK(r.worst() < 1e-3);
}

ndarray random(const shape_t& s, std::uint64_t seed, double scale = 1.0) {
    nascent::rng gen(seed);
    ndarray a = t::randn(s, gen);
    for (auto& v : a.values())
        v = static_cast<float>(v * scale);
    return a;
}

// The message of the std::invalid_argument that f throws ("" if none).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

// =============================================================================================
// The checker catches wrong gradients

namespace {
// x^2 with a backward that can be made wrong in several ways.
enum class flaw { none, scaled, one_element, dropped, sign };
variable square(const variable& x, flaw f) {
    ndarray out = x.value();
    for (auto& v : out.values())
        v *= v;
    return t::make_result(
        std::move(out), {x},
        [f](t::backward_context& ctx) {
            ndarray d = ctx.grad();
            for (std::size_t i = 0; i < d.size(); ++i)
                d[i] *= 2.0F * ctx.input(0)[i];
            float largest = 0.0F;
            for (const float v : d.values())
                largest = std::max(largest, std::abs(v));
            switch (f) {
            case flaw::none:
                break;
            case flaw::scaled:
                for (auto& v : d.values())
                    v *= 1.01F; // 1 % too large everywhere
                break;
            case flaw::one_element:
                d[3] += 0.01F * largest;
                break; // one entry off by 1 % of the max
            case flaw::dropped:
                return; // forgets to propagate
            case flaw::sign:
                for (auto& v : d.values())
                    v = -v;
                break;
            }
            ctx.accumulate(0, std::move(d));
        },
        "square");
}
} // namespace

TEST_CASE("gradient checker: passes a correct gradient and rejects wrong ones") {
    const std::vector<ndarray> in{random({4, 5}, 1)};
    const ref_fn ref = [](const std::vector<dt>& xs) {
        dt y = xs[0];
        for (auto& v : y.v)
            v *= v;
        return y;
    };
    const auto run = [&](flaw f) {
        return check_gradients(
            in, [f](const std::vector<variable>& v) { return square(v[0], f); }, ref);
    };
    const auto good = run(flaw::none);
    CHECK(good.worst() < 1e-5); // float32 backward vs double FD: far inside the tolerance
    require_good(good, "correct square");
    for (const flaw f : {flaw::scaled, flaw::one_element, flaw::dropped, flaw::sign}) {
        const auto bad = run(f);
        INFO("flaw " << static_cast<int>(f) << " error " << bad.worst());
        CHECK(bad.worst() > 5e-3); // well above the 1e-3 tolerance: the check would fail
    }
    // The forward check catches a wrong reference (i.e. a wrong forward) too.
    const auto wrong_forward = check_gradients(
        in, [](const std::vector<variable>& v) { return square(v[0], flaw::none); },
        [](const std::vector<dt>& xs) {
            dt y = xs[0];
            for (auto& v : y.v)
                v = v * v * 1.001;
            return y;
        });
    CHECK(wrong_forward.forward_error > 1e-4);
}

// =============================================================================================
// Every op, gradient-checked

TEST_CASE("gradcheck: add, sub, mul, scale with broadcasting") {
    const auto add_ref = [](const std::vector<dt>& x) {
        return ref_broadcast(x[0], x[1], [](double a, double b) { return a + b; });
    };
    const auto mul_ref = [](const std::vector<dt>& x) {
        return ref_broadcast(x[0], x[1], [](double a, double b) { return a * b; });
    };
    const op_fn add = [](const std::vector<variable>& v) { return v[0] + v[1]; };
    const op_fn mul = [](const std::vector<variable>& v) { return v[0] * v[1]; };
    require_good(check_gradients({random({3, 4}, 1), random({3, 4}, 2)}, add, add_ref), "add");
    require_good(check_gradients({random({2, 3, 4, 5}, 3), random({3, 1, 1}, 4)}, add, add_ref),
                 "add per-channel bias");
    require_good(check_gradients({random({4, 1}, 5), random({1, 5}, 6)}, add, add_ref),
                 "add two-sided broadcast");
    require_good(check_gradients({random({2, 3}, 7), random({}, 8)}, add, add_ref), "add scalar");
    require_good(check_gradients({random({3, 4}, 9), random({3, 4}, 10)}, mul, mul_ref), "mul");
    require_good(check_gradients({random({2, 3, 4, 5}, 11), random({3, 1, 1}, 12)}, mul, mul_ref),
                 "mul per-channel");
    require_good(check_gradients({random({5}, 13), random({4, 1}, 14)}, mul, mul_ref),
                 "mul outer product");
    require_good(check_gradients(
                     {random({3, 4}, 15), random({4}, 16)},
                     [](const std::vector<variable>& v) { return v[0] - v[1]; },
                     [](const std::vector<dt>& x) {
                         return ref_broadcast(x[0], x[1], [](double a, double b) { return a - b; });
                     }),
                 "sub");
    require_good(check_gradients(
                     {random({3, 4}, 17)},
                     [](const std::vector<variable>& v) { return 2.5F * v[0]; },
                     [](const std::vector<dt>& x) {
                         dt y = x[0];
                         for (auto& v : y.v)
                             v *= 2.5;
                         return y;
                     }),
                 "scale");
}

TEST_CASE("gradcheck: matmul and linear") {
    require_good(check_gradients(
                     {random({3, 4}, 1), random({4, 5}, 2)},
                     [](const std::vector<variable>& v) { return t::matmul(v[0], v[1]); },
                     [](const std::vector<dt>& x) { return ref_matmul(x[0], x[1]); }),
                 "matmul");
    require_good(check_gradients(
                     {random({6, 7}, 3), random({5, 7}, 4), random({5}, 5)},
                     [](const std::vector<variable>& v) { return t::linear(v[0], v[1], v[2]); },
                     [](const std::vector<dt>& x) { return ref_linear(x[0], x[1], &x[2]); }),
                 "linear");
    require_good(check_gradients(
                     {random({2, 7}, 6), random({3, 7}, 7)},
                     [](const std::vector<variable>& v) { return t::linear(v[0], v[1]); },
                     [](const std::vector<dt>& x) { return ref_linear(x[0], x[1], nullptr); }),
                 "linear without bias");
}

TEST_CASE("gradcheck: conv2d (padding, stride, dilation, groups, depthwise, 1x1, non-square)") {
    struct conv_case {
        const char* name;
        shape_t x, w;
        t::conv2d_options o;
        bool bias;
    };
    const std::vector<conv_case> cases{
        {"3x3 pad 1", {2, 3, 5, 5}, {4, 3, 3, 3}, {.padding = 1}, true},
        {"3x3 stride 2 pad 1, 7x6 input",
         {2, 2, 7, 6},
         {3, 2, 3, 3},
         {.stride = 2, .padding = 1},
         false},
        {"5 samples (chunks of 4)", {5, 2, 4, 4}, {3, 2, 3, 3}, {.padding = 1}, true},
        {"groups 2", {2, 4, 5, 5}, {6, 2, 3, 3}, {.padding = 1, .groups = 2}, true},
        {"depthwise", {2, 3, 5, 5}, {3, 1, 3, 3}, {.padding = 1, .groups = 3}, false},
        {"dilation 2", {1, 2, 7, 7}, {2, 2, 3, 3}, {.padding = 2, .dilation = 2}, false},
        {"1x1 pointwise", {2, 5, 4, 3}, {3, 5, 1, 1}, {}, true},
        {"1x1 stride 2", {2, 3, 5, 5}, {4, 3, 1, 1}, {.stride = 2}, false},
        {"1x3 kernel, padding 0x1", {2, 2, 4, 5}, {3, 2, 1, 3}, {.padding = {0, 1}}, true},
        {"5x5 stride 2x1 no padding", {1, 2, 9, 7}, {2, 2, 5, 5}, {.stride = {2, 1}}, false},
        {"3x3 no padding (rows narrower than the input)", {2, 2, 5, 6}, {3, 2, 3, 3}, {}, true},
        {"3x3 pad 2 (output larger than the input)",
         {2, 2, 3, 3},
         {2, 2, 3, 3},
         {.padding = 2},
         false},
        {"1x1 pad 1 (zero border)", {2, 3, 3, 2}, {2, 3, 1, 1}, {.padding = 1}, true},
        // Small planes put several samples in one GEMM, and several GEMMs in one chunk of the
        // weight-gradient reduction; the last batch and chunk are partial.
        {"batched: 14 samples of 3x3, pad 1", {14, 3, 3, 3}, {4, 3, 3, 3}, {.padding = 1}, true},
        {"batched: 9 samples, pointwise, groups 2",
         {9, 4, 2, 2},
         {6, 2, 1, 1},
         {.groups = 2},
         true},
        {"batched: 8 samples, 3x3 stride 2 pad 1",
         {8, 2, 5, 4},
         {3, 2, 3, 3},
         {.stride = 2, .padding = 1},
         false},
        {"batched: 8 samples, depthwise, dilation 2",
         {8, 2, 4, 4},
         {2, 1, 3, 3},
         {.padding = 2, .dilation = 2, .groups = 2},
         false},
        // >= 8 channels on both sides and wide rows: the direct kernel (forward and, for the
        // input gradient, the transposed convolution), with a partial tile of output channels.
        {"direct: 8 -> 9 channels, 3x3 pad 1", {2, 8, 4, 10}, {9, 8, 3, 3}, {.padding = 1}, true},
        {"direct: groups 2, dilation 2",
         {2, 16, 3, 16},
         {16, 8, 3, 3},
         {.padding = 2, .dilation = 2, .groups = 2},
         false},
        {"direct: 1x3 kernel, padding 0x1", {2, 8, 2, 9}, {8, 8, 1, 3}, {.padding = {0, 1}}, true},
        {"direct: 3x1 kernel, no padding", {2, 8, 5, 8}, {10, 8, 3, 1}, {}, false},
        // The direct weight gradients: vectorised over positions (rows of >= 16), and over
        // output channels (C_out / groups a multiple of 16: tiles of 32 and 16).
        {"direct dW by positions: 3 -> 9 channels, 16 wide",
         {2, 3, 3, 16},
         {9, 3, 3, 3},
         {.padding = 1},
         false},
        {"direct dW by channels: 3 -> 48 channels",
         {2, 3, 4, 5},
         {48, 3, 3, 3},
         {.padding = 1},
         true},
        {"direct dW by channels: groups 2, dilation 2",
         {2, 4, 5, 8},
         {32, 2, 3, 3},
         {.padding = 2, .dilation = 2, .groups = 2},
         false},
        {"8 channels, 1x1 pad 1 (padding beyond the kernel: GEMM)",
         {2, 3, 4, 9},
         {8, 3, 1, 1},
         {.padding = 1},
         true},
    };
    std::uint64_t seed = 1;
    for (const auto& c : cases) {
        std::vector<ndarray> in{random(c.x, seed++), random(c.w, seed++, 0.5)};
        if (c.bias)
            in.push_back(random({c.w[0]}, seed++));
        const auto o = c.o;
        const bool bias = c.bias;
        require_good(check_gradients(
                         in,
                         [o, bias](const std::vector<variable>& v) {
                             return t::conv2d(v[0], v[1], bias ? v[2] : variable{}, o);
                         },
                         [o, bias](const std::vector<dt>& x) {
                             return ref_conv2d(x[0], x[1], bias ? &x[2] : nullptr, o);
                         }),
                     c.name);
    }
}

TEST_CASE("gradcheck: batch norm in train and eval modes, with and without affine") {
    const double eps = 1e-5;
    for (const shape_t& s : {shape_t{4, 3, 3, 3}, shape_t{6, 4}}) {
        const std::size_t c = s[1];
        require_good(check_gradients(
                         {random(s, 1, 2.0), random({c}, 2), random({c}, 3)},
                         [c](const std::vector<variable>& v) {
                             ndarray rm({c}, 0.0F), rv({c}, 1.0F);
                             return t::batch_norm(v[0], v[1], v[2], &rm, &rv, {});
                         },
                         [eps](const std::vector<dt>& x) {
                             return ref_batch_norm(x[0], &x[1], &x[2], nullptr, nullptr, eps);
                         }),
                     "batch norm, train, affine");
        require_good(check_gradients(
                         {random(s, 4)},
                         [](const std::vector<variable>& v) {
                             return t::batch_norm(v[0], {}, {}, nullptr, nullptr, {});
                         },
                         [eps](const std::vector<dt>& x) {
                             return ref_batch_norm(x[0], nullptr, nullptr, nullptr, nullptr, eps);
                         }),
                     "batch norm, train, no affine, no running stats");
        const ndarray rm = random({c}, 5, 0.3);
        ndarray rv = random({c}, 6);
        for (auto& v : rv.values())
            v = 0.5F + std::abs(v);
        require_good(check_gradients(
                         {random(s, 7), random({c}, 8), random({c}, 9)},
                         [rm, rv](const std::vector<variable>& v) {
                             ndarray m = rm, var = rv;
                             return t::batch_norm(v[0], v[1], v[2], &m, &var, {.training = false});
                         },
                         [rm, rv, eps](const std::vector<dt>& x) {
                             const dt m = to_double(rm), var = to_double(rv);
                             return ref_batch_norm(x[0], &x[1], &x[2], &m, &var, eps);
                         }),
                     "batch norm, eval");
    }
}

TEST_CASE("gradcheck: relu, max and average pooling, global average pooling") {
    require_good(check_gradients(
                     {random({3, 7}, 1)},
                     [](const std::vector<variable>& v) { return t::relu(v[0]); },
                     [](const std::vector<dt>& x) { return ref_relu(x[0]); }),
                 "relu");
    struct pool_case {
        t::hw k, s, p;
    };
    for (const auto& c : {pool_case{2, 0, 0}, pool_case{3, 1, 1}, pool_case{3, 2, 1},
                          pool_case{{2, 3}, {1, 2}, {1, 1}}}) {
        require_good(check_gradients(
                         {random({2, 3, 6, 5}, 2)},
                         [c](const std::vector<variable>& v) {
                             return t::max_pool2d(v[0],
                                                  {.kernel = c.k, .stride = c.s, .padding = c.p});
                         },
                         [c](const std::vector<dt>& x) {
                             return ref_pool(x[0], c.k, c.s, c.p, true, false);
                         }),
                     "max pool");
        for (const bool include : {false, true}) {
            require_good(check_gradients(
                             {random({2, 3, 6, 5}, 3)},
                             [c, include](const std::vector<variable>& v) {
                                 return t::avg_pool2d(v[0], {.kernel = c.k,
                                                             .stride = c.s,
                                                             .padding = c.p,
                                                             .count_include_pad = include});
                             },
                             [c, include](const std::vector<dt>& x) {
                                 return ref_pool(x[0], c.k, c.s, c.p, false, include);
                             }),
                         include ? "avg pool, count_include_pad" : "avg pool");
        }
    }
    require_good(check_gradients(
                     {random({2, 3, 4, 5}, 4)},
                     [](const std::vector<variable>& v) { return t::global_avg_pool(v[0]); },
                     [](const std::vector<dt>& x) { return ref_global_avg_pool(x[0]); }),
                 "global average pool");
}

TEST_CASE("avg pool without count_include_pad averages only real pixels at the border") {
    const variable x(ndarray({1, 1, 2, 2}, {1.0F, 2.0F, 3.0F, 4.0F}));
    const auto y = t::avg_pool2d(x, {.kernel = 3, .stride = 1, .padding = 1});
    CHECK(y.value()[0] == doctest::Approx(2.5)); // (1 + 2 + 3 + 4) / 4
    const auto z =
        t::avg_pool2d(x, {.kernel = 3, .stride = 1, .padding = 1, .count_include_pad = true});
    CHECK(z.value()[0] == doctest::Approx(10.0 / 9.0));
}

TEST_CASE(
    "gradcheck: softmax cross-entropy, dropout, concat, narrow, reshape, flatten, sum, mean") {
    const std::vector<std::int32_t> labels{2, 0, 4, 1};
    require_good(check_gradients(
                     {random({4, 5}, 1, 2.0)},
                     [labels](const std::vector<variable>& v) {
                         return t::softmax_cross_entropy(v[0], labels);
                     },
                     [labels](const std::vector<dt>& x) { return ref_softmax_ce(x[0], labels); }),
                 "softmax cross-entropy");

    // Dropout: the reference replays the mask from a copy of the generator.
    nascent::rng gen(5);
    const nascent::rng replay = gen;
    const double p = 0.3;
    require_good(check_gradients(
                     {random({4, 6}, 2)},
                     [&gen, p](const std::vector<variable>& v) { return t::dropout(v[0], p, gen); },
                     [replay, p](const std::vector<dt>& x) {
                         nascent::rng g = replay;
                         dt y = x[0];
                         for (auto& v : y.v)
                             v = nascent::uniform_real(g) < p ? 0.0 : v / (1 - p);
                         return y;
                     }),
                 "dropout");

    require_good(check_gradients(
                     {random({2, 2, 3, 3}, 3), random({2, 1, 3, 3}, 4), random({2, 3, 3, 3}, 5)},
                     [](const std::vector<variable>& v) { return t::concat(v, 1); },
                     [](const std::vector<dt>& x) { return ref_concat1(x); }),
                 "concat");
    require_good(check_gradients(
                     {random({2, 5, 3}, 6)},
                     [](const std::vector<variable>& v) { return t::narrow(v[0], 1, 1, 3); },
                     [](const std::vector<dt>& x) {
                         dt y = zeros({2, 3, 3});
                         for (std::size_t i = 0; i < 2; ++i)
                             for (std::size_t c = 0; c < 3; ++c)
                                 for (std::size_t j = 0; j < 3; ++j)
                                     y.v[(i * 3 + c) * 3 + j] = x[0].v[(i * 5 + c + 1) * 3 + j];
                         return y;
                     }),
                 "narrow");
    require_good(check_gradients(
                     {random({2, 3, 4}, 7)},
                     [](const std::vector<variable>& v) {
                         return t::reshape(v[0], {4, 6});
                     },
                     [](const std::vector<dt>& x) {
                         return dt{{4, 6}, x[0].v};
                     }),
                 "reshape");
    require_good(check_gradients(
                     {random({2, 3, 2, 2}, 8)},
                     [](const std::vector<variable>& v) { return t::flatten(v[0]); },
                     [](const std::vector<dt>& x) {
                         return dt{{2, 12}, x[0].v};
                     }),
                 "flatten");
    require_good(check_gradients(
                     {random({3, 4}, 9)},
                     [](const std::vector<variable>& v) { return t::sum(v[0]); },
                     [](const std::vector<dt>& x) {
                         double s = 0;
                         for (const double v : x[0].v)
                             s += v;
                         return dt{{}, {s}};
                     }),
                 "sum");
    require_good(check_gradients(
                     {random({3, 4}, 10)},
                     [](const std::vector<variable>& v) { return t::mean(v[0]); },
                     [](const std::vector<dt>& x) {
                         double s = 0;
                         for (const double v : x[0].v)
                             s += v;
                         return dt{{}, {s / 12.0}};
                     }),
                 "mean");
}

TEST_CASE("gradcheck: a whole small network (conv, bn, relu, pool, linear, cross-entropy)") {
    const std::vector<std::int32_t> labels{1, 0, 2};
    const std::vector<ndarray> in{random({3, 2, 6, 6}, 1), random({4, 2, 3, 3}, 2, 0.4),
                                  random({4}, 3),          random({4}, 4),
                                  random({3, 36}, 5, 0.3), random({3}, 6)};
    require_good(check_gradients(
                     in,
                     [labels](const std::vector<variable>& v) {
                         auto h = t::conv2d(v[0], v[1], {}, {.padding = 1});
                         h = t::relu(t::batch_norm(h, v[2], v[3], nullptr, nullptr, {}));
                         h = t::flatten(t::max_pool2d(h, {.kernel = 2}));
                         return t::softmax_cross_entropy(t::linear(h, v[4], v[5]), labels);
                     },
                     [labels](const std::vector<dt>& x) {
                         dt h = ref_conv2d(x[0], x[1], nullptr, {.padding = 1});
                         h = ref_relu(ref_batch_norm(h, &x[2], &x[3], nullptr, nullptr, 1e-5));
                         h = ref_pool(h, 2, 0, 0, true, false);
                         h.shape = {3, 36};
                         return ref_softmax_ce(ref_linear(h, x[4], &x[5]), labels);
                     }),
                 "small network");
}

// =============================================================================================
// Graph mechanics

TEST_CASE("autograd: shared inputs, accumulation across backward calls, zero_grad") {
    const variable x(ndarray({3}, {1.0F, -2.0F, 3.0F}), true);
    const auto y = t::sum(x * x + x); // dy/dx = 2x + 1 (x used three times)
    y.backward();
    CHECK(x.grad() == ndarray({3}, {3.0F, -3.0F, 7.0F}));
    y.backward(); // leaves accumulate, as in PyTorch
    CHECK(x.grad() == ndarray({3}, {6.0F, -6.0F, 14.0F}));
    x.zero_grad();
    CHECK_FALSE(x.has_grad());
    CHECK(x.grad() == ndarray({3}, 0.0F)); // zeros when nothing arrived
}

TEST_CASE("autograd: leaves without requires_grad get no gradient, intermediates only on request") {
    const variable data(ndarray({2, 2}, 1.0F));
    const variable w(ndarray({2, 2}, 2.0F), true);
    const auto h = data * w;
    const auto kept = t::relu(h);
    kept.retain_grad();
    const auto loss = t::sum(kept * kept);
    CHECK_FALSE(data.requires_grad());
    CHECK(loss.requires_grad());
    CHECK(loss.op() == "sum");
    loss.backward();
    CHECK_FALSE(data.has_grad());
    CHECK_FALSE(h.has_grad()); // transient intermediate
    CHECK(kept.has_grad());
    CHECK(kept.grad() == ndarray({2, 2}, 4.0F)); // d(k^2)/dk = 2k = 4
    CHECK(w.grad() == ndarray({2, 2}, 4.0F));    // 2 k * data
}

TEST_CASE(
    "autograd: ops that reuse the incoming gradient's buffer leave retained gradients intact") {
    // scale, relu, add, batch_norm and reshape pass dL/d output on in place when nothing keeps it.
    nascent::rng gen(3);
    const ndarray x0 = t::randn({4, 3, 2, 2}, gen);
    const ndarray w0 = t::randn({4, 12}, gen);
    const auto run = [&](bool retain) {
        const variable x(x0, true);
        const auto a = t::scale(x, 2.0F);
        const auto b = t::relu(a);
        const auto c = t::add(b, b); // the same input twice
        const auto d = t::batch_norm(c, {}, {}, nullptr, nullptr);
        const auto e = t::reshape(d, {4, 12});
        if (retain) {
            for (const auto* v : {&a, &b, &c, &d, &e})
                v->retain_grad();
        }
        t::sum(e * variable(w0)).backward();
        std::vector<ndarray> grads{x.grad()};
        if (retain) {
            for (const auto* v : {&a, &b, &c, &d, &e})
                grads.push_back(v->grad());
        }
        return grads;
    };
    const auto plain = run(false);
    const auto kept = run(true);
    REQUIRE(kept.size() == 6);
    CHECK(kept[0] == plain[0]);
    CHECK(kept[5] == w0);                            // d sum(e * w) / de
    CHECK(kept[4] == w0.reshaped({4, 3, 2, 2}));     // reshape passes it back unchanged
    for (std::size_t i = 0; i < kept[2].size(); ++i) // relu's gradient is add's, doubled
        CHECK(kept[2][i] == 2.0F * kept[3][i]);
}

TEST_CASE("autograd: no_grad_guard records nothing and restores the mode") {
    const variable w(ndarray({2}, 1.0F), true);
    CHECK(t::is_grad_enabled());
    {
        const t::no_grad_guard guard;
        CHECK_FALSE(t::is_grad_enabled());
        const auto y = t::sum(w * w);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.is_leaf());
        CHECK(contains(error_of([&] { y.backward(); }), "does not require grad"));
        { const t::no_grad_guard nested; }
        CHECK_FALSE(t::is_grad_enabled());
    }
    CHECK(t::is_grad_enabled());
    CHECK(t::sum(w * w).requires_grad());
}

TEST_CASE("autograd: detach, set_requires_grad, seeds, and input gradients (jacob_cov)") {
    const variable x(ndarray({2, 3}, {1, 2, 3, 4, 5, 6}), true);
    const auto y = x * x;
    const auto d = y.detach();
    CHECK(d.is_leaf());
    CHECK_FALSE(d.requires_grad());
    CHECK(d.value() == y.value());
    CHECK(contains(error_of([&] { y.set_requires_grad(false); }), "not a leaf"));
    CHECK(contains(error_of([&] { y.backward(); }), "one-element"));
    CHECK(contains(error_of([&] { y.backward(ndarray({3}, 1.0F)); }), "seed of shape [3]"));
    y.backward(ndarray({2, 3}, 1.0F)); // d sum(x^2) / dx = 2x
    CHECK(x.grad() == ndarray({2, 3}, {2, 4, 6, 8, 10, 12}));
    CHECK(contains(error_of([] { (void)variable().value(); }), "null handle"));
}

TEST_CASE("autograd: a deep chain does not overflow the stack (backward or destruction)") {
    variable x(ndarray({4}, 1.0F), true);
    variable h = x;
    for (int i = 0; i < 100000; ++i)
        h = h * 1.0F;
    t::sum(h).backward();
    CHECK(x.grad() == ndarray({4}, 1.0F));
}

// =============================================================================================
// Errors name the bad value

TEST_CASE("ops reject bad shapes and options with messages naming them") {
    const variable x(ndarray({2, 3, 5, 5}));
    const variable w(ndarray({4, 2, 3, 3}));
    CHECK(contains(error_of([&] { (void)t::conv2d(x, w); }), "expects 2 input channels, got 3"));
    CHECK(contains(error_of([&] {
                       (void)t::conv2d(variable(ndarray({2, 3})), w);
                   }),
                   "input must be [N, C, H, W], got [2, 3]"));
    CHECK(contains(error_of([&] {
                       (void)t::conv2d(x, variable(ndarray({4, 3, 7, 7})));
                   }),
                   "does not fit input [2, 3, 5, 5]"));
    CHECK(contains(error_of([&] {
                       (void)t::conv2d(x, variable(ndarray({4, 1, 3, 3})), {}, {.groups = 2});
                   }),
                   "groups 2 must divide C_in 3"));
    CHECK(contains(error_of([&] {
                       (void)t::add(variable(ndarray({2, 3})), variable(ndarray({4})));
                   }),
                   "shapes [2, 3] and [4] do not broadcast"));
    CHECK(contains(error_of([&] {
                       (void)t::matmul(variable(ndarray({2, 3})), variable(ndarray({2, 3})));
                   }),
                   "[2, 3] x [2, 3]"));
    const std::vector<std::int32_t> bad{0, 7};
    CHECK(contains(error_of([&] {
                       (void)t::softmax_cross_entropy(variable(ndarray({2, 5})), bad);
                   }),
                   "label 7 of row 1 outside [0, 5)"));
    nascent::rng gen(0);
    CHECK(contains(error_of([&] { (void)t::dropout(x, 1.0, gen); }),
                   "probability 1.000000 outside [0, 1)"));
    CHECK(contains(
        error_of([&] { (void)t::batch_norm(x, {}, {}, nullptr, nullptr, {.training = false}); }),
        "eval mode needs running statistics"));
    CHECK(contains(error_of([&] { (void)t::max_pool2d(x, {.kernel = 2, .padding = 2}); }),
                   "padding 2 exceeds half the kernel 2"));
    CHECK(contains(error_of([&] { (void)t::reshape(x, {7}); }),
                   "cannot view shape [2, 3, 5, 5] as [7]"));
    CHECK(contains(error_of([&] { (void)t::narrow(x, 1, 2, 2); }), "exceeds extent 3 of axis 1"));
    CHECK(contains(error_of([] {
                       (void)ndarray({2, 2}, {1.0F, 2.0F});
                   }),
                   "2 values for shape [2, 2]"));
}

// =============================================================================================
// Batch norm statistics

TEST_CASE("batch norm updates running statistics like PyTorch and uses them in eval mode") {
    const ndarray xv({4, 1, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8}); // mean 4.5, biased var 5.25
    ndarray rm({1}, 0.0F), rv({1}, 1.0F);
    const auto y = t::batch_norm(variable(xv), {}, {}, &rm, &rv, {.momentum = 0.1F});
    CHECK(rm[0] == doctest::Approx(0.45));
    CHECK(rv[0] == doctest::Approx(0.9 + 0.1 * 6.0)); // unbiased 5.25 * 8 / 7 = 6
    CHECK(y.value()[0] == doctest::Approx((1 - 4.5) / std::sqrt(5.25 + 1e-5)).epsilon(1e-5));
    const auto z = t::batch_norm(variable(xv), {}, {}, &rm, &rv, {.training = false});
    CHECK(z.value()[0] == doctest::Approx((1 - 0.45) / std::sqrt(1.5 + 1e-5)).epsilon(1e-5));
    CHECK(rm[0] == doctest::Approx(0.45)); // eval does not update
}

// =============================================================================================
// Determinism: same results for any number of threads

namespace {
// Gradients of every parameter and the input after one forward/backward of a small network.
// Covers every convolution path: the direct kernel (forward, input gradient, weight gradient by
// positions for 8 and by channels for 16 output channels), GEMMs over batches of samples
// (depthwise), the transposed-convolution GEMM (3 input channels).
std::vector<ndarray> network_gradients() {
    nascent::rng gen(3);
    nn::sequential net;
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 3, .out_channels = 8, .padding = 1}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 8}));
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 8, .out_channels = 16, .padding = 1, .bias = false},
        gen));
    net.add(std::make_shared<nn::avg_pool2d>(
        t::avg_pool2d_options{.kernel = 3, .stride = 1, .padding = 1}));
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{
            .in_channels = 16, .out_channels = 16, .kernel = 3, .padding = 1, .groups = 16},
        gen));
    net.add(std::make_shared<nn::max_pool2d>(t::max_pool2d_options{.kernel = 2}));
    net.add(std::make_shared<nn::global_avg_pool>());
    net.add(std::make_shared<nn::linear>(nn::linear_options{.in_features = 16, .out_features = 5},
                                         gen));
    const variable x(t::randn({37, 3, 16, 16}, gen), true);
    std::vector<std::int32_t> labels(37);
    for (std::size_t i = 0; i < labels.size(); ++i)
        labels[i] = static_cast<std::int32_t>(i % 5);
    t::softmax_cross_entropy(net(x), labels).backward();
    std::vector<ndarray> out{x.grad()};
    for (const auto& p : net.parameters())
        out.push_back(p.grad());
    return out;
}
} // namespace

TEST_CASE("results are bit-identical for 1 and 2 threads") {
    std::vector<ndarray> one, two;
    tbb::task_arena(1).execute([&] { one = network_gradients(); });
    tbb::task_arena(2).execute([&] { two = network_gradients(); });
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i)
        CHECK(one[i] == two[i]);
    CHECK(network_gradients() == one);
}

// =============================================================================================
// Modules

TEST_CASE("modules: parameters, names, buffers, modes") {
    nascent::rng gen(0);
    nn::sequential net;
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 3, .out_channels = 4, .bias = false}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 4}));
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::global_avg_pool>());
    net.add(
        std::make_shared<nn::linear>(nn::linear_options{.in_features = 4, .out_features = 2}, gen));
    std::vector<std::string> names;
    for (const auto& [name, p] : net.named_parameters())
        names.push_back(name);
    CHECK(names ==
          std::vector<std::string>{"0.weight", "1.weight", "1.bias", "4.weight", "4.bias"});
    CHECK(net.parameter_count() == 4 * 3 * 9 + 4 + 4 + 2 * 4 + 2);
    const auto buffers = net.named_buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].first == "1.running_mean");
    for (const auto& p : net.parameters())
        CHECK(p.requires_grad());
    CHECK(net.is_training());
    net.eval();
    CHECK_FALSE(net[1].is_training());
    net.train();
    CHECK(net[1].is_training());
    CHECK(net[0].kind() == "conv2d");
    CHECK(net.forward(variable(ndarray({2, 3, 5, 5}, 0.5F))).shape() == shape_t{2, 2});
}

TEST_CASE("modules: initialisation follows PyTorch's defaults and the generator") {
    nascent::rng gen(1);
    const nn::conv2d conv({.in_channels = 16, .out_channels = 64, .kernel = 3}, gen);
    const double bound = 1.0 / std::sqrt(16.0 * 9.0); // kaiming_uniform(a = sqrt 5)
    double sum2 = 0;
    for (const float v : conv.weight().value().values()) {
        CHECK(std::abs(v) <= bound);
        sum2 += static_cast<double>(v) * v;
    }
    CHECK(std::sqrt(sum2 / 9216.0) == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.03));
    for (const float v : conv.bias().value().values())
        CHECK(std::abs(v) <= bound);

    const nn::conv2d he({.in_channels = 32,
                         .out_channels = 64,
                         .kernel = 3,
                         .init = nn::weight_init::kaiming_normal_fan_out},
                        gen);
    double s2 = 0;
    for (const float v : he.weight().value().values())
        s2 += static_cast<double>(v) * v;
    CHECK(std::sqrt(s2 / static_cast<double>(he.weight().size())) ==
          doctest::Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.03));
    CHECK(he.bias().value() == ndarray({64}, 0.0F));

    nascent::rng a(7), b(7);
    CHECK(nn::linear({.in_features = 5, .out_features = 3}, a).weight().value() ==
          nn::linear({.in_features = 5, .out_features = 3}, b).weight().value());
    CHECK(contains(
        error_of([&] { nn::conv2d({.in_channels = 3, .out_channels = 4, .groups = 2}, gen); }),
        "groups 2"));
}

TEST_CASE("modules: forward hooks see every layer's output and can be removed") {
    nascent::rng gen(2);
    nn::sequential net;
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 1, .out_channels = 2, .padding = 1}, gen));
    net.add(std::make_shared<nn::relu>());
    net.add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 2, .out_channels = 2, .padding = 1}, gen));
    net.add(std::make_shared<nn::relu>());
    std::vector<ndarray> activations;
    std::vector<std::size_t> handles;
    net.visit([&](nn::module& m) {
        if (m.kind() == "relu") {
            handles.push_back(
                m.add_forward_hook([&](nn::module&, const variable&, const variable& out) {
                    activations.push_back(out.value());
                    out.retain_grad(); // e.g. Fisher needs activation gradients
                }));
        }
    });
    const auto y = net(variable(t::randn({2, 1, 4, 4}, gen)));
    REQUIRE(activations.size() == 2);
    CHECK(activations[1] == y.value());
    t::sum(y).backward();
    net[1].remove_forward_hook(handles[0]);
    (void)net(variable(t::randn({2, 1, 4, 4}, gen)));
    CHECK(activations.size() == 3);
}

TEST_CASE("modules: state and load_state round trip (synflow's |w| and back)") {
    nascent::rng gen(4);
    nn::sequential net;
    net.add(
        std::make_shared<nn::conv2d>(nn::conv2d_options{.in_channels = 2, .out_channels = 3}, gen));
    net.add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 3}));
    const auto saved = net.state();
    {
        const t::no_grad_guard guard;
        for (const auto& p : net.parameters())
            for (auto& v : p.mutable_value().values())
                v = std::abs(v);
        (void)net(variable(t::randn({2, 2, 4, 4}, gen))); // moves the running statistics
    }
    CHECK(net.state() != saved);
    net.load_state(saved);
    CHECK(net.state() == saved);
    CHECK(contains(error_of([&] { net.load_state(std::vector<ndarray>(2)); }),
                   "2 arrays for 4 parameters and 2 buffers"));
}

TEST_CASE("modules: batch_norm2d without running stats normalises by the batch in eval mode") {
    nn::batch_norm2d bn({.channels = 2, .affine = false, .track_running_stats = false});
    bn.eval();
    nascent::rng gen(5);
    const auto y = bn(variable(t::randn({4, 2, 3, 3}, gen)));
    double mean = 0;
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 9; ++j)
            mean += y.value()[(i * 2) * 9 + j];
    CHECK(std::abs(mean / 36.0) < 1e-5);
    CHECK(bn.parameters().empty());
    CHECK(bn.named_buffers().empty());
}

// =============================================================================================
// Optimisers

TEST_CASE("sgd: momentum, nesterov and weight decay follow torch.optim.SGD") {
    const variable p(ndarray({2}, {1.0F, -2.0F}), true);
    t::optim::sgd opt({p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
    // Reference in double for grad g = p (loss = sum(p^2) / 2).
    double w[2] = {1.0, -2.0}, buf[2] = {0, 0};
    for (int step = 0; step < 3; ++step) {
        opt.zero_grad();
        t::scale(t::sum(p * p), 0.5F).backward();
        opt.step();
        for (int k = 0; k < 2; ++k) {
            const double d = w[k] + 0.01 * w[k];
            buf[k] = step == 0 ? d : 0.9 * buf[k] + d;
            w[k] -= 0.1 * (d + 0.9 * buf[k]);
        }
        CHECK(p.value()[0] == doctest::Approx(w[0]).epsilon(1e-6));
        CHECK(p.value()[1] == doctest::Approx(w[1]).epsilon(1e-6));
    }
    // Plain momentum and dampening.
    const variable q(ndarray({1}, 1.0F), true);
    t::optim::sgd plain({q}, {.lr = 0.5, .momentum = 0.5, .dampening = 0.5});
    double wq = 1.0, bq = 0.0;
    for (int step = 0; step < 3; ++step) {
        plain.zero_grad();
        t::sum(q * q).backward(); // g = 2q
        plain.step();
        const double g = 2 * wq;
        bq = step == 0 ? g : 0.5 * bq + 0.5 * g;
        wq -= 0.5 * bq;
        CHECK(q.value()[0] == doctest::Approx(wq).epsilon(1e-6));
    }
}

TEST_CASE("sgd: parameters without a gradient are left alone, bad options are named") {
    const variable used(ndarray({1}, 1.0F), true), unused(ndarray({1}, 1.0F), true);
    t::optim::sgd opt({used, unused}, {.lr = 0.1, .weight_decay = 0.5});
    t::sum(used * 3.0F).backward();
    opt.step();
    CHECK(used.value()[0] == doctest::Approx(1.0 - 0.1 * (3.0 + 0.5)));
    CHECK(unused.value()[0] == 1.0F);
    CHECK(contains(error_of([&] { t::optim::sgd({used}, {.lr = -1.0}); }), "lr -1.000000"));
    CHECK(
        contains(error_of([&] { t::optim::sgd({used}, {.momentum = 1.5}); }), "momentum 1.500000"));
    CHECK(contains(error_of([&] { t::optim::sgd({used}, {.nesterov = true}); }),
                   "nesterov needs momentum > 0"));
    CHECK(contains(error_of([&] { t::optim::sgd({t::relu(used)}, {}); }),
                   "parameter 0 is not a leaf"));
}

TEST_CASE("cosine schedule with warmup, gradient clipping") {
    const t::optim::cosine_schedule s(
        {.base_lr = 0.1, .total_steps = 110, .warmup_steps = 10, .min_lr = 0.0});
    CHECK(s.lr(0) == doctest::Approx(0.01));
    CHECK(s.lr(9) == doctest::Approx(0.1));
    CHECK(s.lr(10) == doctest::Approx(0.1));
    CHECK(s.lr(60) == doctest::Approx(0.05));
    CHECK(s.lr(109) == doctest::Approx(0.1 * 0.5 * (1 + std::cos(std::numbers::pi * 99 / 100))));
    CHECK(s.lr(110) == 0.0);
    CHECK(
        contains(error_of([] { t::optim::cosine_schedule({.total_steps = 5, .warmup_steps = 6}); }),
                 "total_steps 5"));

    const variable a(ndarray({2}, {3.0F, 0.0F}), true), b(ndarray({1}, 4.0F), true);
    (t::sum(a * a * 0.5F) + t::sum(b * b * 0.5F)).backward(); // grads (3, 0) and (4): norm 5
    const std::vector<variable> ps{a, b};
    CHECK(t::optim::clip_grad_norm(ps, 1.0) == doctest::Approx(5.0));
    CHECK(t::optim::grad_norm(ps) == doctest::Approx(1.0).epsilon(1e-5));
}
