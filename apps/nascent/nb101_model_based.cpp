// nascent run --strategy bananas | bo-gp | bo-wl on the NAS-Bench-101 table: the ensemble reads
// the path encoding, the Hamming GP the adjacency encoding (21 upper-triangle bits and 5 x 3 op
// bits), the WL GP the cell's own labelled graph.

#include "commands.hpp"
#include "model_based.hpp"

#include <nascent/surrogate/gp.hpp>
#include <nascent/surrogate/nb101_graph.hpp>
#include <nascent/surrogate/wl_kernel.hpp>

namespace nascent::cli {
namespace {

namespace sg = surrogate;

struct adjacency_features {
    [[nodiscard]] Eigen::VectorXd operator()(const nb101::cell& c) const {
        const auto a = encoding::adjacency(c);
        return Eigen::Map<const Eigen::VectorXd>(a.data(), static_cast<Eigen::Index>(a.size()));
    }
};

struct nb101_models {
    [[nodiscard]] static auto encoder() { return nb101_path_encoder{}; }
    [[nodiscard]] static auto hamming_gp() {
        return sg::gp<sg::hamming, adjacency_features>(
            sg::hamming({.ard = encoding::nb101_adjacency_size}), {},
            {.restarts = 1, .optimise_on_at_most = 200});
    }
    [[nodiscard]] static auto wl_gp() {
        return sg::gp<sg::wl_kernel, sg::wl_graph_map<sg::nb101_graph_map>>(
            sg::wl_kernel{}, {}, {.restarts = 1, .optimise_on_at_most = 200});
    }
};

template <class Space>
std::vector<run_result<nb101::cell>>
run_on(const Space& space, const bench::nb101_evaluator& evaluator, const settings& s,
       const run_options& options, const exec::tbb_executor& executor) {
    return run_model_based(space, evaluator, s, options, executor, nb101_models{}, std::nullopt);
}

} // namespace

std::vector<run_result<nb101::cell>> run_nb101_model_based(const nb101::space& space,
                                                           const bench::nb101_evaluator& evaluator,
                                                           const settings& s,
                                                           const run_options& options,
                                                           const exec::tbb_executor& executor) {
    return run_on(space, evaluator, s, options, executor);
}

std::vector<run_result<nb101::cell>> run_nb101_model_based(const nb101_restricted_space& space,
                                                           const bench::nb101_evaluator& evaluator,
                                                           const settings& s,
                                                           const run_options& options,
                                                           const exec::tbb_executor& executor) {
    return run_on(space, evaluator, s, options, executor);
}

} // namespace nascent::cli
