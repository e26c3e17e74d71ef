#pragma once
// nascent proxies: zero-cost proxies (eval/proxies.hpp) of a random sample of distinct
// NAS-Bench-201 cells, computed in parallel, written as JSON.
//
//   nascent proxies --space nb201 --sample 500 --seed S --json FILE [--threads T] [--batch B]
//                   [--data DIR] [--fmnist DIR] [--data-free]

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace nascent::cli {

struct proxies_settings {
    std::optional<std::string> data;   ///< --data: benchmark data (for official indices)
    std::optional<std::string> json;   ///< --json FILE; without it, JSON goes to stdout
    std::optional<std::string> fmnist; ///< --fmnist DIR: Fashion-MNIST (default: Debian's)
    std::string space = "nb201";       ///< --space: only nb201 has a network
    std::size_t sample = 500;          ///< --sample: distinct cells, at most 15,625
    std::uint64_t seed = 0;            ///< --seed: cells, weights and images
    std::size_t threads = 2;           ///< --threads
    std::size_t batch = 32;            ///< --batch: images of the data-dependent proxies
    bool data_free = false;            ///< --data-free: synflow, l2_norm, params, flops
};

/// Draws `sample` distinct cells with rng(seed), computes their proxies on `threads` threads
/// (network weights from derive_seed(seed, cell id), the mini-batch from seed) and writes
/// `[{"arch": ..., "index": N, "synflow": x, ...}, ...]`, one object per line in the order drawn,
/// atomically to --json. The file is identical for any thread count. Non-finite scores are null.
/// Bad settings throw std::invalid_argument naming the value; returns 0 on success.
int compute_proxies(const proxies_settings& s);

} // namespace nascent::cli
