// libFuzzer target: the CSV reader and the table loaders behind it. Invariant: a table or a
// one-line std::invalid_argument naming the file; never a crash, a hang or an out-of-range value.
// The first input byte picks the loader; the rest is the file.
#include <nascent/bench/nb101_table.hpp>
#include <nascent/bench/nb201_latency.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/io/csv.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {
void require(bool condition) {
    if (!condition)
        std::abort();
}
void check_message(const std::invalid_argument& e) {
    const std::string what = e.what();
    require(what.rfind("fuzz.csv", 0) == 0);
    require(what.find('\n') == std::string::npos || what.find("fuzz.csv") == 0);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const auto mode = data[0] % 4;
    std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        const auto csv = nascent::io::csv_table::from_string(std::move(text), "fuzz.csv");
        switch (mode) {
        case 0: // every field as a number in [0, 100], every field as an integer
            for (std::size_t r = 0; r < csv.rows(); ++r) {
                for (std::size_t c = 0; c < csv.columns(); ++c) {
                    try {
                        if (const auto v = csv.number(r, c, nascent::io::percent_range))
                            require(std::isfinite(*v) && *v >= 0 && *v <= 100);
                    } catch (const std::invalid_argument& e) {
                        check_message(e);
                    }
                    try {
                        const auto i = csv.integer(r, c, -5, 5);
                        require(i >= -5 && i <= 5);
                    } catch (const std::invalid_argument& e) {
                        check_message(e);
                    }
                }
            }
            break;
        case 1:
        case 2: {
            const auto t = nascent::bench::nb101_table::from_csv(csv, mode == 1);
            for (std::size_t r = 0; r < t.size(); ++r) {
                for (std::size_t m = 0; m < 4; ++m)
                    require(t.row_at(r)[m] >= 0 && t.row_at(r)[m] <= 100);
                require(t.find(t.hash_at(r)) == r);
            }
            break;
        }
        default: // full-size NB201 tables are too big to reach; the header and row checks are not
            (void)nascent::bench::nb201_table::from_csv(csv);
        }
    } catch (const std::invalid_argument& e) {
        check_message(e);
    }
    return 0;
}
