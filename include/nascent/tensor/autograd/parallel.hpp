#pragma once
// Deterministic parallel loops and sums of the tensor layer: every loop splits its work into
// chunks whose boundaries depend only on the problem size (never on the thread count), and sums
// add their partial results in a fixed order.

#include <nascent/detail/fork_join.hpp>
#include <nascent/tensor/autograd/simd.hpp>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <utility>
#include <vector>

namespace nascent::tensor {

namespace detail {

/// Runs body(begin, end) over [0, n) cut into chunks of `grain` items. The cut depends only on
/// n and grain. Exceptions never leave a TBB task: the first chunk's is rethrown afterwards.
template <class Body>
void parallel_chunks(std::size_t n, std::size_t grain, const Body& body) {
    if (n == 0)
        return;
    grain = std::max<std::size_t>(grain, 1);
    const std::size_t chunks = (n + grain - 1) / grain;
    if (chunks == 1) {
        body(std::size_t{0}, n);
        return;
    }
    std::vector<std::exception_ptr> errors(chunks);
    const auto run = [&](const tbb::blocked_range<std::size_t>& range) {
        for (std::size_t c = range.begin(); c != range.end(); ++c) {
            try {
                body(c * grain, std::min(n, (c + 1) * grain));
            } catch (...) {
                errors[c] = std::current_exception();
            }
        }
    };
    ::nascent::detail::fork_join_edges edges;
    tbb::this_task_arena::isolate(
        [&] { tbb::parallel_for(tbb::blocked_range<std::size_t>(0, chunks), edges.task(run)); });
    edges.joined();
    for (const auto& e : errors) {
        if (e)
            std::rethrow_exception(e);
    }
}

// Elements per task of elementwise loops (relu, add, gradient accumulation): a task of 128 KiB
// outweighs its scheduling, and a 2 MiB activation still spreads over every thread. Each element
// is computed on its own, so the cut cannot change results.
inline constexpr std::size_t elementwise_grain = std::size_t{1} << 15;
template <class Body>
void parallel_elementwise(std::size_t n, const Body& body) {
    parallel_chunks(n, elementwise_grain, body);
}

// Sum of term(i) for i in [0, n) in eight interleaved float accumulators: vectorisable without
// -ffast-math (one accumulator is a serial chain of dependent adds), in a fixed order.
template <class Term>
[[nodiscard]] float sum8(std::size_t n, const Term& term) {
    float acc[8] = {};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (std::size_t j = 0; j < 8; ++j)
            acc[j] += term(i + j);
    }
    float tail = 0.0F;
    for (; i < n; ++i)
        tail += term(i);
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Sums of term_a(i) and term_b(i) for i in [0, n), each in 32 interleaved float accumulators
// (four or more independent vector chains: one 8-wide chain is bound by the latency of its adds),
// combined pairwise in a fixed order. One pass computes both (batch norm's backward needs two
// sums over the same data). The loop is compiled for the SIMD level of simd.hpp (the terms are
// inlined into it), so a build without -m flags adds 16 floats at a time on AVX-512 as well; the
// order of additions is the source's at every level.
template <class TermA, class TermB>
struct sum32_pair_kernel {
    template <std::size_t W>
    [[gnu::always_inline]] static void run(std::size_t n, const TermA& term_a, const TermB& term_b,
                                           std::pair<float, float>* out) {
        constexpr std::size_t lanes = 32;
        float a[lanes] = {};
        float b[lanes] = {};
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) {
            for (std::size_t j = 0; j < lanes; ++j) {
                a[j] += term_a(i + j);
                b[j] += term_b(i + j);
            }
        }
        for (std::size_t j = 0; i < n; ++i, ++j) { // the tail, into the first lanes
            a[j] += term_a(i);
            b[j] += term_b(i);
        }
        for (std::size_t width = lanes / 2; width > 0; width /= 2) {
            for (std::size_t j = 0; j < width; ++j) {
                a[j] += a[j + width];
                b[j] += b[j + width];
            }
        }
        *out = {a[0], b[0]};
    }
};

template <class TermA, class TermB>
[[nodiscard]] std::pair<float, float> sum32_pair(std::size_t n, const TermA& term_a,
                                                 const TermB& term_b) {
    std::pair<float, float> out;
#ifdef NASCENT_TENSOR_VECTOR_KERNELS
    on_simd_level([&]<simd_level L>() {
        run_on<L, sum32_pair_kernel<TermA, TermB>>(n, term_a, term_b, &out);
    });
#else
    sum32_pair_kernel<TermA, TermB>::template run<1>(n, term_a, term_b, &out);
#endif
    return out;
}

// Sum of term(i) for i in [0, n) in 32 interleaved float accumulators, as sum32_pair.
template <class Term>
[[nodiscard]] float sum32(std::size_t n, const Term& term) {
    // The pair's first sum: the same additions in the same order; the zeros cost one vector add
    // per 16 terms.
    return sum32_pair(n, term, [](std::size_t) { return 0.0F; }).first;
}

} // namespace detail

} // namespace nascent::tensor
