#pragma once
// Everything in nascent. Include single headers instead to keep compile times low.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/core/history.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/core/stats.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/ops/categorical.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/exec/sequential.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/io/atomic_write.hpp>
