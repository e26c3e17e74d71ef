// Every declared column range of the benchmark tables, on small synthetic fixtures written to a
// temp dir: each check has a case that loads without it and must fail with it, naming
// file:line:column and the bad value.
#include "error_of.hpp"
#include "test_data.hpp"

#include <nascent/bench/nb101_table.hpp>
#include <nascent/bench/nb201_latency.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/bench/nb201_zc.hpp>
#include <nascent/io/csv.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

using nascent::test::contains;
using nascent::test::error_of;

namespace {

// A synthetic NB201 table: row i is cell at(i) with iso = i, every accuracy 50 and params 0.5;
// `edit(i, fields)` may change row i's 15 fields before they are joined.
using row_edit = std::function<void(std::size_t, std::vector<std::string>&)>;

std::string nb201_fixture(const row_edit& edit = {}) {
    std::string out = "index,arch,iso,c10_valid_200,c10_test_200,c100_test_200,in16_test_200,"
                      "c10_valid_12,c10_test_12,c100_valid_12,c100_test_12,in16_valid_12,"
                      "in16_test_12,params_m,naswot\n";
    for (std::size_t i = 0; i < nascent::nb201::num_cells; ++i) {
        std::vector<std::string> f{std::to_string(i),
                                   nascent::nb201::space::to_string(nascent::nb201::space::at(i)),
                                   std::to_string(i)};
        for (int k = 0; k < 10; ++k)
            f.emplace_back("50");
        f.emplace_back("0.5");
        f.emplace_back("-1000");
        if (edit)
            edit(i, f);
        for (std::size_t k = 0; k < f.size(); ++k)
            out += (k ? "," : "") + f[k];
        out += '\n';
    }
    return out;
}

std::string nb201_error(const std::string& name, const std::string& text) {
    const nascent::test::temp_file file(name, text);
    return error_of([&] { (void)nascent::bench::nb201_table::load_file(file.path()); });
}

std::string latency_error(const std::string& name, const std::string& value_of_row_7) {
    std::string text = "index,arch,dev_a,dev_b\n";
    for (std::size_t i = 0; i < nascent::nb201::num_cells; ++i) {
        text += std::to_string(i) + "," +
                nascent::nb201::space::to_string(nascent::nb201::space::at(i)) + ",1.5," +
                (i == 7 ? value_of_row_7 : std::string("2")) + "\n";
    }
    const nascent::test::temp_file file(name, text);
    return error_of([&] {
        (void)nascent::bench::nb201_latency_table::from_csv(
            nascent::io::csv_table::read(file.path()));
    });
}

// Two rows of nb101_1k.csv (real hashes of real cells); `edit` rewrites the text.
const std::string nb101_rows =
    "hash,num_vertices,adjacency,ops,params,valid_acc_4,valid_acc_12,valid_acc_36,valid_acc_108,"
    "train_time_108\n"
    "00005c142e6f48ac74fdcf73e3439874,7,0100110001000000010010000010000001000000010000000,"
    "input|conv3x3-bn-relu|maxpool3x3|conv3x3-bn-relu|conv3x3-bn-relu|conv1x1-bn-relu|output,"
    "8555530,36.0477,42.1975,90.014,93.0489,1768.976\n"
    "0000718c96730a92ea6d5242f8ce77e2,7,0100000001000000010000000111000001000000010000000,"
    "input|conv1x1-bn-relu|conv1x1-bn-relu|conv3x3-bn-relu|conv1x1-bn-relu|conv3x3-bn-relu|output,"
    "5878154,11.3181,35.5369,82.5421,89.5934,1203.288\n";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    return text.replace(pos, from.size(), to);
}

std::string nb101_error(const std::string& name, const std::string& text) {
    const nascent::test::temp_file file("nb101r_" + name, text);
    return error_of([&] { (void)nascent::bench::nb101_table::load_file(file.path()); });
}

// A data directory holding only zc/nb201_cifar10.csv.
std::string zc_error(const std::string& text, const std::string& proxy) {
    const auto dir = std::filesystem::temp_directory_path() / "nascent_test_zc_ranges";
    std::filesystem::create_directories(dir / "zc");
    std::FILE* f = std::fopen((dir / "zc" / "nb201_cifar10.csv").c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    auto what = error_of([&] {
        (void)nascent::bench::nb201_zc_scores::load({dir, "test"}, "cifar10", proxy);
    });
    std::filesystem::remove_all(dir);
    return what;
}

} // namespace

