#pragma once
// Dense float32 N-d arrays: contiguous, row-major (images are NCHW). This is the plain data type
// under the autograd layer (autograd.hpp); it records no graph and owns its storage.
//
// Storage is 64-byte aligned so that vectorised loops and Eigen kernels see the same alignment
// for the same offsets in every run: bit-identical results must not depend on where malloc put
// a buffer.

#include <nascent/core/rng.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <new>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

/// The extents of an array, outermost first.
using shape_t = std::vector<std::size_t>;

/// Number of elements of an array of shape `s` (1 for a rank-0 scalar).
[[nodiscard]] inline std::size_t element_count(const shape_t& s) noexcept {
    std::size_t n = 1;
    for (const auto d : s)
        n *= d;
    return n;
}

/// "[64, 3, 32, 32]", for messages.
[[nodiscard]] inline std::string to_string(const shape_t& s) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i > 0)
            out += ", ";
        out += std::to_string(s[i]);
    }
    return out + "]";
}

namespace detail {

// A per-thread cache of large freed blocks. Training allocates the same activation and gradient
// sizes every step, and glibc hands such blocks back to the system (mmap, heap trimming), so
// that every step pays a page fault per 4 KiB of fresh memory (~8 % of a small network's step).
// Blocks of at least min_bytes are kept when freed and given to the next allocation they fit
// (at most 1/8 larger), up to max_bytes per thread, the oldest released first. A reused block's
// contents are unspecified, as a fresh one's: storage is written in full before it is read.
// The slots are trivially destructible, so blocks freed while the thread exits (other
// thread_local arrays, the main thread's statics) go straight to the system once the cleaner
// has run. Blocks fit only arrays of their own size, so a phase with other sizes (evaluation at
// another batch size, another network) allocates afresh beside them: release_cached_blocks()
// ends a phase (the training evaluator calls it around training and evaluation).
struct block_cache {
    static constexpr std::size_t align = 64;
    static constexpr std::size_t min_bytes = std::size_t{1} << 16; // 64 KiB
    static constexpr std::size_t max_bytes = std::size_t{1} << 30; // 1 GiB
    static constexpr std::size_t max_blocks = 512;

    void* ptr[max_blocks];
    std::size_t bytes[max_blocks];
    std::size_t count;
    std::size_t total;
    bool closed;

    void release_oldest() noexcept {
        ::operator delete (ptr[0], std::align_val_t{align});
        total -= bytes[0];
        --count;
        std::copy_n(ptr + 1, count, ptr);
        std::copy_n(bytes + 1, count, bytes);
    }
};
inline thread_local block_cache thread_blocks{}; // zero-initialised: no blocks, open

struct block_cache_cleaner {
    bool armed = true;
    block_cache_cleaner() = default;
    block_cache_cleaner(const block_cache_cleaner&) = delete;
    block_cache_cleaner& operator=(const block_cache_cleaner&) = delete;
    ~block_cache_cleaner() {
        auto& c = thread_blocks;
        while (c.count > 0)
            c.release_oldest();
        c.closed = true;
    }
};
inline thread_local block_cache_cleaner thread_blocks_cleaner;

[[nodiscard]] inline void* allocate_block(std::size_t n_bytes) {
    auto& c = thread_blocks;
    if (n_bytes >= block_cache::min_bytes && c.count > 0) {
        std::size_t best = c.count;
        for (std::size_t i = 0; i < c.count; ++i) {
            if (c.bytes[i] >= n_bytes && c.bytes[i] - n_bytes <= n_bytes / 8 &&
                (best == c.count || c.bytes[i] < c.bytes[best])) {
                best = i;
            }
        }
        if (best < c.count) {
            void* p = c.ptr[best];
            c.total -= c.bytes[best];
            --c.count;
            std::copy_n(c.ptr + best + 1, c.count - best, c.ptr + best);
            std::copy_n(c.bytes + best + 1, c.count - best, c.bytes + best);
            return p;
        }
    }
    return ::operator new (n_bytes, std::align_val_t{block_cache::align});
}

inline void free_block(void* p, std::size_t n_bytes) noexcept {
    auto& c = thread_blocks;
    if (n_bytes < block_cache::min_bytes || n_bytes > block_cache::max_bytes || c.closed ||
        !thread_blocks_cleaner.armed) { // (reading the cleaner registers its destructor)
        ::operator delete (p, std::align_val_t{block_cache::align});
        return;
    }
    while (c.count > 0 &&
           (c.count == block_cache::max_blocks || c.total + n_bytes > block_cache::max_bytes)) {
        c.release_oldest();
    }
    c.ptr[c.count] = p;
    c.bytes[c.count] = n_bytes;
    ++c.count;
    c.total += n_bytes;
}

} // namespace detail

