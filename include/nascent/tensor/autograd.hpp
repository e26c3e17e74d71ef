#pragma once
// Reverse-mode automatic differentiation over ndarray, in the style of PyTorch's and
// flashlight's: every op computes its value eagerly and, when some input requires a gradient,
// records a node holding its inputs and a backward closure. `backward()` on a scalar walks the
// recorded graph in reverse topological order and accumulates gradients into the leaves
// (parameters, or inputs created with requires_grad). Double backward is not supported: backward
// closures compute with plain arrays and record nothing.
//
// Determinism: every parallel loop splits its work into chunks whose boundaries depend only on
// the problem size (never on the thread count), each output element or partial sum belongs to
// one chunk, and partial sums are added in chunk order afterwards. Results are therefore
// bit-identical for a fixed seed whatever the number of threads (for one build on one machine:
// Eigen sizes its GEMM blocks, and so its order of additions, from the CPU's cache sizes, and the
// target ISA decides whether multiply-adds are fused).
//
// Shapes: images are NCHW, weights of conv2d [C_out, C_in / groups, KH, KW], of linear
// [out, in] (PyTorch's layouts).

#include <nascent/core/rng.hpp>
#include <nascent/tensor/tensor.hpp>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace nascent::tensor {

class variable;
class backward_context;

/// What an op records for its backward pass: reads ctx.grad() (dL/d output) and the forward
/// values, and calls ctx.accumulate(i, dL/d input i) for the inputs that need it.
using backward_fn = std::function<void(backward_context&)>;

namespace detail {

// Grad mode is per thread, as in PyTorch: a no_grad_guard on one thread must not stop recording
// for a network trained on another. It is the layer's only state outside objects. Parallel loops
// inside ops run isolated (parallel_chunks), so a thread waiting in an op never picks up an
// unrelated outer task that would observe this thread's mode.
inline thread_local bool grad_enabled = true;

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
    tbb::this_task_arena::isolate([&] {
        tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
            try {
                body(c * grain, std::min(n, (c + 1) * grain));
            } catch (...) {
                errors[c] = std::current_exception();
            }
        });
    });
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
// sums over the same data).
template <class TermA, class TermB>
[[nodiscard]] std::pair<float, float> sum32_pair(std::size_t n, const TermA& term_a,
                                                 const TermB& term_b) {
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
    return {a[0], b[0]};
}
template <class Term>
[[nodiscard]] float sum32(std::size_t n, const Term& term) {
    constexpr std::size_t lanes = 32;
    float a[lanes] = {};
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        for (std::size_t j = 0; j < lanes; ++j)
            a[j] += term(i + j);
    }
    for (std::size_t j = 0; i < n; ++i, ++j)
        a[j] += term(i);
    for (std::size_t width = lanes / 2; width > 0; width /= 2) {
        for (std::size_t j = 0; j < width; ++j)
            a[j] += a[j + width];
    }
    return a[0];
}

[[noreturn]] inline void fail(std::string_view op, const std::string& message) {
    throw std::invalid_argument(std::string(op) + ": " + message);
}

struct node {
    ndarray value;
    ndarray grad; // empty until a gradient arrives
    bool requires_grad = false;
    bool retain_grad = false;                  // keep the gradient of a non-leaf after backward
    std::vector<std::shared_ptr<node>> inputs; // null where an optional input was absent
    backward_fn backward;                      // empty for leaves
    std::string op;                            // name of the op that made it ("" for leaves)

    node() = default;
    node(const node&) = delete;
    node& operator=(const node&) = delete;
    // Releases the inputs iteratively: destroying a long chain recursively could overflow the
    // call stack.
    ~node() {
        std::vector<std::shared_ptr<node>> pending = std::move(inputs);
        while (!pending.empty()) {
            std::shared_ptr<node> n = std::move(pending.back());
            pending.pop_back();
            if (n && n.use_count() == 1) {
                for (auto& input : n->inputs)
                    pending.push_back(std::move(input));
                n->inputs.clear();
            }
        }
    }

    void accumulate(ndarray&& g) {
        if (g.shape() != value.shape()) {
            fail(op.empty() ? std::string_view("backward") : std::string_view(op),
                 "gradient of shape " + to_string(g.shape()) + " for a value of shape " +
                     to_string(value.shape()));
        }
        if (grad.empty()) {
            grad = std::move(g);
        } else {
            float* a = grad.data();
            const float* b = g.data();
            parallel_elementwise(grad.size(), [a, b](std::size_t lo, std::size_t hi) {
                for (std::size_t i = lo; i < hi; ++i)
                    a[i] += b[i];
            });
        }
    }
};

} // namespace detail

/// True unless a no_grad_guard is alive on this thread.
[[nodiscard]] inline bool is_grad_enabled() noexcept {
    return detail::grad_enabled;
}

/// While alive, ops on this thread record no graph (evaluation, weight surgery, proxies).
class no_grad_guard {
public:
    no_grad_guard() noexcept : m_previous(detail::grad_enabled) { detail::grad_enabled = false; }
    ~no_grad_guard() { detail::grad_enabled = m_previous; }
    no_grad_guard(const no_grad_guard&) = delete;
    no_grad_guard& operator=(const no_grad_guard&) = delete;

private:
    bool m_previous;
};

/// A node of the graph: a value and, for those that require it, a gradient. A variable is a
/// shared handle: copies refer to the same node, and `const` applies to the handle, not to the
/// node (as with std::shared_ptr), so hooks receiving `const variable&` may still retain_grad().
class variable {
public:
    /// A null handle (an absent optional input, such as a bias).
    variable() = default;

    /// A leaf holding `value`; with requires_grad, backward accumulates into its grad().
    explicit variable(ndarray value, bool requires_grad = false)
        : m_node(std::make_shared<detail::node>()) {
        m_node->value = std::move(value);
        m_node->requires_grad = requires_grad;
    }

    [[nodiscard]] bool defined() const noexcept { return m_node != nullptr; }

    [[nodiscard]] const ndarray& value() const { return checked().value; }
    /// The value for in-place changes (optimiser steps, initialisation, synflow's |w|). Do not
    /// change a value that a recorded graph still needs for its backward pass.
    [[nodiscard]] ndarray& mutable_value() const { return checked().value; }
    [[nodiscard]] const shape_t& shape() const { return checked().value.shape(); }
    [[nodiscard]] std::size_t dim(std::size_t axis) const { return checked().value.dim(axis); }
    [[nodiscard]] std::size_t size() const { return checked().value.size(); }
    [[nodiscard]] float item() const { return checked().value.item(); }

    [[nodiscard]] bool requires_grad() const { return checked().requires_grad; }
    /// Only leaves may change it (an op's output requires grad iff an input does).
    void set_requires_grad(bool on) const {
        auto& n = checked();
        if (n.backward) {
            detail::fail("set_requires_grad", "'" + std::string(n.op) + "' output is not a leaf");
        }
        n.requires_grad = on;
    }
    [[nodiscard]] bool is_leaf() const { return !checked().backward; }
    /// Name of the op that produced it ("" for a leaf).
    [[nodiscard]] std::string_view op() const { return checked().op; }

    /// Whether a gradient has arrived since the last zero_grad().
    [[nodiscard]] bool has_grad() const { return !checked().grad.empty(); }
    /// dL/d(this); zeros of the value's shape when no gradient has arrived.
    [[nodiscard]] const ndarray& grad() const { return mutable_grad(); }
    [[nodiscard]] ndarray& mutable_grad() const {
        auto& n = checked();
        if (n.grad.empty())
            n.grad = ndarray(n.value.shape());
        return n.grad;
    }
    /// Drops the gradient (the next backward starts from zero).
    void zero_grad() const { checked().grad = ndarray{}; }
    /// Keeps this non-leaf's gradient after backward (e.g. activations for Fisher / SNIP).
    void retain_grad() const { checked().retain_grad = true; }

    /// Backpropagates from a one-element value (a loss) with seed 1.
    void backward() const {
        const auto& n = checked();
        if (n.value.size() != 1) {
            detail::fail("backward", "needs a one-element value (a loss), got shape " +
                                         to_string(n.value.shape()) +
                                         "; pass a seed gradient instead");
        }
        backward(ndarray(n.value.shape(), 1.0F));
    }

    /// Backpropagates with dL/d(this) = seed (same shape as the value).
    void backward(ndarray seed) const {
        auto& root = checked();
        if (!root.requires_grad) {
            detail::fail("backward", "the value does not require grad (no input required it, "
                                     "or it was computed under a no_grad_guard)");
        }
        if (seed.shape() != root.value.shape()) {
            detail::fail("backward", "seed of shape " + to_string(seed.shape()) +
                                         " for a value of shape " + to_string(root.value.shape()));
        }
        const auto order = topological_order(&root);
        root.accumulate(std::move(seed));
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
            detail::node& n = **it;
            if (!n.backward || n.grad.empty())
                continue;
            run_backward(n);
            if (!n.retain_grad)
                n.grad = ndarray{}; // intermediate gradients are transient
        }
    }

    /// A new leaf with a copy of the value, cut from the graph.
    [[nodiscard]] variable detach() const { return variable(checked().value, false); }

    /// Identity of the node (for maps keyed by parameter).
    [[nodiscard]] const void* id() const noexcept { return m_node.get(); }

    friend variable make_result(ndarray value, std::vector<variable> inputs, backward_fn backward,
                                std::string_view op);
    friend bool is_recording(std::span<const variable> inputs) noexcept;

private:
    explicit variable(std::shared_ptr<detail::node> n) : m_node(std::move(n)) {}

    [[nodiscard]] detail::node& checked() const {
        if (!m_node)
            throw std::invalid_argument("variable: null handle (no value)");
        return *m_node;
    }

    // Post-order of the nodes that require grad, by an explicit stack (deep nets must not
    // overflow the call stack); reversed, it lists every node before its inputs.
    static std::vector<detail::node*> topological_order(detail::node* root) {
        std::vector<detail::node*> order;
        std::unordered_set<const detail::node*> seen{root};
        std::vector<std::pair<detail::node*, std::size_t>> stack{{root, 0}};
        while (!stack.empty()) {
            auto& [n, next] = stack.back();
            if (next < n->inputs.size()) {
                detail::node* child = n->inputs[next++].get();
                if (child != nullptr && child->requires_grad && seen.insert(child).second) {
                    stack.emplace_back(child, 0);
                }
            } else {
                order.push_back(n);
                stack.pop_back();
            }
        }
        return order;
    }

    static void run_backward(detail::node& n);

    std::shared_ptr<detail::node> m_node;
};

namespace detail {
// dL/d output as an array the backward closure may overwrite and pass on: the node's own
// gradient when backward() drops it after this closure anyway (no copy, no fresh allocation),
// else a copy. ctx.grad() is empty afterwards in the first case: take it after the last read.
[[nodiscard]] ndarray take_grad(backward_context& ctx);
} // namespace detail

/// What a backward closure sees: the output's gradient and value, the inputs' values, and where
/// to send the inputs' gradients.
class backward_context {
public:
    explicit backward_context(detail::node& n) noexcept : m_node(n) {}

    [[nodiscard]] const ndarray& grad() const noexcept { return m_node.grad; }
    [[nodiscard]] const ndarray& output() const noexcept { return m_node.value; }
    [[nodiscard]] std::size_t inputs() const noexcept { return m_node.inputs.size(); }
    [[nodiscard]] const ndarray& input(std::size_t i) const { return m_node.inputs.at(i)->value; }
    /// False where the op was given a null handle (an absent bias or affine weight).
    [[nodiscard]] bool input_defined(std::size_t i) const noexcept {
        return i < m_node.inputs.size() && m_node.inputs[i] != nullptr;
    }
    [[nodiscard]] bool needs_grad(std::size_t i) const noexcept {
        return i < m_node.inputs.size() && m_node.inputs[i] && m_node.inputs[i]->requires_grad;
    }
    /// Adds g to input i's gradient (ignored for inputs that need none).
    void accumulate(std::size_t i, ndarray g) {
        if (needs_grad(i))
            m_node.inputs[i]->accumulate(std::move(g));
    }

private:
    friend ndarray detail::take_grad(backward_context& ctx);
    detail::node& m_node;
};

inline ndarray detail::take_grad(backward_context& ctx) {
    node& n = ctx.m_node;
    if (n.retain_grad)
        return n.grad;
    ndarray g = std::move(n.grad);
    n.grad = ndarray{};
    return g;
}

inline void variable::run_backward(detail::node& n) {
    backward_context ctx(n);
    n.backward(ctx);
}

/// True when an op on `inputs` records a node: grad mode is on and some input requires grad.
[[nodiscard]] inline bool is_recording(std::span<const variable> inputs) noexcept {
    if (!detail::grad_enabled)
        return false;
    return std::any_of(inputs.begin(), inputs.end(),
                       [](const variable& v) { return v.m_node && v.m_node->requires_grad; });
}

/// The output of an op (also the way to write new ops): `value` is the forward result; when
/// recording, the node keeps `inputs` (null handles allowed) and `backward`.
[[nodiscard]] inline variable make_result(ndarray value, std::vector<variable> inputs,
                                          backward_fn backward, std::string_view op) {
    auto n = std::make_shared<detail::node>();
    n->value = std::move(value);
    if (is_recording(inputs)) {
        n->requires_grad = true;
        n->op = op;
        n->backward = std::move(backward);
        n->inputs.reserve(inputs.size());
        for (auto& v : inputs)
            n->inputs.push_back(std::move(v.m_node));
    }
    return variable(std::move(n));
}

// =============================================================================================
// Elementwise and broadcasting ops

