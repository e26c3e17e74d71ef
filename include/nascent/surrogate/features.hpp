#pragma once
// Feature maps from cell genotypes to vectors, built from `Space::edges(cell)`, for the vector
// kernels of kernels.hpp. (space/encodings.hpp will hold the library's general encodings; these
// two are the minimal ones a GP on cells needs.)
//
//   edge_onehot<Space>  one-hot op per edge position: rbf / matern52 features (NB201: 6 x 5 = 30)
//   edge_ops<Space>     the op index per edge position (and, for k_inputs cells, the input node
//                       of each slot): categorical features for the hamming kernel (NB201: 6)
//   identity_features   for genotypes that already are feature vectors (precomputed features)

#include <nascent/concepts.hpp>

#include <Eigen/Dense>

#include <cstddef>

namespace nascent::surrogate {

/// Returns its argument: a GP whose "genotypes" are precomputed features.
struct identity_features {
    template <class T>
    [[nodiscard]] const T& operator()(const T& x) const noexcept {
        return x;
    }
};

/// One-hot op per edge position, edge-major: entry e * num_ops + op is 1.
template <class Space>
struct edge_onehot {
    [[nodiscard]] Eigen::VectorXd operator()(const genotype_t<Space>& cell) const {
        const auto edges = Space::edges(cell);
        constexpr auto ops = static_cast<Eigen::Index>(Space::num_ops);
        Eigen::VectorXd v = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(edges.size()) * ops);
        for (std::size_t e = 0; e < edges.size(); ++e) {
            v[static_cast<Eigen::Index>(e) * ops + edges[e].op] = 1.0;
        }
        return v;
    }
};

/// Op index per edge position; cells whose edges can change source (k_inputs) also get the
/// source node of each slot, interleaved (op_0, from_0, op_1, from_1, ...).
template <class Space>
struct edge_ops {
    [[nodiscard]] Eigen::VectorXd operator()(const genotype_t<Space>& cell) const {
        const auto edges = Space::edges(cell);
        constexpr bool with_inputs = requires {
            Space::num_inputs;
        };
        constexpr Eigen::Index per_edge = with_inputs ? 2 : 1;
        Eigen::VectorXd v(static_cast<Eigen::Index>(edges.size()) * per_edge);
        for (std::size_t e = 0; e < edges.size(); ++e) {
            const auto i = static_cast<Eigen::Index>(e) * per_edge;
            v[i] = edges[e].op;
            if constexpr (with_inputs)
                v[i + 1] = edges[e].from;
        }
        return v;
    }
};

} // namespace nascent::surrogate