/// Frees the calling thread's cached blocks (see detail::block_cache). Call it where work
/// switches to arrays of other sizes, e.g. from training at one batch size to evaluation at
/// another, or from one network to the next: the previous phase's blocks would otherwise stay
/// cached, unusable, while the next allocates its own (with training evaluations on two
/// threads, build-table peaked at 1.02 GiB with them and 0.78 GiB without). Values are never
/// affected; only the next allocations of those sizes come fresh from the system.
inline void release_cached_blocks() noexcept {
    auto& c = detail::thread_blocks;
    while (c.count > 0)
        c.release_oldest();
}

namespace detail {

/// Minimal over-aligned allocator for the storage vector (large blocks via block_cache).
template <class T, std::size_t Align>
struct aligned_allocator {
    using value_type = T;
    template <class U>
    struct rebind {
        using other = aligned_allocator<U, Align>;
    };
    aligned_allocator() noexcept = default;
    template <class U>
    explicit aligned_allocator(const aligned_allocator<U, Align>&) noexcept {}
    static_assert(Align <= block_cache::align);
    [[nodiscard]] T* allocate(std::size_t n) {
        return static_cast<T*>(allocate_block(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { free_block(p, n * sizeof(T)); }
    // Default-initialise (leave floats uninitialised) when no value is given: outputs that an op
    // overwrites entirely need no zero fill. Every public ndarray constructor passes a value.
    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
    friend bool operator==(const aligned_allocator&, const aligned_allocator&) noexcept {
        return true;
    }
};

using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using matrix_map = Eigen::Map<row_matrix>;
using const_matrix_map = Eigen::Map<const row_matrix>;

/// A row-major rows x cols view of raw storage (GEMM goes through these).
[[nodiscard]] inline matrix_map as_matrix(float* p, std::size_t rows, std::size_t cols) {
    return {p, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols)};
}
[[nodiscard]] inline const_matrix_map as_matrix(const float* p, std::size_t rows,
                                                std::size_t cols) {
    return {p, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols)};
}

} // namespace detail

/// A dense float32 array. A default-constructed array is empty (shape [0]); shape [] is a scalar.
class ndarray {
public:
    using storage = std::vector<float, detail::aligned_allocator<float, 64>>;

    ndarray() = default;

    /// An array of `shape` filled with `value`.
    explicit ndarray(shape_t shape, float value = 0.0F)
        : m_shape(std::move(shape)), m_data(element_count(m_shape), value) {}

    /// An array of `shape` holding `values` (row-major); their count must match the shape.
    ndarray(shape_t shape, std::span<const float> values) : m_shape(std::move(shape)) {
        if (values.size() != element_count(m_shape)) {
            throw std::invalid_argument("ndarray: " + std::to_string(values.size()) +
                                        " values for shape " + to_string(m_shape) + " (needs " +
                                        std::to_string(element_count(m_shape)) + ")");
        }
        m_data.assign(values.begin(), values.end());
    }
    ndarray(shape_t shape, std::initializer_list<float> values)
        : ndarray(std::move(shape), std::span<const float>(values.begin(), values.size())) {}

    [[nodiscard]] static ndarray scalar(float value) { return ndarray(shape_t{}, value); }

    /// An array of `shape` whose values are unspecified: for outputs written in full.
    [[nodiscard]] static ndarray uninitialized(shape_t shape) {
        ndarray a;
        a.m_data = storage(element_count(shape));
        a.m_shape = std::move(shape);
        return a;
    }

    [[nodiscard]] const shape_t& shape() const noexcept { return m_shape; }
    [[nodiscard]] std::size_t rank() const noexcept { return m_shape.size(); }
    /// Extent of axis `axis`; throws naming the axis when the array has fewer.
    [[nodiscard]] std::size_t dim(std::size_t axis) const {
        if (axis >= m_shape.size()) {
            throw std::invalid_argument("ndarray: axis " + std::to_string(axis) +
                                        " out of range for shape " + to_string(m_shape));
        }
        return m_shape[axis];
    }
    [[nodiscard]] std::size_t size() const noexcept { return m_data.size(); }
    [[nodiscard]] bool empty() const noexcept { return m_data.empty(); }

