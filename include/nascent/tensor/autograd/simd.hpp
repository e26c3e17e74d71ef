#pragma once
// Which vector unit the tensor layer's hot kernels run on, chosen at run time.
//
// Every build holds each kernel three times: for 16-float (AVX-512F + FMA), 8-float (AVX2 + FMA)
// and 4-float vectors (the baseline: SSE2 on x86-64, the only level elsewhere). GCC and Clang
// compile a generic always-inline kernel body for a wider unit inside a function carrying a
// `target` attribute, so a build without -m flags runs AVX-512 code on a CPU that has it, and the
// same binary runs on one that has not.
//
// Results: on one level, bit-identical for any thread count (as everywhere in the layer). AVX2
// and AVX-512 are bit-identical too: every kernel adds each output's terms in the same order
// whatever the vector width, with fused multiply-adds on both. The baseline has no FMA, so its
// results differ from theirs in the last bits (tests/unit/tensor_kernels.cpp bounds the
// difference).
//
// The level is the best the CPU supports, unless NASCENT_SIMD (baseline, avx2, avx512) asks
// for a lower one, or set_simd() is called: a value the CPU does not support, or an unknown one,
// in NASCENT_SIMD falls back to the best supported level with a one-line warning on stderr
// (the variable is read at first use, perhaps inside a parallel task, where nothing may throw);
// set_simd() throws instead.

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define NASCENT_TENSOR_X86_DISPATCH 1
#endif

namespace nascent::tensor {

enum class simd_level : int { baseline = 0, avx2 = 1, avx512 = 2 };

[[nodiscard]] constexpr std::string_view to_string(simd_level level) noexcept {
    switch (level) {
    case simd_level::avx512:
        return "avx512";
    case simd_level::avx2:
        return "avx2";
    case simd_level::baseline:
        break;
    }
    return "baseline";
}

/// "baseline", "avx2" or "avx512"; anything else throws std::invalid_argument naming it.
[[nodiscard]] inline simd_level parse_simd(std::string_view name) {
    for (const auto level : {simd_level::baseline, simd_level::avx2, simd_level::avx512}) {
        if (name == to_string(level))
            return level;
    }
    throw std::invalid_argument("unknown SIMD level '" + std::string(name) +
                                "' (valid: baseline, avx2, avx512)");
}

/// Whether this CPU (and its operating system) runs the level's instructions.
[[nodiscard]] inline bool simd_supported(simd_level level) noexcept {
#ifdef NASCENT_TENSOR_X86_DISPATCH
    switch (level) {
    case simd_level::avx512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    case simd_level::avx2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case simd_level::baseline:
        return true;
    }
    return false;
#else
    return level == simd_level::baseline;
#endif
}

[[nodiscard]] inline simd_level best_simd() noexcept {
    for (const auto level : {simd_level::avx512, simd_level::avx2}) {
        if (simd_supported(level))
            return level;
    }
    return simd_level::baseline;
}

namespace detail {

inline constexpr int simd_unresolved = -1;
inline std::atomic<int> simd_choice{simd_unresolved};

[[nodiscard]] inline simd_level simd_from_environment() noexcept {
    const char* value = std::getenv("NASCENT_SIMD");
    if (value == nullptr || *value == '\0')
        return best_simd();
    try {
        const simd_level level = parse_simd(value);
        if (simd_supported(level))
            return level;
        std::fprintf(stderr, "nascent: NASCENT_SIMD=%s is not supported by this CPU; using %s\n",
                     value, to_string(best_simd()).data());
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "nascent: NASCENT_SIMD ignored: %s; using %s\n", e.what(),
                     to_string(best_simd()).data());
    }
    return best_simd();
}

} // namespace detail

/// The level the kernels run on now (see the header comment).
[[nodiscard]] inline simd_level simd() noexcept {
    int choice = detail::simd_choice.load(std::memory_order_relaxed);
    if (choice == detail::simd_unresolved) {
        int expected = detail::simd_unresolved;
        const int resolved = static_cast<int>(detail::simd_from_environment());
        choice =
            detail::simd_choice.compare_exchange_strong(expected, resolved) ? resolved : expected;
    }
    return static_cast<simd_level>(choice);
}

