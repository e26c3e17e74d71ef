#pragma once
// Predictions for many genotypes at once, by the best route a Surrogate offers: predict_many
// (neural predictors: one forward pass), else predict_batch (GPs: blocked cross-covariances),
// else one predict per genotype. Used by model-based search and the predictor evaluation.

#include <nascent/concepts.hpp>

#include <span>
#include <vector>

namespace nascent::surrogate {

template <class Model, class G>
requires Surrogate<Model, G>
[[nodiscard]] std::vector<prediction> predict_all(const Model& model, std::span<const G> xs) {
    if constexpr (requires { model.predict_many(xs); }) {
        return model.predict_many(xs);
    } else if constexpr (requires { model.predict_batch(xs); }) {
        return model.predict_batch(xs);
    } else {
        std::vector<prediction> out;
        out.reserve(xs.size());
        for (const auto& x : xs)
            out.push_back(model.predict(x));
        return out;
    }
}

} // namespace nascent::surrogate
