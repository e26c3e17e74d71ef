// nascent proxies: zero-cost proxies of sampled NAS-Bench-201 cells (see proxies_command.hpp).

#include "proxies_command.hpp"

#include "cli.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/eval/proxies.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/space/nb201.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace nascent::cli {

namespace {

void check(const proxies_settings& s) {
    if (s.space != "nb201") {
        throw std::invalid_argument("proxies: space '" + s.space +
                                    "' has no network to score (valid: nb201)");
    }
    if (s.sample == 0 || s.sample > nb201::num_cells) {
        throw std::invalid_argument("proxies: --sample " + std::to_string(s.sample) +
                                    " outside [1, " + std::to_string(nb201::num_cells) + "]");
    }
    if (s.threads == 0)
        throw std::invalid_argument("proxies: --threads 0 (needs >= 1)");
    if (!s.data_free && s.batch < 2) {
        throw std::invalid_argument("proxies: --batch " + std::to_string(s.batch) +
                                    " (needs >= 2: jacob_cov and nwot compare samples)");
    }
}

/// `count` distinct cells, uniformly without replacement (a partial Fisher-Yates over ids).
std::vector<nb201::cell> sample_cells(std::size_t count, std::uint64_t seed) {
    std::vector<std::uint64_t> ids(nb201::num_cells);
    std::iota(ids.begin(), ids.end(), std::uint64_t{0});
    rng gen(seed);
    std::vector<nb201::cell> cells;
    cells.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        std::swap(ids[i], ids[i + uniform_index(gen, ids.size() - i)]);
        cells.push_back(nb201::space::at(ids[i]));
    }
    return cells;
}

} // namespace

int compute_proxies(const proxies_settings& s) {
    check(s);
    const auto start = clock_type::now();
    const auto table =
        bench::nb201_table::load(io::resolve_data_dir(s.data, NASCENT_DEFAULT_DATA_DIR));
    const auto cells = sample_cells(s.sample, s.seed);

    eval::proxy_options options{.seed = s.seed, .data_dependent = !s.data_free};
    eval::proxy_batch batch;
    if (!s.data_free) {
        batch = eval::fashion_mnist_batch(
            s.batch, s.seed, s.fmnist.value_or(std::string(tensor::fashion_mnist_default_dir)));
    }

    std::vector<eval::proxy_scores> scores(cells.size());
    progress_bar progress("proxies", cells.size());
    std::atomic<std::size_t> done{0};
    const double setup_seconds = seconds_since(start);
    const auto compute_start = clock_type::now();
    // One network per task; tbb_executor catches anything a task throws and rethrows it here.
    exec::tbb_executor(s.threads).for_each(cells.size(), [&](std::size_t i) {
        scores[i] = eval::nb201_proxies(cells[i], options, s.data_free ? nullptr : &batch);
        progress.update(++done);
    });
    const double compute_seconds = seconds_since(compute_start);

    std::string out = "[\n";
    for (std::size_t i = 0; i < cells.size(); ++i) {
        nlohmann::ordered_json row;
        row["arch"] = nb201::space::to_string(cells[i]);
        row["index"] = table.index_of(cells[i]);
        for (const auto& f : eval::proxy_fields) {
            if (f.data_dependent && s.data_free)
                continue;
            row[std::string(f.name)] = number(scores[i].*f.value);
        }
        out += "  " + row.dump() + (i + 1 < cells.size() ? ",\n" : "\n");
    }
    out += "]\n";

    std::FILE* summary = s.json ? stdout : stderr;
    if (s.json) {
        io::write_file_atomically(*s.json, out);
    } else {
        std::fputs(out.c_str(), stdout);
    }
    std::fprintf(summary,
                 "nb201 proxies%s: %zu cells, seed %llu, batch %zu, %zu threads: %.1f s (%.2f "
                 "cells/s), setup %.1f s\n",
                 s.data_free ? " (data-free)" : "", cells.size(),
                 static_cast<unsigned long long>(s.seed), s.data_free ? std::size_t{0} : s.batch,
                 s.threads, compute_seconds, static_cast<double>(cells.size()) / compute_seconds,
                 setup_seconds);
    if (s.json)
        std::fprintf(summary, "wrote %s\n", s.json->c_str());
    return 0;
}

} // namespace nascent::cli
