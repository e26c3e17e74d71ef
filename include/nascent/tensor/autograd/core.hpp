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

#include <nascent/tensor/autograd/parallel.hpp>
#include <nascent/tensor/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
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

} // namespace nascent::tensor
