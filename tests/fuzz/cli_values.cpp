// libFuzzer target: the values the CLI hands to the library: constraint expressions
// ("latency:pixel3<=10"), objective lists ("test_acc,latency:pixel3"), dataset and metric
// names. Invariant: a parse that prints back consistently, or a std::invalid_argument.
// The tables come from $NASCENT_DATA (default: the data directory compiled in).
#include <nascent/bench/nb201_latency.hpp>
#include <nascent/bench/nb201_objectives.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/pareto/constraints.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#ifndef NASCENT_FUZZ_DATA_DIR
#define NASCENT_FUZZ_DATA_DIR "../shared/data"
#endif

namespace {
void require(bool condition) {
    if (!condition)
        std::abort();
}
std::unique_ptr<nascent::bench::nb201_table> table;
std::unique_ptr<nascent::bench::nb201_latency_table> latency;
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const auto dir = nascent::io::resolve_data_dir(std::nullopt, NASCENT_FUZZ_DATA_DIR);
    table = std::make_unique<nascent::bench::nb201_table>(nascent::bench::nb201_table::load(dir));
    latency = std::make_unique<nascent::bench::nb201_latency_table>(
        nascent::bench::nb201_latency_table::load(dir, table.get()));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        switch (data[0] % 3) {
        case 0: {
            const auto c = nascent::pareto::parse_constraint(text);
            require(!c.metric.empty());
            require(std::isfinite(c.min) || std::isfinite(c.max));
            require(!(std::isfinite(c.min) && std::isfinite(c.max)));
            break;
        }
        case 1: {
            const auto objs = nascent::bench::parse_nb201_objectives(
                text, *table, nascent::bench::nb201_dataset::cifar10, latency.get());
            require(!objs.empty());
            std::string joined;
            for (const auto& o : objs)
                joined += (joined.empty() ? "" : ",") + o.metric;
            // The canonical names parse to the same objectives.
            const auto again = nascent::bench::parse_nb201_objectives(
                joined, *table, nascent::bench::nb201_dataset::cifar10, latency.get());
            require(again.size() == objs.size());
            for (std::size_t i = 0; i < objs.size(); ++i)
                require(again[i].metric == objs[i].metric && again[i].device == objs[i].device);
            break;
        }
        default: {
            const auto d = nascent::bench::parse_nb201_dataset(text);
            require(nascent::bench::nb201_dataset_names[static_cast<std::size_t>(d)] == text);
            const auto m = nascent::bench::parse_nb201_metric(text);
            require(nascent::bench::nb201_metric_names[static_cast<std::size_t>(m)] == text);
        }
        }
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
