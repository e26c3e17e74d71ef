#pragma once
// SHA-256 (FIPS 180-4) of bytes and of files, for the manifests that trace a published number to
// the data it was computed from. Small and dependency-free; tested against the FIPS vectors and
// sha256sum.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nascent::io {

class sha256 {
public:
    sha256() noexcept = default;

    void update(const void* data, std::size_t size) noexcept {
        const auto* p = static_cast<const unsigned char*>(data);
        m_length += size;
        while (size > 0) {
            const std::size_t take = std::min<std::size_t>(64 - m_fill, size);
            for (std::size_t i = 0; i < take; ++i)
                m_block[m_fill + i] = p[i];
            m_fill += take;
            p += take;
            size -= take;
            if (m_fill == 64) {
                compress();
                m_fill = 0;
            }
        }
    }
    void update(std::string_view bytes) noexcept { update(bytes.data(), bytes.size()); }

    /// The digest as 64 lowercase hex digits; the object is spent afterwards.
    [[nodiscard]] std::string hex() {
        const std::uint64_t bits = m_length * 8;
        const unsigned char one = 0x80;
        update(&one, 1);
        const unsigned char zero = 0;
        while (m_fill != 56)
            update(&zero, 1);
        unsigned char length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
        update(length, 8);
        static constexpr char digits[] = "0123456789abcdef";
        std::string out;
        for (const auto word : m_state) {
            for (int shift = 28; shift >= 0; shift -= 4)
                out += digits[(word >> shift) & 0xfU];
        }
        return out;
    }

private:
    static constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept {
        return (x >> n) | (x << (32 - n));
    }

    void compress() noexcept {
        static constexpr std::array<std::uint32_t, 64> k{
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2};
        std::uint32_t w[64];
        for (int i = 0; i < 16; ++i) {
            w[i] = static_cast<std::uint32_t>(m_block[4 * i]) << 24U |
                   static_cast<std::uint32_t>(m_block[4 * i + 1]) << 16U |
                   static_cast<std::uint32_t>(m_block[4 * i + 2]) << 8U |
                   static_cast<std::uint32_t>(m_block[4 * i + 3]);
        }
        for (int i = 16; i < 64; ++i) {
            const auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3U);
            const auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10U);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        auto a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3];
        auto e = m_state[4], f = m_state[5], g = m_state[6], h = m_state[7];
        for (std::size_t i = 0; i < 64; ++i) {
            const auto t1 =
                h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const auto t2 =
                (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        m_state[0] += a;
        m_state[1] += b;
        m_state[2] += c;
        m_state[3] += d;
        m_state[4] += e;
        m_state[5] += f;
        m_state[6] += g;
        m_state[7] += h;
    }

    std::array<std::uint32_t, 8> m_state{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    unsigned char m_block[64]{};
    std::size_t m_fill = 0;
    std::uint64_t m_length = 0;
};

/// SHA-256 of bytes, as hex.
[[nodiscard]] inline std::string sha256_hex(std::string_view bytes) {
    sha256 h;
    h.update(bytes);
    return h.hex();
}

/// SHA-256 of a file's content, as hex (sha256sum's first field). Throws std::runtime_error
/// naming the path when it cannot be read.
[[nodiscard]] inline std::string sha256_file(const std::filesystem::path& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr)
        throw std::runtime_error("cannot read '" + path.string() + "'");
    sha256 h;
    char buffer[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0)
        h.update(buffer, n);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed)
        throw std::runtime_error("cannot read '" + path.string() + "'");
    return h.hex();
}

} // namespace nascent::io
