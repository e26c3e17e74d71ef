// nascent stats (stats_command.hpp): reads run files, calls stats::compare, writes JSON.

#include "stats_command.hpp"

#include "cli.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/stats/compare.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>

namespace nascent::cli {
namespace {

nlohmann::json curve_json(const stats::regret_curve& c) {
    auto numbers = [](const std::vector<double>& v) {
        nlohmann::json a = nlohmann::json::array();
        for (const double x : v)
            a.push_back(number(x));
        return a;
    };
    return {{"mean", numbers(c.mean)}, {"lower", numbers(c.lower)}, {"upper", numbers(c.upper)}};
}

} // namespace

int run_stats(const stats_settings& s) {
    std::vector<stats::strategy_runs> input;
    std::string benchmark;
    for (const auto& path : s.inputs) {
        std::ifstream in(path);
        if (!in)
            throw std::invalid_argument("cannot read " + path);
        nlohmann::json doc;
        try {
            doc = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw std::invalid_argument(path + " is not JSON: " + e.what());
        }
        if (!doc.contains("runs") || !doc.contains("strategy") || !doc.contains("dataset"))
            throw std::invalid_argument(path + " is not a `nascent run --json` file");
        stats::strategy_runs r{.strategy = doc["strategy"].get<std::string>(),
                               .dataset = doc["dataset"].get<std::string>(),
                               .trajectories = {}};
        benchmark = doc.value("benchmark", std::string("nb201"));
        for (const auto& run : doc["runs"]) {
            std::vector<double> t;
            for (const auto& point : run["trajectory"]) {
                if (!point[1].is_null())
                    t.push_back(point[1].get<double>());
            }
            r.trajectories.push_back(std::move(t));
        }
        input.push_back(std::move(r));
    }
    std::map<std::string, double> optimum;
    if (benchmark == "nb201") {
        const auto table =
            bench::nb201_table::load(io::resolve_data_dir(s.data, NASCENT_DEFAULT_DATA_DIR));
        for (const auto& r : input) {
            optimum[r.dataset] =
                table.optimum(bench::parse_nb201_dataset(r.dataset), bench::nb201_metric::test_200)
                    .value;
        }
    }
    const auto report = stats::compare(input, optimum);
    nlohmann::json datasets = nlohmann::json::array();
    for (const auto& d : report.datasets) {
        nlohmann::json strategies = nlohmann::json::array();
        for (std::size_t i = 0; i < d.strategies.size(); ++i) {
            strategies.push_back({{"strategy", d.strategies[i]},
                                  {"final_mean", number(d.finals[i].mean)},
                                  {"final_std", number(d.finals[i].std)},
                                  {"runs", d.finals[i].count},
                                  {"regret", curve_json(d.regret[i])}});
        }
        nlohmann::json pairs = nlohmann::json::array();
        for (const auto& p : d.pairs) {
            pairs.push_back({{"a", p.a},
                             {"b", p.b},
                             {"u", p.u1},
                             {"p_value", p.p_value},
                             {"p_holm", p.p_holm},
                             {"a12", p.a12},
                             {"method", p.exact ? "exact" : "asymptotic"}});
        }
        datasets.push_back({{"dataset", d.dataset},
                            {"optimum", d.optimum},
                            {"strategies", strategies},
                            {"pairs", pairs}});
    }
    nlohmann::json doc{{"datasets", datasets},
                       {"strategies", report.strategies},
                       {"mean_ranks", report.mean_ranks},
                       {"critical_difference", number(report.critical_difference)},
                       {"alpha", 0.05}};
    if (report.friedman) {
        doc["friedman"] = {{"statistic", report.friedman->statistic},
                           {"p_value", report.friedman->p_value}};
    }
    const std::string text = doc.dump(1) + "\n";
    if (s.json) {
        io::write_file_atomically(*s.json, text);
        for (const auto& d : report.datasets) {
            std::printf("%s (optimum %.4f)\n", d.dataset.c_str(), d.optimum);
            for (std::size_t i = 0; i < d.strategies.size(); ++i) {
                std::printf("  %-10s %8.4f +- %.4f  final regret %.4f\n", d.strategies[i].c_str(),
                            d.finals[i].mean, d.finals[i].std, d.regret[i].mean.back());
            }
            for (const auto& p : d.pairs) {
                std::printf("  %s vs %s: U %.1f, p %.3g, Holm %.3g, A %.3f\n", p.a.c_str(),
                            p.b.c_str(), p.u1, p.p_value, p.p_holm, p.a12);
            }
        }
        for (std::size_t i = 0; i < report.strategies.size(); ++i)
            std::printf("mean rank %-10s %.3f\n", report.strategies[i].c_str(),
                        report.mean_ranks[i]);
        if (report.friedman) {
            std::printf("Friedman chi2 %.4f, p %.4g; Nemenyi CD (alpha 0.05) %.4f\n",
                        report.friedman->statistic, report.friedman->p_value,
                        report.critical_difference);
        }
    } else {
        std::fputs(text.c_str(), stdout);
    }
    return 0;
}

} // namespace nascent::cli