namespace detail {

// NumPy broadcasting of two shapes: per output axis, each operand's stride (0 where it repeats).
struct broadcast_plan {
    shape_t out;
    std::vector<std::size_t> a_stride;
    std::vector<std::size_t> b_stride;
};

[[nodiscard]] inline std::vector<std::size_t> contiguous_strides(const shape_t& s) {
    std::vector<std::size_t> st(s.size(), 1);
    for (std::size_t i = s.size(); i > 1; --i)
        st[i - 2] = st[i - 1] * s[i - 1];
    return st;
}

[[nodiscard]] inline broadcast_plan plan_broadcast(const shape_t& a, const shape_t& b,
                                                   std::string_view op) {
    const std::size_t rank = std::max(a.size(), b.size());
    broadcast_plan p{shape_t(rank), std::vector<std::size_t>(rank, 0),
                     std::vector<std::size_t>(rank, 0)};
    const auto as = contiguous_strides(a);
    const auto bs = contiguous_strides(b);
    for (std::size_t i = 0; i < rank; ++i) {
        const std::size_t ia = i + a.size() - rank; // wraps (unused) when i < rank - a.size()
        const std::size_t ib = i + b.size() - rank;
        const bool has_a = i + a.size() >= rank;
        const bool has_b = i + b.size() >= rank;
        const std::size_t da = has_a ? a[ia] : 1;
        const std::size_t db = has_b ? b[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            fail(op, "shapes " + to_string(a) + " and " + to_string(b) + " do not broadcast");
        }
        p.out[i] = da == 1 ? db : da;
        p.a_stride[i] = (has_a && da != 1) ? as[ia] : 0;
        p.b_stride[i] = (has_b && db != 1) ? bs[ib] : 0;
    }
    return p;
}

// Calls f(out_index, a_index, b_index) for every output element, in row-major order.
template <class F>
void for_each_broadcast(const broadcast_plan& p, F&& f) {
    const std::size_t n = element_count(p.out);
    if (n == 0)
        return;
    if (p.out.empty()) {
        f(std::size_t{0}, std::size_t{0}, std::size_t{0});
        return;
    }
    const std::size_t rank = p.out.size();
    const std::size_t inner = p.out[rank - 1];
    const std::size_t sa = p.a_stride[rank - 1];
    const std::size_t sb = p.b_stride[rank - 1];
    std::vector<std::size_t> idx(rank, 0);
    std::size_t ai = 0;
    std::size_t bi = 0;
    for (std::size_t o = 0; o < n; o += inner) {
        for (std::size_t j = 0; j < inner; ++j)
            f(o + j, ai + j * sa, bi + j * sb);
        for (std::size_t axis = rank - 1; axis-- > 0;) { // odometer over the outer axes
            ++idx[axis];
            ai += p.a_stride[axis];
            bi += p.b_stride[axis];
            if (idx[axis] < p.out[axis])
                break;
            ai -= p.a_stride[axis] * p.out[axis];
            bi -= p.b_stride[axis] * p.out[axis];
            idx[axis] = 0;
        }
    }
}

// Sums a gradient of the broadcast shape back to an operand's shape (double accumulators, one
// sequential pass: deterministic).
template <class Term>
[[nodiscard]] ndarray reduce_broadcast(const broadcast_plan& p, const shape_t& target, bool is_a,
                                       Term&& term) {
    std::vector<double> acc(element_count(target), 0.0);
    for_each_broadcast(p, [&](std::size_t o, std::size_t ai, std::size_t bi) {
        acc[is_a ? ai : bi] += term(o, ai, bi);
    });
    auto out = ndarray::uninitialized(target);
    for (std::size_t i = 0; i < acc.size(); ++i)
        out[i] = static_cast<float>(acc[i]);
    return out;
}

} // namespace detail

/// a + b with NumPy broadcasting (e.g. [N, C, H, W] + [C, 1, 1]).
[[nodiscard]] inline variable add(const variable& a, const variable& b) {
    const ndarray& av = a.value();
    const ndarray& bv = b.value();
    if (av.shape() == bv.shape()) {
        auto out = ndarray::uninitialized(av.shape());
        const float* ap = av.data();
        const float* bp = bv.data();
        float* op = out.data();
        detail::parallel_elementwise(out.size(), [ap, bp, op](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i)
                op[i] = ap[i] + bp[i];
        });
        return make_result(
            std::move(out), {a, b},
            [](backward_context& ctx) {
                // The last input that needs it gets the gradient itself, not a copy.
                const bool both = ctx.needs_grad(0) && ctx.needs_grad(1);
                if (both)
                    ctx.accumulate(0, ctx.grad());
                const std::size_t last = both || ctx.needs_grad(1) ? 1 : 0;
                if (ctx.needs_grad(last))
                    ctx.accumulate(last, detail::take_grad(ctx));
            },
            "add");
    }
    auto plan = detail::plan_broadcast(av.shape(), bv.shape(), "add");
    auto out = ndarray::uninitialized(plan.out);
    detail::for_each_broadcast(
        plan, [&](std::size_t o, std::size_t ai, std::size_t bi) { out[o] = av[ai] + bv[bi]; });
    return make_result(
        std::move(out), {a, b},
        [plan](backward_context& ctx) {
            const ndarray& g = ctx.grad();
            for (std::size_t i = 0; i < 2; ++i) {
                if (!ctx.needs_grad(i))
                    continue;
                const auto& target = ctx.input(i).shape();
                if (target == plan.out) {
                    ctx.accumulate(i, g);
                } else {
                    ctx.accumulate(i, detail::reduce_broadcast(plan, target, i == 0,
                                                               [&](std::size_t o, std::size_t,
                                                                   std::size_t) { return g[o]; }));
                }
            }
        },
        "add");
}

/// s * a for a constant s.
[[nodiscard]] inline variable scale(const variable& a, float s) {
    ndarray out = a.value();
    for (auto& v : out.values())
        v *= s;
    return make_result(
        std::move(out), {a},
        [s](backward_context& ctx) {
            ndarray g = detail::take_grad(ctx);
            for (auto& v : g.values())
                v *= s;
            ctx.accumulate(0, std::move(g));
        },
        "scale");
}

/// a - b with broadcasting.
[[nodiscard]] inline variable sub(const variable& a, const variable& b) {
    return add(a, scale(b, -1.0F));
}

/// a * b elementwise with NumPy broadcasting.
[[nodiscard]] inline variable mul(const variable& a, const variable& b) {
    const ndarray& av = a.value();
    const ndarray& bv = b.value();
    auto plan = detail::plan_broadcast(av.shape(), bv.shape(), "mul");
    auto out = ndarray::uninitialized(plan.out);
    if (av.shape() == bv.shape()) {
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = av[i] * bv[i];
    } else {
        detail::for_each_broadcast(
            plan, [&](std::size_t o, std::size_t ai, std::size_t bi) { out[o] = av[ai] * bv[bi]; });
    }
    return make_result(
        std::move(out), {a, b},
        [plan](backward_context& ctx) {
            const ndarray& g = ctx.grad();
            const ndarray& x = ctx.input(0);
            const ndarray& y = ctx.input(1);
            for (std::size_t i = 0; i < 2; ++i) {
                if (!ctx.needs_grad(i))
                    continue;
                const ndarray& other = i == 0 ? y : x;
                const auto& target = ctx.input(i).shape();
                if (x.shape() == y.shape()) {
                    auto d = ndarray::uninitialized(target);
                    for (std::size_t k = 0; k < d.size(); ++k)
                        d[k] = g[k] * other[k];
                    ctx.accumulate(i, std::move(d));
                } else {
                    ctx.accumulate(i, detail::reduce_broadcast(
                                          plan, target, i == 0,
                                          [&](std::size_t o, std::size_t ai, std::size_t bi) {
                                              return static_cast<double>(g[o]) *
                                                     (i == 0 ? y[bi] : x[ai]);
                                          }));
                }
            }
        },
        "mul");
}

[[nodiscard]] inline variable operator+(const variable& a, const variable& b) {
    return add(a, b);
}
[[nodiscard]] inline variable operator-(const variable& a, const variable& b) {
    return sub(a, b);
}
[[nodiscard]] inline variable operator*(const variable& a, const variable& b) {
    return mul(a, b);
}
[[nodiscard]] inline variable operator*(const variable& a, float s) {
    return scale(a, s);
}
[[nodiscard]] inline variable operator*(float s, const variable& a) {
    return scale(a, s);
}

/// max(x, 0). The gradient at exactly 0 is 0 (PyTorch's convention).
[[nodiscard]] inline variable relu(const variable& x) {
    const ndarray& in = x.value();
    auto out = ndarray::uninitialized(in.shape());
    const float* ip = in.data();
    float* op = out.data();
    detail::parallel_elementwise(out.size(), [ip, op](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i)
            op[i] = ip[i] > 0.0F ? ip[i] : 0.0F;
    });
    return make_result(
        std::move(out), {x},
        [](backward_context& ctx) {
            const ndarray& y = ctx.output();
            ndarray d = detail::take_grad(ctx); // masked in place
            // A bit mask rather than `y > 0 ? g : 0`, which compilers may turn into an
            // unpredictable branch.
            const float* yp = y.data();
            float* dp = d.data();
            detail::parallel_elementwise(d.size(), [yp, dp](std::size_t lo, std::size_t hi) {
                for (std::size_t i = lo; i < hi; ++i) {
                    const std::uint32_t keep = 0U - static_cast<std::uint32_t>(yp[i] > 0.0F);
                    dp[i] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(dp[i]) & keep);
                }
            });
            ctx.accumulate(0, std::move(d));
        },
        "relu");
}

namespace detail {
// An elementwise op y = f(x) whose gradient is a function of x: forward(x) and slope(x) per
// element, both on TBB chunks. The backward reads the input, which the graph keeps anyway.
template <class Forward, class Slope>
[[nodiscard]] variable pointwise(const variable& x, Forward forward, Slope slope,
                                 std::string_view op) {
    const ndarray& in = x.value();
    auto out = ndarray::uninitialized(in.shape());
    const float* ip = in.data();
    float* yp = out.data();
    parallel_elementwise(out.size(), [ip, yp, forward](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i)
            yp[i] = forward(ip[i]);
    });
    return make_result(
        std::move(out), {x},
        [slope](backward_context& ctx) {
            const float* xp = ctx.input(0).data();
            ndarray d = take_grad(ctx); // scaled in place
            float* dp = d.data();
            parallel_elementwise(d.size(), [xp, dp, slope](std::size_t lo, std::size_t hi) {
                for (std::size_t i = lo; i < hi; ++i)
                    dp[i] *= slope(xp[i]);
            });
            ctx.accumulate(0, std::move(d));
        },
        op);
}
} // namespace detail

/// min(max(x + 3, 0), 6) / 6: MobileNetV3's hard sigmoid (PyTorch's hardsigmoid). The gradient
/// is 1/6 strictly inside (-3, 3) and 0 elsewhere, kinks included (PyTorch's convention).
[[nodiscard]] inline variable hard_sigmoid(const variable& x) {
    return detail::pointwise(
        x, [](float v) { return std::min(std::max(v + 3.0F, 0.0F), 6.0F) / 6.0F; },
        [](float v) { return v > -3.0F && v < 3.0F ? 1.0F / 6.0F : 0.0F; }, "hard_sigmoid");
}

/// x * hard_sigmoid(x): MobileNetV3's hard swish (PyTorch's hardswish). The gradient is 0 below
/// -3, x / 3 + 1/2 on [-3, 3] and 1 above (PyTorch's convention at the kinks).
[[nodiscard]] inline variable hard_swish(const variable& x) {
    return detail::pointwise(
        x, [](float v) { return v * (std::min(std::max(v + 3.0F, 0.0F), 6.0F) / 6.0F); },
        [](float v) { return v < -3.0F ? 0.0F : (v <= 3.0F ? v / 3.0F + 0.5F : 1.0F); },
        "hard_swish");
}

/// x [N, C, H, W] with each plane multiplied by s [N, C]: squeeze-and-excitation's gating
/// (x * s[:, :, None, None]). One op rather than a broadcasting mul, whose generic backward
/// reduces element by element: here ds is one fixed-order sum per plane.
[[nodiscard]] inline variable scale_channels(const variable& x, const variable& s) {
    const shape_t& xs = x.shape();
    if (xs.size() != 4) {
        detail::fail("scale_channels", "input must be [N, C, H, W], got " + to_string(xs));
    }
    if (s.shape() != shape_t{xs[0], xs[1]}) {
        detail::fail("scale_channels",
                     "scales must be [N, C] = " + to_string(shape_t{xs[0], xs[1]}) + ", got " +
                         to_string(s.shape()));
    }
    const std::size_t planes = xs[0] * xs[1];
    const std::size_t plane = xs[2] * xs[3];
    // Planes per task: about elementwise_grain elements, whole planes only.
    const std::size_t grain =
        std::max<std::size_t>(detail::elementwise_grain / std::max<std::size_t>(plane, 1), 1);
    auto out = ndarray::uninitialized(xs);
    const float* xp = x.value().data();
    const float* sp = s.value().data();
    float* op = out.data();
    detail::parallel_chunks(planes, grain, [=](std::size_t lo, std::size_t hi) {
        for (std::size_t p = lo; p < hi; ++p) {
            const float k = sp[p];
            for (std::size_t i = 0; i < plane; ++i)
                op[p * plane + i] = xp[p * plane + i] * k;
        }
    });
    return make_result(
        std::move(out), {x, s},
        [planes, plane, grain](backward_context& ctx) {
            const float* xv = ctx.input(0).data();
            const float* sv = ctx.input(1).data();
            if (ctx.needs_grad(1)) {
                const float* g = ctx.grad().data();
                auto ds = ndarray::uninitialized(ctx.input(1).shape());
                float* dsp = ds.data();
                detail::parallel_chunks(planes, grain, [=](std::size_t lo, std::size_t hi) {
                    for (std::size_t p = lo; p < hi; ++p) {
                        const float* gp = g + p * plane;
                        const float* xq = xv + p * plane;
                        dsp[p] =
                            detail::sum8(plane, [gp, xq](std::size_t i) { return gp[i] * xq[i]; });
                    }
                });
                ctx.accumulate(1, std::move(ds));
            }
            if (ctx.needs_grad(0)) {
                ndarray dx = detail::take_grad(ctx); // scaled in place
                float* dp = dx.data();
                detail::parallel_chunks(planes, grain, [=](std::size_t lo, std::size_t hi) {
                    for (std::size_t p = lo; p < hi; ++p) {
                        const float k = sv[p];
                        for (std::size_t i = 0; i < plane; ++i)
                            dp[p * plane + i] *= k;
                    }
                });
                ctx.accumulate(0, std::move(dx));
            }
        },
        "scale_channels");
}

/// Sum of all elements, as a scalar (shape []).
[[nodiscard]] inline variable sum(const variable& x) {
    double acc = 0.0;
    for (const float v : x.value().values())
        acc += v;
    return make_result(
        ndarray::scalar(static_cast<float>(acc)), {x},
        [](backward_context& ctx) {
            ctx.accumulate(0, ndarray(ctx.input(0).shape(), ctx.grad()[0]));
        },
        "sum");
}

