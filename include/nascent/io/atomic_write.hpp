#pragma once
// Writes a file so that readers see either the old content or the whole new one: the text goes to
// a temporary file in the same directory, which is then renamed over the target.

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <unistd.h>

namespace nascent::io {

/// Throws std::runtime_error naming the path when the file cannot be written.
inline void write_file_atomically(const std::filesystem::path& target, std::string_view content) {
    auto tmp = target;
    tmp += ".tmp." + std::to_string(::getpid());
    {
        std::FILE* f = std::fopen(tmp.c_str(), "wb");
        if (f == nullptr)
            throw std::runtime_error("cannot write '" + tmp.string() + "'");
        const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size() &&
                        std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
        if (std::fclose(f) != 0 || !ok) {
            std::filesystem::remove(tmp);
            throw std::runtime_error("cannot write '" + tmp.string() + "'");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, target, ec);
    if (ec) {
        std::filesystem::remove(tmp);
        throw std::runtime_error("cannot rename '" + tmp.string() + "' to '" + target.string() +
                                 "': " + ec.message());
    }
}

} // namespace nascent::io
