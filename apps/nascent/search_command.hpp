#pragma once
// nascent search: a NAS on the user's own images with real training (eval/user_search.hpp), and
// nascent evaluate-export: the exported network reloaded and scored again.
//
//   nascent search --space nb201|nb101|mbconv --strategy NAME
//                  --dataset fashion-mnist|idx:DIR|cifar-bin:DIR|npy:X.npy,Y.npy[,XT.npy,YT.npy]
//                  --epochs E --budget B [--valid-fraction F] [--subset N] [--seed S]
//                  [--in-flight K] [--threads T] [--checkpoint F | --resume F] [--json F]
//                  [--out DIR] [--arch A] ...
//   nascent evaluate-export DIR [--fmnist DIR]

#include <nascent/eval/user_search.hpp>

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace nascent::cli {

struct search_command_settings {
    eval::user_search_settings search;
    std::optional<std::string> json;
    std::optional<std::string> fmnist;
    std::string export_dir; ///< evaluate-export
};

/// Adds `search` and `evaluate-export` to `app`; returns them.
std::pair<CLI::App*, CLI::App*> add_search_commands(CLI::App& app, search_command_settings& s);

/// 0 when the search ended (and exported), 2 on bad input (thrown), interrupted: throws saying
/// how to go on.
int run_search_command(const search_command_settings& s);
/// 0 when the reloaded accuracy equals the exported one, 1 when it differs.
int run_evaluate_export(const search_command_settings& s);

} // namespace nascent::cli