/// Mean of all elements, as a scalar.
[[nodiscard]] inline variable mean(const variable& x) {
    const std::size_t n = x.size();
    if (n == 0)
        detail::fail("mean", "empty input");
    double acc = 0.0;
    for (const float v : x.value().values())
        acc += v;
    const double inv = 1.0 / static_cast<double>(n);
    return make_result(
        ndarray::scalar(static_cast<float>(acc * inv)), {x},
        [inv](backward_context& ctx) {
            ctx.accumulate(0,
                           ndarray(ctx.input(0).shape(), static_cast<float>(ctx.grad()[0] * inv)));
        },
        "mean");
}

// =============================================================================================
// Shape ops

/// The same values under another shape with the same element count.
[[nodiscard]] inline variable reshape(const variable& x, shape_t shape) {
    if (element_count(shape) != x.size()) {
        detail::fail("reshape",
                     "cannot view shape " + to_string(x.shape()) + " as " + to_string(shape));
    }
    return make_result(
        x.value().reshaped(std::move(shape)), {x},
        [](backward_context& ctx) {
            ctx.accumulate(0, detail::take_grad(ctx).reshaped(ctx.input(0).shape()));
        },
        "reshape");
}

/// [N, ...] -> [N, product of the rest].
[[nodiscard]] inline variable flatten(const variable& x) {
    if (x.shape().empty())
        detail::fail("flatten", "needs rank >= 1, got a scalar");
    const std::size_t n = x.dim(0);
    return reshape(x, {n, n == 0 ? 0 : x.size() / n});
}

namespace detail {
// An array seen as [outer, axis extent, inner] around `axis`.
struct axis_view {
    std::size_t outer = 1;
    std::size_t extent = 1;
    std::size_t inner = 1;
};
[[nodiscard]] inline axis_view view_around(const shape_t& s, std::size_t axis) {
    axis_view v;
    for (std::size_t i = 0; i < axis; ++i)
        v.outer *= s[i];
    v.extent = s[axis];
    for (std::size_t i = axis + 1; i < s.size(); ++i)
        v.inner *= s[i];
    return v;
}
} // namespace detail

/// Concatenation along `axis` (1 = channels for NCHW); other extents must agree.
[[nodiscard]] inline variable concat(const std::vector<variable>& xs, std::size_t axis = 1) {
    if (xs.empty())
        detail::fail("concat", "no inputs");
    const shape_t& first = xs[0].shape();
    if (axis >= first.size()) {
        detail::fail("concat", "axis " + std::to_string(axis) + " out of range for shape " +
                                   to_string(first));
    }
    shape_t out_shape = first;
    out_shape[axis] = 0;
    for (const auto& x : xs) {
        const shape_t& s = x.shape();
        bool ok = s.size() == first.size();
        for (std::size_t i = 0; ok && i < s.size(); ++i)
            ok = i == axis || s[i] == first[i];
        if (!ok) {
            detail::fail("concat", "shape " + to_string(s) + " does not match " + to_string(first) +
                                       " outside axis " + std::to_string(axis));
        }
        out_shape[axis] += s[axis];
    }
    auto out = ndarray::uninitialized(out_shape);
    const auto ov = detail::view_around(out_shape, axis);
    std::vector<std::size_t> offsets;
    std::size_t offset = 0;
    for (const auto& x : xs) {
        offsets.push_back(offset);
        const auto v = detail::view_around(x.shape(), axis);
        const float* src = x.value().data();
        for (std::size_t o = 0; o < v.outer; ++o) {
            std::copy_n(src + o * v.extent * v.inner, v.extent * v.inner,
                        out.data() + (o * ov.extent + offset) * ov.inner);
        }
        offset += v.extent;
    }
    return make_result(
        std::move(out), xs,
        [axis, offsets](backward_context& ctx) {
            const ndarray& g = ctx.grad();
            const auto gv = detail::view_around(g.shape(), axis);
            for (std::size_t i = 0; i < ctx.inputs(); ++i) {
                if (!ctx.needs_grad(i))
                    continue;
                auto d = ndarray::uninitialized(ctx.input(i).shape());
                const auto v = detail::view_around(d.shape(), axis);
                for (std::size_t o = 0; o < v.outer; ++o) {
                    std::copy_n(g.data() + (o * gv.extent + offsets[i]) * gv.inner,
                                v.extent * v.inner, d.data() + o * v.extent * v.inner);
                }
                ctx.accumulate(i, std::move(d));
            }
        },
        "concat");
}

/// Elements [start, start + length) along `axis` (e.g. the first channels, as NAS-Bench-101's
/// truncation does).
[[nodiscard]] inline variable narrow(const variable& x, std::size_t axis, std::size_t start,
                                     std::size_t length) {
    const shape_t& s = x.shape();
    if (axis >= s.size()) {
        detail::fail("narrow",
                     "axis " + std::to_string(axis) + " out of range for shape " + to_string(s));
    }
    if (start > s[axis] || length > s[axis] - start) {
        detail::fail("narrow", "range [" + std::to_string(start) + ", " +
                                   std::to_string(start + length) + ") exceeds extent " +
                                   std::to_string(s[axis]) + " of axis " + std::to_string(axis));
    }
    shape_t out_shape = s;
    out_shape[axis] = length;
    auto out = ndarray::uninitialized(out_shape);
    const auto v = detail::view_around(s, axis);
    for (std::size_t o = 0; o < v.outer; ++o) {
        std::copy_n(x.value().data() + (o * v.extent + start) * v.inner, length * v.inner,
                    out.data() + o * length * v.inner);
    }
    return make_result(
        std::move(out), {x},
        [axis, start, length](backward_context& ctx) {
            ndarray d(ctx.input(0).shape());
            const auto dv = detail::view_around(d.shape(), axis);
            for (std::size_t o = 0; o < dv.outer; ++o) {
                std::copy_n(ctx.grad().data() + o * length * dv.inner, length * dv.inner,
                            d.data() + (o * dv.extent + start) * dv.inner);
            }
            ctx.accumulate(0, std::move(d));
        },
        "narrow");
}

// =============================================================================================
// Dense layers

/// a [M, K] x b [K, N] -> [M, N].
[[nodiscard]] inline variable matmul(const variable& a, const variable& b) {
    const shape_t& as = a.shape();
    const shape_t& bs = b.shape();
    if (as.size() != 2 || bs.size() != 2 || as[1] != bs[0]) {
        detail::fail("matmul",
                     "needs [M, K] x [K, N], got " + to_string(as) + " x " + to_string(bs));
    }
    const std::size_t m = as[0];
    const std::size_t k = as[1];
    const std::size_t n = bs[1];
    auto out = ndarray::uninitialized({m, n});
    detail::as_matrix(out.data(), m, n).noalias() =
        detail::as_matrix(a.value().data(), m, k) * detail::as_matrix(b.value().data(), k, n);
    return make_result(
        std::move(out), {a, b},
        [m, k, n](backward_context& ctx) {
            const auto g = detail::as_matrix(ctx.grad().data(), m, n);
            if (ctx.needs_grad(0)) {
                auto d = ndarray::uninitialized({m, k});
                detail::as_matrix(d.data(), m, k).noalias() =
                    g * detail::as_matrix(ctx.input(1).data(), k, n).transpose();
                ctx.accumulate(0, std::move(d));
            }
            if (ctx.needs_grad(1)) {
                auto d = ndarray::uninitialized({k, n});
                detail::as_matrix(d.data(), k, n).noalias() =
                    detail::as_matrix(ctx.input(0).data(), m, k).transpose() * g;
                ctx.accumulate(1, std::move(d));
            }
        },
        "matmul");
}

namespace detail {
// Column sums of a rows x cols matrix, in double, row by row (fixed order).
[[nodiscard]] inline ndarray column_sums(const ndarray& g, std::size_t rows, std::size_t cols) {
    std::vector<double> acc(cols, 0.0);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c)
            acc[c] += g[r * cols + c];
    }
    auto out = ndarray::uninitialized({cols});
    for (std::size_t c = 0; c < cols; ++c)
        out[c] = static_cast<float>(acc[c]);
    return out;
}
} // namespace detail

/// x [N, in] x weight [out, in]^T + bias [out] (bias may be a null handle).
[[nodiscard]] inline variable linear(const variable& x, const variable& weight,
                                     const variable& bias = {}) {
    const shape_t& xs = x.shape();
    const shape_t& ws = weight.shape();
    if (xs.size() != 2 || ws.size() != 2 || xs[1] != ws[1]) {
        detail::fail("linear", "needs input [N, in] and weight [out, in], got " + to_string(xs) +
                                   " and " + to_string(ws));
    }
    const std::size_t n = xs[0];
    const std::size_t in = xs[1];
    const std::size_t out_features = ws[0];
    if (bias.defined() && bias.shape() != shape_t{out_features}) {
        detail::fail("linear", "bias of shape " + to_string(bias.shape()) + ", needs [" +
                                   std::to_string(out_features) + "]");
    }
    auto out = ndarray::uninitialized({n, out_features});
    auto o = detail::as_matrix(out.data(), n, out_features);
    o.noalias() = detail::as_matrix(x.value().data(), n, in) *
                  detail::as_matrix(weight.value().data(), out_features, in).transpose();
    if (bias.defined()) {
        const float* b = bias.value().data();
        for (std::size_t r = 0; r < n; ++r) {
            for (std::size_t c = 0; c < out_features; ++c)
                out[r * out_features + c] += b[c];
        }
    }
    return make_result(
        std::move(out), {x, weight, bias},
        [n, in, out_features](backward_context& ctx) {
            const auto g = detail::as_matrix(ctx.grad().data(), n, out_features);
            if (ctx.needs_grad(0)) {
                auto d = ndarray::uninitialized({n, in});
                detail::as_matrix(d.data(), n, in).noalias() =
                    g * detail::as_matrix(ctx.input(1).data(), out_features, in);
                ctx.accumulate(0, std::move(d));
            }
            if (ctx.needs_grad(1)) {
                auto d = ndarray::uninitialized({out_features, in});
                detail::as_matrix(d.data(), out_features, in).noalias() =
                    g.transpose() * detail::as_matrix(ctx.input(0).data(), n, in);
                ctx.accumulate(1, std::move(d));
            }
            if (ctx.needs_grad(2))
                ctx.accumulate(2, detail::column_sums(ctx.grad(), n, out_features));
        },
        "linear");
}

// =============================================================================================
// Convolution

/// A (height, width) pair; a single number means both: `.padding = 1` or `.padding = {0, 3}`.
struct hw {
    std::size_t h = 0;
    std::size_t w = 0;
    constexpr hw() noexcept = default;
    constexpr hw(std::size_t both) noexcept : h(both), w(both) {} // NOLINT: implicit on purpose
    constexpr hw(std::size_t height, std::size_t width) noexcept : h(height), w(width) {}
    friend constexpr bool operator==(const hw&, const hw&) = default;
};

[[nodiscard]] inline std::string to_string(const hw& v) {
    return v.h == v.w ? std::to_string(v.h) : std::to_string(v.h) + "x" + std::to_string(v.w);
}

struct conv2d_options {
    hw stride = 1;
    hw padding = 0;
    hw dilation = 1;
    std::size_t groups = 1; ///< groups == in channels == out channels: depthwise
};

namespace detail {

struct conv_geometry {
    std::size_t n = 0, cin = 0, h = 0, w = 0, cout = 0, kh = 0, kw = 0, groups = 1;
    std::size_t ho = 0, wo = 0;
    hw stride, padding, dilation;

    [[nodiscard]] std::size_t cin_g() const noexcept { return cin / groups; }
    [[nodiscard]] std::size_t cout_g() const noexcept { return cout / groups; }
    [[nodiscard]] std::size_t k() const noexcept { return cin_g() * kh * kw; }
    [[nodiscard]] std::size_t out_plane() const noexcept { return ho * wo; }
    // A 1x1 convolution without stride or padding multiplies by the input as it is.
    [[nodiscard]] bool pointwise() const noexcept {
        return kh == 1 && kw == 1 && stride == hw(1) && padding == hw(0);
    }
};

// Output extent of a sliding window, or 0 when the window does not fit.
[[nodiscard]] inline std::size_t window_extent(std::size_t in, std::size_t kernel,
                                               std::size_t stride, std::size_t pad,
                                               std::size_t dilation) noexcept {
    const std::size_t span = dilation * (kernel - 1) + 1;
    if (in + 2 * pad < span)
        return 0;
    return (in + 2 * pad - span) / stride + 1;
}

// Outputs [lo, hi) along one axis whose input o * stride + k * dilation - padding lies inside
// [0, in): the rest read padding.
struct column_range {
    std::size_t lo = 0;
    std::size_t hi = 0;
};
[[nodiscard]] inline column_range valid_outputs(std::size_t in, std::size_t out, std::size_t k,
                                                std::size_t stride, std::size_t pad,
                                                std::size_t dilation) noexcept {
    const std::size_t offset = k * dilation;
    column_range r;
    // smallest o with o * s + offset >= padding
    r.lo = offset >= pad ? 0 : (pad - offset + stride - 1) / stride;
    // o * s + offset < in + padding  <=>  o < (in + padding - offset) / s (rounded up)
    r.hi = in + pad > offset ? std::min(out, (in + pad - offset + stride - 1) / stride) : 0;
    r.lo = std::min(r.lo, r.hi);
    return r;
}
[[nodiscard]] inline column_range valid_columns(const conv_geometry& g, std::size_t kj) {
    return valid_outputs(g.w, g.wo, kj, g.stride.w, g.padding.w, g.dilation.w);
}
[[nodiscard]] inline column_range valid_rows(const conv_geometry& g, std::size_t ki) {
    return valid_outputs(g.h, g.ho, ki, g.stride.h, g.padding.h, g.dilation.h);
}

// With stride 1 and output rows as wide as input rows (a "same" convolution), the unfolded row
// of kernel tap (ki, kj) is the input plane shifted by one offset: output position j reads input
// position j + shift, apart from the columns that wrap into the neighbouring row. The unfolding
// is then one long copy plus a few zeroed columns instead of a short copy per output row.
[[nodiscard]] inline bool flat_rows(const conv_geometry& g) noexcept {
    return g.stride == hw(1) && g.wo == g.w;
}
[[nodiscard]] inline std::ptrdiff_t flat_shift(const conv_geometry& g, std::size_t ki,
                                               std::size_t kj) noexcept {
    const auto s = [](std::size_t v) { return static_cast<std::ptrdiff_t>(v); };
    return (s(ki * g.dilation.h) - s(g.padding.h)) * s(g.w) + s(kj * g.dilation.w) - s(g.padding.w);
}
// Output positions [lo, hi) of rows `rows` whose shifted input lies inside the plane.
[[nodiscard]] inline column_range flat_span(const conv_geometry& g, column_range rows,
                                            std::ptrdiff_t shift) noexcept {
    const auto plane = static_cast<std::ptrdiff_t>(g.h * g.w);
    const auto lo = std::max(static_cast<std::ptrdiff_t>(rows.lo * g.w), -shift);
    const auto hi = std::min(static_cast<std::ptrdiff_t>(rows.hi * g.w), plane - shift);
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(std::max(lo, hi))};
}
// Zeroes the columns of output rows `rows` that read padding (with a flat shift they would read
// the neighbouring input row). Column by column: a row-wise loop of one or two elements becomes
// a memset call per row.
inline void zero_wrapped_columns(float* row, const conv_geometry& g, column_range rows,
                                 column_range cols) noexcept {
    const auto zero_column = [&](std::size_t ox) {
        for (std::size_t oy = rows.lo; oy < rows.hi; ++oy)
            row[oy * g.wo + ox] = 0.0F;
    };
    for (std::size_t ox = 0; ox < cols.lo; ++ox)
        zero_column(ox);
    for (std::size_t ox = cols.hi; ox < g.wo; ++ox)
        zero_column(ox);
}

