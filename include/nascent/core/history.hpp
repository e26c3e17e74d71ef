#pragma once
// A run's memory of the architectures it has evaluated, so that a repeat is answered from it
// (and not charged to the budget). Open addressing on the space's hash; genotypes are compared
// exactly, so a hash collision never merges two architectures. "The same architecture" is
// genotype equality, or the space's `same(a, b)` where it has one (NAS-Bench-101: isomorphic
// cells are one network, one table entry).

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace nascent {

template <SearchSpace S>
class history {
public:
    using genotype = genotype_t<S>;
    struct entry {
        genotype arch;
        evaluation result;

        /// Builds the evaluation in place from `make()` (guaranteed copy elision).
        template <std::invocable Make>
        entry(const genotype& g, Make&& make) : arch(g), result(std::forward<Make>(make)()) {}
    };

    explicit history(const S& space, std::size_t expected = 64) : m_space(&space) {
        m_entries.reserve(expected);
        m_hashes.reserve(expected);
        m_slots.assign(std::bit_ceil(2 * expected + 2), empty_slot);
    }

    /// The evaluation of g if it was recorded, else nullptr.
    [[nodiscard]] const evaluation* find(const genotype& g) const {
        return find_hashed(g, m_space->hash(g));
    }

    [[nodiscard]] const evaluation* find_hashed(const genotype& g, std::uint64_t h) const {
        const std::size_t mask = m_slots.size() - 1;
        for (std::size_t i = mix(h) & mask;; i = (i + 1) & mask) {
            const auto slot = m_slots[i];
            if (slot == empty_slot)
                return nullptr;
            if (m_hashes[slot] == h && same(m_entries[slot].arch, g))
                return &m_entries[slot].result;
        }
    }

    /// Records g (which must not be recorded yet) with the evaluation `evaluate()` returns,
    /// constructed in place, and returns the stored evaluation.
    template <std::invocable Evaluate>
    const evaluation& insert_hashed(const genotype& g, std::uint64_t h, Evaluate&& evaluate) {
        if (2 * (m_entries.size() + 1) > m_slots.size())
            grow();
        m_entries.emplace_back(g, evaluate);
        m_hashes.push_back(h);
        place(h, static_cast<std::uint32_t>(m_entries.size() - 1));
        return m_entries.back().result;
    }

    [[nodiscard]] std::size_t size() const noexcept { return m_entries.size(); }
    [[nodiscard]] const std::vector<entry>& entries() const noexcept { return m_entries; }

private:
    static constexpr std::uint32_t empty_slot = 0xffffffffU;

    static constexpr std::uint64_t mix(std::uint64_t h) noexcept {
        return (h ^ (h >> 29U)) * 0xbf58476d1ce4e5b9ULL >> 16U; // spreads dense ids too
    }

    void place(std::uint64_t h, std::uint32_t position) noexcept {
        const std::size_t mask = m_slots.size() - 1;
        std::size_t i = mix(h) & mask;
        while (m_slots[i] != empty_slot)
            i = (i + 1) & mask;
        m_slots[i] = position;
    }

    void grow() {
        m_slots.assign(m_slots.size() * 2, empty_slot);
        for (std::uint32_t p = 0; p < m_entries.size(); ++p)
            place(m_hashes[p], p);
    }

    [[nodiscard]] bool same(const genotype& a, const genotype& b) const {
        if constexpr (requires { m_space->same(a, b); }) {
            return a == b || m_space->same(a, b);
        } else {
            return a == b;
        }
    }

    const S* m_space;
    std::vector<entry> m_entries;
    std::vector<std::uint64_t> m_hashes; // of each entry, for probing and growing
    std::vector<std::uint32_t> m_slots;
};

} // namespace nascent