TEST_CASE("csv ranges: contains, describe, and errors at file:line:column") {
    using nascent::io::value_range;
    CHECK(nascent::io::percent_range.contains(0));
    CHECK(nascent::io::percent_range.contains(100));
    CHECK_FALSE(nascent::io::percent_range.contains(100.0001));
    CHECK_FALSE(nascent::io::percent_range.contains(-1e-9));
    CHECK(nascent::io::positive_range.contains(1e-300));
    CHECK_FALSE(nascent::io::positive_range.contains(0));
    CHECK(nascent::io::non_negative_range.contains(0));
    CHECK(nascent::io::percent_range.describe() == "[0, 100]");
    CHECK(nascent::io::positive_range.describe() == "(0, inf)");
    CHECK(nascent::io::non_negative_range.describe() == "[0, inf)");
    CHECK(value_range{}.describe() == "(-inf, inf)");
    CHECK(value_range{.lo = -0.5, .hi = 2.25}.describe() == "[-0.5, 2.25]");

    const auto t = nascent::io::csv_table::from_string("a,acc\n1,50\n22,250\n3,-5\n4,\n", "t.csv");
    CHECK(t.number(0, 1, nascent::io::percent_range) == 50.0);
    CHECK_FALSE(t.number(3, 1, nascent::io::percent_range).has_value()); // missing stays missing
    CHECK(error_of([&] { (void)t.number(1, 1, nascent::io::percent_range); }) ==
          "t.csv:3:4: column 'acc': value '250' outside [0, 100]");
    CHECK(error_of([&] { (void)t.required_number(2, 1, nascent::io::percent_range); }) ==
          "t.csv:4:3: column 'acc': value '-5' outside [0, 100]");
    CHECK(error_of([&] { (void)t.required_number(3, 1, nascent::io::percent_range); }) ==
          "t.csv:5:3: column 'acc': missing value");
    CHECK(t.char_column(1, 0) == 1);
    CHECK(t.char_column(1, 1) == 4);
}

TEST_CASE("nb201 table ranges: accuracies in [0, 100], params >= 0, iso a representative") {
    CHECK(nb201_error("r_ok.csv", nb201_fixture()).empty());
    SUBCASE("an accuracy of -5") {
        const auto what = nb201_error("r_neg.csv", nb201_fixture([](std::size_t i, auto& f) {
                                          if (i == 3)
                                              f[7] = "-5"; // c10_valid_12
                                      }));
        // Line 5 (index 3); the column is after 7 commas.
        CHECK(contains(what, "r_neg.csv:5:"));
        CHECK(contains(what, ": column 'c10_valid_12': value '-5' outside [0, 100]"));
    }
    SUBCASE("an accuracy of 250") {
        const auto what = nb201_error("r_big.csv", nb201_fixture([](std::size_t i, auto& f) {
                                          if (i == 15624)
                                              f[6] = "250"; // in16_test_200
                                      }));
        CHECK(contains(what, "r_big.csv:15626:"));
        CHECK(contains(what, "column 'in16_test_200': value '250' outside [0, 100]"));
    }
    SUBCASE("negative params") {
        const auto what = nb201_error("r_par.csv", nb201_fixture([](std::size_t i, auto& f) {
                                          if (i == 0)
                                              f[13] = "-0.1";
                                      }));
        CHECK(contains(what, "r_par.csv:2:"));
        CHECK(contains(what, "column 'params_m': value '-0.1' outside [0, inf)"));
    }
    SUBCASE("iso above the row's own index") {
        const auto what = nb201_error("r_iso.csv", nb201_fixture([](std::size_t i, auto& f) {
                                          if (i == 2)
                                              f[2] = "5";
                                      }));
        CHECK(contains(what, "r_iso.csv:4:"));
        CHECK(contains(what, "column 'iso': expected an integer in [0, 2], got '5'"));
    }
    SUBCASE("iso naming a cell that is not its class's representative") {
        // Row 5 says its class is 4's, but 4 says its class is 1's.
        const auto what = nb201_error("r_rep.csv", nb201_fixture([](std::size_t i, auto& f) {
                                          if (i == 4)
                                              f[2] = "1";
                                          if (i == 5)
                                              f[2] = "4";
                                      }));
        CHECK(contains(what, "r_rep.csv:7:"));
        CHECK(contains(what,
                       "column 'iso': iso '4' is not a class representative (index 4 has iso 1)"));
    }
    SUBCASE("the error's column is the field's character column") {
        const auto what = nb201_error("r_col.csv", nb201_fixture([](std::size_t i, auto& f) {
                                          if (i == 0)
                                              f[3] = "101";
                                      }));
        // "0,<arch>,0," then the field: 2 + arch length + 3 + 1.
        const auto arch = nascent::nb201::space::to_string(nascent::nb201::space::at(0));
        CHECK(contains(what, "r_col.csv:2:" + std::to_string(arch.size() + 6) +
                                 ": column 'c10_valid_200': value '101' outside [0, 100]"));
    }
}

