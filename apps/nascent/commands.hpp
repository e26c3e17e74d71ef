#pragma once
// The subcommands of the nascent CLI, one translation unit per benchmark.

#include "cli.hpp"

#include <optional>
#include <string>

namespace nascent::cli {

int run_nb201(const settings& s);
int compare_nb201(settings s);
int run_nb201_multi_objective(const settings& s);
int query_nb201(const settings& s, const std::string& arch, std::optional<std::size_t> index);

int run_nb101(const settings& s);
int query_nb101(const settings& s, const std::string& arch);

int list_spaces();

} // namespace nascent::cli
