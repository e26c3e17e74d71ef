#pragma once
// The tensor layer's reverse-mode automatic differentiation: the graph core (autograd/core.hpp)
// and every op family. Include a family's header alone where only it is needed (an MLP needs
// linear and elementwise only).

#include <nascent/tensor/autograd/activations.hpp>
#include <nascent/tensor/autograd/batch_norm.hpp>
#include <nascent/tensor/autograd/conv2d.hpp>
#include <nascent/tensor/autograd/core.hpp>
#include <nascent/tensor/autograd/elementwise.hpp>
#include <nascent/tensor/autograd/indexing.hpp>
#include <nascent/tensor/autograd/linear.hpp>
#include <nascent/tensor/autograd/loss.hpp>
#include <nascent/tensor/autograd/pool.hpp>
#include <nascent/tensor/autograd/recurrent.hpp>
#include <nascent/tensor/autograd/shape.hpp>
