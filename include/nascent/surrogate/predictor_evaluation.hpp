#pragma once
// How well a surrogate ranks architectures after training on n of them: the protocol of White et
// al., "How Powerful are Performance Predictors in Neural Architecture Search?" (NeurIPS 2021).
//
// Per seed, a split: candidates visited in a seeded random order; the first `test` with a finite
// accuracy are the held-out set, the next max(sizes) the training pool (nested: the training set of
// size n is the pool's first n). Predictors fit on -log(100 - accuracy) (a monotone transform, as
// NAS-BOWL; ranks are unchanged) and are scored by Kendall tau and Spearman rho of their mean
// predictions against the held-out accuracies, with fit and predict times. One task per
// (predictor, size, seed) on an Executor, each writing its own slot: results do not depend on the
// thread count (the times do). A predictor that throws is reported in its row, not fatal.

#include <nascent/concepts.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/surrogate/predict.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nascent::surrogate {

template <class G>
struct predictor_split {
    std::vector<G> train; ///< nested: the first n are the training set of size n
    std::vector<double> train_target;
    std::vector<G> test;
    std::vector<double> test_accuracy;
};

/// The protocol's training target for an accuracy in percent.
[[nodiscard]] inline double predictor_target(double accuracy) {
    return -std::log(std::max(100.0 - accuracy, 1e-6));
}

/// A split of the `count` candidates visited in the order of a shuffle by rng(seed);
/// `lookup(i)` gives candidate i as an optional {genotype, accuracy} (nullopt: not available).
/// Stops once `test` held-out and `train` training cells are drawn; fewer if the candidates run
/// out.
template <class G, class Lookup>
[[nodiscard]] predictor_split<G> draw_predictor_split(std::uint64_t count, Lookup&& lookup,
                                                      std::size_t test, std::size_t train,
                                                      std::uint64_t seed) {
    std::vector<std::uint64_t> order(count);
    std::iota(order.begin(), order.end(), std::uint64_t{0});
    rng gen(seed);
    shuffle(order.begin(), order.end(), gen);
    predictor_split<G> out;
    for (const auto index : order) {
        const std::optional<std::pair<G, double>> c = lookup(index);
        if (!c || !std::isfinite(c->second))
            continue;
        if (out.test.size() < test) {
            out.test.push_back(c->first);
            out.test_accuracy.push_back(c->second);
        } else if (out.train.size() < train) {
            out.train.push_back(c->first);
            out.train_target.push_back(predictor_target(c->second));
        } else {
            break;
        }
    }
    return out;
}

struct predictor_score {
    double tau = std::nan("");
    double rho = std::nan("");
    double fit_seconds = 0;
    double predict_seconds = 0;
    std::string error; ///< what a predictor that threw said
};

/// Fits `model` on the first n training cells of `data` and scores it on the held-out cells.
template <class G, class Model>
requires Surrogate<Model, G>
[[nodiscard]] predictor_score score_predictor(Model model, const predictor_split<G>& data,
                                              std::size_t n) {
    using clock = std::chrono::steady_clock;
    auto since = [](clock::time_point t) {
        return std::chrono::duration<double>(clock::now() - t).count();
    };
    predictor_score o;
    const auto start = clock::now();
    model.fit(std::span<const G>(data.train.data(), n),
              std::span<const double>(data.train_target.data(), n));
    o.fit_seconds = since(start);
    const auto predicted = clock::now();
    const auto ps = predict_all(model, std::span<const G>(data.test));
    std::vector<double> means;
    means.reserve(ps.size());
    for (const auto& p : ps)
        means.push_back(p.mean);
    o.predict_seconds = since(predicted);
    o.tau = kendall_tau(means, data.test_accuracy);
    o.rho = spearman(means, data.test_accuracy);
    return o;
}

/// Every (predictor, size, seed): `score(p, split, n, seed_index)` returns the predictor_score of
/// predictor p (0 <= p < predictors) on `splits[seed_index]` with n training cells (e.g. by
/// score_predictor). Results are ordered by predictor, then size, then seed. Exceptions become the
/// row's error. `on_done(finished tasks)` may be called from worker threads.
template <class G, class Score, Executor X>
[[nodiscard]] std::vector<predictor_score>
evaluate_predictors(std::size_t predictors, std::span<const std::size_t> sizes,
                    std::span<const predictor_split<G>> splits, Score&& score, const X& executor,
                    const std::function<void(std::size_t)>& on_done = {}) {
    const std::size_t per_predictor = sizes.size() * splits.size();
    std::vector<predictor_score> results(predictors * per_predictor);
    std::atomic<std::size_t> done{0};
    executor.for_each(results.size(), [&](std::size_t t) {
        const auto k = t % splits.size();
        try {
            results[t] =
                score(t / per_predictor, splits[k], sizes[(t % per_predictor) / splits.size()], k);
        } catch (const std::exception& e) { // the row says what failed
            results[t] = {};
            results[t].error = e.what();
        }
        const auto finished = done.fetch_add(1) + 1;
        if (on_done)
            on_done(finished);
    });
    return results;
}

} // namespace nascent::surrogate
