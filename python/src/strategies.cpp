// Strategies by name from the registry (exec/registry.hpp: the one list of names) with ask/tell,
// and the runners with a C++ table evaluator or a Python callable as the evaluator.

#include "common.hpp"
#include "handles.hpp"

// The CLI's surrogates for NAS-Bench-201 (BANANAS' encoder, the BO GPs): the same models, so a
// model-based search from Python equals the CLI's.
#include "nb201_models.hpp"

#include <nascent/exec/registry.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/pareto/constraints.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>

#include <regex>
#include <set>
#include <utility>
#include <variant>
#include <vector>

namespace nascent::python {
namespace {

/// The surrogates a space's model-based strategies use: NAS-Bench-201 has the CLI's; other spaces
/// have none here (their model-based entries say what they need).
template <class S>
using surrogates_of = std::conditional_t<std::same_as<S, nb201::space>,
                                         cli::nb201_models::factories, exec::no_surrogates>;

/// The options a Python caller may pass; each strategy accepts those its registry entry's
/// `options` text names.
constexpr std::array<std::string_view, 4> option_names{"population", "sample", "objectives",
                                                       "constraints"};

bool reads_option(const exec::strategy_info& info, std::string_view option) {
    const std::regex word("\\b" + std::string(option) + "\\b");
    return std::regex_search(std::string(info.options), word);
}

std::string options_of(const exec::strategy_info& info) {
    std::vector<std::string> out;
    for (const auto o : option_names) {
        if (reads_option(info, o))
            out.emplace_back(o);
    }
    return out.empty() ? "none" : exec::join(out);
}

std::size_t positive_size(const py::handle& v, std::string_view what) {
    if (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v))
        throw py::type_error(std::string(what) + " must be an int, got " +
                             std::string(py::str(py::type::of(v))));
    const auto n = v.cast<long long>();
    if (n < 1)
        throw py::value_error(std::string(what) + " must be >= 1, got " + std::to_string(n));
    return static_cast<std::size_t>(n);
}

pareto::direction parse_direction(const std::string& text) {
    if (text == "max" || text == "maximise" || text == "maximize")
        return pareto::direction::maximise;
    if (text == "min" || text == "minimise" || text == "minimize")
        return pareto::direction::minimise;
    throw py::value_error("unknown direction '" + text + "' (valid: max, min)");
}

/// [("test_acc@200", "max"), ("latency:pixel3", "min")] or ["test_acc@200:max", ...].
pareto::objectives parse_objectives(const py::handle& v) {
    if (py::isinstance<py::str>(v) || !py::isinstance<py::sequence>(v))
        throw py::type_error("objectives must be a list of (metric, 'max'|'min') pairs");
    std::vector<pareto::objective> list;
    for (const auto& item : py::reinterpret_borrow<py::sequence>(v)) {
        if (py::isinstance<py::str>(item)) {
            const auto text = item.cast<std::string>();
            const auto colon = text.rfind(':');
            if (colon == std::string::npos)
                throw py::value_error("objective '" + text + "' needs a direction: '" + text +
                                      ":max' or '" + text + ":min'");
            list.push_back({text.substr(0, colon), parse_direction(text.substr(colon + 1))});
        } else {
            const auto pair = item.cast<std::pair<std::string, std::string>>();
            list.push_back({pair.first, parse_direction(pair.second)});
        }
    }
    return pareto::objectives(std::move(list));
}

/// A strategy chosen by name, with the generator its ask() draws from by default.
template <class S>
struct strategy_handle {
    using genotype = genotype_t<S>;
    using single = exec::any_strategy<genotype>;
    using multi_fidelity = exec::any_multi_fidelity_strategy<genotype>;
    std::string name;
    std::variant<single, multi_fidelity> strategy;
    rng gen;
    bool needs_reward = true; ///< false for multi-objective strategies (they read metrics)
};

template <class S>
strategy_handle<S> make_handle(const std::string& name, std::uint64_t seed,
                               const py::kwargs& kwargs) {
    const auto& info = exec::find_strategy(name); // unknown: ValueError "... (valid: ...)"
    const bool multi_fidelity = info.kind == exec::strategy_kind::multi_fidelity;
    exec::strategy_context<S, surrogates_of<S>> context;
    std::optional<std::vector<double>> fidelities;
    for (const auto& [key, value] : kwargs) {
        const auto option = py::cast<std::string>(key);
        if (option == "fidelities" && multi_fidelity) {
            fidelities = py::cast<std::vector<double>>(value);
            continue;
        }
        if (std::find(option_names.begin(), option_names.end(), option) == option_names.end() ||
            !reads_option(info, option)) {
            throw py::type_error("strategy '" + name + "' got an unexpected option '" + option +
                                 "' (its options: " + options_of(info) + ")");
        }
        if (option == "population") {
            context.options.population = positive_size(value, "population");
        } else if (option == "sample") {
            context.options.sample = positive_size(value, "sample");
        } else if (option == "objectives") {
            context.objectives = parse_objectives(value);
        } else {
            for (const auto& c : py::reinterpret_borrow<py::sequence>(value))
                context.constraints.push_back(pareto::parse_constraint(py::cast<std::string>(c)));
        }
    }
    if (multi_fidelity) {
        if (!fidelities)
            throw py::type_error("strategy '" + name +
                                 "' is multi-fidelity: give its fidelity levels, e.g. "
                                 "fidelities=[12, 200] (epochs)");
        auto mf = exec::make_multi_fidelity_strategy(name, context);
        mf.set_fidelities(*fidelities);
        return {name, std::move(mf), rng(seed), true};
    }
    return {name, exec::make_strategy(name, context), rng(seed),
            info.kind != exec::strategy_kind::multi_objective};
}

/// A Python callable as an Evaluator. It is called with the GIL held (the runner runs without it);
/// an exception it raises is a failed evaluation whose reason is the exception's text.
/// KeyboardInterrupt and SystemExit stop the run instead.
template <class G>
class callable_evaluator {
public:
    static constexpr auto thread_safety = nascent::thread_safety::none; // one thread: the GIL

