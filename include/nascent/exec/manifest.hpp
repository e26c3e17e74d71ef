#pragma once
// The manifest every JSON output carries, so that a published number can be traced and re-run:
// the library version and git hash, the compiler and its flags, the SHA-256 of each data file
// read, the seed, all options and the thread / worker count.
//
// The git hash and flags are those the including program was compiled with: define
// NASCENT_GIT_HASH and NASCENT_CXX_FLAGS (the CLI's CMakeLists does); otherwise "unknown".

#include <nascent/io/sha256.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#ifndef NASCENT_VERSION
#define NASCENT_VERSION "0.1.0"
#endif

namespace nascent::exec {

struct manifest_inputs {
    std::vector<std::filesystem::path> data_files{}; ///< hashed with SHA-256
    std::uint64_t seed = 0;
    nlohmann::json options = nlohmann::json::object(); ///< every option of the run
    std::size_t threads = 1;                           ///< executor threads
    std::size_t in_flight = 1;                         ///< evaluations in flight per run
};

[[nodiscard]] inline std::string compiler_id() {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("gcc ") + __VERSION__;
#else
    return "unknown";
#endif
}

/// The manifest as JSON. Throws std::runtime_error naming a data file that cannot be read.
[[nodiscard]] inline nlohmann::json make_manifest(const manifest_inputs& in) {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& f : in.data_files) {
        data.push_back({{"file", f.filename().string()},
                        {"path", f.string()},
                        {"sha256", io::sha256_file(f)},
                        {"bytes", std::filesystem::file_size(f)}});
    }
#ifdef NASCENT_GIT_HASH
    const std::string git = NASCENT_GIT_HASH;
#else
    const std::string git = "unknown";
#endif
#ifdef NASCENT_CXX_FLAGS
    const std::string flags = NASCENT_CXX_FLAGS;
#else
    const std::string flags = "unknown";
#endif
#ifdef NDEBUG
    constexpr bool assertions = false;
#else
    constexpr bool assertions = true;
#endif
    return {{"library", "nascent"},
            {"version", NASCENT_VERSION},
            {"git", git},
            {"compiler", compiler_id()},
            {"flags", flags},
            {"assertions", assertions},
            {"data", std::move(data)},
            {"seed", in.seed},
            {"options", in.options},
            {"threads", in.threads},
            {"in_flight", in.in_flight}};
}

} // namespace nascent::exec