/// Runs the kernels on `level` from now on, in every thread. Throws std::invalid_argument when
/// the CPU does not support it. Meant for tests and benchmarks: a kernel already running keeps
/// the level it started with.
inline void set_simd(simd_level level) {
    if (!simd_supported(level))
        throw std::invalid_argument("SIMD level " + std::string(to_string(level)) +
                                    " is not supported by this CPU");
    detail::simd_choice.store(static_cast<int>(level), std::memory_order_relaxed);
}

/// set_simd for a scope; the previous level comes back at its end.
class simd_scope {
public:
    explicit simd_scope(simd_level level) : m_previous(simd()) { set_simd(level); }
    ~simd_scope() { detail::simd_choice.store(static_cast<int>(m_previous)); }
    simd_scope(const simd_scope&) = delete;
    simd_scope& operator=(const simd_scope&) = delete;

private:
    simd_level m_previous;
};

namespace detail {

#if defined(__GNUC__) || defined(__clang__)
#define NASCENT_TENSOR_VECTOR_KERNELS 1

/// Floats per vector on a level.
template <simd_level L>
inline constexpr std::size_t simd_width = L == simd_level::avx512 ? 16
                                          : L == simd_level::avx2 ? 8
                                                                  : 4;

// W floats in one vector register. (Spelled per width: GCC drops a vector_size attribute that
// depends on a template parameter of an alias template.)
template <std::size_t W>
struct vector_of;
template <>
struct vector_of<4> {
    using type = float __attribute__((vector_size(16)));
};
template <>
struct vector_of<8> {
    using type = float __attribute__((vector_size(32)));
};
template <>
struct vector_of<16> {
    using type = float __attribute__((vector_size(64)));
};
template <std::size_t W>
using vec = typename vector_of<W>::type;

// A kernel is a type with `template <std::size_t W> static void run(args...)`, always inlined:
// run_on<L, Kernel>(args...) calls it from a wrapper compiled for L, where its body becomes L's
// code. The wrappers are not inlined into their callers (GCC would spill a kernel's
// accumulators in a large caller).
#ifdef NASCENT_TENSOR_X86_DISPATCH
template <class Kernel, class... Args>
[[gnu::target("avx512f,avx2,fma"), gnu::noinline]] void run_avx512(const Args&... args) {
    Kernel::template run<16>(args...);
}
template <class Kernel, class... Args>
[[gnu::target("avx2,fma"), gnu::noinline]] void run_avx2(const Args&... args) {
    Kernel::template run<8>(args...);
}
#endif
template <class Kernel, class... Args>
[[gnu::noinline]] void run_baseline(const Args&... args) {
    Kernel::template run<4>(args...);
}

/// Kernel::run<width of L> compiled for L (every level is the baseline where there is no
/// dispatch: simd() never returns another there).
template <simd_level L, class Kernel, class... Args>
void run_on(const Args&... args) {
#ifdef NASCENT_TENSOR_X86_DISPATCH
    if constexpr (L == simd_level::avx512)
        run_avx512<Kernel>(args...);
    else if constexpr (L == simd_level::avx2)
        run_avx2<Kernel>(args...);
    else
        run_baseline<Kernel>(args...);
#else
    static_assert(L == simd_level::baseline);
    run_baseline<Kernel>(args...);
#endif
}

/// Calls body.template operator()<L>() for the level simd() chooses now.
template <class Body>
void on_simd_level(const Body& body) {
#ifdef NASCENT_TENSOR_X86_DISPATCH
    switch (simd()) {
    case simd_level::avx512:
        body.template operator()<simd_level::avx512>();
        return;
    case simd_level::avx2:
        body.template operator()<simd_level::avx2>();
        return;
    case simd_level::baseline:
        break;
    }
#endif
    body.template operator()<simd_level::baseline>();
}
#endif

} // namespace detail

} // namespace nascent::tensor