    explicit callable_evaluator(py::object f) : m_f(std::move(f)) {}

    evaluation evaluate(const G& g) {
        const py::gil_scoped_acquire gil;
        py::object value;
        try {
            value = m_f(g);
        } catch (py::error_already_set& e) {
            if (e.matches(PyExc_KeyboardInterrupt) || e.matches(PyExc_SystemExit))
                throw;
            std::string text = e.what();
            // pybind11 appends the Python traceback ("\n\nAt:\n..."): keep the message.
            if (const auto at = text.find("\n\nAt:"); at != std::string::npos)
                text.resize(at);
            m_errors.emplace_back(genotype_string(g), text);
            return evaluation::failure(m_reasons.keep(std::move(text)));
        }
        return to_evaluation(value, true, &m_reasons);
    }

    /// (arch, message) of each evaluation that raised, in order.
    std::vector<std::pair<std::string, std::string>> m_errors;

private:
    static std::string genotype_string(const G& g) {
        if constexpr (std::same_as<G, nb201::cell>)
            return nb201::space::to_string(g);
        else
            return nb101::space::to_string(g);
    }
    py::object m_f;
    reasons m_reasons;
};

/// A run's result, with the errors its Python evaluator raised.
template <class G>
struct py_run_result {
    run_result<G> result;
    std::vector<std::pair<std::string, std::string>> errors;
};

struct runner_args {
    std::size_t budget;
    std::size_t runs;
    std::uint64_t seed;
    std::string report;
    std::size_t threads;
    std::size_t max_free_streak;
};

template <class S, class Handle>
std::vector<py_run_result<genotype_t<S>>>
run_with(const strategy_handle<S>& st, const py::object& evaluator, const runner_args& a) {
    using G = genotype_t<S>;
    if (a.threads == 0)
        throw py::value_error("threads must be >= 1, got 0");
    const std::string_view report = intern(a.report);
    run_options options{.budget = a.budget,
                        .runs = a.runs,
                        .seed = a.seed,
                        .report = report,
                        .max_free_streak = a.max_free_streak};
    const auto* single = std::get_if<typename strategy_handle<S>::single>(&st.strategy);
    if (single == nullptr)
        throw py::value_error("strategy '" + st.name +
                              "' is multi-fidelity: drive it with ask() / tell(cell, value, "
                              "fidelity)");
    const auto prototype = *single; // copied with the GIL held
    std::vector<py_run_result<G>> out;
    const S space;
    if (py::isinstance<Handle>(evaluator)) {
        const auto& ev = evaluator.cast<const Handle&>().evaluator;
        std::vector<run_result<G>> results;
        {
            const py::gil_scoped_release nogil;
            results = run_protocol(space, prototype, ev, options, exec::tbb_executor(a.threads));
        }
        for (auto& r : results)
            out.push_back({std::move(r), {}});
        return out;
    }
    if (!PyCallable_Check(evaluator.ptr()))
        throw py::type_error("evaluator must be a table evaluator or a callable taking a cell");
    callable_evaluator<G> ev(evaluator);
    std::vector<std::size_t> errors_at_end; // runs are sequential with a Python evaluator
    options.on_run_done = [&](std::size_t) { errors_at_end.push_back(ev.m_errors.size()); };
    std::vector<run_result<G>> results;
    {
        const py::gil_scoped_release nogil;
        results = run_protocol(space, prototype, ev, options);
    }
    std::size_t from = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        auto& r = out.emplace_back(py_run_result<G>{std::move(results[i]), {}});
        r.errors.assign(ev.m_errors.begin() + static_cast<std::ptrdiff_t>(from),
                        ev.m_errors.begin() + static_cast<std::ptrdiff_t>(errors_at_end[i]));
        from = errors_at_end[i];
    }
    return out;
}

