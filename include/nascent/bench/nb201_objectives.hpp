#pragma once
// Multi-objective, hardware-aware evaluation on NAS-Bench-201: accuracy from the table, measured
// latency on a device from the latency table, and the analytic params and FLOPs of the network.
//
// Objective names, as the CLI's --objectives takes them:
//   test_acc / valid_acc          200-epoch test / 12-epoch validation accuracy (maximised)
//   test_acc@E / valid_acc@E      the same at E epochs (12 or 200, where the table has them)
//   latency:<device>              milliseconds on one of the latency table's devices (minimised)
//   params, flops                 analytic parameter count and multiply-accumulates (minimised)
// Each becomes a metric of the evaluation under its canonical name ("test_acc@200",
// "latency:pixel3", "params", "flops").

#include <nascent/bench/nb201_latency.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/pareto/points.hpp>
#include <nascent/space/nb201_cost.hpp>

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nascent::bench {

/// One parsed objective: where its value comes from.
struct nb201_objective {
    enum class source : std::uint8_t { accuracy, latency, params, flops };
    std::string metric; ///< canonical metric name
    pareto::direction sense;
    source from;
    nb201_metric accuracy{}; ///< for source::accuracy
    std::size_t device = 0;  ///< for source::latency: the latency table's column
};

/// Parses a comma-separated objective list; throws std::invalid_argument for an unknown name or
/// device, a metric the dataset lacks, a duplicate, or an empty list.
[[nodiscard]] inline std::vector<nb201_objective>
parse_nb201_objectives(std::string_view list, const nb201_table& table, nb201_dataset dataset,
                       const nb201_latency_table* latency) {
    if (list.empty())
        throw std::invalid_argument("no objectives given");
    std::vector<nb201_objective> out;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        const auto end = std::min(list.find(',', pos), list.size());
        const auto name = list.substr(pos, end - pos);
        pos = end + 1;
        nb201_objective o;
        if (name.starts_with("latency:")) {
            if (latency == nullptr)
                throw std::invalid_argument("objective '" + std::string(name) +
                                            "' needs the latency table");
            o = {std::string(name), pareto::direction::minimise, nb201_objective::source::latency};
            o.device = latency->device(name.substr(8));
        } else if (name == "params" || name == "flops") {
            o = {std::string(name), pareto::direction::minimise,
                 name == "params" ? nb201_objective::source::params
                                  : nb201_objective::source::flops};
        } else {
            std::string metric(name);
            if (name == "test_acc")
                metric = "test_acc@200";
            if (name == "valid_acc")
                metric = "valid_acc@12";
            nb201_metric m{};
            try {
                m = parse_nb201_metric(metric);
            } catch (const std::invalid_argument&) {
                throw std::invalid_argument(
                    "unknown objective '" + std::string(name) +
                    "' (valid: test_acc, valid_acc, test_acc@12, valid_acc@200, "
                    "latency:<device>, params, flops)");
            }
            if (!table.has_metric(dataset, m)) {
                throw std::invalid_argument(
                    "objective '" + std::string(name) + "' is not in the table for " +
                    std::string(nb201_dataset_names[static_cast<std::size_t>(dataset)]));
            }
            o = {metric, pareto::direction::maximise, nb201_objective::source::accuracy, m};
        }
        for (const auto& prior : out) {
            if (prior.metric == o.metric)
                throw std::invalid_argument("duplicate objective '" + o.metric + "'");
        }
        out.push_back(std::move(o));
    }
    return out;
}

/// The pareto::objectives (names and directions) of parsed objectives.
[[nodiscard]] inline pareto::objectives to_pareto(const std::vector<nb201_objective>& objs) {
    std::vector<pareto::objective> list;
    for (const auto& o : objs)
        list.push_back({o.metric, o.sense});
    return pareto::objectives(std::move(list));
}

/// Evaluates the objectives of a cell. Its metrics are the objectives (canonical names) plus the
/// table's accuracies; the reward is the first objective (negated when minimised), for
/// single-objective strategies. Thread-safe; the tables must outlive it.
class nb201_objectives_evaluator {
public:
    static constexpr auto thread_safety = nascent::thread_safety::constant;

    nb201_objectives_evaluator(const nb201_table& table, nb201_dataset dataset,
                               const nb201_latency_table* latency,
                               std::vector<nb201_objective> objectives)
        : m_base(
              table.evaluator({.dataset = nb201_dataset_names[static_cast<std::size_t>(dataset)]})),
          m_latency(latency), m_objectives(std::make_shared<const std::vector<nb201_objective>>(
                                  std::move(objectives))) {}

    [[nodiscard]] evaluation evaluate(const nb201::cell& c) const {
        evaluation e = m_base.evaluate(c);
        if (!e.ok())
            return e;
        std::optional<cost::network_cost> cost; // only when an objective needs it
        for (const auto& o : *m_objectives) {
            switch (o.from) {
            case nb201_objective::source::accuracy:
                break; // already a metric of the table's evaluation
            case nb201_objective::source::latency:
                e.metrics.set(o.metric, m_latency->latency(c, o.device));
                break;
            case nb201_objective::source::params:
                if (!cost)
                    cost = nb201::network_cost(c);
                e.metrics.set("params", cost->params);
                break;
            case nb201_objective::source::flops:
                if (!cost)
                    cost = nb201::network_cost(c);
                e.metrics.set("flops", cost->flops);
                break;
            }
        }
        const auto& first = m_objectives->front();
        const auto v = e.metrics.get(first.metric);
        if (!v)
            return evaluation::failure("first objective missing in the table", e.metrics);
        e.reward = first.sense == pareto::direction::maximise ? *v : -*v;
        return e;
    }

    [[nodiscard]] const std::vector<nb201_objective>& objectives() const noexcept {
        return *m_objectives;
    }

private:
    nb201_evaluator m_base;
    const nb201_latency_table* m_latency;
    // Shared so that copies keep the metric names (string_views in evaluations point into it).
    std::shared_ptr<const std::vector<nb201_objective>> m_objectives;
};

} // namespace nascent::bench