// Unfolds `channels` planes of x (h x w) into rows (c, ki, kj) x columns (oy, ox); row r starts
// at col + r * ld (ld >= out_plane: several samples share the rows of one batch).
inline void im2col(const float* x, std::size_t channels, const conv_geometry& g, float* col,
                   std::size_t ld) {
    const std::size_t plane = g.out_plane();
    const std::size_t in_plane = g.h * g.w;
    const bool flat = flat_rows(g);
    for (std::size_t c = 0; c < channels; ++c) {
        const float* xc = x + c * in_plane;
        for (std::size_t ki = 0; ki < g.kh; ++ki) {
            const auto rows = valid_rows(g, ki);
            for (std::size_t kj = 0; kj < g.kw; ++kj) {
                float* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
                const auto cols = valid_columns(g, kj);
                if (rows.lo == rows.hi || cols.lo == cols.hi) {
                    std::fill_n(row, plane, 0.0F);
                    continue;
                }
                std::fill_n(row, rows.lo * g.wo, 0.0F);
                std::fill_n(row + rows.hi * g.wo, (g.ho - rows.hi) * g.wo, 0.0F);
                if (flat) {
                    const std::ptrdiff_t shift = flat_shift(g, ki, kj);
                    const auto span = flat_span(g, rows, shift);
                    std::fill(row + rows.lo * g.wo, row + span.lo, 0.0F);
                    std::copy(xc + (static_cast<std::ptrdiff_t>(span.lo) + shift),
                              xc + (static_cast<std::ptrdiff_t>(span.hi) + shift), row + span.lo);
                    std::fill(row + span.hi, row + rows.hi * g.wo, 0.0F);
                    zero_wrapped_columns(row, g, rows, cols);
                    continue;
                }
                for (std::size_t oy = rows.lo; oy < rows.hi; ++oy) {
                    const std::size_t iy = oy * g.stride.h + ki * g.dilation.h - g.padding.h;
                    float* dst = row + oy * g.wo;
                    std::fill_n(dst, cols.lo, 0.0F);
                    std::fill_n(dst + cols.hi, g.wo - cols.hi, 0.0F);
                    // Input column of output column cols.lo; the range keeps it inside the row.
                    const float* src =
                        xc + iy * g.w + (cols.lo * g.stride.w + kj * g.dilation.w - g.padding.w);
                    if (g.stride.w == 1) {
                        std::copy_n(src, cols.hi - cols.lo, dst + cols.lo);
                    } else {
                        for (std::size_t ox = cols.lo; ox < cols.hi; ++ox)
                            dst[ox] = src[(ox - cols.lo) * g.stride.w];
                    }
                }
            }
        }
    }
}

// The adjoint of im2col: adds the columns back into the planes of dx. `col` is scratch: the
// flat path zeroes its wrapped columns first (so that one long add per row is exact).
inline void col2im(float* col, std::size_t channels, const conv_geometry& g, float* dx,
                   std::size_t ld) {
    const std::size_t in_plane = g.h * g.w;
    const bool flat = flat_rows(g);
    for (std::size_t c = 0; c < channels; ++c) {
        float* dxc = dx + c * in_plane;
        for (std::size_t ki = 0; ki < g.kh; ++ki) {
            const auto rows = valid_rows(g, ki);
            for (std::size_t kj = 0; kj < g.kw; ++kj) {
                float* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
                const auto cols = valid_columns(g, kj);
                if (rows.lo == rows.hi || cols.lo == cols.hi)
                    continue;
                if (flat) {
                    const std::ptrdiff_t shift = flat_shift(g, ki, kj);
                    const auto span = flat_span(g, rows, shift);
                    zero_wrapped_columns(row, g, rows, cols);
                    float* dst = dxc + shift;
                    for (std::size_t j = span.lo; j < span.hi; ++j)
                        dst[j] += row[j];
                    continue;
                }
                for (std::size_t oy = rows.lo; oy < rows.hi; ++oy) {
                    const std::size_t iy = oy * g.stride.h + ki * g.dilation.h - g.padding.h;
                    const float* src = row + oy * g.wo;
                    float* dst =
                        dxc + iy * g.w + (cols.lo * g.stride.w + kj * g.dilation.w - g.padding.w);
                    for (std::size_t ox = cols.lo; ox < cols.hi; ++ox)
                        dst[(ox - cols.lo) * g.stride.w] += src[ox];
                }
            }
        }
    }
}

// Per-thread scratch space (unfolded columns, gathered batches): allocating and first touching
// fresh buffers on every call costs about as much as the small GEMMs they feed. Every use writes
// its buffer in full before reading it, so reuse cannot change results. Requests above
// scratch_limit floats get a buffer of their own, so that one huge convolution does not pin
// memory in every thread. Each slot is used by one scratch object at a time per thread: op
// bodies run inside parallel_chunks and start no nested parallel work while holding one.
class scratch {
public:
    enum slot : std::size_t { columns, grad_columns, batch, result, slots };
    static constexpr std::size_t limit = std::size_t{1} << 22; // floats (16 MiB)

    scratch(slot s, std::size_t n) {
        if (n == 0)
            return;
        if (n > limit) {
            m_own = ndarray::storage(n);
            m_data = m_own.data();
            return;
        }
        auto& buffer = buffers()[s];
        if (buffer.size() < n) {
            buffer = ndarray::storage(); // free first: peak memory is one buffer, not two
            buffer = ndarray::storage(n);
        }
        m_data = buffer.data();
    }
    [[nodiscard]] float* data() const noexcept { return m_data; }

private:
    static std::array<ndarray::storage, slots>& buffers() {
        thread_local std::array<ndarray::storage, slots> b;
        return b;
    }
    ndarray::storage m_own;
    float* m_data = nullptr;
};

// How a convolution cuts the batch: `batch` samples share one GEMM (their unfolded columns side
// by side), so that small planes (8x8 = 64 columns) still make GEMMs of ~1024 columns; `chunk`
// samples (a multiple of batch) share one partial weight gradient. Both depend only on the
// geometry, never on the thread count, so the order of every sum is fixed.
struct conv_batching {
    std::size_t batch = 1;
    std::size_t chunk = 1;
};
inline constexpr std::size_t conv_target_columns = 1024;
// Samples per chunk of a convolution's weight-gradient reduction (at least).
inline constexpr std::size_t conv_batch_chunk = 4;
[[nodiscard]] inline conv_batching batching_of(const conv_geometry& g) {
    const std::size_t plane = std::max<std::size_t>(g.out_plane(), 1);
    std::size_t batch = (conv_target_columns + plane - 1) / plane;
    batch = std::min(batch, std::max<std::size_t>(g.n / 4, 1)); // >= 4 tasks to share out
    batch = std::max<std::size_t>(batch, 1);
    const std::size_t per_chunk = (conv_batch_chunk + batch - 1) / batch;
    return {.batch = batch, .chunk = batch * per_chunk};
}

// The unfolded input of samples [n0, n0 + count), group grp, as a k x (count * plane) matrix:
// the input itself for one sample of a pointwise convolution, else written into `buffer`.
[[nodiscard]] inline const float* unfold_batch(const float* x, const conv_geometry& g,
                                               std::size_t n0, std::size_t count, std::size_t grp,
                                               float* buffer) {
    const std::size_t plane = g.out_plane();
    const std::size_t in_plane = g.h * g.w;
    const std::size_t ld = count * plane;
    const auto sample = [&](std::size_t j) {
        return x + ((n0 + j) * g.cin + grp * g.cin_g()) * in_plane;
    };
    if (g.pointwise()) {
        if (count == 1)
            return sample(0);
        for (std::size_t j = 0; j < count; ++j) {
            for (std::size_t c = 0; c < g.cin_g(); ++c)
                std::copy_n(sample(j) + c * plane, plane, buffer + c * ld + j * plane);
        }
        return buffer;
    }
    for (std::size_t j = 0; j < count; ++j)
        im2col(sample(j), g.cin_g(), g, buffer + j * plane, ld);
    return buffer;
}

// Batch layout [rows, count * plane] <-> NCHW planes of samples [n0, n0 + count): row r of sample
// j is plane (n0 + j) * channels + r.
inline void gather_planes(const float* nchw, std::size_t channels, std::size_t plane,
                          std::size_t n0, std::size_t count, float* batch) {
    for (std::size_t j = 0; j < count; ++j) {
        for (std::size_t r = 0; r < channels; ++r) {
            std::copy_n(nchw + ((n0 + j) * channels + r) * plane, plane,
                        batch + r * count * plane + j * plane);
        }
    }
}

inline void scatter_planes(const float* batch, std::size_t channels, std::size_t plane,
                           std::size_t n0, std::size_t count, float* nchw) {
    for (std::size_t j = 0; j < count; ++j) {
        for (std::size_t r = 0; r < channels; ++r) {
            std::copy_n(batch + r * count * plane + j * plane, plane,
                        nchw + ((n0 + j) * channels + r) * plane);
        }
    }
}

// The input gradient of a stride-1 convolution is itself a convolution: of dL/d output padded by
// dilation * (k - 1) - padding, with the kernel flipped and its channel axes swapped. Unfolding
// dL/d output and one GEMM with K = C_out * KH * KW / groups then writes dx in place, where the
// col2im route multiplies with K = C_out / groups (a poor GEMM shape for narrow layers) and
// scatter-adds every tap.
[[nodiscard]] inline bool transposed_dx(const conv_geometry& g) noexcept {
    return g.stride == hw(1) && !g.pointwise() && g.padding.h <= g.dilation.h * (g.kh - 1) &&
           g.padding.w <= g.dilation.w * (g.kw - 1);
}
[[nodiscard]] inline conv_geometry transposed_geometry(const conv_geometry& g) noexcept {
    conv_geometry t = g;
    t.cin = g.cout;
    t.h = g.ho;
    t.w = g.wo;
    t.cout = g.cin;
    t.ho = g.h;
    t.wo = g.w;
    const auto flip_pad = [](std::size_t d, std::size_t k, std::size_t p) {
        return d * (k - 1) >= p ? d * (k - 1) - p : 0; // only used where transposed_dx holds
    };
    t.padding = {flip_pad(g.dilation.h, g.kh, g.padding.h),
                 flip_pad(g.dilation.w, g.kw, g.padding.w)};
    return t;
}
// Weights of that convolution: per group [C_in / groups, C_out / groups, KH, KW], flipped.
[[nodiscard]] inline ndarray::storage transposed_weights(const float* w, const conv_geometry& g) {
    ndarray::storage out(g.cout * g.k());
    const std::size_t cin_g = g.cin_g();
    const std::size_t cout_g = g.cout_g();
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
        for (std::size_t co = 0; co < cout_g; ++co) {
            for (std::size_t ci = 0; ci < cin_g; ++ci) {
                for (std::size_t ki = 0; ki < g.kh; ++ki) {
                    for (std::size_t kj = 0; kj < g.kw; ++kj) {
                        out[(((grp * cin_g + ci) * cout_g + co) * g.kh + (g.kh - 1 - ki)) * g.kw +
                            (g.kw - 1 - kj)] =
                            w[(((grp * cout_g + co) * cin_g + ci) * g.kh + ki) * g.kw + kj];
                    }
                }
            }
        }
    }
    return out;
}

#if defined(__GNUC__) || defined(__clang__)
#define NASCENT_TENSOR_DIRECT_CONV 1
#endif

// Direct stride-1 convolution for layers of >= 8 output channels. im2col + GEMM moves every
// input value ~KH * KW times through memory (the unfolding, then Eigen's packing of it) before a
// GEMM whose small N (C_out) reuses each packed value only C_out times; for NAS-Bench-201's
// narrow layers that traffic costs more than the multiplications. Here the input is copied once
// into a zero-padded plane (see direct_plan); output position p of the grid (ho rows of the
// padded width, the columns past wo discarded) then reads input p + tap offset for every tap, so
// a tile of 32 consecutive positions x 8 output channels accumulates in 16 vector registers over
// all input channels and taps. The input gradient of a stride-1 layer is such a convolution too
// (transposed_dx), and the weight gradient has kernels of its own below. The sum of each output
// runs over (input channel, tap) in a fixed order: deterministic. GCC / Clang vector
// extensions; elsewhere the GEMM path.
inline constexpr std::size_t direct_channels = 8; // output channels per tile
inline constexpr std::size_t direct_vectors = 2;  // vectors of 16 positions per tile
inline constexpr std::size_t direct_positions = 16 * direct_vectors;

// The padded rows are w + padding wide: a row's right padding is the next row's left padding
// (zeros either way), so 8x8 planes with padding 1 give rows of 9, not 10.
struct direct_plan {
    std::size_t hp = 0, wp = 0;    // padded input plane
    std::size_t grid = 0;          // ho * wp output positions
    std::size_t grid_stride = 0;   // grid rounded up to whole tiles
    std::size_t plane_stride = 0;  // hp * wp
    std::size_t input_size = 0;    // padded planes of one group, with slack for the last tile
    std::size_t blocks = 0;        // tiles of output channels per group
    std::vector<std::size_t> taps; // offset of each (ki, kj) in the padded plane
};

