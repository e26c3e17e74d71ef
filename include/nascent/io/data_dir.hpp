#pragma once
// Where benchmark data is read from: an explicit directory (--data), else the NASCENT_DATA
// environment variable, else a default (the CLI and tests pass ../shared/data beside the source
// tree, configured at build time). Errors say which directory was tried and why it was chosen.

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nascent::io {

struct data_dir {
    std::filesystem::path path;
    std::string origin; ///< "--data", "NASCENT_DATA" or "default": for messages

    /// `path / relative`, which must be a regular file; otherwise std::invalid_argument saying
    /// where it looked and where the directory came from.
    [[nodiscard]] std::filesystem::path file(std::string_view relative) const {
        const auto p = path / std::filesystem::path(relative);
        std::error_code ec;
        if (!std::filesystem::is_regular_file(p, ec)) {
            throw std::invalid_argument("benchmark data file not found: looked for '" + p.string() +
                                        "' (data directory from " + origin +
                                        "; set --data DIR or NASCENT_DATA)");
        }
        return p;
    }
};

/// Resolves the data directory: `explicit_dir` if given, else $NASCENT_DATA if set and
/// non-empty, else `fallback`. Throws std::invalid_argument when the chosen directory does not
/// exist, naming it and its origin.
[[nodiscard]] inline data_dir resolve_data_dir(const std::optional<std::string>& explicit_dir,
                                               std::string_view fallback) {
    data_dir d;
    if (explicit_dir && !explicit_dir->empty()) {
        d = {*explicit_dir, "--data"};
    } else if (const char* env = std::getenv("NASCENT_DATA"); env != nullptr && *env != '\0') {
        d = {env, "NASCENT_DATA"};
    } else {
        d = {std::filesystem::path(fallback), "default"};
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(d.path, ec)) {
        throw std::invalid_argument("benchmark data directory not found: '" + d.path.string() +
                                    "' (from " + d.origin + "; set --data DIR or NASCENT_DATA)");
    }
    return d;
}

} // namespace nascent::io