    [[nodiscard]] float* data() noexcept { return m_data.data(); }
    [[nodiscard]] const float* data() const noexcept { return m_data.data(); }
    [[nodiscard]] std::span<float> values() noexcept { return {m_data.data(), m_data.size()}; }
    [[nodiscard]] std::span<const float> values() const noexcept {
        return {m_data.data(), m_data.size()};
    }
    [[nodiscard]] float* begin() noexcept { return m_data.data(); }
    [[nodiscard]] float* end() noexcept { return m_data.data() + m_data.size(); }
    [[nodiscard]] const float* begin() const noexcept { return m_data.data(); }
    [[nodiscard]] const float* end() const noexcept { return m_data.data() + m_data.size(); }

    [[nodiscard]] float& operator[](std::size_t i) noexcept { return m_data[i]; }
    [[nodiscard]] float operator[](std::size_t i) const noexcept { return m_data[i]; }

    /// The single value of a one-element array.
    [[nodiscard]] float item() const {
        if (m_data.size() != 1) {
            throw std::invalid_argument("ndarray::item: shape " + to_string(m_shape) + " has " +
                                        std::to_string(m_data.size()) + " elements, not 1");
        }
        return m_data[0];
    }

    /// Changes the shape in place, keeping the values; the element count must not change.
    void reshape(shape_t shape) {
        if (element_count(shape) != m_data.size()) {
            throw std::invalid_argument("ndarray::reshape: cannot view shape " +
                                        to_string(m_shape) + " as " + to_string(shape));
        }
        m_shape = std::move(shape);
    }
    [[nodiscard]] ndarray reshaped(shape_t shape) const& {
        ndarray out = *this;
        out.reshape(std::move(shape));
        return out;
    }
    [[nodiscard]] ndarray reshaped(shape_t shape) && {
        reshape(std::move(shape));
        return std::move(*this);
    }

    void fill(float value) noexcept { std::fill(m_data.begin(), m_data.end(), value); }

    /// this += alpha * other (same shape).
    void add_scaled(const ndarray& other, float alpha = 1.0F) {
        if (other.m_shape != m_shape) {
            throw std::invalid_argument("ndarray::add_scaled: shape " + to_string(other.m_shape) +
                                        " does not match " + to_string(m_shape));
        }
        float* a = m_data.data();
        const float* b = other.m_data.data();
        const std::size_t n = m_data.size();
        for (std::size_t i = 0; i < n; ++i)
            a[i] += alpha * b[i];
    }

    friend bool operator==(const ndarray&, const ndarray&) = default;

private:
    shape_t m_shape{0};
    storage m_data;
};

// ---------------------------------------------------------------------------------------------
// Random values, from an explicit nascent::rng only.

/// A standard normal variate by Box–Muller (one draw per call: simple, and the stream is a pure
/// function of the generator's state).
template <RandomGenerator G>
[[nodiscard]] double standard_normal(G& gen) noexcept {
    const double u1 = 1.0 - uniform_real(gen); // (0, 1]: log is finite
    const double u2 = uniform_real(gen);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// Fills `a` with N(mean, std^2) values, element by element in order.
template <RandomGenerator G>
void fill_normal(ndarray& a, double mean, double std, G& gen) noexcept {
    for (auto& v : a.values())
        v = static_cast<float>(mean + std * standard_normal(gen));
}

/// Fills `a` with U[lo, hi) values, element by element in order.
template <RandomGenerator G>
void fill_uniform(ndarray& a, double lo, double hi, G& gen) noexcept {
    for (auto& v : a.values())
        v = static_cast<float>(lo + (hi - lo) * uniform_real(gen));
}

/// An array of `shape` with N(0, 1) values.
template <RandomGenerator G>
[[nodiscard]] ndarray randn(shape_t shape, G& gen) {
    ndarray a(std::move(shape));
    fill_normal(a, 0.0, 1.0, gen);
    return a;
}

/// An array of `shape` with U[lo, hi) values.
template <RandomGenerator G>
[[nodiscard]] ndarray rand_uniform(shape_t shape, double lo, double hi, G& gen) {
    ndarray a(std::move(shape));
    fill_uniform(a, lo, hi, gen);
    return a;
}

} // namespace nascent::tensor