// Worth it (and possible) for this geometry: stride 1, >= 8 output channels per group, padding
// no wider than the kernel's reach (so output rows fit the padded rows), and at most 25 % of the
// grid spent on the discarded columns.
[[nodiscard]] inline bool direct_conv_fits(const conv_geometry& g) noexcept {
#ifdef NASCENT_TENSOR_DIRECT_CONV
    const std::size_t wp = g.w + g.padding.w;
    return g.stride == hw(1) && !g.pointwise() && g.cout_g() >= direct_channels &&
           g.padding.w <= g.dilation.w * (g.kw - 1) && g.ho > 0 && g.wo > 0 &&
           4 * (wp - g.wo) <= g.wo;
#else
    (void)g;
    return false;
#endif
}

[[nodiscard]] inline direct_plan plan_direct(const conv_geometry& g) {
    direct_plan p;
    p.hp = g.h + 2 * g.padding.h;
    p.wp = g.w + g.padding.w;
    p.grid = g.ho * p.wp;
    p.grid_stride = (p.grid + direct_positions - 1) / direct_positions * direct_positions;
    p.plane_stride = p.hp * p.wp;
    // The last tile reads up to grid_stride - 1 + the largest tap offset.
    p.input_size = g.cin_g() * p.plane_stride + (g.kw - 1) * g.dilation.w + direct_positions;
    p.blocks = (g.cout_g() + direct_channels - 1) / direct_channels;
    for (std::size_t ki = 0; ki < g.kh; ++ki) {
        for (std::size_t kj = 0; kj < g.kw; ++kj)
            p.taps.push_back(ki * g.dilation.h * p.wp + kj * g.dilation.w);
    }
    return p;
}

// Weights [groups * C_out_g, C_in_g, KH, KW] as, per group, [blocks][C_in_g][taps][8] (output
// channels innermost, zero rows past C_out_g): a tile's weights for one tap are 8 adjacent floats.
[[nodiscard]] inline ndarray::storage repack_direct(const float* w, const conv_geometry& g,
                                                    const direct_plan& p) {
    const std::size_t taps = g.kh * g.kw;
    const std::size_t per_group = p.blocks * g.cin_g() * taps * direct_channels;
    ndarray::storage out(g.groups * per_group, 0.0F);
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
        for (std::size_t co = 0; co < g.cout_g(); ++co) {
            const std::size_t b = co / direct_channels;
            const std::size_t lane = co % direct_channels;
            for (std::size_t ci = 0; ci < g.cin_g(); ++ci) {
                for (std::size_t t = 0; t < taps; ++t) {
                    out[grp * per_group + ((b * g.cin_g() + ci) * taps + t) * direct_channels +
                        lane] = w[((grp * g.cout_g() + co) * g.cin_g() + ci) * taps + t];
                }
            }
        }
    }
    return out;
}

#ifdef NASCENT_TENSOR_DIRECT_CONV
using vec16 = float __attribute__((vector_size(64)));
#else
struct vec16 { // never used (direct_conv_fits is false): keeps direct_tiles compiling
    float v[16];
    vec16& operator+=(const vec16& o) {
        for (int i = 0; i < 16; ++i)
            v[i] += o.v[i];
        return *this;
    }
    friend vec16 operator*(float s, vec16 a) {
        for (auto& e : a.v)
            e *= s;
        return a;
    }
    friend vec16 operator*(vec16 a, const vec16& b) {
        for (int i = 0; i < 16; ++i)
            a.v[i] *= b.v[i];
        return a;
    }
};
#endif

// grid[(b + k) * 8 + lane][p0, p0 + 16 * Vectors) for k < Blocks: one tile of output channels
// and positions, summed over input channels and taps. Not inlined: inlined into a large caller,
// GCC spills the accumulators.
template <std::size_t Blocks, std::size_t Vectors>
[[gnu::noinline]] void direct_tile(const float* xpad, const float* wr, const direct_plan& p,
                                   std::size_t cin, std::size_t b, std::size_t p0, float* grid) {
    const std::size_t taps = p.taps.size();
    const std::size_t* offset = p.taps.data();
    const std::size_t block_size = cin * taps * direct_channels;
    const float* wb = wr + b * block_size;
    vec16 acc[Blocks * direct_channels][Vectors] = {};
    for (std::size_t ci = 0; ci < cin; ++ci) {
        const float* xc = xpad + ci * p.plane_stride + p0;
        const float* wc = wb + ci * taps * direct_channels;
        for (std::size_t t = 0; t < taps; ++t) {
            // Loads and stores go through single temporaries: taking the address of the
            // arrays would keep the accumulators in memory instead of registers.
            vec16 xs[Vectors];
            for (std::size_t q = 0; q < Vectors; ++q) {
                vec16 v;
                std::memcpy(&v, xc + offset[t] + 16 * q, sizeof v); // unaligned load
                xs[q] = v;
            }
            for (std::size_t k = 0; k < Blocks; ++k) {
                const float* wk = wc + k * block_size + t * direct_channels;
                for (std::size_t c = 0; c < direct_channels; ++c) {
                    for (std::size_t q = 0; q < Vectors; ++q)
                        acc[k * direct_channels + c][q] += wk[c] * xs[q];
                }
            }
        }
    }
    for (std::size_t c = 0; c < Blocks * direct_channels; ++c) {
        for (std::size_t q = 0; q < Vectors; ++q) {
            const vec16 v = acc[c][q];
            std::memcpy(grid + (b * direct_channels + c) * p.grid_stride + p0 + 16 * q, &v,
                        sizeof v);
        }
    }
}

// Every tile. A last tile of at most 16 positions takes one vector for two blocks of channels:
// 8x8 planes (rows of 9 with the padding) give 72 positions, 2 tiles of 32 and a tail of 8, and
// a tail tile of 8 channels would do 8 multiply-adds per load.
inline void direct_tiles(const float* xpad, const float* wr, const direct_plan& p, std::size_t cin,
                         float* grid) {
    const std::size_t tail = p.grid % direct_positions;
    const std::size_t full = p.grid - (tail <= 16 ? tail : 0);
    for (std::size_t b = 0; b < p.blocks; ++b) {
        for (std::size_t p0 = 0; p0 < full; p0 += direct_positions)
            direct_tile<1, direct_vectors>(xpad, wr, p, cin, b, p0, grid);
    }
    if (full == p.grid)
        return;
    std::size_t b = 0;
    for (; b + 2 <= p.blocks; b += 2)
        direct_tile<2, 1>(xpad, wr, p, cin, b, full, grid);
    if (b < p.blocks)
        direct_tile<1, 1>(xpad, wr, p, cin, b, full, grid);
}

// The C_in / groups planes at x, zero-padded, then zeros for the last tile's overrun.
inline void pad_input(const float* x, const conv_geometry& g, const direct_plan& p, float* xpad) {
    const std::size_t in_plane = g.h * g.w;
    for (std::size_t c = 0; c < g.cin_g(); ++c) {
        const float* src = x + c * in_plane;
        float* dst = xpad + c * p.plane_stride;
        std::fill_n(dst, g.padding.h * p.wp, 0.0F);
        for (std::size_t y = 0; y < g.h; ++y) {
            float* row = dst + (g.padding.h + y) * p.wp;
            std::fill_n(row, g.padding.w, 0.0F);
            std::copy_n(src + y * g.w, g.w, row + g.padding.w);
        }
        std::fill_n(dst + (g.padding.h + g.h) * p.wp, g.padding.h * p.wp, 0.0F);
    }
    std::fill(xpad + g.cin_g() * p.plane_stride, xpad + p.input_size, 0.0F);
}

// One sample: out [C_out, ho, wo] (+ bias) = conv(x [C_in, h, w]). `xpad` holds input_size
// floats, `grid` blocks * 8 * grid_stride.
inline void direct_conv_sample(const float* x, const conv_geometry& g, const direct_plan& p,
                               const float* wr, const float* bias, float* out, float* xpad,
                               float* grid) {
    const std::size_t taps = g.kh * g.kw;
    const std::size_t in_plane = g.h * g.w;
    const std::size_t out_plane = g.ho * g.wo;
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
        pad_input(x + grp * g.cin_g() * in_plane, g, p, xpad);
        direct_tiles(xpad, wr + grp * p.blocks * g.cin_g() * taps * direct_channels, p, g.cin_g(),
                     grid);
        for (std::size_t co = 0; co < g.cout_g(); ++co) {
            const float* src = grid + co * p.grid_stride;
            float* dst = out + (grp * g.cout_g() + co) * out_plane;
            const float shift = bias != nullptr ? bias[grp * g.cout_g() + co] : 0.0F;
            for (std::size_t oy = 0; oy < g.ho; ++oy) {
                for (std::size_t ox = 0; ox < g.wo; ++ox)
                    dst[oy * g.wo + ox] = src[oy * p.wp + ox] + shift;
            }
        }
    }
}

// The weight gradient of a 3x3 stride-1 convolution, directly: dW[co][ci][tap] is the sum over
// samples and grid positions p of dy[co][p] * x_padded[ci][p + tap offset], with dy laid on the
// same padded-width grid (zeros at the discarded columns and past the end). Two output channels
// x 9 taps accumulate in 18 vector registers over a chunk of samples; each accumulator's lanes are
// then added in a fixed tree order. (With a non-finite input value, the zeros at discarded
// positions may multiply it into NaN where a GEMM would give inf: training has diverged then.)
inline constexpr std::size_t direct_dw_taps = 9;

// (On planes narrower than 16, short sweeps and the lane sums per weight cost more than the
// GEMM's unfolding.)
[[nodiscard]] inline bool direct_weight_grad_fits(const conv_geometry& g) noexcept {
    const std::size_t wp = g.w + g.padding.w;
    return direct_conv_fits(g) && g.kh * g.kw == direct_dw_taps && 16 * (wp - g.wo) <= g.wo;
}

// dL/d output of one sample and group on the padded-width grid: [C_out_g][grid_stride].
inline void pad_to_grid(const float* dy, const conv_geometry& g, const direct_plan& p,
                        float* grid) {
    for (std::size_t co = 0; co < g.cout_g(); ++co) {
        float* dst = grid + co * p.grid_stride;
        const float* src = dy + co * g.ho * g.wo;
        for (std::size_t oy = 0; oy < g.ho; ++oy) {
            std::copy_n(src + oy * g.wo, g.wo, dst + oy * p.wp);
            std::fill_n(dst + oy * p.wp + g.wo, p.wp - g.wo, 0.0F);
        }
        std::fill(dst + p.grid, dst + p.grid_stride, 0.0F);
    }
}

template <std::size_t Channels>
[[gnu::noinline]] inline void
direct_weight_tile(const float* xpads, const float* grids, std::size_t count, const direct_plan& p,
                   std::size_t cin, std::size_t cout, std::size_t co, std::size_t ci, float* dw) {
    constexpr std::size_t taps = direct_dw_taps;
    std::size_t offset[taps];
    std::copy_n(p.taps.begin(), taps, offset);
    vec16 acc[Channels][taps] = {};
    for (std::size_t s = 0; s < count; ++s) {
        const float* xs = xpads + s * p.input_size + ci * p.plane_stride;
        const float* gs = grids + (s * cout + co) * p.grid_stride;
        for (std::size_t p0 = 0; p0 < p.grid; p0 += 16) { // zeros from grid to grid_stride
            vec16 gv[Channels];
            for (std::size_t c = 0; c < Channels; ++c) {
                vec16 v;
                std::memcpy(&v, gs + c * p.grid_stride + p0, sizeof v);
                gv[c] = v;
            }
            for (std::size_t t = 0; t < taps; ++t) {
                vec16 xv;
                std::memcpy(&xv, xs + p0 + offset[t], sizeof xv);
                for (std::size_t c = 0; c < Channels; ++c)
                    acc[c][t] += gv[c] * xv;
            }
        }
    }
    for (std::size_t c = 0; c < Channels; ++c) {
        for (std::size_t t = 0; t < taps; ++t) {
            float lanes[16];
            const vec16 v = acc[c][t];
            std::memcpy(lanes, &v, sizeof lanes);
            for (std::size_t width = 8; width > 0; width /= 2) {
                for (std::size_t j = 0; j < width; ++j)
                    lanes[j] += lanes[j + width];
            }
            dw[((co + c) * cin + ci) * taps + t] = lanes[0];
        }
    }
}

// dW of one group (written, [C_out_g][C_in_g][3][3]) from `count` samples' padded inputs
// (input_size floats each) and gridded output gradients (C_out_g * grid_stride floats each).
inline void direct_weight_grad(const float* xpads, const float* grids, std::size_t count,
                               const conv_geometry& g, const direct_plan& p, float* dw) {
    const std::size_t cout = g.cout_g();
    const std::size_t cin = g.cin_g();
    std::size_t co = 0;
    for (; co + 2 <= cout; co += 2) {
        for (std::size_t ci = 0; ci < cin; ++ci)
            direct_weight_tile<2>(xpads, grids, count, p, cin, cout, co, ci, dw);
    }
    for (; co < cout; ++co) {
        for (std::size_t ci = 0; ci < cin; ++ci)
            direct_weight_tile<1>(xpads, grids, count, p, cin, cout, co, ci, dw);
    }
}

// The same weight gradient vectorised over output channels instead, for layers whose C_out /
// groups is a multiple of 16: for each output position, dy over 16 or 32 output channels (one
// or two vectors, from dy transposed to [position][channel]) times the 9 input values under the
// taps, into 9 x (1 or 2) vector accumulators. Only real positions are visited and no lanes
// need adding up, which suits small planes (8x8), where the position-vectorised kernel wastes
// lanes on discarded columns and the GEMM's unfolding dominates.
[[nodiscard]] inline bool direct_weight_grad_by_channels_fits(const conv_geometry& g) noexcept {
    return direct_conv_fits(g) && g.kh * g.kw == direct_dw_taps && g.cout_g() % 16 == 0;
}

// dL/d output of one sample and group as [ho * wo][C_out_g].
inline void transpose_planes(const float* dy, const conv_geometry& g, float* gt) {
    const std::size_t plane = g.ho * g.wo;
    const std::size_t cout = g.cout_g();
    for (std::size_t co = 0; co < cout; ++co) {
        const float* src = dy + co * plane;
        for (std::size_t q = 0; q < plane; ++q)
            gt[q * cout + co] = src[q];
    }
}

