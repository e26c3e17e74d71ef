// nascent train / build-table: real training of NB201 and NB101 cells and MBConv genotypes on
// Fashion-MNIST (eval/training.hpp), one genotype or a whole table of them (eval/table_writer.hpp:
// resumable, parallel, the same file for any thread count).

#include "commands.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/eval/table_writer.hpp>
#include <nascent/eval/training.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace nascent::cli {
namespace {

namespace fs = std::filesystem;
using eval::format_number;

fs::path fmnist_dir(const train_settings& s) {
    return s.fmnist ? fs::path(*s.fmnist) : fs::path(tensor::fashion_mnist_default_dir);
}

eval::builtin_training_options training_options(const train_settings& s, std::size_t threads) {
    return {.channels = s.channels,
            .cells_per_stage = s.cells,
            .width_multiplier = s.width,
            .input_channels = s.input_channels,
            .batch_size = s.batch,
            .learning_rate = s.lr,
            .momentum = s.momentum,
            .weight_decay = s.weight_decay,
            .train_subset = s.train_subset,
            .eval_subset = s.eval_subset,
            .fidelities = {s.epochs},
            .seed = s.seed,
            .threads = threads,
            .data_dir = fmnist_dir(s)};
}

/// The evaluator of the space's genotypes, with Fashion-MNIST loaded; a missing data set says
/// where it looked.
template <class Space, class Factory>
eval::training_evaluator<Space, Factory>
make_evaluator(const train_settings& s, std::size_t threads,
               Factory (eval::builtin_training_options::*factory)() const) {
    const auto options = training_options(s, threads);
    if (s.input_channels != 1 && s.input_channels != 3) {
        throw std::invalid_argument("--input-channels " + std::to_string(s.input_channels) +
                                    " must be 1 or 3");
    }
    std::shared_ptr<const tensor::fashion_mnist> data;
    try {
        data = eval::load_fashion_mnist(fmnist_dir(s), s.input_channels);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string(e.what()) + "; or pass --fmnist DIR");
    }
    (void)eval::builtin_factory(options); // rejects bad network options, as for every space
    return {Space{}, (options.*factory)(), std::move(data), options.training()};
}

/// What the commands need of a space: its evaluator's factory and its table rows.
template <class Space, class Factory, class Rows>
struct space_kit {
    Factory (eval::builtin_training_options::*factory)() const;
    Rows rows;
};

/// Calls `f(space_kit)` for the space named by --space.
template <class F>
int with_space(const std::string& space, F&& f) {
    using o = eval::builtin_training_options;
    if (space == "nb101")
        return f(nb101::space{},
                 space_kit<nb101::space, eval::nb101_factory, eval::nb101_rows>{&o::nb101, {}});
    if (space == "mbconv")
        return f(mbconv::space{},
                 space_kit<mbconv::space, eval::mbconv_factory, eval::mbconv_rows>{&o::mbconv, {}});
    return f(nb201::space{},
             space_kit<nb201::space, eval::nb201_factory, eval::nb201_rows>{&o::nb201, {}});
}

std::string settings_line(const train_settings& s, bool official_index) {
    std::string line =
        "space=" + s.space + " epochs=" + format_number(s.epochs, 6) +
        " channels=" + std::to_string(s.channels) + " cells=" + std::to_string(s.cells) +
        " input_channels=" + std::to_string(s.input_channels) +
        " batch=" + std::to_string(s.batch) + " lr=" + format_number(s.lr, 9) +
        " momentum=" + format_number(s.momentum, 9) +
        " weight_decay=" + format_number(s.weight_decay, 9) +
        " train_subset=" + std::to_string(s.train_subset) +
        " eval_subset=" + std::to_string(s.eval_subset) + " seed=" + std::to_string(s.seed);
    if (s.space == "mbconv")
        line += " width=" + format_number(s.width, 9);
    if (s.space == "nb201")
        line += official_index ? " index=official" : " index=row";
    line += s.with_seconds ? " train_seconds=1" : " train_seconds=0";
    return line + "\n";
}

// ---------------------------------------------------------------------------------------------
// The list of genotypes

std::string trimmed(std::string_view line) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
        return {};
    const auto last = line.find_last_not_of(" \t\r");
    return std::string(line.substr(first, last - first + 1));
}

/// One arch string per line (blank lines ignored); duplicates (same row key) are an error.
template <class Space, class Rows>
std::vector<genotype_t<Space>> read_cells(const Space& space, const Rows& rows,
                                          const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw std::invalid_argument("cannot read the arch list '" + path + "'");
    std::vector<genotype_t<Space>> cells;
    std::unordered_map<std::string, std::size_t> line_of;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        const auto text = trimmed(line);
        if (text.empty())
            continue;
        genotype_t<Space> c;
        try {
            c = space.parse(text);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(path + ":" + std::to_string(number) + ": " + e.what());
        }
        const auto [it, added] = line_of.emplace(rows.key(c), number);
        if (!added) {
            throw std::invalid_argument(path + ":" + std::to_string(number) +
                                        ": the same cell as line " + std::to_string(it->second));
        }
        cells.push_back(c);
    }
    if (cells.empty())
        throw std::invalid_argument("the arch list '" + path + "' has no cells");
    return cells;
}

