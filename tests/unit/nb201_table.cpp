#include "test_data.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/space/nb201.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

using nascent::bench::nb201_dataset;
using nascent::bench::nb201_metric;

TEST_CASE("nb201 table: size and published optima") {
    const auto& t = nascent::test::nb201();
    CHECK(t.size() == 15625);

    const auto c10 = t.optimum(nb201_dataset::cifar10, nb201_metric::test_200);
    CHECK(c10.value == doctest::Approx(94.3733).epsilon(1e-9));
    CHECK(c10.index == 6111);
    CHECK(t.accuracy(13714, nb201_dataset::cifar10, nb201_metric::test_200) == c10.value); // tie

    const auto c100 = t.optimum(nb201_dataset::cifar100, nb201_metric::test_200);
    CHECK(c100.value == doctest::Approx(73.5133).epsilon(1e-9));
    CHECK(c100.index == 9930);

    const auto in16 = t.optimum(nb201_dataset::imagenet16_120, nb201_metric::test_200);
    CHECK(in16.value == doctest::Approx(47.3111).epsilon(1e-9));
    CHECK(in16.index == 857);

    const auto valid12 = t.optimum(nb201_dataset::cifar10, nb201_metric::valid_12);
    CHECK(valid12.value == doctest::Approx(84.892).epsilon(1e-9));
    CHECK(valid12.index == 13714);
}