template <std::size_t Vectors>
[[gnu::noinline]] void direct_weight_channels_tile(const float* xpads, const float* gts,
                                                   std::size_t count, const conv_geometry& g,
                                                   const direct_plan& p, std::size_t ci,
                                                   std::size_t co, float* dw) {
    constexpr std::size_t taps = direct_dw_taps;
    std::size_t offset[taps];
    std::copy_n(p.taps.begin(), taps, offset);
    const std::size_t cout = g.cout_g();
    const std::size_t plane = g.ho * g.wo;
    vec16 acc[taps][Vectors] = {};
    for (std::size_t s = 0; s < count; ++s) {
        const float* xs = xpads + s * p.input_size + ci * p.plane_stride;
        const float* gs = gts + s * plane * cout + co;
        for (std::size_t oy = 0; oy < g.ho; ++oy) {
            for (std::size_t ox = 0; ox < g.wo; ++ox) {
                const float* xq = xs + oy * p.wp + ox;
                const float* gq = gs + (oy * g.wo + ox) * cout;
                vec16 gv[Vectors];
                for (std::size_t v = 0; v < Vectors; ++v) {
                    vec16 r;
                    std::memcpy(&r, gq + 16 * v, sizeof r);
                    gv[v] = r;
                }
                for (std::size_t t = 0; t < taps; ++t) {
                    const float xv = xq[offset[t]];
                    for (std::size_t v = 0; v < Vectors; ++v)
                        acc[t][v] += xv * gv[v];
                }
            }
        }
    }
    const std::size_t cin = g.cin_g();
    for (std::size_t t = 0; t < taps; ++t) {
        for (std::size_t v = 0; v < Vectors; ++v) {
            float lanes[16];
            const vec16 r = acc[t][v];
            std::memcpy(lanes, &r, sizeof lanes);
            for (std::size_t lane = 0; lane < 16; ++lane)
                dw[((co + 16 * v + lane) * cin + ci) * taps + t] = lanes[lane];
        }
    }
}

// dW of one group (written, [C_out_g][C_in_g][3][3]) from `count` samples' padded inputs and
// transposed output gradients (ho * wo * C_out_g floats each).
inline void direct_weight_grad_by_channels(const float* xpads, const float* gts, std::size_t count,
                                           const conv_geometry& g, const direct_plan& p,
                                           float* dw) {
    const std::size_t cout = g.cout_g();
    for (std::size_t ci = 0; ci < g.cin_g(); ++ci) {
        std::size_t co = 0;
        for (; co + 32 <= cout; co += 32)
            direct_weight_channels_tile<2>(xpads, gts, count, g, p, ci, co, dw);
        for (; co < cout; co += 16)
            direct_weight_channels_tile<1>(xpads, gts, count, g, p, ci, co, dw);
    }
}

// The recorded node of a convolution: its backward computes dx (the transposed convolution,
// direct or by GEMM, or col2im), dW (directly, or by GEMM over chunks of samples; summed in
// chunk order) and db.
[[nodiscard]] inline variable conv2d_result(ndarray out, const variable& x, const variable& weight,
                                            const variable& bias, const conv_geometry& g) {
    return make_result(
        std::move(out), {x, weight, bias},
        [g](backward_context& ctx) {
            const bool need_x = ctx.needs_grad(0);
            const bool need_w = ctx.needs_grad(1);
            const float* gp = ctx.grad().data();
            const float* xp2 = ctx.input(0).data();
            const float* wp2 = ctx.input(1).data();
            const std::size_t plane2 = g.out_plane();
            const std::size_t in_plane = g.h * g.w;
            const std::size_t wsize = g.cout * g.k();
            const auto bt2 = detail::batching_of(g);
            const std::size_t chunks = (g.n + bt2.chunk - 1) / bt2.chunk;
            // dx by the transposed convolution where it exists, else by col2im.
            const bool transposed = need_x && detail::transposed_dx(g);
            const auto gt = detail::transposed_geometry(g);
            const ndarray::storage wt =
                transposed ? detail::transposed_weights(wp2, g) : ndarray::storage{};
            const bool by_col2im = need_x && !transposed;
            const bool direct_dx = transposed && detail::direct_conv_fits(gt);
            const auto plan_t = direct_dx ? detail::plan_direct(gt) : detail::direct_plan{};
            const ndarray::storage wr_t =
                direct_dx ? detail::repack_direct(wt.data(), gt, plan_t) : ndarray::storage{};
            ndarray dx;
            if (need_x)
                dx = ndarray::uninitialized(ctx.input(0).shape());
            // One weight gradient per chunk of samples, each written in full by its chunk.
            ndarray::storage partial_w(need_w ? chunks * wsize : 0);
            // dW directly for 3x3 stride-1 layers of >= 8 channels, else by GEMM per batch.
            const bool by_channels = need_w && detail::direct_weight_grad_by_channels_fits(g);
            const bool direct_dw = by_channels || (need_w && detail::direct_weight_grad_fits(g));
            const bool gemm_w = need_w && !direct_dw;
            const auto plan_w = direct_dw ? detail::plan_direct(g) : detail::direct_plan{};
            const auto chunk_weight_grad = [&](std::size_t c) {
                const std::size_t first = c * bt2.chunk;
                const std::size_t count = std::min(g.n, first + bt2.chunk) - first;
                const detail::scratch xpads(detail::scratch::columns, count * plan_w.input_size);
                // dy per sample: transposed, or on the padded-width grid.
                const std::size_t dy_size =
                    by_channels ? plane2 * g.cout_g() : g.cout_g() * plan_w.grid_stride;
                const detail::scratch grids(detail::scratch::batch, count * dy_size);
                for (std::size_t grp = 0; grp < g.groups; ++grp) {
                    for (std::size_t j = 0; j < count; ++j) {
                        detail::pad_input(xp2 + ((first + j) * g.cin + grp * g.cin_g()) * in_plane,
                                          g, plan_w, xpads.data() + j * plan_w.input_size);
                        const float* dy = gp + ((first + j) * g.cout + grp * g.cout_g()) * plane2;
                        if (by_channels)
                            detail::transpose_planes(dy, g, grids.data() + j * dy_size);
                        else
                            detail::pad_to_grid(dy, g, plan_w, grids.data() + j * dy_size);
                    }
                    float* dw = partial_w.data() + c * wsize + grp * g.cout_g() * g.k();
                    if (by_channels) {
                        detail::direct_weight_grad_by_channels(xpads.data(), grids.data(), count, g,
                                                               plan_w, dw);
                    } else {
                        detail::direct_weight_grad(xpads.data(), grids.data(), count, g, plan_w,
                                                   dw);
                    }
                }
            };
            const auto batch_backward = [&](std::size_t c, std::size_t n0, std::size_t count) {
                const std::size_t cols_n = count * plane2;
                const std::size_t in_cols = count * in_plane;
                const bool first_in_chunk = n0 == c * bt2.chunk;
                // dL/d output of the batch as [C_out, count * plane] (dW and col2im need it).
                const bool need_gm = gemm_w || by_col2im;
                const detail::scratch gathered(detail::scratch::batch,
                                               need_gm && count > 1 ? g.cout * cols_n : 0);
                const float* gb = gp + n0 * g.cout * plane2;
                if (need_gm && count > 1) {
                    detail::gather_planes(gp, g.cout, plane2, n0, count, gathered.data());
                    gb = gathered.data();
                }
                const detail::scratch columns(
                    detail::scratch::columns,
                    gemm_w && !(g.pointwise() && count == 1) ? g.k() * cols_n : 0);
                const std::size_t direct_grid =
                    plan_t.blocks * detail::direct_channels * plan_t.grid_stride;
                const std::size_t dcol_size = !need_x         ? 0
                                              : direct_dx     ? plan_t.input_size
                                              : transposed    ? gt.k() * in_cols
                                              : g.pointwise() ? g.cin * cols_n
                                                              : g.k() * cols_n;
                const detail::scratch dcols(detail::scratch::grad_columns, dcol_size);
                // dx of the batch as [C_in, count * H * W] before it is scattered to NCHW.
                const bool via_result =
                    need_x && !direct_dx && count > 1 && (transposed || g.pointwise());
                const detail::scratch result(detail::scratch::result, direct_dx    ? direct_grid
                                                                      : via_result ? g.cin * in_cols
                                                                                   : 0);
                if (by_col2im && !g.pointwise()) // col2im adds into these planes
                    std::fill_n(dx.data() + n0 * g.cin * in_plane, count * g.cin * in_plane, 0.0F);
                for (std::size_t grp = 0; grp < g.groups; ++grp) {
                    const auto gm =
                        detail::as_matrix(gb + grp * g.cout_g() * cols_n, g.cout_g(), cols_n);
                    if (gemm_w) {
                        const float* cols =
                            detail::unfold_batch(xp2, g, n0, count, grp, columns.data());
                        auto dw = detail::as_matrix(partial_w.data() + c * wsize +
                                                        grp * g.cout_g() * g.k(),
                                                    g.cout_g(), g.k());
                        const auto cm = detail::as_matrix(cols, g.k(), cols_n);
                        if (first_in_chunk)
                            dw.noalias() = gm * cm.transpose();
                        else
                            dw.noalias() += gm * cm.transpose();
                    }
                    if (!need_x || direct_dx)
                        continue;
                    float* dxg = via_result ? result.data() + grp * g.cin_g() * in_cols
                                            : dx.data() + (n0 * g.cin + grp * g.cin_g()) * in_plane;
                    if (transposed) {
                        const float* cols =
                            detail::unfold_batch(gp, gt, n0, count, grp, dcols.data());
                        detail::as_matrix(dxg, g.cin_g(), in_cols).noalias() =
                            detail::as_matrix(wt.data() + grp * g.cin_g() * gt.k(), g.cin_g(),
                                              gt.k()) *
                            detail::as_matrix(cols, gt.k(), in_cols);
                        continue;
                    }
                    const auto wm =
                        detail::as_matrix(wp2 + grp * g.cout_g() * g.k(), g.cout_g(), g.k());
                    if (g.pointwise()) {
                        detail::as_matrix(dxg, g.cin_g(), cols_n).noalias() = wm.transpose() * gm;
                        continue;
                    }
                    float* dcol = dcols.data();
                    detail::as_matrix(dcol, g.k(), cols_n).noalias() = wm.transpose() * gm;
                    for (std::size_t j = 0; j < count; ++j)
                        detail::col2im(dcol + j * plane2, g.cin_g(), g, dxg + j * g.cin * in_plane,
                                       cols_n);
                }
                if (via_result)
                    detail::scatter_planes(result.data(), g.cin, in_plane, n0, count, dx.data());
                for (std::size_t j = 0; direct_dx && j < count; ++j) {
                    detail::direct_conv_sample(
                        gp + (n0 + j) * g.cout * plane2, gt, plan_t, wr_t.data(), nullptr,
                        dx.data() + (n0 + j) * g.cin * in_plane, dcols.data(), result.data());
                }
            };
            if (need_x || need_w) {
                detail::parallel_chunks(chunks, 1, [&](std::size_t lo, std::size_t hi) {
                    for (std::size_t c = lo; c < hi; ++c) {
                        if (direct_dw)
                            chunk_weight_grad(c);
                        const std::size_t end = std::min(g.n, (c + 1) * bt2.chunk);
                        for (std::size_t n0 = c * bt2.chunk; n0 < end && (need_x || gemm_w);
                             n0 += bt2.batch) {
                            batch_backward(c, n0, std::min(bt2.batch, end - n0));
                        }
                    }
                });
            }
            if (need_x)
                ctx.accumulate(0, std::move(dx));
            if (need_w) {
                auto dw = ndarray::uninitialized(ctx.input(1).shape());
                std::copy_n(partial_w.data(), wsize, dw.data());
                for (std::size_t c = 1; c < chunks; ++c) { // fixed order: deterministic
                    const float* src = partial_w.data() + c * wsize;
                    for (std::size_t i = 0; i < wsize; ++i)
                        dw[i] += src[i];
                }
                ctx.accumulate(1, std::move(dw));
            }
            if (ctx.needs_grad(2)) {
                ndarray db({g.cout});
                for (std::size_t ch = 0; ch < g.cout; ++ch) {
                    double acc = 0.0;
                    for (std::size_t n = 0; n < g.n; ++n) {
                        const float* src = gp + (n * g.cout + ch) * plane2;
                        for (std::size_t i = 0; i < plane2; ++i)
                            acc += src[i];
                    }
                    db[ch] = static_cast<float>(acc);
                }
                ctx.accumulate(2, std::move(db));
            }
        },
        "conv2d");
}
} // namespace detail

