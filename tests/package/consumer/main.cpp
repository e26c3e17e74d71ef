// A user's program against the installed package: local search on a toy objective whose unique
// optimum it must find (a strict hill climber reaches it from anywhere in <= 6 x 24 evaluations).
#include <nascent/nascent.hpp>

#include <cstdio>

namespace {
// Reward = number of 3x3 convolutions; the unique optimum is the all-conv3x3 cell.
struct count_conv3x3 {
    nascent::evaluation evaluate(const nascent::nb201::cell& c) const {
        int n = 0;
        for (auto op : c.ops)
            n += op == nascent::nb201::nor_conv_3x3 ? 1 : 0;
        return nascent::evaluation::success(n);
    }
};
} // namespace

int main() {
    const nascent::nb201::space space;
    const nascent::strategy::local_search ls{space};
    const auto results =
        nascent::run_protocol(space, ls, count_conv3x3{}, {.budget = 200, .runs = 4, .seed = 1},
                              nascent::exec::tbb_executor(2));
    for (const auto& r : results) {
        if (r.best_reward != 6.0) {
            std::fprintf(stderr, "run %zu: best reward %g, expected 6\n", r.run, r.best_reward);
            return 1;
        }
    }
    std::puts("consumer: ok");
    return 0;
}
