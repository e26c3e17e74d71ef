#pragma once
// The shared benchmark data for tests, loaded once per test process.

#include <nascent/bench/nb201_table.hpp>
#include <nascent/io/data_dir.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace nascent::test {

inline io::data_dir data_dir() {
    return io::resolve_data_dir(std::nullopt, NASCENT_TEST_DATA_DIR);
}

inline const bench::nb201_table& nb201() {
    static const bench::nb201_table table = bench::nb201_table::load(data_dir());
    return table;
}

/// A scratch file under the system temp directory, removed when the object dies.
class temp_file {
public:
    explicit temp_file(const std::string& name, const std::string& content)
        : m_path(std::filesystem::temp_directory_path() / ("nascent_test_" + name)) {
        std::FILE* f = std::fopen(m_path.c_str(), "wb");
        std::fwrite(content.data(), 1, content.size(), f);
        std::fclose(f);
    }
    ~temp_file() { std::filesystem::remove(m_path); }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

} // namespace nascent::test