/// 2-D cross-correlation (PyTorch's conv2d): x [N, C_in, H, W], weight [C_out, C_in / groups,
/// KH, KW], optional bias [C_out]. Stride-1 layers of >= 8 output channels per group run a
/// direct vectorised kernel; the others im2col and an Eigen GEMM per batch of samples (batches
/// of small planes share one GEMM) and group. Samples are spread over TBB tasks.
[[nodiscard]] inline variable conv2d(const variable& x, const variable& weight,
                                     const variable& bias = {},
                                     const conv2d_options& options = {}) {
    const shape_t& xs = x.shape();
    const shape_t& ws = weight.shape();
    if (xs.size() != 4)
        detail::fail("conv2d", "input must be [N, C, H, W], got " + to_string(xs));
    if (ws.size() != 4) {
        detail::fail("conv2d",
                     "weight must be [C_out, C_in / groups, KH, KW], got " + to_string(ws));
    }
    const auto& o = options;
    if (o.groups == 0 || xs[1] % o.groups != 0 || ws[0] % o.groups != 0) {
        detail::fail("conv2d", "groups " + std::to_string(o.groups) + " must divide C_in " +
                                   std::to_string(xs[1]) + " and C_out " + std::to_string(ws[0]));
    }
    if (ws[1] * o.groups != xs[1]) {
        detail::fail("conv2d", "weight " + to_string(ws) + " expects " +
                                   std::to_string(ws[1] * o.groups) + " input channels, got " +
                                   std::to_string(xs[1]) + " (groups " + std::to_string(o.groups) +
                                   ")");
    }
    if (o.stride.h == 0 || o.stride.w == 0 || o.dilation.h == 0 || o.dilation.w == 0 ||
        ws[2] == 0 || ws[3] == 0) {
        detail::fail("conv2d", "stride " + to_string(o.stride) + ", dilation " +
                                   to_string(o.dilation) + " and kernel must be positive");
    }
    if (bias.defined() && bias.shape() != shape_t{ws[0]}) {
        detail::fail("conv2d", "bias of shape " + to_string(bias.shape()) + ", needs [" +
                                   std::to_string(ws[0]) + "]");
    }
    detail::conv_geometry g{.n = xs[0],
                            .cin = xs[1],
                            .h = xs[2],
                            .w = xs[3],
                            .cout = ws[0],
                            .kh = ws[2],
                            .kw = ws[3],
                            .groups = o.groups,
                            .ho = 0,
                            .wo = 0,
                            .stride = o.stride,
                            .padding = o.padding,
                            .dilation = o.dilation};
    g.ho = detail::window_extent(g.h, g.kh, o.stride.h, o.padding.h, o.dilation.h);
    g.wo = detail::window_extent(g.w, g.kw, o.stride.w, o.padding.w, o.dilation.w);
    if (g.ho == 0 || g.wo == 0) {
        detail::fail("conv2d", "kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                                   " (dilation " + to_string(o.dilation) + ") does not fit input " +
                                   to_string(xs) + " with padding " + to_string(o.padding));
    }

    auto out = ndarray::uninitialized({g.n, g.cout, g.ho, g.wo});
    const float* xp = x.value().data();
    const float* wp = weight.value().data();
    const float* bp = bias.defined() ? bias.value().data() : nullptr;
    float* op = out.data();
    const std::size_t plane = g.out_plane();
    if (detail::direct_conv_fits(g)) {
        const auto plan = detail::plan_direct(g);
        const auto wr = detail::repack_direct(wp, g, plan);
        detail::parallel_chunks(g.n, 1, [&](std::size_t lo, std::size_t hi) {
            const detail::scratch xpad(detail::scratch::columns, plan.input_size);
            const detail::scratch grid(detail::scratch::batch,
                                       plan.blocks * detail::direct_channels * plan.grid_stride);
            for (std::size_t n = lo; n < hi; ++n) {
                detail::direct_conv_sample(xp + n * g.cin * g.h * g.w, g, plan, wr.data(), bp,
                                           op + n * g.cout * plane, xpad.data(), grid.data());
            }
        });
        return detail::conv2d_result(std::move(out), x, weight, bias, g);
    }
    const auto bt = detail::batching_of(g);
    const std::size_t batches = (g.n + bt.batch - 1) / bt.batch;
    detail::parallel_chunks(batches, 1, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t b = lo; b < hi; ++b) {
            const std::size_t n0 = b * bt.batch;
            const std::size_t count = std::min(bt.batch, g.n - n0);
            const std::size_t cols_n = count * plane;
            const detail::scratch columns(detail::scratch::columns,
                                          g.pointwise() && count == 1 ? 0 : g.k() * cols_n);
            // One sample's GEMM writes its output planes in place; a batch's goes through
            // [C_out, count * plane] and is scattered to NCHW.
            const detail::scratch result(detail::scratch::batch, count == 1 ? 0 : g.cout * cols_n);
            for (std::size_t grp = 0; grp < g.groups; ++grp) {
                const float* cols = detail::unfold_batch(xp, g, n0, count, grp, columns.data());
                float* y = count == 1 ? op + (n0 * g.cout + grp * g.cout_g()) * plane
                                      : result.data() + grp * g.cout_g() * cols_n;
                detail::as_matrix(y, g.cout_g(), cols_n).noalias() =
                    detail::as_matrix(wp + grp * g.cout_g() * g.k(), g.cout_g(), g.k()) *
                    detail::as_matrix(cols, g.k(), cols_n);
            }
            for (std::size_t j = 0; j < count; ++j) {
                for (std::size_t c = 0; c < g.cout; ++c) {
                    float* dst = op + ((n0 + j) * g.cout + c) * plane;
                    const float shift = bp != nullptr ? bp[c] : 0.0F;
                    if (count > 1) {
                        const float* src = result.data() + c * cols_n + j * plane;
                        for (std::size_t i = 0; i < plane; ++i)
                            dst[i] = src[i] + shift;
                    } else if (bp != nullptr) {
                        for (std::size_t i = 0; i < plane; ++i)
                            dst[i] += shift;
                    }
                }
            }
        }
    });

    return detail::conv2d_result(std::move(out), x, weight, bias, g);
}

// =============================================================================================
// Normalisation

struct batch_norm_options {
    bool training = true;  ///< batch statistics (and running-average update) vs running stats
    float momentum = 0.1F; ///< running = (1 - momentum) * running + momentum * batch
    float eps = 1e-5F;
};

/// Batch normalisation over all axes but 1 (channels) of x [N, C] or [N, C, H, W].
/// weight (gamma) and bias (beta) [C] may be null handles (no affine transform). In training
/// mode the batch mean and biased variance normalise, and running_mean / running_var (when not
/// null) are updated with the unbiased variance, as PyTorch does. In eval mode the running
/// statistics normalise and must be given.
[[nodiscard]] inline variable batch_norm(const variable& x, const variable& weight,
                                         const variable& bias, ndarray* running_mean,
                                         ndarray* running_var,
                                         const batch_norm_options& options = {}) {
    const shape_t& xs = x.shape();
    if (xs.size() != 2 && xs.size() != 4) {
        detail::fail("batch_norm", "input must be [N, C] or [N, C, H, W], got " + to_string(xs));
    }
    const std::size_t n = xs[0];
    const std::size_t channels = xs[1];
    const std::size_t plane = xs.size() == 4 ? xs[2] * xs[3] : 1;
    const std::size_t m = n * plane;
    const shape_t cshape{channels};
    for (const auto* v : {&weight, &bias}) {
        if (v->defined() && v->shape() != cshape) {
            detail::fail("batch_norm", "affine parameter of shape " + to_string(v->shape()) +
                                           ", needs " + to_string(cshape));
        }
    }
    if ((running_mean == nullptr) != (running_var == nullptr)) {
        detail::fail("batch_norm", "running_mean and running_var must both be given or both null");
    }
    if (running_mean != nullptr &&
        (running_mean->shape() != cshape || running_var->shape() != cshape)) {
        detail::fail("batch_norm",
                     "running statistics of shapes " + to_string(running_mean->shape()) + " and " +
                         to_string(running_var->shape()) + ", need " + to_string(cshape));
    }
    if (!options.training && running_mean == nullptr) {
        detail::fail("batch_norm", "eval mode needs running statistics");
    }
    if (options.training && m < 2) {
        detail::fail("batch_norm",
                     "training needs more than one value per channel, got input " + to_string(xs));
    }
    if (!(options.eps > 0.0F) || !(options.momentum >= 0.0F && options.momentum <= 1.0F)) {
        detail::fail("batch_norm", "eps " + std::to_string(options.eps) +
                                       " must be > 0 and momentum " +
                                       std::to_string(options.momentum) + " in [0, 1]");
    }

    std::vector<float> mean_c(channels);
    std::vector<float> invstd_c(channels);
    std::vector<double> batch_var(channels, 0.0);
    const float* xp = x.value().data();
    const float* gamma = weight.defined() ? weight.value().data() : nullptr;
    const float* beta = bias.defined() ? bias.value().data() : nullptr;
    auto out = ndarray::uninitialized(xs);
    float* op = out.data();
    detail::parallel_chunks(channels, 1, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t c = lo; c < hi; ++c) {
            // Float sums within a plane, double across planes: vectorised and accurate enough.
            double mu = 0.0;
            double var = 0.0;
            if (options.training) {
                for (std::size_t i = 0; i < n; ++i) {
                    const float* src = xp + (i * channels + c) * plane;
                    mu += detail::sum32(plane, [src](std::size_t j) { return src[j]; });
                }
                mu /= static_cast<double>(m);
                const auto muf = static_cast<float>(mu);
                for (std::size_t i = 0; i < n; ++i) {
                    const float* src = xp + (i * channels + c) * plane;
                    var += detail::sum32(plane, [src, muf](std::size_t j) {
                        const float d = src[j] - muf;
                        return d * d;
                    });
                }
                var /= static_cast<double>(m);
                batch_var[c] = var;
            } else {
                mu = (*running_mean)[c];
                var = (*running_var)[c];
            }
            const double invstd = 1.0 / std::sqrt(var + static_cast<double>(options.eps));
            mean_c[c] = static_cast<float>(mu);
            invstd_c[c] = static_cast<float>(invstd);
            const double scale_c = invstd * (gamma != nullptr ? gamma[c] : 1.0F);
            const double shift_c = (beta != nullptr ? beta[c] : 0.0F) - mu * scale_c;
            const auto s = static_cast<float>(scale_c);
            const auto t = static_cast<float>(shift_c);
            for (std::size_t i = 0; i < n; ++i) {
                const float* src = xp + (i * channels + c) * plane;
                float* dst = op + (i * channels + c) * plane;
                for (std::size_t j = 0; j < plane; ++j)
                    dst[j] = src[j] * s + t;
            }
        }
    });
    if (options.training && running_mean != nullptr) {
        const double mom = options.momentum;
        const double unbias = static_cast<double>(m) / static_cast<double>(m - 1);
        for (std::size_t c = 0; c < channels; ++c) {
            (*running_mean)[c] =
                static_cast<float>((1.0 - mom) * (*running_mean)[c] + mom * mean_c[c]);
            (*running_var)[c] =
                static_cast<float>((1.0 - mom) * (*running_var)[c] + mom * batch_var[c] * unbias);
        }
    }

    const bool training = options.training;
    return make_result(
        std::move(out), {x, weight, bias},
        [n, channels, plane, m, training, mean_c = std::move(mean_c),
         invstd_c = std::move(invstd_c)](backward_context& ctx) {
            const bool need_x = ctx.needs_grad(0);
            // dx overwrites dy in place when this node's gradient is not kept: each channel
            // reads its own planes (the sums) before writing them.
            ndarray dx = need_x ? detail::take_grad(ctx) : ndarray{};
            const float* gp = need_x ? dx.data() : ctx.grad().data();
            const float* xp2 = ctx.input(0).data();
            const float* gm = ctx.input_defined(1) ? ctx.input(1).data() : nullptr;
            std::vector<double> sum_dy(channels, 0.0);
            std::vector<double> sum_dy_xhat(channels, 0.0);
            detail::parallel_chunks(channels, 1, [&](std::size_t lo, std::size_t hi) {
                for (std::size_t c = lo; c < hi; ++c) {
                    const float mu = mean_c[c];
                    const float is = invstd_c[c];
                    double a = 0.0;
                    double b = 0.0; // sum of dy * (x - mean); times invstd: sum of dy * xhat
                    for (std::size_t i = 0; i < n; ++i) {
                        const float* gsrc = gp + (i * channels + c) * plane;
                        const float* xsrc = xp2 + (i * channels + c) * plane;
                        const auto [sa, sb] = detail::sum32_pair(
                            plane, [gsrc](std::size_t j) { return gsrc[j]; },
                            [gsrc, xsrc, mu](std::size_t j) { return gsrc[j] * (xsrc[j] - mu); });
                        a += sa;
                        b += sb;
                    }
                    b *= static_cast<double>(is);
                    sum_dy[c] = a;
                    sum_dy_xhat[c] = b;
                    if (!need_x)
                        continue;
                    const float gam = gm != nullptr ? gm[c] : 1.0F;
                    float* dst = dx.data();
                    if (training) {
                        // dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
                        //    = f * dy + slope * (x - mean) + offset
                        const double k1 = a / static_cast<double>(m);
                        const double k2 = b / static_cast<double>(m);
                        const double f = static_cast<double>(gam) * is;
                        const auto ff = static_cast<float>(f);
                        const auto slope = static_cast<float>(-f * k2 * is);
                        const auto offset = static_cast<float>(-f * k1);
                        for (std::size_t i = 0; i < n; ++i) {
                            const std::size_t off = (i * channels + c) * plane;
                            for (std::size_t j = 0; j < plane; ++j) {
                                dst[off + j] =
                                    ff * gp[off + j] + (slope * (xp2[off + j] - mu) + offset);
                            }
                        }
                    } else {
                        const float f = gam * is;
                        for (std::size_t i = 0; i < n; ++i) {
                            const std::size_t off = (i * channels + c) * plane;
                            for (std::size_t j = 0; j < plane; ++j)
                                dst[off + j] = gp[off + j] * f;
                        }
                    }
                }
            });
            if (need_x)
                ctx.accumulate(0, std::move(dx));
            if (ctx.needs_grad(1)) {
                auto d = ndarray::uninitialized({channels});
                for (std::size_t c = 0; c < channels; ++c)
                    d[c] = static_cast<float>(sum_dy_xhat[c]);
                ctx.accumulate(1, std::move(d));
            }
            if (ctx.needs_grad(2)) {
                auto d = ndarray::uninitialized({channels});
                for (std::size_t c = 0; c < channels; ++c)
                    d[c] = static_cast<float>(sum_dy[c]);
                ctx.accumulate(2, std::move(d));
            }
        },
        "batch_norm");
}

// =============================================================================================
// Pooling

struct max_pool2d_options {
    hw kernel = 2;
    hw stride = 0; ///< 0: the kernel size (PyTorch's default)
    hw padding = 0;
};

struct avg_pool2d_options {
    hw kernel = 2;
    hw stride = 0; ///< 0: the kernel size
    hw padding = 0;
    /// false (the default here, unlike PyTorch): border windows average only the real pixels,
    /// as NAS-Bench-201's and DARTS's avg_pool_3x3 do.
    bool count_include_pad = false;
};

