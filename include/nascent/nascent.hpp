#pragma once
// Everything in nascent except the heavy layers: tensor/ (autograd), eval/ (training, proxies;
// they need zlib for Fashion-MNIST) and surrogate/ (Gaussian processes, predictors), which are
// included directly where used. Include single headers instead to keep compile times low.

#include <nascent/concepts.hpp>

#include <nascent/core/evaluation.hpp>
#include <nascent/core/history.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/core/stats.hpp>

#include <nascent/space/cost.hpp>
#include <nascent/space/dag_cell.hpp>
#include <nascent/space/darts.hpp>
#include <nascent/space/efficientnet.hpp>
#include <nascent/space/encodings.hpp>
#include <nascent/space/hyperparameters.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/member_space.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb101_cost.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/nb201_cost.hpp>
#include <nascent/space/product.hpp>
#include <nascent/space/regnet.hpp>

#include <nascent/ops/categorical.hpp>
#include <nascent/ops/mutation.hpp>

#include <nascent/bench/nb101_table.hpp>
#include <nascent/bench/nb201_latency.hpp>
#include <nascent/bench/nb201_objectives.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/bench/nb201_zc.hpp>

#include <nascent/pareto/constraints.hpp>
#include <nascent/pareto/pareto.hpp>
#include <nascent/pareto/scalarise.hpp>

#include <nascent/strategy/asha.hpp>
#include <nascent/strategy/bohb.hpp>
#include <nascent/strategy/hyperband.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/lstm_controller.hpp>
#include <nascent/strategy/model_based.hpp>
#include <nascent/strategy/nsga2.hpp>
#include <nascent/strategy/ppo.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>
#include <nascent/strategy/reinforce.hpp>
#include <nascent/strategy/warm_start.hpp>

#include <nascent/exec/async_simulator.hpp>
#include <nascent/exec/multi_fidelity.hpp>
#include <nascent/exec/multi_objective.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/exec/sequential.hpp>
#include <nascent/exec/tbb_executor.hpp>

#include <nascent/io/atomic_write.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/io/data_dir.hpp>
