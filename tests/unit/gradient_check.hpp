#pragma once
// The gradient checker the tensor tests share: an op's float32 forward against an independent
// double-precision reference, and its backward against central finite differences of that
// reference.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd/core.hpp>
#include <nascent/tensor/tensor.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <vector>

namespace nascent::test {

/// A double-precision array for reference implementations.
struct dt {
    tensor::shape_t shape;
    std::vector<double> v;
    [[nodiscard]] std::size_t size() const { return v.size(); }
};
using values = std::vector<double>; // a flat reference value, for references that ignore shapes

inline dt zeros(const tensor::shape_t& s) {
    return {s, std::vector<double>(tensor::element_count(s), 0.0)};
}
inline dt to_double(const tensor::ndarray& a) {
    return {a.shape(), {a.begin(), a.end()}};
}

/// randn of `s` from `seed`, times scale.
inline tensor::ndarray random(const tensor::shape_t& s, std::uint64_t seed, double scale = 1.0) {
    nascent::rng gen(seed);
    tensor::ndarray a = tensor::randn(s, gen);
    for (auto& v : a.values())
        v = static_cast<float>(v * scale);
    return a;
}

struct check_result {
    double forward_error = 0.0;          // max |f32 op - f64 reference| / max(1, max |ref|)
    std::vector<double> gradient_errors; // per input: max |analytic - numeric| / max |numeric|
    [[nodiscard]] double worst() const {
        return gradient_errors.empty()
                   ? 0.0
                   : *std::max_element(gradient_errors.begin(), gradient_errors.end());
    }
};

using op_fn = std::function<tensor::variable(const std::vector<tensor::variable>&)>;

/// L = sum(R * op(inputs)) with fixed random R. The analytic gradient comes from op's backward
/// in float32 (seeded with R); the numeric one from central differences of the double reference
/// (step 1e-5, truncation and rounding errors ~1e-9, far below the 1e-3 tolerance). `ref` maps
/// either std::vector<dt> to dt (its shape is checked too) or std::vector<values> to values.
template <class Ref>
check_result check_gradients(const std::vector<tensor::ndarray>& inputs, const op_fn& op,
                             const Ref& ref, std::uint64_t seed = 99) {
    constexpr bool shaped = std::is_invocable_v<const Ref&, const std::vector<dt>&>;
    std::vector<tensor::variable> vars;
    std::vector<dt> ref_inputs;
    for (const auto& a : inputs) {
        vars.emplace_back(a, true);
        ref_inputs.push_back(to_double(a));
    }
    const tensor::variable out = op(vars);
    nascent::rng gen(seed);
    const tensor::ndarray weights = tensor::randn(out.shape(), gen);
    const auto evaluate = [&](const std::vector<dt>& xs) -> values {
        if constexpr (shaped) {
            dt y = ref(xs);
            REQUIRE(y.shape == out.shape());
            return std::move(y.v);
        } else {
            std::vector<values> flat;
            for (const auto& x : xs)
                flat.push_back(x.v);
            values y = ref(flat);
            REQUIRE(y.size() == out.size());
            return y;
        }
    };
    const auto loss = [&](const std::vector<dt>& xs) {
        const values y = evaluate(xs);
        double l = 0.0;
        for (std::size_t i = 0; i < y.size(); ++i)
            l += weights[i] * y[i];
        return l;
    };
    check_result result;
    const values expected = evaluate(ref_inputs);
    double scale = 1.0;
    for (const double v : expected)
        scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < expected.size(); ++i) {
        result.forward_error =
            std::max(result.forward_error, std::abs(out.value()[i] - expected[i]) / scale);
    }
    out.backward(weights);
    constexpr double h = 1e-5;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        const tensor::ndarray& analytic = vars[k].grad();
        double largest = 0.0;
        double worst = 0.0;
        for (std::size_t j = 0; j < inputs[k].size(); ++j) {
            auto xs = ref_inputs;
            xs[k].v[j] += h;
            const double up = loss(xs);
            xs[k].v[j] -= 2 * h;
            const double numeric = (up - loss(xs)) / (2 * h);
            largest = std::max(largest, std::abs(numeric));
            worst = std::max(worst, std::abs(analytic[j] - numeric));
        }
        result.gradient_errors.push_back(worst / std::max(largest, 1e-12));
    }
    return result;
}

/// Asserts a passing check and reports it.
inline void require_good(const check_result& r, const char* what) {
    INFO(what << ": forward error " << r.forward_error << ", worst gradient error " << r.worst());
    CHECK(r.forward_error < 1e-5);
    CHECK(r.worst() < 1e-3);
}

} // namespace nascent::test
