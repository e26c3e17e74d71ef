// nascent spaces: the built-in search spaces and their sizes.

#include "commands.hpp"

#include <nascent/space/darts.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/product.hpp>

#include <cstdio>
#include <vector>

namespace nascent::cli {

int list_spaces() {
    struct row {
        const char* name;
        std::string size;
        const char* what;
    };
    auto count = [](long double n) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, n < 1e7L ? "%.0Lf" : "%.3Le", n);
        return std::string(buffer);
    };
    const std::vector<row> rows{
        {"nb201", count(space::cardinality(nb201::space{})),
         "NAS-Bench-201 cell: 4 nodes, 6 edges x 5 ops (table: nb201/nb201.csv)"},
        {"nb101", "423624",
         "NAS-Bench-101 cell: <= 7 vertices, <= 9 edges, 3 ops (unique graphs; tables: 1k, 20k)"},
        {"darts", count(space::cardinality(darts::space{})),
         "DARTS / NAS-Bench-301: normal + reduction cell, 4 nodes x 2 inputs x 8 ops"},
        {"mbconv", count(mbconv::space::size()),
         "Once-for-All MobileNetV3: 5 stages, depth {2,3,4}, kernel {3,5,7}, expand {3,4,6}"},
        {"regnet", "continuous",
         "RegNetX design space: depth, w0, wa, wm, group width, bottleneck (pycls)"},
        {"efficientnet", "8",
         "EfficientNet B0-B7 compound scaling (alpha 1.2, beta 1.1, gamma 1.15)"},
    };
    std::printf("%-13s %-12s %s\n", "space", "genotypes", "description");
    for (const auto& r : rows)
        std::printf("%-13s %-12s %s\n", r.name, r.size.c_str(), r.what);
    return 0;
}

} // namespace nascent::cli
