// A hierarchical space (Liu et al., "Hierarchical representations for efficient architecture
// search", ICLR 2018) composed from library parts, with no glue code: level-2 motifs are small
// DAGs over primitive ops; the level-3 architecture is a DAG whose edges carry level-2 motifs
// (or none / identity). The genotype is the product (level-3 DAG, motif 1, motif 2, motif 3).
#include <nascent/exec/runner.hpp>
#include <nascent/space/dag_cell.hpp>
#include <nascent/space/product.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <cstdio>

namespace {
struct primitives { // level 1
    static constexpr std::array<std::string_view, 6> names{"none",      "identity",   "conv1x1",
                                                           "dwconv3x3", "sepconv3x3", "maxpool3x3"};
    static constexpr int zero = 0;
    static constexpr int identity = 1;
};
struct motifs { // level 2 as ops of level 3: none, identity or one of the three motifs
    static constexpr std::array<std::string_view, 5> names{"none", "identity", "motif1", "motif2",
                                                           "motif3"};
    static constexpr int zero = 0;
    static constexpr int identity = 1;
};
using motif_space = nascent::space::dag_cell_space<primitives, nascent::space::every_edge<4>>;
using top_space = nascent::space::dag_cell_space<motifs, nascent::space::every_edge<5>>;
using hierarchical =
    nascent::space::product_space<top_space, motif_space, motif_space, motif_space>;

// A stand-in for training: counts the convolutions reachable through the motifs the top level uses.
struct conv_counter {
    nascent::evaluation evaluate(const hierarchical::genotype& g) const {
        const std::array<int, 3> convs{count(std::get<1>(g)), count(std::get<2>(g)),
                                       count(std::get<3>(g))};
        double score = 0;
        for (auto op : std::get<0>(g).ops)
            score += op >= 2 ? convs[op - 2] : 0;
        return nascent::evaluation::success(score);
    }
    static int count(const motif_space::genotype& m) {
        int n = 0;
        for (auto op : m.ops)
            n += op >= 2 && op <= 4 ? 1 : 0;
        return n;
    }
};
} // namespace

int main() {
    const hierarchical space;
    nascent::rng gen(1);
    std::printf("a sample: %s\n", space.to_string(space.sample(gen)).c_str());
    std::printf("size: %.3g architectures\n",
                static_cast<double>(nascent::space::cardinality(space)));
    const auto r = nascent::run(nascent::strategy::regularized_evolution{space}, conv_counter{},
                                {.budget = 2000, .seed = 3});
    std::printf("best score %.0f (optimum 60): %s\n", r.best_reward,
                space.to_string(*r.best).c_str());
    return r.best_reward >= 50 ? 0 : 1;
}
