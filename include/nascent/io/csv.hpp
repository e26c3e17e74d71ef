#pragma once
// A strict reader for the benchmark CSV files: one header line, comma separated, no quoting,
// empty field = missing value. Every error names the file, the line and the offending value.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace nascent::io {

/// The whole content of a file; throws std::invalid_argument naming the path when unreadable.
[[nodiscard]] inline std::string read_file(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw std::invalid_argument(
            "cannot read '" + path.string() +
            "': " + (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
    }
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file)
        throw std::invalid_argument("cannot open '" + path.string() + "'");
    std::string content;
    char buffer[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0)
        content.append(buffer, n);
    if (std::ferror(file.get()))
        throw std::invalid_argument("error reading '" + path.string() + "'");
    return content;
}

/// The declared range of a table column: [lo, hi], or (lo, hi] with `lo_open` (latencies > 0).
/// Values are finite already (number() rejects inf and NaN), so the default admits every value.
struct value_range {
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    bool lo_open = false;

    [[nodiscard]] constexpr bool contains(double v) const noexcept {
        return (lo_open ? v > lo : v >= lo) && v <= hi;
    }
    /// "[0, 100]", "(0, inf)", "[0, inf)".
    [[nodiscard]] std::string describe() const {
        const auto text = [](double x) {
            if (std::isinf(x))
                return std::string(x < 0 ? "-inf" : "inf");
            char buffer[32];
            const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, x);
            return std::string(buffer, ec == std::errc{} ? end : buffer);
        };
        return std::string(lo_open || std::isinf(lo) ? "(" : "[") + text(lo) + ", " + text(hi) +
               (std::isinf(hi) ? ")" : "]");
    }
};

/// Ranges every table in bench/ declares for its columns.
inline constexpr value_range percent_range{0.0, 100.0};
inline constexpr value_range non_negative_range{0.0};
inline constexpr value_range positive_range{0.0, std::numeric_limits<double>::infinity(), true};

/// A parsed CSV file. Rows are string_views into the file content, split once at load.
class csv_table {
public:
    /// Reads and splits `path`. Throws std::invalid_argument on an unreadable file, an empty
    /// file, or a row whose field count differs from the header's (naming file and line).
    [[nodiscard]] static csv_table read(const std::filesystem::path& path) {
        csv_table t;
        t.m_path = path.string();
        t.m_content = read_file(path);
        t.split();
        return t;
    }

    /// Parses CSV text already in memory; `name` stands for the file in error messages.
    [[nodiscard]] static csv_table from_string(std::string content, std::string name) {
        csv_table t;
        t.m_path = std::move(name);
        t.m_content = std::move(content);
        t.split();
        return t;
    }

    csv_table(csv_table&&) noexcept = default;
    csv_table& operator=(csv_table&&) noexcept = default;
    csv_table(const csv_table&) = delete;
    csv_table& operator=(const csv_table&) = delete;

    [[nodiscard]] const std::string& path() const noexcept { return m_path; }
    [[nodiscard]] std::size_t rows() const noexcept { return m_rows; }
    [[nodiscard]] std::size_t columns() const noexcept { return m_header.size(); }
    [[nodiscard]] const std::vector<std::string_view>& header() const noexcept { return m_header; }

