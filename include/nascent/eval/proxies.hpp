#pragma once
// Zero-cost proxies: scores of an untrained network that rank architectures without training
// them (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021; Mellor et al.,
// "Neural Architecture Search without Training", ICML 2021). They are computed with the built-in
// autograd layer (tensor/), following the definitions of NASLib / zero-cost-nas so that scores
// can be compared with the published ones (docs/proxies.md):
//
//   synflow    data-free: weights replaced by |w|, batch norms as identities, input of ones
//              (batch 1), R = sum of the outputs; log of sum |theta * dR/dtheta| (NASLib
//              reports the log; 0 in NASLib, -inf here, when the sum is 0)
//   grad_norm  sum over layers of ||dL/dW||_F             (L: cross-entropy of one mini-batch)
//   snip       sum |W * dL/dW|
//   grasp      sum -W * (H g), g = dL/dW, H the Hessian over the layer weights
//   fisher     sum over layers and output channels k of fan_in(layer) * mean_n(s_nk^2) / 2,
//              s_nk = sum over positions of a * dL/da, a the conv / linear output (NASLib
//              broadcasts each channel's value over the channel's weights before summing)
//   jacob_cov  -sum_i [log(v_i + k) + 1 / (v_i + k)], v the eigenvalues of the correlation
//              matrix of the rows of d(sum of logits)/d(input), k = 1e-5
//   nwot       log |det K|, K_ij = number of ReLU units on which samples i and j agree
//              (NASWOT's Hamming kernel over the inputs of every ReLU)
//   plain      sum W * dL/dW;   l2_norm  sum over layers of ||W||_F
// "Layers" are the conv2d and linear modules (their weights, not biases or batch norms). Batch
// norms use batch statistics for the data-dependent proxies (NASLib's net.train()).//
// The pieces, each in its own header:
//   eval/proxy_scores.hpp     the scores and their names (proxy_fields, find_proxy)
//   eval/synflow.hpp          the data-free proxies: synflow (exact in any range), l2_norm
//   eval/data_proxies.hpp     the data-dependent proxies of a network on one mini-batch
//   eval/proxy_evaluator.hpp  all proxies of a factory's network, and proxy_evaluator, for any
//                             space with a NetworkFactory
//   tensor/module_state.hpp   the module is left as it was found; batch norms as identities
//   tensor/forward_mode.hpp   the forward-mode tangent pass behind GraSP's exact H g
// and here the NAS-Bench-201 shorthands: nb201_proxies, and proxy_evaluator(options) over
// NB201 cells.

#include <nascent/eval/data_proxies.hpp>
#include <nascent/eval/nb201_network.hpp>
#include <nascent/eval/proxy_evaluator.hpp>
#include <nascent/eval/proxy_scores.hpp>
#include <nascent/eval/synflow.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/tensor/fashion_mnist.hpp>

#include <cstddef>

namespace nascent::eval {

/// Input resolution of the NAS-Bench-201 networks.
inline constexpr std::size_t nb201_resolution = 32;

/// All proxies of the NAS-Bench-201 network of `cell` (the benchmark's network unless `factory`
/// says otherwise). `batch` is required when options.data_dependent (std::invalid_argument
/// otherwise).
[[nodiscard]] inline proxy_scores nb201_proxies(const nb201::cell& cell,
                                                const proxy_options& options,
                                                const proxy_batch* batch = nullptr,
                                                const nb201_factory& factory = {}) {
    return network_proxies(nb201::space{}, factory, cell, options, batch);
}

proxy_evaluator(proxy_evaluator_options)->proxy_evaluator<nb201::space, nb201_factory>;
proxy_evaluator(proxy_evaluator_options, proxy_batch)->proxy_evaluator<nb201::space, nb201_factory>;

static_assert(Evaluator<proxy_evaluator<nb201::space, nb201_factory>, nb201::cell>);

} // namespace nascent::eval
