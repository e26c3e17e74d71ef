#pragma once
// Shared by the module's translation units: conversions between Python values and the library's
// evaluations, metric names that outlive them, and the binders each unit defines.

#include <nascent/core/evaluation.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/io/data_dir.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace nascent::python {

namespace py = pybind11;

/// A metric name that lives as long as the process: evaluations keep names as string_views
/// (core/evaluation.hpp), and a strategy may keep evaluations for its whole life. The set of
/// names a program uses is small, so the pool stays small.
inline std::string_view intern(std::string_view name) {
    static std::mutex lock;
    static std::unordered_set<std::string> pool;
    const std::scoped_lock guard(lock);
    return *pool.emplace(name).first;
}

/// Owns the reasons of failed evaluations (messages of Python exceptions): an evaluation's reason
/// is a string_view, so its text must stay put while the evaluation is used.
class reasons {
public:
    std::string_view keep(std::string text) { return m_texts.emplace_back(std::move(text)); }
    [[nodiscard]] std::size_t size() const noexcept { return m_texts.size(); }

private:
    std::deque<std::string> m_texts; // a deque never moves its elements
};

/// A Python value as an evaluation: a number is the reward; a dict holds metrics, its "reward"
/// entry being the reward (and, as NB201Evaluator's dicts have them, an optional "status" and
/// "reason"); None is a failed evaluation. `need_reward` false (multi-objective strategies read
/// metrics only) accepts an ok dict without "reward". Reasons are kept by `keep` when given,
/// else interned (a reason must outlive the evaluation).
inline evaluation to_evaluation(const py::handle& value, bool need_reward = true,
                                reasons* keep = nullptr) {
    if (value.is_none())
        return evaluation::failure("the evaluator returned None");
    if (py::isinstance<py::dict>(value)) {
        nascent::metrics m;
        std::optional<double> reward;
        auto status = eval_status::ok;
        std::string_view reason;
        for (const auto& [key, item] : py::reinterpret_borrow<py::dict>(value)) {
            if (!py::isinstance<py::str>(key))
                throw py::type_error("metric names must be str, got " +
                                     std::string(py::str(py::type::of(key))));
            const auto name = py::cast<std::string>(key);
            if (name == "status") {
                const auto text = py::cast<std::string>(py::str(item));
                if (text == "failed")
                    status = eval_status::failed;
                else if (text == "out_of_table")
                    status = eval_status::out_of_table;
                else if (text != "ok")
                    throw py::value_error("unknown status '" + text +
                                          "' (valid: ok, failed, out_of_table)");
                continue;
            }
            if (name == "reason") {
                auto text = py::cast<std::string>(py::str(item));
                reason = keep != nullptr ? keep->keep(std::move(text)) : intern(text);
                continue;
            }
            double v = 0;
            try {
                v = py::cast<double>(item);
            } catch (const py::cast_error&) {
                throw py::type_error("metric '" + name + "' must be a number, got " +
                                     std::string(py::str(py::type::of(item))));
            }
            if (name == "reward")
                reward = v;
            else
                m.set(intern(name), v);
        }
        if (status != eval_status::ok) {
            evaluation e = evaluation::failure(reason.empty() ? "failed" : reason, m);
            e.status = status;
            return e;
        }
        if (!reward) {
            if (need_reward)
                throw py::value_error("a metrics dict needs a 'reward' entry (the value the "
                                      "strategy maximises)");
            // Multi-objective strategies read the metrics; the reward is not used.
            return {eval_status::ok, -std::numeric_limits<double>::infinity(), m, {}};
        }
        if (!std::isfinite(*reward))
            return evaluation::failure("non-finite reward", m);
        return evaluation::success(*reward, m);
    }
    if (py::isinstance<py::bool_>(value))
        throw py::type_error("an evaluation is a number, a dict of metrics or None, not bool");
    try {
        return evaluation::success(py::cast<double>(value));
    } catch (const py::cast_error&) {
        throw py::type_error("an evaluation is a number, a dict of metrics or None, got " +
                             std::string(py::str(py::type::of(value))));
    }
}

/// An evaluation as a dict: its metrics, "reward", "status" and, when not ok, "reason".
inline py::dict to_dict(const evaluation& e) {
    py::dict d;
    for (std::size_t i = 0; i < e.metrics.size(); ++i)
        d[py::str(std::string(e.metrics.name(i)))] = e.metrics.value(i);
    d["reward"] = e.reward;
    d["status"] = std::string(to_string(e.status));
    if (!e.ok())
        d["reason"] = std::string(e.reason);
    return d;
}

/// The data directory: `data` if given, else $NASCENT_DATA, else the one compiled in.
inline io::data_dir data_dir(const std::optional<std::string>& data) {
#ifdef NASCENT_DEFAULT_DATA_DIR
    return io::resolve_data_dir(data, NASCENT_DEFAULT_DATA_DIR);
#else
    return io::resolve_data_dir(data, "../shared/data");
#endif
}

void bind_tables_spaces(py::module_& m);
void bind_strategies(py::module_& m);
void bind_pareto_surrogates(py::module_& m);

} // namespace nascent::python