TEST_CASE("nb201 table: string <-> index round trips for every cell") {
    const auto& t = nascent::test::nb201();
    const nascent::nb201::space space;
    std::set<std::uint32_t> seen;
    for (std::uint32_t i = 0; i < t.size(); ++i) {
        const auto arch = space.to_string(t.cell_at(i));
        REQUIRE(t.index_of(arch) == i);
        seen.insert(t.index_of(t.cell_at(i)));
    }
    CHECK(seen.size() == 15625);
    CHECK(space.to_string(t.cell_at(0)) == "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_"
                                           "conv_1x1~0|skip_connect~1|skip_connect~2|");
    CHECK(t.index_of("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_"
                     "3x3~1|nor_conv_1x1~2|") == 6111);
    CHECK_THROWS_AS((void)t.cell_at(15625), std::out_of_range);
    CHECK_THROWS_AS((void)t.index_of("|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
                    std::invalid_argument);
}

TEST_CASE("nb201 table: canonical keys reproduce the 6,466 isomorphism classes of all cells") {
    const auto& t = nascent::test::nb201();
    const nascent::nb201::space space;
    std::map<std::string, std::uint32_t> smallest_index_of_key;
    for (std::uint32_t i = 0; i < t.size(); ++i) {
        smallest_index_of_key.try_emplace(space.canonical_key(t.cell_at(i)), i);
    }
    CHECK(smallest_index_of_key.size() == 6466);
    std::size_t mismatches = 0;
    for (std::uint32_t i = 0; i < t.size(); ++i) {
        mismatches +=
            smallest_index_of_key.at(space.canonical_key(t.cell_at(i))) == t.iso(i) ? 0 : 1;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("nb201 table: missing values are missing, not zero") {
    const auto& t = nascent::test::nb201();
    CHECK_FALSE(t.accuracy(0, nb201_dataset::cifar100, nb201_metric::valid_200).has_value());
    CHECK_FALSE(t.has_metric(nb201_dataset::imagenet16_120, nb201_metric::valid_200));
    CHECK(t.accuracy(6111, nb201_dataset::cifar10, nb201_metric::valid_200) ==
          doctest::Approx(91.6067));
    std::size_t missing_naswot = 0;
    for (std::uint32_t i = 0; i < t.size(); ++i)
        missing_naswot += t.naswot(i) ? 0 : 1;
    CHECK(missing_naswot == 341); // NaN in the source (data README)
    CHECK(t.params_m(0) == doctest::Approx(0.129306));
}

TEST_CASE("nb201 evaluator: reward, metrics and errors") {
    const auto& t = nascent::test::nb201();
    const auto ev = t.evaluator({.dataset = "cifar100", .reward = "valid_acc@12"});
    const auto e = ev.evaluate(t.cell_at(9930));
    REQUIRE(e.ok());
    CHECK(e.reward == *t.accuracy(9930, nb201_dataset::cifar100, nb201_metric::valid_12));
    CHECK(e.metrics.get("test_acc@200") == doctest::Approx(73.5133));
    CHECK_FALSE(e.metrics.contains("valid_acc@200")); // not in the benchmark for CIFAR-100
    CHECK(e.metrics.contains("params_m"));

    auto message = [&](std::string_view dataset, std::string_view reward) -> std::string {
        try {
            (void)t.evaluator({.dataset = dataset, .reward = reward});
        } catch (const std::invalid_argument& err) {
            return err.what();
        }
        return "no error";
    };
    CHECK(message("cifar1000", "valid_acc@12") ==
          "unknown dataset 'cifar1000' (valid: cifar10, cifar100, imagenet16-120)");
    CHECK(message("cifar10", "valid_acc@50").find("unknown metric 'valid_acc@50'") == 0);
    CHECK(message("cifar100", "valid_acc@200") ==
          "metric 'valid_acc@200' is not in the NAS-Bench-201 table for cifar100");
    CHECK(message("cifar10", "valid_acc@200") == "no error");
}

TEST_CASE("nb201 table: a missing data directory or file says where it looked") {
    try {
        (void)nascent::io::resolve_data_dir(std::string("/nonexistent/nascent-data"), "unused");
        FAIL("expected an error");
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        CHECK(what.find("'/nonexistent/nascent-data'") != std::string::npos);
        CHECK(what.find("--data") != std::string::npos);
    }
    const auto tmp = std::filesystem::temp_directory_path();
    try {
        (void)nascent::bench::nb201_table::load({tmp, "NASCENT_DATA"});
        FAIL("expected an error");
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        CHECK(what.find((tmp / "nb201/nb201.csv").string()) != std::string::npos);
        CHECK(what.find("NASCENT_DATA") != std::string::npos);
    }
}

namespace {
// The real header and the first `rows` data lines of the real file, with optional edits.
std::string table_text(std::size_t rows) {
    const auto full = nascent::io::read_file(nascent::test::data_dir().file("nb201/nb201.csv"));
    std::size_t pos = 0;
    for (std::size_t line = 0; line <= rows && pos != std::string::npos; ++line) {
        pos = full.find('\n', pos);
        if (pos != std::string::npos)
            ++pos;
    }
    return pos == std::string::npos ? full : full.substr(0, pos);
}

std::string load_error(const std::string& name, const std::string& content) {
    const nascent::test::temp_file file(name, content);
    try {
        (void)nascent::bench::nb201_table::load_file(file.path());
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no error";
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    return text.replace(pos, from.size(), to);
}
} // namespace

TEST_CASE("nb201 table: bad files get one-line errors naming file, line and value") {
    const auto full = table_text(15625);
    SUBCASE("wrong row count") {
        const auto what = load_error("rows.csv", table_text(100));
        CHECK(what.find("rows.csv: expected 15625 data rows, found 100") != std::string::npos);
    }
    SUBCASE("missing column") {
        const auto what = load_error("col.csv", replace_once(full, "c100_test_12", "c100_tst_12"));
        CHECK(what.find("col.csv:1: missing column 'c100_test_12'") != std::string::npos);
    }
    SUBCASE("malformed number") {
        // Line 3 is index 1; its c10_valid_200 is 90.7693.
        const auto what = load_error("num.csv", replace_once(full, ",90.7693,", ",90.7x93,"));
        CHECK(what.find("num.csv:3:101: column 'c10_valid_200': malformed number '90.7x93'") !=
              std::string::npos);
    }
    SUBCASE("unknown arch") {
        const auto what =
            load_error("arch.csv", replace_once(full, "|avg_pool_3x3~0|+", "|max_pool~0|+"));
        CHECK(what.find("arch.csv:2:3: column 'arch'") != std::string::npos);
        CHECK(what.find("unknown op 'max_pool'") != std::string::npos);
    }
    SUBCASE("duplicate index") {
        const auto what = load_error("dup.csv", replace_once(full, "\n1,|", "\n0,|"));
        CHECK(what.find("dup.csv:3:1: column 'index': duplicate index '0' (first at line 2)") !=
              std::string::npos);
    }
    SUBCASE("index out of range") {
        const auto what = load_error("range.csv", replace_once(full, "\n1,|", "\n15625,|"));
        CHECK(what.find("range.csv:3:1: column 'index'") != std::string::npos);
        CHECK(what.find("'15625'") != std::string::npos);
    }
    SUBCASE("a row with a missing field") {
        const auto what = load_error("fields.csv", replace_once(full, ",-776.4428597", ""));
        CHECK(what.find("fields.csv:2: expected 15 fields, found 14") != std::string::npos);
    }
    SUBCASE("the intact file loads") {
        CHECK(load_error("ok.csv", full) == "no error");
    }
}
