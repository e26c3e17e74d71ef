#pragma once
// The LSTM cell (Hochreiter & Schmidhuber 1997, with the forget gate), as torch.nn.LSTMCell
// computes it: gates = x W_ih^T + h W_hh^T + b in the order input, forget, cell, output;
//   i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o),
//   c' = f * c + i * g,  h' = o * tanh(c').
// The gate nonlinearities and the state update are one fused op (lstm_pointwise): a cell is two
// GEMMs, an add and that op, instead of a dozen small ops.

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd/core.hpp>
#include <nascent/tensor/autograd/elementwise.hpp>
#include <nascent/tensor/autograd/linear.hpp>
#include <nascent/tensor/autograd/shape.hpp>
#include <nascent/tensor/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

namespace nascent::tensor {

/// The recurrent state of one LSTM layer: h and c, each [N, H].
struct lstm_state {
    variable h;
    variable c;
};

/// Weights of one LSTM layer: w_ih [4H, in], w_hh [4H, H], bias [4H] (a null handle for none;
/// torch's b_ih + b_hh in one).
struct lstm_weights {
    variable w_ih;
    variable w_hh;
    variable bias;
};

/// Weights of a layer with every entry drawn from U(-range, range) (torch's default uses
/// range = 1 / sqrt(H); ENAS's controller 0.1), the bias included when `bias`.
template <RandomGenerator G>
[[nodiscard]] lstm_weights make_lstm_weights(std::size_t in, std::size_t hidden, double range,
                                             bool bias, G& gen) {
    if (in == 0 || hidden == 0) {
        detail::fail("make_lstm_weights", "sizes " + std::to_string(in) + " -> " +
                                              std::to_string(hidden) + " must be positive");
    }
    lstm_weights w;
    w.w_ih = variable(rand_uniform({4 * hidden, in}, -range, range, gen), true);
    w.w_hh = variable(rand_uniform({4 * hidden, hidden}, -range, range, gen), true);
    if (bias)
        w.bias = variable(rand_uniform({4 * hidden}, -range, range, gen), true);
    return w;
}

/// Zero state for a batch of n rows.
[[nodiscard]] inline lstm_state zero_lstm_state(std::size_t n, std::size_t hidden) {
    return {variable(ndarray({n, hidden})), variable(ndarray({n, hidden}))};
}

/// The fused gate nonlinearities and state update: gates [N, 4H] (pre-activations, order
/// i, f, g, o) and c [N, H] -> [h' | c'] as [N, 2H].
[[nodiscard]] inline variable lstm_pointwise(const variable& gates, const variable& c) {
    const shape_t& gs = gates.shape();
    const shape_t& cs = c.shape();
    if (gs.size() != 2 || cs.size() != 2 || gs[0] != cs[0] || gs[1] != 4 * cs[1]) {
        detail::fail("lstm_pointwise", "needs gates [N, 4H] and c [N, H], got " + to_string(gs) +
                                           " and " + to_string(cs));
    }
    const std::size_t n = cs[0];
    const std::size_t h = cs[1];
    const auto sig = [](float v) {
        if (v >= 0.0F)
            return 1.0F / (1.0F + std::exp(-v));
        const float e = std::exp(v);
        return e / (1.0F + e);
    };
    auto out = ndarray::uninitialized({n, 2 * h});
    const float* a = gates.value().data();
    const float* cp = c.value().data();
    for (std::size_t r = 0; r < n; ++r) {
        const float* ar = a + r * 4 * h;
        for (std::size_t k = 0; k < h; ++k) {
            const float i = sig(ar[k]);
            const float f = sig(ar[h + k]);
            const float g = std::tanh(ar[2 * h + k]);
            const float o = sig(ar[3 * h + k]);
            const float cn = f * cp[r * h + k] + i * g;
            out[r * 2 * h + k] = o * std::tanh(cn);
            out[r * 2 * h + h + k] = cn;
        }
    }
    return make_result(
        std::move(out), {gates, c},
        [n, h, sig](backward_context& ctx) {
            const float* pre = ctx.input(0).data();
            const float* cell = ctx.input(1).data();
            const float* y = ctx.output().data();
            const float* g_out = ctx.grad().data();
            auto da = ndarray::uninitialized({n, 4 * h});
            auto dc = ndarray::uninitialized({n, h});
            for (std::size_t r = 0; r < n; ++r) {
                const float* ar = pre + r * 4 * h;
                float* dar = da.data() + r * 4 * h;
                for (std::size_t k = 0; k < h; ++k) {
                    const float i = sig(ar[k]);
                    const float f = sig(ar[h + k]);
                    const float g = std::tanh(ar[2 * h + k]);
                    const float o = sig(ar[3 * h + k]);
                    const float t = std::tanh(y[r * 2 * h + h + k]);
                    const float dh = g_out[r * 2 * h + k];
                    const float dcn = g_out[r * 2 * h + h + k] + dh * o * (1.0F - t * t);
                    dar[k] = dcn * g * i * (1.0F - i);
                    dar[h + k] = dcn * cell[r * h + k] * f * (1.0F - f);
                    dar[2 * h + k] = dcn * i * (1.0F - g * g);
                    dar[3 * h + k] = dh * t * o * (1.0F - o);
                    dc[r * h + k] = dcn * f;
                }
            }
            ctx.accumulate(0, std::move(da));
            ctx.accumulate(1, std::move(dc));
        },
        "lstm_pointwise");
}

/// One step of an LSTM layer on x [N, in].
[[nodiscard]] inline lstm_state lstm_cell(const variable& x, const lstm_state& state,
                                          const lstm_weights& w) {
    const std::size_t hidden = state.h.dim(1);
    const variable gates = add(linear(x, w.w_ih, w.bias), linear(state.h, w.w_hh));
    const variable hc = lstm_pointwise(gates, state.c);
    return {narrow(hc, 1, 0, hidden), narrow(hc, 1, hidden, hidden)};
}

} // namespace nascent::tensor
