#pragma once
// Encodings with extra inputs: zero-cost proxy scores, cost (params, FLOPs) or learning-curve
// values at a low fidelity appended to an architecture encoding, as the "encoding + zero-cost"
// and learning-curve predictors of White et al. ("How Powerful are Performance Predictors in
// NAS?", NeurIPS 2021) do. Any encoder-based predictor (mlp_ensemble; a GP with identity
// features on the vector) reads them; neural predictors should standardise their inputs
// (mlp_ensemble_options::standardise_inputs), since the extras are on other scales than 0/1.
//
//   augmented_encoder{base, extra}      base(g) followed by extra(g)
//   metric_features<E>                  named metrics of evaluator.evaluate(g) — or, when the
//                                       evaluator has fidelities (MultiFidelityEvaluator) and one
//                                       is given, of evaluate(g, fidelity): a learning curve's
//                                       early point. A metric the evaluation lacks (or a failed
//                                       evaluation) gives NaN, so the predictor's fit fails loudly
//                                       rather than learning from a made-up value.

#include <nascent/concepts.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nascent::surrogate {

template <class Base, class Extra>
struct augmented_encoder {
    Base base;
    Extra extra;

    template <class G>
    requires std::invocable<const Base&, const G&> && std::invocable<const Extra&, const G&>
    [[nodiscard]] std::vector<double> operator()(const G& g) const {
        std::vector<double> out;
        for (const auto v : base(g))
            out.push_back(static_cast<double>(v));
        for (const auto v : extra(g))
            out.push_back(static_cast<double>(v));
        return out;
    }
};

template <class E>
struct metric_features {
    const E* evaluator = nullptr;     ///< not owned; must outlive the features
    std::vector<std::string> names;   ///< metrics read, in this order
    std::optional<double> fidelity{}; ///< evaluate at this fidelity (learning-curve features)
    bool log = false;                 ///< log of each value (counts such as params, FLOPs)

    template <class G>
    requires Evaluator<E, G>
    [[nodiscard]] std::vector<double> operator()(const G& g) const {
        const evaluation e = evaluate(g);
        std::vector<double> out;
        out.reserve(names.size());
        for (const auto& name : names) {
            const auto v = e.ok() ? e.metrics.get(name) : std::nullopt;
            const double x = v ? *v : std::numeric_limits<double>::quiet_NaN();
            out.push_back(log ? std::log(x) : x);
        }
        return out;
    }

private:
    template <class G>
    [[nodiscard]] evaluation evaluate(const G& g) const {
        if constexpr (MultiFidelityEvaluator<E, G>) {
            if (fidelity)
                return evaluator->evaluate(g, *fidelity);
        }
        return evaluator->evaluate(g);
    }
};

} // namespace nascent::surrogate
