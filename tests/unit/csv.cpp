#include <nascent/io/atomic_write.hpp>
#include <nascent/io/csv.hpp>

#include "test_data.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using nascent::io::csv_table;

namespace {
std::string error_of(const std::string& text) {
    try {
        const auto t = csv_table::from_string(text, "t.csv");
        for (std::size_t r = 0; r < t.rows(); ++r) {
            for (std::size_t c = 0; c < t.columns(); ++c)
                (void)t.number(r, c);
        }
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no error";
}
} // namespace

TEST_CASE("csv: fields, numbers, empties and line numbers") {
    const auto t = csv_table::from_string("a,b,c\n1,,3.5\r\n-2,1e3,x\n", "t.csv");
    CHECK(t.rows() == 2);
    CHECK(t.column("c") == 2);
    CHECK(t.number(0, 0) == 1.0);
    CHECK_FALSE(t.number(0, 1).has_value());
    CHECK(t.number(0, 2) == 3.5);
    CHECK(t.number(1, 1) == 1000.0);
    CHECK(t.line(1) == 3);
    CHECK(t.integer(1, 0, -5, 5) == -2);
    CHECK_THROWS_WITH_AS((void)t.number(1, 2), "t.csv:3:8: column 'c': malformed number 'x'",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)t.required_number(0, 1), "t.csv:2:3: column 'b': missing value",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)t.column("d"), "t.csv:1: missing column 'd'", std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)t.integer(0, 2, 0, 9),
                         "t.csv:2:4: column 'c': expected an integer in [0, 9], got '3.5'",
                         std::invalid_argument);
}

TEST_CASE("csv: structural errors name the line") {
    CHECK(error_of("") == "t.csv: empty file, expected a header");
    CHECK(error_of("a,b\n1,2,3\n") == "t.csv:2: expected 2 fields, found 3");
    CHECK(error_of("a,b\n1,2\n\n3,4\n") == "t.csv:3: empty line");
    CHECK(error_of("a\nnan\n") == "t.csv:2:1: column 'a': malformed number 'nan'");
    CHECK(error_of("a\n1.5.2\n") == "t.csv:2:1: column 'a': malformed number '1.5.2'");
    CHECK(error_of("a,b\n1,2\n") == "no error");
}

TEST_CASE("csv: unreadable files are named") {
    CHECK_THROWS_WITH_AS((void)csv_table::read("/nonexistent/x.csv"),
                         "cannot read '/nonexistent/x.csv': no such file", std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)csv_table::read(std::filesystem::temp_directory_path()),
                         ("cannot read '" + std::filesystem::temp_directory_path().string() +
                          "': not a regular file")
                             .c_str(),
                         std::invalid_argument);
}

TEST_CASE("atomic write replaces the whole file") {
    const auto path = std::filesystem::temp_directory_path() / "nascent_test_atomic.json";
    nascent::io::write_file_atomically(path, "first");
    nascent::io::write_file_atomically(path, "second");
    CHECK(nascent::io::read_file(path) == "second");
    std::filesystem::remove(path);
    CHECK_THROWS_AS(nascent::io::write_file_atomically("/nonexistent/dir/x.json", "x"),
                    std::runtime_error);
}
