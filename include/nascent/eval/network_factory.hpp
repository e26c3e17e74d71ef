#pragma once
// NetworkFactory: where a search space meets the tensor layer. A factory turns a genotype into a
// trainable tensor::nn::module, says what one input sample looks like and how many parameters
// the network of a genotype has (from a cost model, without building it). The training
// evaluator (eval/training_evaluator.hpp) and the proxy evaluator (eval/proxy_evaluator.hpp)
// take any space that has one; a user's own space trains once it has a factory
// (examples/own_space_training.cpp).
//
// Required:
//   f.build(g, gen)        the network of g, weights drawn from gen (a fresh module each call)
//   f.input_shape()        one sample's shape, e.g. {C, H, W}
//   f.parameter_count(g)   trainable parameters of build(g, ...) (a test per factory checks it)
// Optional, detected with `requires`:
//   f.cost(g)              cost::network_cost {params, flops}: the proxies report its flops
//   f.invalid_reason(g)    the failure reason for a genotype the space rejects ("invalid
//                          genotype" otherwise); static storage, as evaluation::reason is a
//                          string_view
//   f.tangent_rules()      forward-mode rules for the factory's own module kinds
//                          (tensor/forward_mode.hpp), for GraSP's exact Hessian-vector product

#include <nascent/core/rng.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <concepts>
#include <cstddef>
#include <memory>
#include <string_view>

namespace nascent::eval {

template <class F, class G>
concept NetworkFactory = std::copy_constructible<F> && requires(const F& f, const G& g, rng& gen) {
    { f.build(g, gen) } -> std::convertible_to<std::shared_ptr<tensor::nn::module>>;
    { f.input_shape() } -> std::convertible_to<tensor::shape_t>;
    { f.parameter_count(g) } -> std::convertible_to<std::size_t>;
};

/// The reason of the failed evaluation of a genotype the space rejects.
template <class F, class G>
[[nodiscard]] std::string_view invalid_reason_of(const F& factory, const G& g) {
    if constexpr (requires {
                      { factory.invalid_reason(g) } -> std::convertible_to<std::string_view>;
                  }) {
        return factory.invalid_reason(g);
    } else {
        return "invalid genotype";
    }
}

} // namespace nascent::eval
