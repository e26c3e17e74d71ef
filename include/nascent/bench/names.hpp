#pragma once
// Names of a benchmark's datasets and metrics: one parser for every table, whose error lists the
// valid names from the same array the table uses.

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nascent::bench {

/// "a, b, c" for any range of names.
template <class Names>
[[nodiscard]] std::string join_names(const Names& names) {
    std::string out;
    for (const auto& name : names)
        out += (out.empty() ? "" : ", ") + std::string(name);
    return out;
}

/// The enumerator whose name is `name` (enumerators numbered as `names`); otherwise
/// std::invalid_argument "unknown <what> '<name>' (valid: ...)".
template <class Enum, std::size_t N>
[[nodiscard]] Enum parse_name(const std::array<std::string_view, N>& names, std::string_view name,
                              std::string_view what) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == name)
            return static_cast<Enum>(i);
    }
    throw std::invalid_argument("unknown " + std::string(what) + " '" + std::string(name) +
                                "' (valid: " + join_names(names) + ")");
}

} // namespace nascent::bench
