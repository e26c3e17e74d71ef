#pragma once
// The supernet as an Evaluator: a genotype is scored by the accuracy of its single path with the
// supernet's inherited weights, on a held-out set, after optional recalibration of the batch-norm
// statistics on k batches of the training half. RS, REA, LS and NSGA-II run on it unchanged.
//
// The supernet is shared (copies of the evaluator score with the same weights) and a forward
// changes its paths and statistics, so the evaluator is thread_safety::none: runs that use it go
// one at a time. Recalibrated statistics are restored after each evaluation, so a genotype's
// score does not depend on what was evaluated before.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/eval/oneshot/search_data.hpp>
#include <nascent/eval/oneshot/supernet.hpp>
#include <nascent/tensor/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::eval::oneshot {

struct supernet_evaluator_options {
    std::size_t recalibration_batches = 0; ///< k: BN statistics from k training batches first
    std::size_t batch_size = 64;           ///< recalibration batch size
};

template <class Space>
class supernet_evaluator {
public:
    static constexpr auto thread_safety = nascent::thread_safety::none;

    supernet_evaluator(std::shared_ptr<supernet<Space>> net,
                       std::shared_ptr<const search_data> data,
                       const supernet_evaluator_options& options = {})
        : m_net(std::move(net)), m_data(std::move(data)), m_options(options) {
        if (!m_net || !m_data)
            throw std::invalid_argument("supernet_evaluator: null supernet or data");
        if (m_options.batch_size < 2) {
            throw std::invalid_argument("supernet_evaluator: batch_size " +
                                        std::to_string(m_options.batch_size) + " must be >= 2");
        }
    }

    /// metrics: supernet_acc (held-out accuracy, %), the reward.
    [[nodiscard]] evaluation evaluate(const typename Space::genotype& g) {
        if (!Space::is_valid(g))
            return evaluation::failure("invalid genotype");
        m_net->set_genotype(g);
        std::vector<tensor::ndarray> saved;
        const auto buffers = m_net->named_buffers();
        if (m_options.recalibration_batches > 0) {
            for (const auto& [name, b] : buffers)
                saved.push_back(*b);
            recalibrate_batch_norm(*m_net, m_data->train, m_options.recalibration_batches,
                                   m_options.batch_size);
        }
        const double acc = accuracy(*m_net, m_data->eval);
        for (std::size_t i = 0; i < saved.size(); ++i)
            *buffers[i].second = std::move(saved[i]);
        nascent::metrics m;
        m.append("supernet_acc", acc);
        return evaluation::success(acc, m);
    }

    [[nodiscard]] const std::shared_ptr<supernet<Space>>& net() const noexcept { return m_net; }

private:
    std::shared_ptr<supernet<Space>> m_net;
    std::shared_ptr<const search_data> m_data;
    supernet_evaluator_options m_options;
};

template <class Space>
supernet_evaluator(std::shared_ptr<supernet<Space>>, std::shared_ptr<const search_data>)
    -> supernet_evaluator<Space>;
template <class Space>
supernet_evaluator(std::shared_ptr<supernet<Space>>, std::shared_ptr<const search_data>,
                   supernet_evaluator_options) -> supernet_evaluator<Space>;

static_assert(Evaluator<supernet_evaluator<nb201::space>, nb201::cell>);

} // namespace nascent::eval::oneshot
