#pragma once
// Evaluators over the tables, as the module holds them: each keeps its table alive.

#include <nascent/bench/nb101_table.hpp>
#include <nascent/bench/nb201_table.hpp>

#include <memory>

namespace nascent::python {

struct nb201_evaluator_handle {
    std::shared_ptr<bench::nb201_table> table;
    bench::nb201_evaluator evaluator;
};

struct nb101_evaluator_handle {
    std::shared_ptr<bench::nb101_table> table;
    bench::nb101_evaluator evaluator;
};

} // namespace nascent::python
