// nascent run --strategy bananas | bo-gp | bo-wl on the NAS-Bench-201 table, with optional warm
// starts: --warm-start PROXY (published zero-cost scores, data/zc/) or --warm-start
// transfer:DATASET (a GP fitted on another dataset's table ranks a random pool).

#include "commands.hpp"
#include "model_based.hpp"

#include "nb201_models.hpp"

#include <nascent/bench/nb201_zc.hpp>

#include <memory>
#include <numeric>
#include <unordered_map>

namespace nascent::cli {
namespace {

using cell = nb201::cell;
using nb201_models::hamming_gp_type;

constexpr std::size_t warm_designs = 10;

/// The top proxy scores of a per-run pool of 100 of the cells NASLib scored.
warm_start_designs<cell> zero_cost_warm_start(const bench::nb201_table& table, const settings& s,
                                              const std::string& proxy) {
    const auto scores = bench::nb201_zc_scores::load(data_dir(s), s.dataset, proxy);
    auto cells = std::make_shared<std::vector<cell>>();
    auto by_hash = std::make_shared<std::unordered_map<std::uint64_t, double>>();
    const nb201::space space;
    for (const auto& e : scores.entries()) {
        cells->push_back(table.cell_at(e.index));
        (*by_hash)[space.hash(cells->back())] = e.score;
    }
    const std::size_t pool = std::min<std::size_t>(100, cells->size());
    return strategy::top_of_pool{
        .sample = [cells](rng& gen) { return (*cells)[uniform_index(gen, cells->size())]; },
        .score = [by_hash, space](const cell& c) { return by_hash->at(space.hash(c)); },
        .pool = pool,
        .count = std::min(warm_designs, pool)};
}

/// A GP fitted on 200 random cells of another dataset (same reward metric) ranks a per-run pool
/// of 1,000 random cells; its top 10 start the search.
warm_start_designs<cell> transfer_warm_start(const bench::nb201_table& table, const settings& s,
                                             const std::string& source) {
    const auto dataset = bench::parse_nb201_dataset(source);
    if (source == s.dataset) {
        throw std::invalid_argument("--warm-start transfer:" + source +
                                    " transfers from the dataset being searched");
    }
    const auto metric = bench::parse_nb201_metric(s.reward.value_or("valid_acc@12"));
    // 200 distinct random cells with the metric on the source dataset, in a seeded order.
    std::vector<std::uint64_t> order(table.size());
    std::iota(order.begin(), order.end(), std::uint64_t{0});
    rng gen(derive_seed(s.seed, 0x7ea5f3));
    shuffle(order.begin(), order.end(), gen);
    std::vector<cell> xs;
    std::vector<double> ys;
    for (const auto index : order) {
        if (xs.size() == 200)
            break;
        const auto acc = table.accuracy(index, dataset, metric);
        if (!acc)
            continue;
        xs.push_back(table.cell_at(index));
        ys.push_back(*acc);
    }
    if (xs.size() < 200) {
        throw std::invalid_argument("--warm-start transfer:" + source + ": the table has " +
                                    s.reward.value_or("valid_acc@12") + " for only " +
                                    std::to_string(xs.size()) + " cells of " + source);
    }
    const nb201::space space;
    auto model = std::make_shared<hamming_gp_type>(nb201_models::hamming_gp());
    model->fit(xs, ys);
    return strategy::top_of_pool{.sample = [space](rng& g) { return space.sample(g); },
                                 .score = [model](const cell& c) { return model->predict(c).mean; },
                                 .pool = 1000,
                                 .count = warm_designs};
}

} // namespace

std::vector<run_result<cell>> run_nb201_model_based(const bench::nb201_table& table,
                                                    const bench::nb201_evaluator& evaluator,
                                                    const settings& s, const run_options& options,
                                                    const exec::tbb_executor& executor) {
    std::optional<warm_start_designs<cell>> warm;
    if (s.warm_start) {
        const std::string prefix = "transfer:";
        warm = s.warm_start->starts_with(prefix)
                   ? transfer_warm_start(table, s, s.warm_start->substr(prefix.size()))
                   : zero_cost_warm_start(table, s, *s.warm_start);
    }
    return run_model_based(nb201::space{}, evaluator, s, options, executor,
                           nb201_models::factories{}, warm);
}

} // namespace nascent::cli
