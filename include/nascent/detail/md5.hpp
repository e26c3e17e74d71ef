#pragma once
// MD5 (RFC 1321), written for the NAS-Bench-101 graph hash, which is built from MD5 hex digests.
// MD5 is not used here for security: it is the benchmark's identity function, so nascent must
// reproduce it bit for bit.
//
// hash() is constexpr (no reinterpret_cast, byte-wise loads), so digests can be checked at
// compile time. The compression steps are written once for a generic word type: a uint32 for
// plain MD5, and a GNU vector of 8 uint32 lanes for hash_batch(), which digests up to 8
// messages at once. MD5 is a chain of dependent steps, so one message leaves most of a core
// idle; the NAS-Bench-101 hash needs many short independent digests per round, which is exactly
// what the lanes feed (about 3x the throughput of one message at a time).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace nascent::detail::md5 {

/// A 128-bit MD5 digest in the byte order of its hex form.
using digest = std::array<std::uint8_t, 16>;

inline constexpr std::size_t block_size = 64;

namespace impl {

// Per-step left rotations and the sine-derived constants K[i] = floor(2^32 * |sin(i + 1)|).
inline constexpr std::array<std::uint32_t, 64> shifts{
    7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 5,  9,  14, 20, 5,  9,
    14, 20, 5,  9,  14, 20, 5,  9,  14, 20, 4,  11, 16, 23, 4,  11, 16, 23, 4,  11, 16, 23,
    4,  11, 16, 23, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21};

inline constexpr std::array<std::uint32_t, 64> sines{
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

inline constexpr std::array<std::uint32_t, 4> initial_state{0x67452301, 0xefcdab89, 0x98badcfe,
                                                            0x10325476};

/// Step I of 64: a = b + rotl(a + F_I(b, c, d) + K_I + M[g_I], s_I). W is one 32-bit word
/// (plain MD5) or a GNU vector of words, one lane per message (batches). Instead of shifting the
/// four registers after each step, the roles rotate: step I uses r[-I], r[1-I], r[2-I], r[3-I]
/// (mod 4) as a, b, c, d; all indices are constants, so the state stays in registers.
template <std::size_t I, class W>
constexpr void step(std::array<W, 4>& r, const std::array<W, 16>& m) noexcept {
    W& a = r[(4 - I % 4) % 4];
    const W b = r[(5 - I % 4) % 4];
    const W c = r[(6 - I % 4) % 4];
    const W d = r[(7 - I % 4) % 4];
    constexpr std::size_t g = I < 16   ? I
                              : I < 32 ? (5 * I + 1) % 16
                              : I < 48 ? (3 * I + 5) % 16
                                       : (7 * I) % 16;
    constexpr std::uint32_t s = shifts[I];
    W f{};
    if constexpr (I < 16) {
        f = d ^ (b & (c ^ d));
    } else if constexpr (I < 32) {
        f = c ^ (d & (b ^ c));
    } else if constexpr (I < 48) {
        f = b ^ c ^ d;
    } else {
        f = c ^ (b | ~d);
    }
    const W x = a + f + sines[I] + m[g];
    a = b + ((x << s) | (x >> (32U - s)));
}

/// The 64 steps on one block, in place, unrolled at compile time (a fold over an index
/// sequence) so that every constant is an immediate. The caller adds the result to the state.
template <class W>
constexpr void rounds(std::array<W, 4>& r, const std::array<W, 16>& m) noexcept {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (step<I, W>(r, m), ...);
    }
    (std::make_index_sequence<64>{});
}

[[nodiscard]] constexpr std::uint32_t load_le(const char* p) noexcept {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[0])) |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[1])) << 8U |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[2])) << 16U |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[3])) << 24U;
}

/// Blocks of the padded message: the data, 0x80, zeros, and the bit length (64-bit LE) at the
/// end of the last block.
[[nodiscard]] constexpr std::size_t padded_blocks(std::size_t length) noexcept {
    return (length + 8) / block_size + 1;
}

/// Fills `words` with the 16 words of block `b` of the padded message `data`: the data, 0x80,
/// zeros, and the bit length (64-bit little-endian) at the end of the last block.
template <class Set>
constexpr void load_block(std::string_view data, std::size_t b, Set&& set_word) noexcept {
    const std::size_t begin = b * block_size;
    if (begin + block_size <= data.size()) { // a full block of data: the common case
        for (std::size_t i = 0; i < 16; ++i)
            set_word(i, load_le(data.data() + begin + 4 * i));
        return;
    }
    std::array<char, block_size> tail{};
    if (data.size() >= begin) {
        std::copy_n(data.data() + begin, data.size() - begin, tail.data());
        tail[data.size() - begin] = '\x80';
    }
    if (b + 1 == padded_blocks(data.size())) {
        const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8U;
        for (std::size_t i = 0; i < 8; ++i) {
            tail[block_size - 8 + i] =
                static_cast<char>(static_cast<std::uint8_t>(bits >> (8U * i)));
        }
    }
    for (std::size_t i = 0; i < 16; ++i)
        set_word(i, load_le(tail.data() + 4 * i));
}

