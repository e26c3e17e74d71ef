#pragma once
// Checks, standardisation and parallel member training shared by the neural predictors
// (mlp_ensemble, gnn_predictor).

#include <nascent/concepts.hpp>
#include <nascent/detail/fork_join.hpp>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <exception>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::surrogate::detail {

/// Throws std::invalid_argument, naming `who`, for no points, mismatched sizes or a non-finite
/// target: a NaN would otherwise spread silently into every prediction.
inline void check_training_data(std::size_t points, std::span<const double> ys, const char* who) {
    if (points == 0)
        throw std::invalid_argument(std::string(who) + ": cannot fit on zero points");
    if (points != ys.size()) {
        throw std::invalid_argument(std::string(who) + ": " + std::to_string(points) +
                                    " architectures but " + std::to_string(ys.size()) + " targets");
    }
    for (std::size_t i = 0; i < ys.size(); ++i) {
        if (!std::isfinite(ys[i])) {
            throw std::invalid_argument(std::string(who) + ": target " + std::to_string(i) +
                                        " is " + std::to_string(ys[i]) + ", not a finite number");
        }
    }
}

/// Mean and (population) standard deviation of the targets; scale 0 means constant targets.
struct standardisation {
    double mean = 0;
    double scale = 0;

    [[nodiscard]] static standardisation of(std::span<const double> ys) {
        standardisation s;
        s.mean = std::accumulate(ys.begin(), ys.end(), 0.0) / static_cast<double>(ys.size());
        double var = 0;
        for (const double y : ys)
            var += (y - s.mean) * (y - s.mean);
        s.scale = std::sqrt(var / static_cast<double>(ys.size()));
        return s;
    }
};

/// Mean and variance over ensemble members of each point's prediction, in target units: every
/// member adds its standardised outputs, then predictions() reads the moments (variance 0 with
/// one member).
class member_moments {
public:
    member_moments(std::size_t points, standardisation target)
        : m_target(target), m_sum(points, 0.0), m_sum2(points, 0.0) {}

    /// One member's standardised outputs for points first, first + 1, ...
    void add(std::size_t first, std::span<const float> outputs) {
        for (std::size_t i = 0; i < outputs.size(); ++i) {
            const double v = m_target.mean + m_target.scale * static_cast<double>(outputs[i]);
            m_sum[first + i] += v;
            m_sum2[first + i] += v * v;
        }
    }

    [[nodiscard]] std::vector<prediction> predictions(std::size_t members) const {
        const double m = static_cast<double>(members);
        std::vector<prediction> out(m_sum.size());
        for (std::size_t i = 0; i < out.size(); ++i) {
            const double mean = m_sum[i] / m;
            out[i] = {mean, std::max(0.0, m_sum2[i] / m - mean * mean)};
        }
        return out;
    }

private:
    standardisation m_target;
    std::vector<double> m_sum;
    std::vector<double> m_sum2;
};

/// Runs train(k) for k = 0 .. members-1 on oneTBB's threads. Members are independent (own seed,
/// own slot), so the result is the same for any thread count. An exception is caught inside its
/// task and the first one (by member index) rethrown here, never out of a TBB task.
template <class Train>
void train_members(std::size_t members, const Train& train) {
    std::vector<std::exception_ptr> errors(members);
    const auto run = [&](const tbb::blocked_range<std::size_t>& range) {
        for (std::size_t k = range.begin(); k != range.end(); ++k) {
            try {
                train(k);
            } catch (...) {
                errors[k] = std::current_exception();
            }
        }
    };
    ::nascent::detail::fork_join_edges edges;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, members, 1), edges.task(run));
    edges.joined();
    for (const auto& e : errors) {
        if (e)
            std::rethrow_exception(e);
    }
}

} // namespace nascent::surrogate::detail
