// nascent's Python module: `import nascent`. Four translation units (this one, tables_spaces,
// strategies, pareto_surrogates) keep the build parallel and short.

#include "common.hpp"

PYBIND11_MODULE(_nascent, m) {
    m.doc() = "nascent: neural architecture search in C++ (strategies, tables, spaces, Pareto "
              "tools, surrogates), driven from Python.";
    nascent::python::bind_tables_spaces(m);
    nascent::python::bind_strategies(m);
    nascent::python::bind_pareto_surrogates(m);
}
