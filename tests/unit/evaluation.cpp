#include <nascent/core/evaluation.hpp>
#include <nascent/core/stats.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

TEST_CASE("metrics: set, replace, get, copy") {
    nascent::metrics m;
    CHECK(m.empty());
    m.set("accuracy", 91.5);
    m.set("latency:pixel3", 12.0);
    m.set("accuracy", 92.0); // replaces
    CHECK(m.size() == 2);
    CHECK(m.get("accuracy") == 92.0);
    CHECK(m.get("latency:pixel3") == 12.0);
    CHECK_FALSE(m.get("params").has_value());
    const nascent::metrics copy = m;
    CHECK(copy.size() == 2);
    CHECK(copy.name(1) == "latency:pixel3");
    CHECK(copy.value(0) == 92.0);
}

TEST_CASE("metrics beyond capacity throw length_error naming the metric") {
    nascent::metrics m;
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (std::size_t i = 0; i <= nascent::metrics::capacity; ++i)
            v.push_back("m" + std::to_string(i));
        return v;
    }();
    for (std::size_t i = 0; i < nascent::metrics::capacity; ++i)
        m.set(names[i], 1.0);
    try {
        m.set(names.back(), 1.0);
        FAIL("expected std::length_error");
    } catch (const std::length_error& e) {
        CHECK(std::string(e.what()).find("'m12'") != std::string::npos);
    }
}

TEST_CASE("evaluation: success requires a finite reward, failure is data") {
    const auto ok = nascent::evaluation::success(3.5);
    CHECK(ok.ok());
    CHECK(ok.reward == 3.5);
    const auto nan = nascent::evaluation::success(std::numeric_limits<double>::quiet_NaN());
    CHECK(nan.status == nascent::eval_status::failed);
    CHECK(nan.reward == -std::numeric_limits<double>::infinity());
    const auto failed = nascent::evaluation::failure("diverged");
    CHECK(failed.reason == "diverged");
    CHECK_FALSE(failed.ok());
    CHECK(nascent::evaluation::missing().status == nascent::eval_status::out_of_table);
    CHECK(nascent::to_string(nascent::eval_status::out_of_table) == "out_of_table");
}

TEST_CASE("summarize: population mean and std, skipping non-finite values") {
    const std::vector<double> v{1.0, 2.0, 3.0, 4.0, std::numeric_limits<double>::quiet_NaN()};
    const auto s = nascent::summarize(v);
    CHECK(s.count == 4);
    CHECK(s.mean == doctest::Approx(2.5));
    CHECK(s.std == doctest::Approx(std::sqrt(1.25)));
    CHECK(std::isnan(nascent::summarize(std::vector<double>{}).mean));
}
