#pragma once
// Randomness: an explicit generator, never a global one. Seeds for independent tasks are derived
// with splitmix64 from (master seed, run, task), so a task's stream does not depend on which
// thread runs it or in which order tasks are scheduled.
//
// The distributions below are our own (not <random>'s) so that a seed gives the same sequence
// with every standard library, not just libstdc++.

#include <cstdint>
#include <iterator>
#include <limits>
#include <random>
#include <utility>

namespace nascent {

/// One step of Steele et al.'s splitmix64: a bijective 64-bit mixer.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31U);
}

/// The seed of task `task` of run `run` under `master`; distinct inputs give unrelated streams.
[[nodiscard]] constexpr std::uint64_t derive_seed(std::uint64_t master, std::uint64_t run,
                                                  std::uint64_t task = 0) noexcept {
    return splitmix64(splitmix64(splitmix64(master) ^ run) ^ (task * 0xd1b54a32d192ed03ULL));
}

/// xoshiro256** (Blackman & Vigna): small state, fast, passes BigCrush; seeded via splitmix64.
class rng {
public:
    using result_type = std::uint64_t;

    explicit constexpr rng(std::uint64_t seed = 0) noexcept { this->seed(seed); }

    constexpr void seed(std::uint64_t seed) noexcept {
        for (auto& word : m_state) { // the splitmix64 stream from `seed`, as Vigna recommends
            word = splitmix64(seed);
            seed += 0x9e3779b97f4a7c15ULL;
        }
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    constexpr result_type operator()() noexcept {
        const std::uint64_t result = rotl(m_state[1] * 5U, 7) * 9U;
        const std::uint64_t t = m_state[1] << 17U;
        m_state[2] ^= m_state[0];
        m_state[3] ^= m_state[1];
        m_state[1] ^= m_state[2];
        m_state[0] ^= m_state[3];
        m_state[2] ^= t;
        m_state[3] = rotl(m_state[3], 45);
        return result;
    }

    friend constexpr bool operator==(const rng&, const rng&) = default;

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }
    std::uint64_t m_state[4]{};
};

namespace detail {
__extension__ using uint128 = unsigned __int128; // GCC/Clang; keeps -Wpedantic quiet
} // namespace detail

/// Any generator the library accepts: the standard's uniform random bit generator.
template <class G>
concept RandomGenerator = std::uniform_random_bit_generator<std::remove_reference_t<G>>;

/// Uniform integer in [0, n) by Lemire's multiply-shift with rejection (unbiased). n must be > 0.
template <RandomGenerator G>
[[nodiscard]] constexpr std::uint64_t uniform_index(G& gen, std::uint64_t n) noexcept {
    static_assert(std::remove_reference_t<G>::min() == 0 &&
                      std::remove_reference_t<G>::max() ==
                          std::numeric_limits<std::uint64_t>::max(),
                  "uniform_index needs a full 64-bit generator such as nascent::rng");
    auto product = static_cast<detail::uint128>(gen()) * n;
    auto low = static_cast<std::uint64_t>(product);
    if (low < n) {
        const std::uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            product = static_cast<detail::uint128>(gen()) * n;
            low = static_cast<std::uint64_t>(product);
        }
    }
    return static_cast<std::uint64_t>(product >> 64U);
}

/// Uniform double in [0, 1) with 53 random bits.
template <RandomGenerator G>
[[nodiscard]] constexpr double uniform_real(G& gen) noexcept {
    return static_cast<double>(gen() >> 11U) * 0x1.0p-53;
}

/// Fisher–Yates shuffle driven by uniform_index (std::shuffle's output differs across libraries).
template <std::random_access_iterator It, RandomGenerator G>
constexpr void shuffle(It first, It last, G& gen) noexcept {
    const auto n = static_cast<std::uint64_t>(last - first);
    for (std::uint64_t i = n; i > 1; --i) {
        const auto j = uniform_index(gen, i);
        using std::swap;
        swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
    }
}

} // namespace nascent
