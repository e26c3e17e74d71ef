// A new search space (widths of a 4-block CNN, each 16-128) searched by REA, user's evaluator.
#include <array>
#include <cmath>
#include <cstdio>
#include <nascent/exec/runner.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

struct width_space {
    using genotype = std::array<std::uint8_t, 4>; // index of each block's width
    static constexpr std::array<double, 4> widths{16, 32, 64, 128};
    template <class G>
    genotype sample(G& gen) const {
        genotype g;
        for (auto& w : g)
            w = static_cast<std::uint8_t>(nascent::uniform_index(gen, 4));
        return g;
    }
    bool is_valid(const genotype& g) const { return g[0] < 4 && g[1] < 4 && g[2] < 4 && g[3] < 4; }
    std::uint64_t hash(const genotype& g) const {
        return g[0] | g[1] << 2U | g[2] << 4U | g[3] << 6U;
    }
    std::size_t positions() const { return 4; }          // categorical: point mutation and
    std::size_t choices(std::size_t) const { return 4; } // crossover come for free
};

struct toy_evaluator { // wider is better with diminishing returns, minus a cost for parameters
    nascent::evaluation evaluate(const width_space::genotype& g) const {
        double score = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            const double w = width_space::widths[g[i]];
            score += std::log2(w) * static_cast<double>(i + 1) - 9 * w * w / 40000.0;
        }
        return nascent::evaluation::success(score);
    }
};

int main() {
    const auto r = nascent::run(nascent::strategy::regularized_evolution{width_space{}},
                                toy_evaluator{}, {.budget = 60, .seed = 1});
    const auto& w = width_space::widths;
    std::printf("best widths %g %g %g %g, score %.3f\n", w[(*r.best)[0]], w[(*r.best)[1]],
                w[(*r.best)[2]], w[(*r.best)[3]], r.best_reward);
    return r.best_reward > 57.0 ? 0 : 1; // the optimum, 64-64-128-128, scores 57.78
}
