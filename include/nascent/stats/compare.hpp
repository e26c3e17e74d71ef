#pragma once
// Comparing search strategies over runs, in one call: for each dataset, each strategy's anytime
// regret curve with a 95 % confidence band and its final values' summary, and every pair of
// strategies tested (Mann-Whitney U, Holm-adjusted over the dataset's pairs, Vargha-Delaney A);
// across datasets, the strategies' mean ranks, Friedman's test and the Nemenyi critical
// difference (Demsar, JMLR 2006: datasets are the blocks, each strategy's mean final value its
// score on a dataset).
//
//   std::vector<stats::strategy_runs> in{{.strategy = "rea", .dataset = "cifar10",
//                                         .trajectories = {...}}, ...};
//   const auto report = stats::compare(in, {{"cifar10", 94.37}});
//
// A trajectory is the incumbent's value (higher is better, e.g. its test accuracy) after each
// charged evaluation; a run that stopped early keeps its last value. Regret is the optimum minus
// that value; a dataset without a given optimum uses the best value any run reached.

#include <nascent/core/stats.hpp>
#include <nascent/stats/distributions.hpp>
#include <nascent/stats/tests.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::stats {

struct strategy_runs {
    std::string strategy;
    std::string dataset;
    std::vector<std::vector<double>> trajectories; ///< per run
};

/// Mean regret after each evaluation with a two-sided confidence band: mean -+ t_{(1+c)/2, n-1}
/// s / sqrt(n), s the sample standard deviation (ddof 1) over the n runs.
struct regret_curve {
    std::vector<double> mean;
    std::vector<double> lower;
    std::vector<double> upper;
};

[[nodiscard]] inline regret_curve
anytime_regret(const std::vector<std::vector<double>>& trajectories, double optimum,
               double confidence = 0.95) {
    if (!(confidence > 0 && confidence < 1))
        throw std::invalid_argument("anytime_regret: confidence must be in (0, 1)");
    std::size_t steps = 0;
    for (const auto& t : trajectories)
        steps = std::max(steps, t.size());
    const std::size_t n = trajectories.size();
    regret_curve out;
    const double quantile =
        n > 1 ? student_t_quantile(0.5 + confidence / 2, static_cast<double>(n - 1)) : 0.0;
    for (std::size_t s = 0; s < steps; ++s) {
        double sum = 0;
        std::vector<double> values;
        for (const auto& t : trajectories) {
            if (t.empty())
                continue;
            values.push_back(optimum - t[std::min(s, t.size() - 1)]);
            sum += values.back();
        }
        const double m = sum / static_cast<double>(values.size());
        double ss = 0;
        for (const double v : values)
            ss += (v - m) * (v - m);
        const double half =
            values.size() > 1 ? quantile * std::sqrt(ss / static_cast<double>(values.size() - 1)) /
                                    std::sqrt(static_cast<double>(values.size()))
                              : 0.0;
        out.mean.push_back(m);
        out.lower.push_back(m - half);
        out.upper.push_back(m + half);
    }
    return out;
}

struct pairwise_test {
    std::string a;
    std::string b;
    double u1 = 0;      ///< U of a's final values against b's
    double p_value = 1; ///< two-sided
    double p_holm = 1;  ///< Holm-adjusted over the dataset's pairs
    double a12 = 0.5;   ///< Vargha-Delaney A: P(a's final value > b's)
    bool exact = false;
};

struct dataset_comparison {
    std::string dataset;
    double optimum = 0;
    std::vector<std::string> strategies;
    std::vector<mean_std> finals; ///< final values (population std), per strategy
    std::vector<regret_curve> regret;
    std::vector<pairwise_test> pairs; ///< (i, j) for i < j in the strategies' order
};

struct comparison {
    std::vector<dataset_comparison> datasets;
    std::vector<std::string> strategies;     ///< those run on every dataset, first-seen order
    std::vector<double> mean_ranks;          ///< over datasets, rank 1 the best; needs >= 1 dataset
    std::optional<friedman_result> friedman; ///< with >= 2 datasets and >= 3 strategies
    double critical_difference = std::numeric_limits<double>::quiet_NaN(); ///< Nemenyi, 0.05
};

