// The generator, the NAS-Bench-201 / NAS-Bench-101 cells and spaces, and the tables.

#include "common.hpp"
#include "handles.hpp"

#include <nascent/bench/nb101_table.hpp>
#include <nascent/bench/nb201_latency.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/space/encodings.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>

#include <memory>
#include <variant>

namespace nascent::python {
namespace {

using nb201_cell = nb201::cell;
using nb101_cell = nb101::cell;

template <std::size_t N>
py::array_t<double> to_numpy(const std::array<double, N>& values) {
    py::array_t<double> out(static_cast<py::ssize_t>(N));
    std::copy(values.begin(), values.end(), out.mutable_data());
    return out;
}
py::array_t<double> to_numpy(const std::vector<double>& values) {
    py::array_t<double> out(static_cast<py::ssize_t>(values.size()));
    std::copy(values.begin(), values.end(), out.mutable_data());
    return out;
}

/// A read-only numpy view of `rows` x `cols` doubles owned by `owner` (kept alive by the array).
py::array_t<double> view(const double* data, std::size_t rows, std::size_t cols,
                         std::size_t row_stride_doubles, const py::handle& owner) {
    py::array_t<double> a({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)},
                          {static_cast<py::ssize_t>(row_stride_doubles * sizeof(double)),
                           static_cast<py::ssize_t>(sizeof(double))},
                          data, owner);
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return a;
}

/// A table index or an arch (str or cell) as the table's official index.
std::uint64_t nb201_index(const bench::nb201_table& t, const py::handle& key) {
    if (py::isinstance<py::int_>(key)) {
        const auto i = key.cast<long long>();
        if (i < 0 || static_cast<std::uint64_t>(i) >= nb201::num_cells)
            throw py::index_error("NAS-Bench-201 index " + std::to_string(i) +
                                  " out of range [0, 15624]");
        return static_cast<std::uint64_t>(i);
    }
    if (py::isinstance<py::str>(key))
        return t.index_of(key.cast<std::string>());
    return t.index_of(key.cast<nb201_cell>());
}

template <class Space>
auto mutate(const Space& space, const genotype_t<Space>& g, rng& gen) {
    return ops::default_mutator_t<Space>{}(space, g, gen);
}

void bind_generator(py::module_& m) {
    py::class_<rng>(m, "Generator",
                    "xoshiro256** seeded by splitmix64: the library's explicit random generator.\n"
                    "The same seed gives the same stream on every platform.")
        .def(py::init<std::uint64_t>(), py::arg("seed") = 0)
        .def("seed", &rng::seed, py::arg("seed"), "Restart the stream from `seed`.")
        .def(
            "__call__", [](rng& g) { return g(); }, "The next 64-bit word.")
        .def(
            "index",
            [](rng& g, std::uint64_t n) {
                if (n == 0)
                    throw py::value_error("Generator.index: n must be >= 1, got 0");
                return uniform_index(g, n);
            },
            py::arg("n"), "A uniform integer in [0, n).")
        .def(
            "uniform", [](rng& g) { return uniform_real(g); }, "A uniform float in [0, 1).")
        .def(
            "copy", [](const rng& g) { return g; }, "An independent copy of the state.")
        .def("__eq__", [](const rng& a, const rng& b) { return a == b; });
    m.def("derive_seed", &derive_seed, py::arg("master"), py::arg("run"), py::arg("task") = 0,
          "The seed of task `task` of run `run` under `master` (splitmix64): what run i of "
          "run_protocol uses.");
}

void bind_nb201(py::module_& m) {
    py::class_<nb201_cell>(m, "NB201Cell",
                           "A NAS-Bench-201 cell: one of 5 ops on each of the 6 edges.")
        .def(py::init([](const std::string& arch) { return nb201::space::parse(arch); }),
             py::arg("arch"), "Parse an arch string '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'.")
        .def(py::init([](const std::vector<int>& ops) {
                 if (ops.size() != nb201::num_edges)
                     throw py::value_error("an NB201 cell has 6 edges, got " +
                                           std::to_string(ops.size()) + " ops");
                 nb201_cell c;
                 for (std::size_t e = 0; e < ops.size(); ++e) {
                     if (ops[e] < 0 || ops[e] >= static_cast<int>(nb201::num_ops))
                         throw py::value_error("op " + std::to_string(ops[e]) + " of edge " +
                                               std::to_string(e) + " out of range [0, 4]");
                     c.ops[e] = static_cast<std::uint8_t>(ops[e]);
                 }
                 return c;
             }),
             py::arg("ops"), "From the op index of each edge (0..4, nascent.NB201Space.op_names).")
        .def_property_readonly(
            "ops", [](const nb201_cell& c) { return std::vector<int>(c.ops.begin(), c.ops.end()); },
            "Op index of each edge, in the arch string's edge order.")
        .def("__str__", &nb201::space::to_string)
        .def("__repr__",
             [](const nb201_cell& c) { return "NB201Cell('" + nb201::space::to_string(c) + "')"; })
        .def("__eq__", [](const nb201_cell& a, const nb201_cell& b) { return a == b; })
        .def("__hash__", [](const nb201_cell& c) { return nb201::space::hash(c); })
        .def(py::pickle([](const nb201_cell& c) { return nb201::space::to_string(c); },
                        [](const std::string& s) { return nb201::space::parse(s); }));
    py::implicitly_convertible<py::str, nb201_cell>();

    py::class_<nb201::space>(m, "NB201Space",
                             "The NAS-Bench-201 space: 15,625 cells of 6 edges x 5 ops.")
        .def(py::init<>())
        .def_property_readonly_static("op_names",
                                      [](const py::object&) {
                                          return std::vector<std::string>(nb201::op_names.begin(),
                                                                          nb201::op_names.end());
                                      })
        .def_property_readonly_static("size", [](const py::object&) { return nb201::num_cells; })
        .def(
            "sample", [](const nb201::space& s, rng& g) { return s.sample(g); }, py::arg("gen"),
            "A uniform random cell.")
        .def(
            "mutate",
            [](const nb201::space& s, const nb201_cell& c, rng& g) { return mutate(s, c, g); },
            py::arg("cell"), py::arg("gen"),
            "One edge changed to one of the 4 other ops (REA's mutation).")
        .def(
            "neighbours",
            [](const nb201::space& s, const nb201_cell& c) {
                const auto n = s.neighbours(c);
                return std::vector<nb201_cell>(n.begin(), n.end());
            },
            py::arg("cell"), "The 24 cells that differ on one edge, edge-major, op ascending.")
        .def(
            "encode",
            [](const nb201::space&, const nb201_cell& c, const std::string& kind) {
                if (kind == "onehot")
                    return to_numpy(encoding::adjacency(c));
                if (kind == "paths")
                    return to_numpy(encoding::paths(c));
                throw py::value_error("unknown encoding '" + kind + "' (valid: onehot, paths)");
            },
            py::arg("cell"), py::arg("kind") = "onehot",
            "'onehot': the op of each edge one-hot (30 values); 'paths': BANANAS' path "
            "encoding (84).")
        .def_static("parse", &nb201::space::parse, py::arg("arch"), "Parse an arch string.")
        .def_static("to_string", &nb201::space::to_string, py::arg("cell"))
        .def_static("hash", &nb201::space::hash, py::arg("cell"), "The 64-bit hash runs use.")
        .def_static("id", &nb201::space::id, py::arg("cell"),
                    "The dense id (0..15624, op-major order; not the official index).")
        .def_static(
            "at",
            [](std::uint64_t id) {
                if (id >= nb201::num_cells)
                    throw py::index_error("NB201 id " + std::to_string(id) + " out of range");
                return nb201::space::at(id);
            },
            py::arg("id"), "The cell of a dense id.")
        .def_static("is_valid", &nb201::space::is_valid, py::arg("cell"));
}

void bind_nb101(py::module_& m) {
    py::class_<nb101_cell>(m, "NB101Cell",
                           "A NAS-Bench-101 cell: a DAG of up to 7 vertices and 9 edges.")
        .def(py::init([](const std::string& text) { return nb101::parse(text); }), py::arg("spec"),
             "Parse '0110000...:input|conv3x3-bn-relu|...|output'.")
        .def(py::init([](const py::array_t<int, py::array::c_style | py::array::forcecast>& matrix,
                         const std::vector<std::string>& ops) {
                 if (matrix.ndim() != 2 || matrix.shape(0) != matrix.shape(1))
                     throw py::value_error("the adjacency matrix must be square");
                 std::string bits;
                 for (py::ssize_t i = 0; i < matrix.size(); ++i)
                     bits += matrix.data()[i] != 0 ? '1' : '0';
                 std::string labels;
                 for (std::size_t i = 0; i < ops.size(); ++i)
                     labels += (i ? "|" : "") + ops[i];
                 return nb101::parse(bits, labels);
             }),
             py::arg("matrix"), py::arg("ops"),
             "From an upper-triangular 0/1 matrix and the vertex labels (input ... output).")
        .def_property_readonly("num_vertices", [](const nb101_cell& c) { return c.num_vertices; })
        .def_property_readonly(
            "matrix",
            [](const nb101_cell& c) {
                const py::ssize_t n = c.num_vertices;
                py::array_t<int> a({n, n});
                for (py::ssize_t i = 0; i < n; ++i)
                    for (py::ssize_t j = 0; j < n; ++j)
                        a.mutable_at(i, j) =
                            c.edge(static_cast<std::size_t>(i), static_cast<std::size_t>(j)) ? 1
                                                                                             : 0;
                return a;
            },
            "The adjacency matrix (a new array).")
        .def_property_readonly(
            "ops",
            [](const nb101_cell& c) {
                std::vector<std::string> out{std::string(nb101::input_name)};
                for (std::size_t v = 1; v + 1 < c.num_vertices; ++v)
                    out.emplace_back(nb101::op_names[c.ops[v]]);
                out.emplace_back(nb101::output_name);
                return out;
            },
            "The vertex labels.")
        .def("__str__", &nb101::space::to_string)
        .def("__repr__",
             [](const nb101_cell& c) { return "NB101Cell('" + nb101::space::to_string(c) + "')"; })
        .def("__eq__", [](const nb101_cell& a, const nb101_cell& b) { return a == b; })
        .def("__hash__", [](const nb101_cell& c) { return nb101::space::hash(c); })
        .def(py::pickle([](const nb101_cell& c) { return nb101::space::to_string(c); },
                        [](const std::string& s) { return nb101::space::parse(s); }));
    py::implicitly_convertible<py::str, nb101_cell>();

    py::class_<nb101::space>(m, "NB101Space",
                             "The NAS-Bench-101 space: DAGs of <= 7 vertices, <= 9 edges, 3 ops.")
        .def(py::init<>())
        .def_property_readonly_static("op_names",
                                      [](const py::object&) {
                                          return std::vector<std::string>(nb101::op_names.begin(),
                                                                          nb101::op_names.end());
                                      })
        .def(
            "sample", [](const nb101::space& s, rng& g) { return s.sample(g); }, py::arg("gen"),
            "NAS-Bench-101's random_spec, resampled until valid, pruned.")
        .def(
            "mutate",
            [](const nb101::space& s, const nb101_cell& c, rng& g) { return mutate(s, c, g); },
            py::arg("cell"), py::arg("gen"), "NAS-Bench-101's mutate_spec (rate 1).")
        .def_static("neighbours", &nb101::space::neighbours, py::arg("cell"),
                    "Valid cells one edge flip or one op change away (distinct networks).")
        .def(
            "encode",
            [](const nb101::space&, const nb101_cell& c, const std::string& kind) {
                if (kind == "adjacency")
                    return to_numpy(encoding::adjacency(c));
                if (kind == "paths")
                    return to_numpy(encoding::paths(c));
                throw py::value_error("unknown encoding '" + kind + "' (valid: adjacency, paths)");
            },
            py::arg("cell"), py::arg("kind") = "adjacency",
            "'adjacency': upper triangle + one-hot ops (36 values); 'paths': BANANAS' path "
            "encoding (364).")
        .def_static("parse", &nb101::space::parse, py::arg("spec"))
        .def_static("to_string", &nb101::space::to_string, py::arg("cell"))
        .def_static("hash", &nb101::space::hash, py::arg("cell"),
                    "The first 64 bits of the official NAS-Bench-101 hash.")
        .def_static("hash_hex", &nb101::hash_hex, py::arg("cell"),
                    "The official NAS-Bench-101 hash (32 hex digits).")
        .def_static("is_valid", &nb101::space::is_valid, py::arg("cell"));
}

// Tables are held by shared_ptr: evaluators and numpy views keep them alive.
using nb201_table_ptr = std::shared_ptr<bench::nb201_table>;

void bind_tables(py::module_& m) {
    py::class_<bench::nb201_table, nb201_table_ptr>(
        m, "NB201Table",
        "The NAS-Bench-201 table: 15,625 cells x {cifar10, cifar100, imagenet16-120} x "
        "{valid_acc@12, test_acc@12, valid_acc@200, test_acc@200}, params_m.")
        .def_static(
            "load",
            [](const std::optional<std::string>& data) {
                return std::make_shared<bench::nb201_table>(
                    bench::nb201_table::load(data_dir(data)));
            },
            py::arg("data") = py::none(),
            "Load nb201/nb201.csv from `data`, else $NASCENT_DATA, else the compiled-in default.")
        .def_property_readonly_static("size", [](const py::object&) { return nb201::num_cells; })
        .def_property_readonly_static("datasets",
                                      [](const py::object&) {
                                          return std::vector<std::string>(
                                              bench::nb201_dataset_names.begin(),
                                              bench::nb201_dataset_names.end());
                                      })
        .def_property_readonly_static("metrics",
                                      [](const py::object&) {
                                          return std::vector<std::string>(
                                              bench::nb201_metric_names.begin(),
                                              bench::nb201_metric_names.end());
                                      })
        .def(
            "index_of",
            [](const bench::nb201_table& t, const py::handle& arch) {
                return nb201_index(t, arch);
            },
            py::arg("arch"), "The official index of an arch string or cell.")
        .def("cell_at", &bench::nb201_table::cell_at, py::arg("index"),
             "The cell at an official index (IndexError past 15,624).")
        .def("iso", &bench::nb201_table::iso, py::arg("index"),
             "Smallest index of the cell's isomorphism class.")
        .def(
            "query",
            [](const bench::nb201_table& t, const py::handle& key, const std::string& dataset) {
                const auto d = bench::parse_nb201_dataset(dataset);
                const auto i = nb201_index(t, key);
                py::dict out;
                for (std::size_t k = 0; k < bench::nb201_num_metrics; ++k) {
                    if (const auto v = t.accuracy(i, d, static_cast<bench::nb201_metric>(k)))
                        out[py::str(std::string(bench::nb201_metric_names[k]))] = *v;
                }
                if (const auto p = t.params_m(i))
                    out["params_m"] = *p;
                return out;
            },
            py::arg("arch"), py::arg("dataset") = "cifar10",
            "The metrics of a cell (index, arch string or NB201Cell) on a dataset; missing "
            "values are left out.")
        .def(
            "accuracy",
            [](const bench::nb201_table& t, const py::handle& key, const std::string& dataset,
               const std::string& metric) {
                return t.accuracy(nb201_index(t, key), bench::parse_nb201_dataset(dataset),
                                  bench::parse_nb201_metric(metric));
            },
            py::arg("arch"), py::arg("dataset") = "cifar10", py::arg("metric") = "test_acc@200",
            "One accuracy (percent), or None where the table has none.")
        .def(
            "optimum",
            [](const bench::nb201_table& t, const std::string& dataset, const std::string& metric) {
                const auto o = t.optimum(bench::parse_nb201_dataset(dataset),
                                         bench::parse_nb201_metric(metric));
                return py::make_tuple(o.index, o.value);
            },
            py::arg("dataset") = "cifar10", py::arg("metric") = "test_acc@200",
            "(index, value) of the best value of a metric.")
        .def(
            "rows",
            [](const py::object& self, const std::string& dataset) {
                const auto& t = self.cast<const bench::nb201_table&>();
                const auto& first = t.row_of_id(bench::parse_nb201_dataset(dataset), 0);
                return view(first.data(), nb201::num_cells, bench::nb201_num_metrics,
                            bench::nb201_num_metrics, self);
            },
            py::arg("dataset") = "cifar10",
            "The table's own storage, without a copy: a read-only (15625, 4) array of the four "
            "metrics (NaN = missing) by dense id (NB201Space.id), not by official index.")
        .def(
            "column",
            [](const bench::nb201_table& t, const std::string& name, const std::string& dataset) {
                py::array_t<double> out(static_cast<py::ssize_t>(nb201::num_cells));
                auto* o = out.mutable_data();
                constexpr double nan = std::numeric_limits<double>::quiet_NaN();
                if (name == "params_m") {
                    for (std::uint64_t i = 0; i < nb201::num_cells; ++i)
                        o[i] = t.params_m(i).value_or(nan);
                    return out;
                }
                const auto d = bench::parse_nb201_dataset(dataset);
                const auto metric = bench::parse_nb201_metric(name);
                for (std::uint64_t i = 0; i < nb201::num_cells; ++i)
                    o[i] = t.accuracy(i, d, metric).value_or(nan);
                return out;
            },
            py::arg("metric"), py::arg("dataset") = "cifar10",
            "One metric (or 'params_m') for every cell in official-index order (a copy: the "
            "table stores cells by dense id; rows() is the zero-copy view). NaN = missing.")
        .def(
            "evaluator",
            [](const nb201_table_ptr& t, const std::string& dataset, const std::string& reward) {
                // The options' names are views: give them the lifetime of the interned pool.
                return nb201_evaluator_handle{
                    t, t->evaluator({.dataset = intern(dataset), .reward = intern(reward)})};
            },
            py::arg("dataset") = "cifar10", py::arg("reward") = "valid_acc@12",
            "A C++ evaluator answering from the table (what run/run_protocol use at full "
            "speed).");

    py::class_<nb201_evaluator_handle>(m, "NB201Evaluator",
                                       "Looks cells up in an NB201Table: reward and metrics.")
        .def(
            "__call__",
            [](const nb201_evaluator_handle& e, const nb201_cell& c) {
                return to_dict(e.evaluator.evaluate(c));
            },
            py::arg("cell"), "The evaluation as a dict (metrics, reward, status).")
        .def(
            "evaluate",
            [](const nb201_evaluator_handle& e, const nb201_cell& c, double fidelity) {
                return to_dict(e.evaluator.evaluate(c, fidelity));
            },
            py::arg("cell"), py::arg("fidelity"), "At a fidelity (epochs: 12 or 200).")
        .def_property_readonly("table", [](const nb201_evaluator_handle& e) { return e.table; });

    py::class_<bench::nb201_latency_table, std::shared_ptr<bench::nb201_latency_table>>(
        m, "NB201LatencyTable", "Latency (ms) of every NB201 cell on 27 devices (HW-NAS-Bench).")
        .def_static(
            "load",
            [](const std::optional<std::string>& data) {
                return std::make_shared<bench::nb201_latency_table>(
                    bench::nb201_latency_table::load(data_dir(data)));
            },
            py::arg("data") = py::none())
        .def_property_readonly("devices", &bench::nb201_latency_table::devices)
        .def(
            "latency",
            [](const bench::nb201_latency_table& t, const nb201_cell& c,
               const std::string& device) { return t.latency(c, t.device(device)); },
            py::arg("cell"), py::arg("device"), "Latency in ms of a cell on a device.")
        .def(
            "column",
            [](const bench::nb201_latency_table& t, const std::string& device) {
                const auto d = t.device(device);
                py::array_t<double> out(static_cast<py::ssize_t>(nb201::num_cells));
                for (std::uint64_t id = 0; id < nb201::num_cells; ++id)
                    out.mutable_data()[id] = t.latency(nb201::space::at(id), d);
                return out;
            },
            py::arg("device"), "Latency of every cell by dense id (NB201Space.id).");

    using nb101_table_ptr = std::shared_ptr<bench::nb101_table>;
    py::class_<bench::nb101_table, nb101_table_ptr>(
        m, "NB101Table", "A NAS-Bench-101 table (nb101/nb101_1k.csv or nb101_20k_acc.csv).")
        .def_static(
            "load",
            [](const std::optional<std::string>& data, bool large) {
                const auto dir = data_dir(data);
                return std::make_shared<bench::nb101_table>(
                    large ? bench::nb101_table::load_accuracy_only(dir)
                          : bench::nb101_table::load(dir));
            },
            py::arg("data") = py::none(), py::arg("large") = false,
            "The 1k table with graphs, or (large=True) the 20k accuracy-only table.")
        .def("__len__", &bench::nb101_table::size)
        .def_property_readonly_static("metrics",
                                      [](const py::object&) {
                                          return std::vector<std::string>(
                                              bench::nb101_metric_names.begin(),
                                              bench::nb101_metric_names.end());
                                      })
        .def(
            "find",
            [](const bench::nb101_table& t, const py::handle& key) {
                if (py::isinstance<py::str>(key)) {
                    const auto s = key.cast<std::string>();
                    if (s.size() == 32 && s.find(':') == std::string::npos)
                        return t.find_hash(s);
                    return t.find(nb101::parse(s));
                }
                return t.find(key.cast<nb101_cell>());
            },
            py::arg("arch"), "The row of a cell, spec string or hash; None if absent.")
        .def("hash_at", &bench::nb101_table::hash_hex_at, py::arg("row"),
             "The official hash (32 hex digits) of a row.")
        .def(
            "query",
            [](const bench::nb101_table& t, std::size_t row) {
                py::dict out;
                const auto& r = t.row_at(row);
                for (std::size_t k = 0; k < bench::nb101_num_metrics; ++k)
                    out[py::str(std::string(bench::nb101_metric_names[k]))] = r[k];
                return out;
            },
            py::arg("row"), "The six metrics of a row as a dict.")
        .def(
            "rows",
            [](const py::object& self) {
                const auto& t = self.cast<const bench::nb101_table&>();
                if (t.size() == 0)
                    return py::array_t<double>(std::vector<py::ssize_t>{0, 6});
                return view(t.row_at(0).data(), t.size(), bench::nb101_num_metrics,
                            bench::nb101_num_metrics, self);
            },
            "The table's storage without a copy: read-only (rows, 6), columns as metrics.")
        .def(
            "evaluator",
            [](const nb101_table_ptr& t, const std::string& reward) {
                return nb101_evaluator_handle{t, t->evaluator({.reward = intern(reward)})};
            },
            py::arg("reward") = "valid_acc@108",
            "A C++ evaluator answering from the table (out_of_table for cells it lacks).");

    py::class_<nb101_evaluator_handle>(m, "NB101Evaluator", "Looks cells up in an NB101Table.")
        .def(
            "__call__",
            [](const nb101_evaluator_handle& e, const nb101_cell& c) {
                return to_dict(e.evaluator.evaluate(c));
            },
            py::arg("cell"))
        .def_property_readonly("table", [](const nb101_evaluator_handle& e) { return e.table; });
}

} // namespace

void bind_tables_spaces(py::module_& m) {
    bind_generator(m);
    bind_nb201(m);
    bind_nb101(m);
    bind_tables(m);
}

} // namespace nascent::python