template <class S, class Handle>
void bind_space_strategies(py::module_& m, const char* strategy_class, const char* result_class) {
    using G = genotype_t<S>;
    using H = strategy_handle<S>;
    py::class_<H>(m, strategy_class,
                  "A strategy of the registry by name, type-erased; ask() proposes a cell, "
                  "tell(cell, value) reports its evaluation.")
        .def(py::init([](const std::string& name, std::uint64_t seed, const py::kwargs& kwargs) {
                 return make_handle<S>(name, seed, kwargs);
             }),
             py::arg("name"), py::kw_only(), py::arg("seed") = 0,
             "Strategy `name` (nascent.strategy_names()) with its options as keyword arguments; "
             "`seed` seeds the generator ask() uses when none is given.")
        .def_readonly("name", &H::name)
        .def_property_readonly(
            "multi_fidelity", [](const H& h) { return h.strategy.index() == 1; },
            "Whether ask() returns (cell, fidelity) and tell() takes the fidelity.")
        .def(
            "ask",
            [](H& h, rng* gen) -> py::object {
                rng& g = gen != nullptr ? *gen : h.gen;
                if (auto* s = std::get_if<typename H::single>(&h.strategy))
                    return py::cast(s->ask(g));
                const auto r = std::get<typename H::multi_fidelity>(h.strategy).ask(g);
                return py::make_tuple(r.arch, r.fidelity);
            },
            py::arg("gen") = nullptr,
            "The next candidate, drawn with `gen` (a nascent.Generator) or the strategy's own; "
            "a multi-fidelity strategy returns (cell, fidelity).")
        .def(
            "tell",
            [](H& h, const G& g, const py::handle& value, std::optional<double> fidelity) {
                const auto e = to_evaluation(value, h.needs_reward);
                if (auto* s = std::get_if<typename H::single>(&h.strategy)) {
                    if (fidelity)
                        throw py::value_error("strategy '" + h.name +
                                              "' is not multi-fidelity: tell it no fidelity");
                    s->tell(g, e);
                    return;
                }
                if (!fidelity)
                    throw py::value_error("strategy '" + h.name +
                                          "' is multi-fidelity: tell(cell, value, fidelity)");
                std::get<typename H::multi_fidelity>(h.strategy).tell({g, *fidelity}, e);
            },
            py::arg("cell"), py::arg("value"), py::arg("fidelity") = py::none(),
            "Report a candidate's evaluation: the reward (float), a dict of metrics (with "
            "'reward' for single-objective strategies; the objectives' metrics for NSGA-II), or "
            "None for a failed evaluation; multi-fidelity strategies also take the fidelity "
            "they asked for.")
        .def(
            "copy", [](const H& h) { return H(h); },
            "A deep copy: an unused strategy's copy is a fresh search.");

    using R = py_run_result<G>;
    py::class_<R>(m, result_class, "One run of run_protocol.")
        .def_property_readonly("run", [](const R& r) { return r.result.run; })
        .def_property_readonly(
            "seed", [](const R& r) { return r.result.seed; }, "derive_seed(master seed, run)")
        .def_property_readonly(
            "best", [](const R& r) { return r.result.best; },
            "The cell with the highest ok reward (first reached on ties).")
        .def_property_readonly("best_reward", [](const R& r) { return r.result.best_reward; })
        .def_property_readonly(
            "best_report", [](const R& r) { return r.result.best_report; },
            "The report metric of the best cell (NaN if absent).")
        .def_property_readonly(
            "queries", [](const R& r) { return r.result.queries; },
            "Charged (distinct) evaluations.")
        .def_property_readonly("repeats", [](const R& r) { return r.result.repeats; })
        .def_property_readonly("failures", [](const R& r) { return r.result.failures; })
        .def_property_readonly("out_of_table", [](const R& r) { return r.result.out_of_table; })
        .def_property_readonly("stalled", [](const R& r) { return r.result.stalled; })
        .def_property_readonly(
            "errors", [](const R& r) { return r.errors; },
            "(arch, message) of each evaluation whose Python evaluator "
            "raised.")
        .def_property_readonly(
            "trajectory",
            [](const R& r) {
                const auto& t = r.result.trajectory;
                py::array_t<double> a({static_cast<py::ssize_t>(t.size()), py::ssize_t{2}});
                auto* d = a.mutable_data();
                for (std::size_t i = 0; i < t.size(); ++i) {
                    d[2 * i] = t[i][0];
                    d[2 * i + 1] = t[i][1];
                }
                return a;
            },
            "(queries, 2): best reward so far and its report metric after each charged "
            "evaluation.");

    m.def(
        "run_protocol",
        [](const H& strategy, const py::object& evaluator, std::size_t budget, std::size_t runs,
           std::uint64_t seed, const std::string& report, std::size_t threads,
           std::size_t max_free_streak) {
            return run_with<S, Handle>(strategy, evaluator,
                                       {budget, runs, seed, report, threads, max_free_streak});
        },
        py::arg("strategy"), py::arg("evaluator"), py::kw_only(), py::arg("budget") = 100,
        py::arg("runs") = 1, py::arg("seed") = 0, py::arg("report") = "test_acc@200",
        py::arg("threads") = 1, py::arg("max_free_streak") = 100000,
        "`runs` independent runs of the strategy (each from a fresh copy), run i seeded with "
        "derive_seed(seed, i): the C++ runner, so the results equal the C++ library's and CLI's "
        "for the same seed. `evaluator` is a table evaluator (runs spread over `threads`) or a "
        "Python callable cell -> float | dict | None (runs one after another; the GIL is "
        "released between calls; an exception it raises is a failed evaluation, its message in "
        "the result's errors).");
    m.def(
        "run",
        [](const H& strategy, const py::object& evaluator, std::size_t budget, std::uint64_t seed,
           const std::string& report, std::size_t max_free_streak) {
            return std::move(run_with<S, Handle>(strategy, evaluator,
                                                 {budget, 1, seed, report, 1, max_free_streak})
                                 .front());
        },
        py::arg("strategy"), py::arg("evaluator"), py::kw_only(), py::arg("budget") = 100,
        py::arg("seed") = 0, py::arg("report") = "test_acc@200",
        py::arg("max_free_streak") = 100000, "One run: run_protocol(..., runs=1)[0].");
}

} // namespace

void bind_strategies(py::module_& m) {
    bind_space_strategies<nb201::space, nb201_evaluator_handle>(m, "NB201Strategy",
                                                                "NB201RunResult");
    bind_space_strategies<nb101::space, nb101_evaluator_handle>(m, "NB101Strategy",
                                                                "NB101RunResult");

    py::enum_<exec::strategy_kind>(m, "StrategyKind")
        .value("single_objective", exec::strategy_kind::single_objective)
        .value("multi_fidelity", exec::strategy_kind::multi_fidelity)
        .value("multi_objective", exec::strategy_kind::multi_objective);
    m.def(
        "strategy_names", [] { return exec::strategy_names(); },
        "Every registered strategy, in the registry's order.");
    m.def(
        "strategy_info",
        [](const std::string& name) {
            const auto& s = exec::find_strategy(name);
            py::dict d;
            d["name"] = std::string(s.name);
            d["description"] = std::string(s.description);
            d["options"] = std::string(s.options);
            d["kind"] = s.kind;
            d["model_based"] = s.model_based;
            d["reward_free"] = s.reward_free;
            d["python_options"] = options_of(s);
            return d;
        },
        py::arg("name"), "What the registry says about a strategy.");
}

} // namespace nascent::python