namespace detail {

struct pool_geometry {
    std::size_t planes = 0, h = 0, w = 0, ho = 0, wo = 0;
    hw kernel, stride, padding;
};

[[nodiscard]] inline pool_geometry plan_pool(std::string_view op, const shape_t& xs, hw kernel,
                                             hw stride, hw padding) {
    if (xs.size() != 4)
        fail(op, "input must be [N, C, H, W], got " + to_string(xs));
    if (stride == hw(0))
        stride = kernel;
    if (kernel.h == 0 || kernel.w == 0 || stride.h == 0 || stride.w == 0) {
        fail(op, "kernel " + to_string(kernel) + " and stride " + to_string(stride) +
                     " must be positive");
    }
    if (2 * padding.h > kernel.h || 2 * padding.w > kernel.w) {
        fail(op, "padding " + to_string(padding) + " exceeds half the kernel " + to_string(kernel));
    }
    pool_geometry g{.planes = xs[0] * xs[1],
                    .h = xs[2],
                    .w = xs[3],
                    .ho = 0,
                    .wo = 0,
                    .kernel = kernel,
                    .stride = stride,
                    .padding = padding};
    g.ho = window_extent(g.h, kernel.h, stride.h, padding.h, 1);
    g.wo = window_extent(g.w, kernel.w, stride.w, padding.w, 1);
    if (g.ho == 0 || g.wo == 0) {
        fail(op, "kernel " + to_string(kernel) + " does not fit input " + to_string(xs) +
                     " with padding " + to_string(padding));
    }
    return g;
}

// The windows of a pooling op clipped to the input: rows [y0, y1) per output row, columns
// [x0, x1) per output column, and, per kernel column kx, the output columns [col_lo, col_hi)
// whose window holds input column ox * stride + kx - padding. The loops run over output columns
// innermost, so each output's running max / sum is an independent chain (a window-at-a-time loop
// is bound by the latency of one long chain of compares).
struct pool_windows {
    std::vector<std::size_t> y0, y1, x0, x1, col_lo, col_hi;
};
[[nodiscard]] inline pool_windows windows_of(const pool_geometry& g) {
    const auto clip = [](std::size_t start, std::size_t pad, std::size_t k, std::size_t limit) {
        const std::size_t lo = start > pad ? start - pad : 0;
        const std::size_t hi = std::min(limit, start + k > pad ? start + k - pad : 0);
        return std::pair{lo, hi};
    };
    pool_windows w;
    for (std::size_t oy = 0; oy < g.ho; ++oy) {
        const auto [lo, hi] = clip(oy * g.stride.h, g.padding.h, g.kernel.h, g.h);
        w.y0.push_back(lo);
        w.y1.push_back(hi);
    }
    for (std::size_t ox = 0; ox < g.wo; ++ox) {
        const auto [lo, hi] = clip(ox * g.stride.w, g.padding.w, g.kernel.w, g.w);
        w.x0.push_back(lo);
        w.x1.push_back(hi);
    }
    for (std::size_t kx = 0; kx < g.kernel.w; ++kx) {
        std::size_t lo = 0;
        while (lo < g.wo && lo * g.stride.w + kx < g.padding.w)
            ++lo;
        std::size_t hi = lo;
        while (hi < g.wo && hi * g.stride.w + kx < g.padding.w + g.w)
            ++hi;
        w.col_lo.push_back(lo);
        w.col_hi.push_back(hi);
    }
    return w;
}

// Calls f(output column, input column) for the output columns whose window holds input
// columns from kernel column kx, in order of ox.
template <class F>
void for_window_column(const pool_geometry& g, const pool_windows& win, std::size_t kx, F&& f) {
    for (std::size_t ox = win.col_lo[kx]; ox < win.col_hi[kx]; ++ox) {
        f(ox, ox * g.stride.w + kx - g.padding.w);
    }
}

// Planes per task of the pooling loops.
inline constexpr std::size_t pool_plane_chunk = 8;

} // namespace detail

/// Max pooling; padded positions never win (PyTorch's -inf padding), ties go to the first
/// element in row-major order, NaN wins.
[[nodiscard]] inline variable max_pool2d(const variable& x,
                                         const max_pool2d_options& options = {}) {
    const auto g =
        detail::plan_pool("max_pool2d", x.shape(), options.kernel, options.stride, options.padding);
    auto out = ndarray::uninitialized({x.dim(0), x.dim(1), g.ho, g.wo});
    std::vector<std::uint32_t> argmax(out.size()); // position within the input plane
    const float* xp = x.value().data();
    const auto win = detail::windows_of(g);
    detail::parallel_chunks(
        g.planes, detail::pool_plane_chunk, [&](std::size_t lo, std::size_t hi) {
            for (std::size_t p = lo; p < hi; ++p) {
                const float* src = xp + p * g.h * g.w;
                for (std::size_t oy = 0; oy < g.ho; ++oy) {
                    float* best = out.data() + (p * g.ho + oy) * g.wo;
                    std::uint32_t* at = argmax.data() + (p * g.ho + oy) * g.wo;
                    for (std::size_t ox = 0; ox < g.wo; ++ox) {
                        best[ox] = -std::numeric_limits<float>::infinity();
                        at[ox] = static_cast<std::uint32_t>(win.y0[oy] * g.w + win.x0[ox]);
                    }
                    for (std::size_t y = win.y0[oy]; y < win.y1[oy]; ++y) {
                        const float* row = src + y * g.w;
                        for (std::size_t kx = 0; kx < g.kernel.w; ++kx) {
                            detail::for_window_column(
                                g, win, kx, [&](std::size_t ox, std::size_t ix) {
                                    // Selection by bit masks: compilers turn `take ? a : b` into
                                    // branches here, and which element wins is unpredictable.
                                    const float v = row[ix];
                                    const bool take = (v > best[ox]) | (v != v);
                                    const std::uint32_t m = 0U - static_cast<std::uint32_t>(take);
                                    at[ox] = (at[ox] & ~m) |
                                             (static_cast<std::uint32_t>(y * g.w + ix) & m);
                                    best[ox] = std::bit_cast<float>(
                                        (std::bit_cast<std::uint32_t>(best[ox]) & ~m) |
                                        (std::bit_cast<std::uint32_t>(v) & m));
                                });
                        }
                    }
                }
            }
        });
    return make_result(
        std::move(out), {x},
        [g, argmax = std::move(argmax)](backward_context& ctx) {
            ndarray dx(ctx.input(0).shape());
            const float* gp = ctx.grad().data();
            detail::parallel_chunks(g.planes, detail::pool_plane_chunk,
                                    [&](std::size_t lo, std::size_t hi) {
                                        for (std::size_t p = lo; p < hi; ++p) {
                                            float* dst = dx.data() + p * g.h * g.w;
                                            const std::size_t base = p * g.ho * g.wo;
                                            for (std::size_t o = 0; o < g.ho * g.wo; ++o)
                                                dst[argmax[base + o]] += gp[base + o];
                                        }
                                    });
            ctx.accumulate(0, std::move(dx));
        },
        "max_pool2d");
}

/// Average pooling (see avg_pool2d_options::count_include_pad).
[[nodiscard]] inline variable avg_pool2d(const variable& x,
                                         const avg_pool2d_options& options = {}) {
    const auto g =
        detail::plan_pool("avg_pool2d", x.shape(), options.kernel, options.stride, options.padding);
    const bool include_pad = options.count_include_pad;
    const auto win = detail::windows_of(g);
    // 1 / (pixels averaged) per output position.
    std::vector<float> inv_count(g.ho * g.wo);
    for (std::size_t oy = 0; oy < g.ho; ++oy) {
        for (std::size_t ox = 0; ox < g.wo; ++ox) {
            const std::size_t count = include_pad
                                          ? g.kernel.h * g.kernel.w
                                          : (win.y1[oy] - win.y0[oy]) * (win.x1[ox] - win.x0[ox]);
            inv_count[oy * g.wo + ox] = 1.0F / static_cast<float>(count);
        }
    }
    auto out = ndarray::uninitialized({x.dim(0), x.dim(1), g.ho, g.wo});
    const float* xp = x.value().data();
    detail::parallel_chunks(
        g.planes, detail::pool_plane_chunk, [&](std::size_t lo, std::size_t hi) {
            for (std::size_t p = lo; p < hi; ++p) {
                const float* src = xp + p * g.h * g.w;
                for (std::size_t oy = 0; oy < g.ho; ++oy) {
                    float* acc = out.data() + (p * g.ho + oy) * g.wo;
                    std::fill_n(acc, g.wo, 0.0F);
                    for (std::size_t y = win.y0[oy]; y < win.y1[oy]; ++y) {
                        const float* row = src + y * g.w;
                        for (std::size_t kx = 0; kx < g.kernel.w; ++kx) {
                            detail::for_window_column(
                                g, win, kx,
                                [&](std::size_t ox, std::size_t ix) { acc[ox] += row[ix]; });
                        }
                    }
                    const float* inv = inv_count.data() + oy * g.wo;
                    for (std::size_t ox = 0; ox < g.wo; ++ox)
                        acc[ox] *= inv[ox];
                }
            }
        });
    return make_result(
        std::move(out), {x},
        [g, win, inv_count = std::move(inv_count)](backward_context& ctx) {
            ndarray dx(ctx.input(0).shape());
            const float* gp = ctx.grad().data();
            detail::parallel_chunks(
                g.planes, detail::pool_plane_chunk, [&](std::size_t lo, std::size_t hi) {
                    std::vector<float> scaled(g.wo);
                    for (std::size_t p = lo; p < hi; ++p) {
                        float* dst = dx.data() + p * g.h * g.w;
                        for (std::size_t oy = 0; oy < g.ho; ++oy) {
                            const float* grow = gp + (p * g.ho + oy) * g.wo;
                            const float* inv = inv_count.data() + oy * g.wo;
                            for (std::size_t ox = 0; ox < g.wo; ++ox)
                                scaled[ox] = grow[ox] * inv[ox];
                            for (std::size_t y = win.y0[oy]; y < win.y1[oy]; ++y) {
                                float* row = dst + y * g.w;
                                for (std::size_t kx = 0; kx < g.kernel.w; ++kx) {
                                    detail::for_window_column(g, win, kx,
                                                              [&](std::size_t ox, std::size_t ix) {
                                                                  row[ix] += scaled[ox];
                                                              });
                                }
                            }
                        }
                    }
                });
            ctx.accumulate(0, std::move(dx));
        },
        "avg_pool2d");
}

/// [N, C, H, W] -> [N, C]: the mean of each plane.
[[nodiscard]] inline variable global_avg_pool(const variable& x) {
    const shape_t& xs = x.shape();
    if (xs.size() != 4) {
        detail::fail("global_avg_pool", "input must be [N, C, H, W], got " + to_string(xs));
    }
    const std::size_t planes = xs[0] * xs[1];
    const std::size_t plane = xs[2] * xs[3];
    if (plane == 0)
        detail::fail("global_avg_pool", "empty planes in " + to_string(xs));
    auto out = ndarray::uninitialized({xs[0], xs[1]});
    const float* xp = x.value().data();
    for (std::size_t p = 0; p < planes; ++p) {
        double acc = 0.0;
        for (std::size_t i = 0; i < plane; ++i)
            acc += xp[p * plane + i];
        out[p] = static_cast<float>(acc / static_cast<double>(plane));
    }
    return make_result(
        std::move(out), {x},
        [planes, plane](backward_context& ctx) {
            auto dx = ndarray::uninitialized(ctx.input(0).shape());
            const float inv = 1.0F / static_cast<float>(plane);
            for (std::size_t p = 0; p < planes; ++p) {
                std::fill_n(dx.data() + p * plane, plane, ctx.grad()[p] * inv);
            }
            ctx.accumulate(0, std::move(dx));
        },
        "global_avg_pool");
}

// =============================================================================================
// Losses and regularisation

/// Mean over the batch of -log softmax(logits)[label]: logits [N, C], labels in [0, C).
[[nodiscard]] inline variable softmax_cross_entropy(const variable& logits,
                                                    std::span<const std::int32_t> labels) {
    const shape_t& s = logits.shape();
    if (s.size() != 2) {
        detail::fail("softmax_cross_entropy", "logits must be [N, C], got " + to_string(s));
    }
    const std::size_t n = s[0];
    const std::size_t classes = s[1];
    if (labels.size() != n || n == 0) {
        detail::fail("softmax_cross_entropy", std::to_string(labels.size()) + " labels for " +
                                                  std::to_string(n) + " rows of logits");
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= classes) {
            detail::fail("softmax_cross_entropy",
                         "label " + std::to_string(labels[i]) + " of row " + std::to_string(i) +
                             " outside [0, " + std::to_string(classes) + ")");
        }
    }
    auto probs = ndarray::uninitialized({n, classes});
    const float* zp = logits.value().data();
    double loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const float* z = zp + i * classes;
        const float top = *std::max_element(z, z + classes);
        double total = 0.0;
        for (std::size_t c = 0; c < classes; ++c)
            total += std::exp(static_cast<double>(z[c] - top));
        const double log_total = std::log(total);
        for (std::size_t c = 0; c < classes; ++c) {
            probs[i * classes + c] = static_cast<float>(std::exp(z[c] - top - log_total));
        }
        loss += log_total - static_cast<double>(z[labels[i]] - top);
    }
    loss /= static_cast<double>(n);
    std::vector<std::int32_t> kept(labels.begin(), labels.end());
    return make_result(
        ndarray::scalar(static_cast<float>(loss)), {logits},
        [probs = std::move(probs), kept = std::move(kept), n, classes](backward_context& ctx) {
            ndarray d = probs;
            for (std::size_t i = 0; i < n; ++i) {
                d[i * classes + static_cast<std::size_t>(kept[i])] -= 1.0F;
            }
            const float f = ctx.grad()[0] / static_cast<float>(n);
            for (auto& v : d.values())
                v *= f;
            ctx.accumulate(0, std::move(d));
        },
        "softmax_cross_entropy");
}

/// Inverted dropout: in training, zeroes each element with probability p (one draw of
/// uniform_real(gen) per element, in order) and scales the rest by 1 / (1 - p); otherwise, or
/// with p = 0, returns x itself.
template <RandomGenerator G>
[[nodiscard]] variable dropout(const variable& x, double p, G& gen, bool training = true) {
    if (!(p >= 0.0 && p < 1.0)) {
        detail::fail("dropout", "probability " + std::to_string(p) + " outside [0, 1)");
    }
    if (!training || p == 0.0)
        return x;
    const auto keep_scale = static_cast<float>(1.0 / (1.0 - p));
    auto mask = ndarray::uninitialized(x.shape());
    for (auto& v : mask.values())
        v = uniform_real(gen) < p ? 0.0F : keep_scale;
    ndarray out = x.value();
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] *= mask[i];
    return make_result(
        std::move(out), {x},
        [mask = std::move(mask)](backward_context& ctx) {
            ndarray d = detail::take_grad(ctx);
            for (std::size_t i = 0; i < d.size(); ++i)
                d[i] *= mask[i];
            ctx.accumulate(0, std::move(d));
        },
        "dropout");
}

} // namespace nascent::tensor
