// Per-iteration overhead of model-based search as the history grows, for n = 100 ... 1000
// NAS-Bench-201 cells with CIFAR-10 valid_acc@12 rewards: the time of an ask() that refits the
// surrogate on n observations, of an ask() between refits, and their average over a refit
// period. Every ask scores 100 candidates (mutations of the 10 best and random cells). This is
// what a search pays per proposal on top of the evaluation itself.
//
//   bo-gp    GP, Hamming kernel with one length-scale per edge, EI; every 10 observations ML-II
//            (1 random restart) on at most 200 of them, then all n factorised; in between, each new
//            observation joins by the O(n^2) Cholesky update
//   bo-wl    the same with the Weisfeiler-Lehman kernel (h = 2)
//   bananas  5 MLPs of 10 x 20 on the path encoding, 200 epochs, trained in parallel, Thompson
//            sampling; retrained every 10 observations (between refits: scoring only)
//
// Each time is the fastest of --repeats runs (the least disturbed on a shared machine).
// Usage: bo_overhead [--data DIR] [--sizes 100,250,500,1000] [--repeats 3] [--threads N]
// (benchmarks/surrogate/bo_overhead.sh builds and runs it)

#include <nascent/bench/nb201_table.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/encodings.hpp>
#include <nascent/strategy/model_based.hpp>
#include <nascent/surrogate/features.hpp>
#include <nascent/surrogate/gp.hpp>
#include <nascent/surrogate/mlp_ensemble.hpp>
#include <nascent/surrogate/wl_kernel.hpp>

#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace sg = nascent::surrogate;
namespace st = nascent::strategy;
namespace nb201 = nascent::nb201;
using cell = nb201::cell;

namespace {

struct path_encoder {
    std::vector<double> operator()(const cell& c) const { return nascent::encoding::paths(c); }
};

/// n distinct random cells with their rewards.
std::pair<std::vector<cell>, std::vector<nascent::evaluation>>
history(const nascent::bench::nb201_evaluator& ev, std::size_t n, std::uint64_t seed) {
    nascent::rng gen(seed);
    const nb201::space space;
    std::vector<cell> xs;
    std::vector<nascent::evaluation> es;
    while (xs.size() < n) {
        const auto c = space.sample(gen);
        if (std::ranges::find(xs, c) != xs.end())
            continue;
        xs.push_back(c);
        es.push_back(ev.evaluate(c));
    }
    return {xs, es};
}

struct timing {
    double refit = 1e300;   ///< an ask that refits the model (hyper-parameters / training)
    double between = 1e300; ///< an ask between refits (GP: the O(n^2) update) + scoring
    [[nodiscard]] double amortised(std::size_t period) const {
        return (refit + static_cast<double>(period - 1) * between) / static_cast<double>(period);
    }
};

/// The first ask() after n tells (it fits the model), then one more after telling its result;
/// fastest of `repeats`.
template <class Model>
timing ask_seconds(const Model& model, const st::model_based_options& options,
                   const nascent::bench::nb201_evaluator& ev, std::size_t n, std::size_t repeats) {
    const auto [xs, es] = history(ev, n, n);
    timing best;
    auto seconds = [](auto&& f) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    for (std::size_t r = 0; r < repeats; ++r) {
        st::model_based_search search(nb201::space{}, model, options);
        nascent::rng gen(r);
        for (std::size_t i = 0; i < xs.size(); ++i)
            search.tell(xs[i], es[i]);
        cell chosen;
        best.refit = std::min(best.refit, seconds([&] { chosen = search.ask(gen); }));
        search.tell(chosen, ev.evaluate(chosen));
        best.between = std::min(best.between, seconds([&] { (void)search.ask(gen); }));
    }
    return best;
}

} // namespace

int main(int argc, char** argv) try {
    std::optional<std::string> data;
    std::vector<std::size_t> sizes{100, 250, 500, 1000};
    std::size_t repeats = 3;
    std::optional<int> threads;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const std::string v = argv[i + 1];
        if (a == "--data") {
            data = v;
        } else if (a == "--sizes") {
            sizes.clear();
            std::stringstream ss(v);
            for (std::string item; std::getline(ss, item, ',');)
                sizes.push_back(std::stoul(item));
        } else if (a == "--repeats") {
            repeats = std::stoul(v);
        } else if (a == "--threads") {
            threads = std::stoi(v);
        } else {
            throw std::invalid_argument("unknown option " + a);
        }
    }
    std::optional<tbb::global_control> cap;
    if (threads)
        cap.emplace(tbb::global_control::max_allowed_parallelism,
                    static_cast<std::size_t>(*threads));
    const auto table =
        nascent::bench::nb201_table::load(nascent::io::resolve_data_dir(data, "../shared/data"));
    const auto ev = table.evaluator({.dataset = "cifar10", .reward = "valid_acc@12"});

    // The settings of `nascent run --strategy bo-gp|bo-wl|bananas` (apps/nascent/model_based.hpp).
    const st::model_based_options bo{.acq = st::acquisition::expected_improvement,
                                     .refit_every = 10};
    const st::model_based_options its{.acq = st::acquisition::thompson, .refit_every = 10};
    const sg::gp_options settings{.restarts = 1, .optimise_on_at_most = 200};
    const sg::gp<sg::hamming, sg::edge_ops<nb201::space>> hamming_gp(
        sg::hamming({.ard = nb201::num_edges}), {}, settings);
    const sg::gp<sg::wl_kernel, sg::wl_feature_map<nb201::space>> wl_gp(sg::wl_kernel{}, {},
                                                                        settings);
    const sg::mlp_ensemble<cell, path_encoder> ensemble;

    std::printf("seconds per proposal (100 candidates scored), fastest of %zu, %s threads; refits "
                "every %zu\n",
                repeats, threads ? std::to_string(*threads).c_str() : "all", bo.refit_every);
    std::printf("%6s | %8s %8s %9s | %8s %8s %9s | %8s %8s %9s\n", "n", "gp refit", "between",
                "amortised", "wl refit", "between", "amortised", "nn refit", "between",
                "amortised");
    for (const auto n : sizes) {
        const auto gp = ask_seconds(hamming_gp, bo, ev, n, repeats);
        const auto wl = ask_seconds(wl_gp, bo, ev, n, repeats);
        const auto nn = ask_seconds(ensemble, its, ev, n, std::max<std::size_t>(1, repeats / 2));
        std::printf("%6zu | %8.3f %8.3f %9.3f | %8.3f %8.3f %9.3f | %8.3f %8.3f %9.3f\n", n,
                    gp.refit, gp.between, gp.amortised(bo.refit_every), wl.refit, wl.between,
                    wl.amortised(bo.refit_every), nn.refit, nn.between,
                    nn.amortised(its.refit_every));
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bo_overhead: error: %s\n", e.what());
    return 2;
}
