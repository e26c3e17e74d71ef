#pragma once
// Message passing over batches of small graphs, for graph neural networks on cells.
//
// A batch holds B graphs padded to n nodes each; node features are the rows of one [B * n, F]
// matrix, graph by graph. `propagate` multiplies every graph's rows by its own (constant)
// [m, n] matrix: with m = n and a normalised adjacency it is a graph convolution's aggregation,
// with m = 1 and weights 1 / nodes it is mean pooling. Cells have at most a dozen nodes, so dense
// per-graph row operations beat sparse formats and a block-diagonal [B n, B n] product alike.

#include <nascent/tensor/autograd.hpp>

#include <cstddef>
#include <string>
#include <utility>

namespace nascent::tensor {

/// out[b * m + i, :] = sum_j mix[b, i, j] * x[b * n + j, :] for mix of shape [B, m, n] (a
/// constant: no gradient flows into it) and x of shape [B * n, F]; the result is [B * m, F].
[[nodiscard]] inline variable propagate(const ndarray& mix, const variable& x) {
    const shape_t& ms = mix.shape();
    const shape_t& xs = x.shape();
    if (ms.size() != 3 || xs.size() != 2 || xs[0] != ms[0] * ms[2]) {
        detail::fail("propagate", "needs mix [B, m, n] and x [B * n, F], got " + to_string(ms) +
                                      " and " + to_string(xs));
    }
    const std::size_t graphs = ms[0];
    const std::size_t m = ms[1];
    const std::size_t n = ms[2];
    const std::size_t f = xs[1];
    ndarray out({graphs * m, f});
    // Row axpys skipping the zeros of the mix: cells are sparse, and their products far too small
    // for a GEMM call to pay off.
    for (std::size_t b = 0; b < graphs; ++b) {
        for (std::size_t i = 0; i < m; ++i) {
            float* o = out.data() + (b * m + i) * f;
            for (std::size_t j = 0; j < n; ++j) {
                const float w = mix[(b * m + i) * n + j];
                if (w == 0.0F)
                    continue;
                const float* in = x.value().data() + (b * n + j) * f;
                for (std::size_t c = 0; c < f; ++c)
                    o[c] += w * in[c];
            }
        }
    }
    return make_result(
        std::move(out), {x},
        [mix, graphs, m, n, f](backward_context& ctx) {
            ndarray d({graphs * n, f});
            const float* g = ctx.grad().data();
            for (std::size_t b = 0; b < graphs; ++b) {
                for (std::size_t i = 0; i < m; ++i) {
                    const float* gi = g + (b * m + i) * f;
                    for (std::size_t j = 0; j < n; ++j) {
                        const float w = mix[(b * m + i) * n + j];
                        if (w == 0.0F)
                            continue;
                        float* dj = d.data() + (b * n + j) * f;
                        for (std::size_t c = 0; c < f; ++c)
                            dj[c] += w * gi[c];
                    }
                }
            }
            ctx.accumulate(0, std::move(d));
        },
        "propagate");
}

} // namespace nascent::tensor