template <class Word>
[[nodiscard]] constexpr digest to_digest(const Word& s0, const Word& s1, const Word& s2,
                                         const Word& s3) noexcept {
    const std::array<std::uint32_t, 4> s{s0, s1, s2, s3};
    digest out{};
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t j = 0; j < 4; ++j)
            out[4 * i + j] = static_cast<std::uint8_t>(s[i] >> (8U * j));
    }
    return out;
}

/// Eight 32-bit lanes (GCC and Clang vector extension; two SSE registers, or one AVX register).
using lanes = std::uint32_t __attribute__((vector_size(32)));

} // namespace impl

/// The MD5 digest of `data`.
[[nodiscard]] constexpr digest hash(std::string_view data) noexcept {
    std::array<std::uint32_t, 4> s = impl::initial_state;
    std::array<std::uint32_t, 16> m{};
    const std::size_t blocks = impl::padded_blocks(data.size());
    for (std::size_t b = 0; b < blocks; ++b) {
        impl::load_block(data, b, [&](std::size_t i, std::uint32_t w) { m[i] = w; });
        auto r = s;
        impl::rounds(r, m);
        for (std::size_t i = 0; i < 4; ++i)
            s[i] += r[i];
    }
    return impl::to_digest(s[0], s[1], s[2], s[3]);
}

/// The largest batch hash_batch() takes.
inline constexpr std::size_t max_batch = 8;

/// The MD5 digests of up to max_batch messages (more are ignored), computed together in the
/// lanes of a vector: out[i] = hash(messages[i]). Lanes whose message has ended idle along.
inline void hash_batch(const std::string_view* messages, std::size_t count, digest* out) noexcept {
    using impl::lanes;
    count = std::min(count, max_batch);
    std::array<lanes, 4> s{};
    for (std::size_t i = 0; i < 4; ++i)
        s[i] = lanes{} + impl::initial_state[i];
    std::array<std::size_t, max_batch> blocks{};
    std::size_t most = 0;
    for (std::size_t k = 0; k < count; ++k) {
        blocks[k] = impl::padded_blocks(messages[k].size());
        most = std::max(most, blocks[k]);
    }
    // Words are gathered lane by lane in plain arrays and then loaded as whole vectors:
    // inserting single lanes into vector registers is slow with some compilers.
    std::array<std::array<std::uint32_t, max_batch>, 16> words{};
    std::array<std::uint32_t, max_batch> active_words{};
    std::array<lanes, 16> m{};
    for (std::size_t b = 0; b < most; ++b) {
        for (std::size_t k = 0; k < count; ++k) {
            active_words[k] = b < blocks[k] ? ~0U : 0U; // all ones in the lanes that have block b
            if (b < blocks[k]) {
                impl::load_block(messages[k], b,
                                 [&](std::size_t i, std::uint32_t w) { words[i][k] = w; });
            }
        }
        for (std::size_t i = 0; i < 16; ++i)
            std::memcpy(&m[i], words[i].data(), sizeof(lanes));
        lanes active{};
        std::memcpy(&active, active_words.data(), sizeof(lanes));
        auto r = s;
        impl::rounds(r, m);
        for (std::size_t i = 0; i < 4; ++i)
            s[i] += r[i] & active;
    }
    for (std::size_t k = 0; k < count; ++k)
        out[k] = impl::to_digest(s[0][k], s[1][k], s[2][k], s[3][k]);
}

inline constexpr std::string_view hex_digits = "0123456789abcdef";

/// Writes the 32 lower-case hex digits of `d` (Python's hexdigest()) to out[0..31].
constexpr void write_hex(const digest& d, char* out) noexcept {
    for (std::size_t i = 0; i < d.size(); ++i) {
        out[2 * i] = hex_digits[d[i] >> 4U];
        out[2 * i + 1] = hex_digits[d[i] & 0x0FU];
    }
}

/// The 32 lower-case hex digits of `d`.
[[nodiscard]] inline std::string to_hex(const digest& d) {
    std::string s(32, '0');
    write_hex(d, s.data());
    return s;
}

/// Python's hashlib.md5(data).hexdigest().
[[nodiscard]] inline std::string hex(std::string_view data) {
    return to_hex(hash(data));
}

} // namespace nascent::detail::md5