    /// The position of a column; throws "file:1: missing column 'name'".
    [[nodiscard]] std::size_t column(std::string_view name) const {
        for (std::size_t i = 0; i < m_header.size(); ++i) {
            if (m_header[i] == name)
                return i;
        }
        throw std::invalid_argument(m_path + ":1: missing column '" + std::string(name) + "'");
    }
    [[nodiscard]] std::optional<std::size_t> find_column(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < m_header.size(); ++i) {
            if (m_header[i] == name)
                return i;
        }
        return std::nullopt;
    }

    /// Field of data row `row` (0-based, header excluded).
    [[nodiscard]] std::string_view field(std::size_t row, std::size_t col) const noexcept {
        return m_fields[row * m_header.size() + col];
    }
    /// The 1-based line number of data row `row` in the file (for messages).
    [[nodiscard]] std::size_t line(std::size_t row) const noexcept { return m_lines[row]; }

    /// "file:line: message" for data row `row`.
    [[nodiscard]] std::invalid_argument error(std::size_t row, const std::string& message) const {
        return std::invalid_argument(m_path + ":" + std::to_string(line(row)) + ": " + message);
    }

    /// The 1-based character column where field (row, col) starts in its line.
    [[nodiscard]] std::size_t char_column(std::size_t row, std::size_t col) const noexcept {
        // Fields are views into m_content, so the offset is exact; only errors pay the scan.
        const auto offset = static_cast<std::size_t>(field(row, col).data() - m_content.data());
        const auto nl = std::string_view(m_content).rfind('\n', offset == 0 ? 0 : offset - 1);
        return nl == std::string_view::npos || nl >= offset ? offset + 1 : offset - nl;
    }

    /// "file:line:column: column 'name': message" for field (row, col).
    [[nodiscard]] std::invalid_argument field_error(std::size_t row, std::size_t col,
                                                    const std::string& message) const {
        return std::invalid_argument(m_path + ":" + std::to_string(line(row)) + ":" +
                                     std::to_string(char_column(row, col)) + ": column '" +
                                     std::string(m_header[col]) + "': " + message);
    }

    /// A number, or nullopt for an empty field; a malformed or non-finite value throws
    /// "file:line:column: column 'c': malformed number 'v'".
    [[nodiscard]] std::optional<double> number(std::size_t row, std::size_t col) const {
        const auto text = field(row, col);
        if (text.empty())
            return std::nullopt;
        double value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
            throw field_error(row, col, "malformed number '" + std::string(text) + "'");
        return value;
    }

    /// A number (or nullopt for an empty field) that must lie in `range`; a value outside
    /// throws "file:line:column: column 'c': value 'v' outside [lo, hi]".
    [[nodiscard]] std::optional<double> number(std::size_t row, std::size_t col,
                                               const value_range& range) const {
        const auto value = number(row, col);
        if (value && !range.contains(*value)) {
            throw field_error(row, col,
                              "value '" + std::string(field(row, col)) + "' outside " +
                                  range.describe());
        }
        return value;
    }

    /// A number that must be present: an empty field throws "... missing value".
    [[nodiscard]] double required_number(std::size_t row, std::size_t col,
                                         const value_range& range = {}) const {
        const auto value = number(row, col, range);
        if (!value)
            throw field_error(row, col, "missing value");
        return *value;
    }

    /// An integer in [lo, hi]; anything else throws naming the value.
    [[nodiscard]] long long integer(std::size_t row, std::size_t col, long long lo,
                                    long long hi) const {
        const auto text = field(row, col);
        long long value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < lo ||
            value > hi) {
            throw field_error(row, col,
                              "expected an integer in [" + std::to_string(lo) + ", " +
                                  std::to_string(hi) + "], got '" + std::string(text) + "'");
        }
        return value;
    }

private:
    csv_table() = default;

    void split() {
        std::string_view rest = m_content;
        std::size_t line_no = 0;
        bool have_header = false;
        while (!rest.empty()) {
            const auto nl = rest.find('\n');
            auto line = rest.substr(0, nl);
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
            ++line_no;
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            if (line.empty()) {
                if (rest.empty())
                    break; // the final newline
                throw std::invalid_argument(m_path + ":" + std::to_string(line_no) +
                                            ": empty line");
            }
            if (!have_header) {
                split_fields(line, m_header);
                have_header = true;
                continue;
            }
            const auto before = m_fields.size();
            split_fields(line, m_fields);
            const auto count = m_fields.size() - before;
            if (count != m_header.size()) {
                throw std::invalid_argument(m_path + ":" + std::to_string(line_no) + ": expected " +
                                            std::to_string(m_header.size()) + " fields, found " +
                                            std::to_string(count));
            }
            m_lines.push_back(line_no);
            ++m_rows;
        }
        if (!have_header)
            throw std::invalid_argument(m_path + ": empty file, expected a header");
    }

    static void split_fields(std::string_view line, std::vector<std::string_view>& out) {
        while (true) {
            const auto comma = line.find(',');
            out.push_back(line.substr(0, comma));
            if (comma == std::string_view::npos)
                return;
            line.remove_prefix(comma + 1);
        }
    }

    std::string m_path;
    std::string m_content; // the views below point into it; moving a std::string keeps the buffer
                           // only for heap storage, so the content is never small-string (> 15 B)
    std::vector<std::string_view> m_header;
    std::vector<std::string_view> m_fields;
    std::vector<std::size_t> m_lines;
    std::size_t m_rows = 0;
};

} // namespace nascent::io