/// Everything above from the runs of each (strategy, dataset) pair.
[[nodiscard]] inline comparison compare(const std::vector<strategy_runs>& input,
                                        const std::map<std::string, double>& optimum = {}) {
    comparison out;
    std::vector<std::string> datasets;
    for (const auto& r : input) {
        if (std::ranges::find(datasets, r.dataset) == datasets.end())
            datasets.push_back(r.dataset);
        if (std::ranges::find(out.strategies, r.strategy) == out.strategies.end())
            out.strategies.push_back(r.strategy);
    }
    auto final_values = [](const strategy_runs& r) {
        std::vector<double> v;
        for (const auto& t : r.trajectories) {
            if (!t.empty())
                v.push_back(t.back());
        }
        return v;
    };
    std::map<std::string, std::map<std::string, double>> score; // dataset -> strategy -> mean
    for (const auto& d : datasets) {
        dataset_comparison dc;
        dc.dataset = d;
        std::vector<const strategy_runs*> here;
        double best = -std::numeric_limits<double>::infinity();
        for (const auto& r : input) {
            if (r.dataset != d)
                continue;
            if (std::ranges::find(dc.strategies, r.strategy) != dc.strategies.end())
                throw std::invalid_argument("compare: " + r.strategy + " twice on " + d);
            dc.strategies.push_back(r.strategy);
            here.push_back(&r);
            for (const double v : final_values(r))
                best = std::max(best, v);
        }
        const auto given = optimum.find(d);
        dc.optimum = given != optimum.end() ? given->second : best;
        std::vector<std::vector<double>> finals;
        for (const auto* r : here) {
            finals.push_back(final_values(*r));
            if (finals.back().empty())
                throw std::invalid_argument("compare: " + r->strategy + " on " + d +
                                            " has no runs");
            dc.finals.push_back(summarize(finals.back()));
            dc.regret.push_back(anytime_regret(r->trajectories, dc.optimum));
            score[d][r->strategy] = dc.finals.back().mean;
        }
        std::vector<double> p;
        for (std::size_t i = 0; i < here.size(); ++i) {
            for (std::size_t j = i + 1; j < here.size(); ++j) {
                const auto t = mann_whitney_u(finals[i], finals[j]);
                const double a12 = t.u1 / (static_cast<double>(finals[i].size()) *
                                           static_cast<double>(finals[j].size()));
                dc.pairs.push_back(
                    {dc.strategies[i], dc.strategies[j], t.u1, t.p_value, 1.0, a12, t.exact});
                p.push_back(t.p_value);
            }
        }
        const auto adjusted = holm(p);
        for (std::size_t i = 0; i < adjusted.size(); ++i)
            dc.pairs[i].p_holm = adjusted[i];
        out.datasets.push_back(std::move(dc));
    }
    // Strategies run on every dataset take part in the ranking.
    std::erase_if(out.strategies, [&](const std::string& s) {
        return std::ranges::any_of(datasets,
                                   [&](const std::string& d) { return !score[d].contains(s); });
    });
    if (out.strategies.empty() || datasets.empty())
        return out;
    std::vector<std::vector<double>> blocks;
    for (const auto& d : datasets) {
        std::vector<double> row;
        for (const auto& s : out.strategies)
            row.push_back(score[d][s]);
        blocks.push_back(std::move(row));
    }
    out.mean_ranks.assign(out.strategies.size(), 0.0);
    const double k = static_cast<double>(out.strategies.size());
    for (const auto& row : blocks) {
        const auto ranks = average_ranks(row);
        for (std::size_t j = 0; j < row.size(); ++j)
            out.mean_ranks[j] += (k + 1 - ranks[j]) / static_cast<double>(blocks.size());
    }
    if (blocks.size() >= 2 && out.strategies.size() >= 3)
        out.friedman = friedman(blocks);
    if (out.strategies.size() >= 2 && out.strategies.size() <= 20)
        out.critical_difference = nemenyi_cd(out.strategies.size(), blocks.size());
    return out;
}

} // namespace nascent::stats