TEST_CASE("nb201 latency ranges: latencies > 0 and finite") {
    CHECK(latency_error("lat_ok.csv", "0.25").empty());
    CHECK(contains(latency_error("lat_zero.csv", "0"), "lat_zero.csv:9:"));
    CHECK(
        contains(latency_error("lat_zero.csv", "0"), "column 'dev_b': value '0' outside (0, inf)"));
    CHECK(contains(latency_error("lat_neg.csv", "-3"),
                   "column 'dev_b': value '-3' outside (0, inf)"));
    CHECK(contains(latency_error("lat_inf.csv", "inf"), "column 'dev_b': malformed number 'inf'"));
    CHECK(contains(latency_error("lat_nan.csv", "nan"), "column 'dev_b': malformed number 'nan'"));
}

TEST_CASE("nb101 table ranges: accuracies in [0, 100], training time > 0, hash of the cell") {
    CHECK(nb101_error("ok.csv", nb101_rows).empty());
    CHECK(contains(nb101_error("neg.csv", replaced(nb101_rows, ",11.3181,", ",-11.3181,")),
                   "neg.csv:3:187: column 'valid_acc_4': value '-11.3181' outside [0, 100]"));
    CHECK(contains(nb101_error("big.csv", replaced(nb101_rows, ",90.014,", ",100.5,")),
                   "column 'valid_acc_36': value '100.5' outside [0, 100]"));
    CHECK(contains(nb101_error("time.csv", replaced(nb101_rows, ",1203.288", ",0")),
                   "time.csv:3:219: column 'train_time_108': value '0' outside (0, inf)"));
    CHECK(contains(nb101_error("par.csv", replaced(nb101_rows, ",5878154,", ",0,")),
                   "column 'params': expected an integer in [1, 1000000000000], got '0'"));
    CHECK(contains(nb101_error("hash.csv", replaced(nb101_rows, "0000718c96730a92ea6d5242f8ce77e2",
                                                    "0000718c96730a92ea6d5242f8ce77e3")),
                   "hash.csv:3:1: column 'hash': hash '0000718c96730a92ea6d5242f8ce77e3' is not "
                   "the NAS-Bench-101 hash of the row's cell"));
}

TEST_CASE("zero-cost scores ranges: unique indices, val_acc in [0, 100], sizes >= 0") {
    const std::string head = "index,arch,val_acc,flops,params,synflow\n";
    const std::string a = "117,|x|,88.34,122.3,0.83,90.2\n";
    const std::string b = "180,|y|,89.91,121.0,0.83,-4.5\n";
    CHECK(zc_error(head + a + b, "synflow").empty()); // a negative proxy score is allowed
    CHECK(contains(zc_error(head + a + replaced(b, "180,", "117,"), "synflow"),
                   "nb201_cifar10.csv:3:1: column 'index': duplicate index '117' (first at line "
                   "2)"));
    CHECK(contains(zc_error(head + a + replaced(b, "89.91", "189.91"), "synflow"),
                   "nb201_cifar10.csv:3:9: column 'val_acc': value '189.91' outside [0, 100]"));
    CHECK(contains(zc_error(head + a + replaced(b, "121.0", "-121.0"), "flops"),
                   "column 'flops': value '-121.0' outside [0, inf)"));
    // The sizes are checked whichever proxy is asked for.
    CHECK(contains(zc_error(head + a + replaced(b, ",0.83,", ",-1,"), "synflow"),
                   "column 'params': value '-1' outside [0, inf)"));
}
