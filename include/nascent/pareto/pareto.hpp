#pragma once
// All of nascent::pareto: objectives and point sets, dominance, non-dominated sorting, crowding
// distance, exact hypervolume, the incremental archive and quality indicators.

#include <nascent/pareto/archive.hpp>
#include <nascent/pareto/crowding.hpp>
#include <nascent/pareto/dominance.hpp>
#include <nascent/pareto/hypervolume.hpp>
#include <nascent/pareto/indicators.hpp>
#include <nascent/pareto/points.hpp>
#include <nascent/pareto/sort.hpp>