/// `n` distinct genotypes (by row key) drawn uniformly by the space's sampler.
template <class Space, class Rows>
std::vector<genotype_t<Space>> sample_cells(const train_settings& s, const Space& space,
                                            const Rows& rows, std::size_t n) {
    if (s.space == "nb201" && n > nb201::num_cells) {
        throw std::invalid_argument("--sample " + std::to_string(n) + " exceeds the " +
                                    std::to_string(nb201::num_cells) + " NB201 cells");
    }
    rng gen(derive_seed(s.seed, 0, 1)); // a stream of its own, apart from the training seeds
    std::vector<genotype_t<Space>> cells;
    std::unordered_set<std::string> seen;
    while (cells.size() < n) {
        const auto c = space.sample(gen);
        if (seen.insert(rows.key(c)).second)
            cells.push_back(c);
    }
    return cells;
}

/// The NB201 table for official indices: required when --data or NASCENT_DATA names a
/// directory; from the default directory only if it is there.
std::optional<bench::nb201_table> index_table(const train_settings& s) {
    const char* env = std::getenv("NASCENT_DATA");
    const bool asked = (s.data && !s.data->empty()) || (env != nullptr && *env != '\0');
    if (asked)
        return bench::nb201_table::load(io::resolve_data_dir(s.data, NASCENT_DEFAULT_DATA_DIR));
    try {
        return bench::nb201_table::load(
            io::resolve_data_dir(std::nullopt, NASCENT_DEFAULT_DATA_DIR));
    } catch (const std::exception&) {
        std::fprintf(stderr,
                     "nascent: note: no NB201 table in the default data directory; the index "
                     "column is the row number (give --data DIR for official indices)\n");
        return std::nullopt;
    }
}

} // namespace

int train_cell(const train_settings& s) {
    return with_space(s.space, [&](const auto& space, auto kit) {
        using Space = std::remove_cvref_t<decltype(space)>;
        const auto cell = space.parse(s.arch);
        const auto trainer = make_evaluator<Space>(s, s.threads, kit.factory);
        const auto e = trainer.evaluate(cell, s.epochs);
        std::printf("%-14s %s\n%-14s %s\n%-14s %s\n", "space", s.space.c_str(), "arch",
                    space.to_string(cell).c_str(), "epochs", format_number(s.epochs, 6).c_str());
        if (e.ok()) {
            std::printf("%-14s ok\n", "status");
        } else {
            std::printf("%-14s %s (%s)\n", "status", std::string(to_string(e.status)).c_str(),
                        std::string(e.reason).c_str());
        }
        for (std::size_t i = 0; i < e.metrics.size(); ++i) {
            const auto name = e.metrics.name(i);
            int decimals = 6;
            for (const auto& m : eval::table_metrics)
                decimals = m.name == name ? m.decimals : decimals;
            if (name == eval::seconds_column.name)
                decimals = eval::seconds_column.decimals;
            std::printf("%-14s %s\n", std::string(name).c_str(),
                        format_number(e.metrics.value(i), decimals).c_str());
        }
        return 0;
    });
}

int build_table(const train_settings& s) {
    const auto start = clock_type::now();
    return with_space(s.space, [&](const auto& space, auto kit) {
        using Space = std::remove_cvref_t<decltype(space)>;
        auto cells = s.archs ? read_cells(space, kit.rows, *s.archs)
                             : sample_cells(s, space, kit.rows, s.sample.value_or(0));
        bool official_index = false;
        std::optional<bench::nb201_table> table;
        if constexpr (requires { kit.rows.index_of; }) { // NB201: official indices
            table = index_table(s);
            if (table) {
                official_index = true;
                kit.rows.index_of = [&table](const nb201::cell& c) { return table->index_of(c); };
            }
        }
        const auto trainer =
            make_evaluator<Space>(s, 0, kit.factory); // cells share the build's threads
        const std::size_t count = cells.size();
        eval::table_writer writer(std::move(cells), kit.rows,
                                  {.out = s.out,
                                   .settings = settings_line(s, official_index),
                                   .with_seconds = s.with_seconds});
        if (writer.dropped_unfinished_line()) {
            std::fprintf(stderr, "nascent: note: dropping the unfinished last line of '%s'\n",
                         s.out.c_str());
        }
        progress_bar progress("training", std::max<std::size_t>(writer.todo(), 1));
        const std::size_t written = writer.write(trainer, exec::tbb_executor(s.threads),
                                                 [&](std::size_t done) { progress.update(done); });
        std::printf("%s: %zu cells, %zu already there, %zu rows written (%.1f s)\n", s.out.c_str(),
                    count, writer.already_there(), written, seconds_since(start));
        return 0;
    });
}

} // namespace nascent::cli
