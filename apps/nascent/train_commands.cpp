// nascent train / build-table: real training of NB201 and NB101 cells on Fashion-MNIST
// (eval/training.hpp), one cell or a whole table of them.
//
// build-table writes a CSV in the style of the shipped tables, one row per cell, and can be
// interrupted and restarted: rows already in the file are kept and skipped, new rows are appended
// and flushed one at a time. Cells train in parallel (each task its own network and generators),
// but rows are appended in the order of the list, as soon as every earlier cell is done, so the
// file is always a prefix of the complete table and its content does not depend on the thread
// count. train_seconds is therefore left out unless --with-seconds asks for it. The settings that
// decide the rows are kept beside the table in FILE.settings; a restart with other settings is
// refused rather than mixing two tables in one file.

#include "commands.hpp"

#include <nascent/bench/nb201_table.hpp>
#include <nascent/eval/training.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace nascent::cli {
namespace {

namespace fs = std::filesystem;

/// The metrics of a table row, in column order, with their decimals (shipped tables: accuracies
/// in percent with at most 4 decimals).
struct metric_column {
    std::string_view name;
    int decimals;
};
constexpr metric_column table_metrics[] = {{"train_acc", 4},  {"valid_acc", 4}, {"test_acc", 4},
                                           {"train_loss", 6}, {"valid_loss", 6}, {"params", 0}};
constexpr metric_column seconds_column{"train_seconds", 3};

/// `v` with at most `decimals` decimals, trailing zeros dropped ("82.834", "17").
std::string format_number(double v, int decimals) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buffer[64];
    if (std::abs(v) >= 1e15) { // a diverged loss: no 30-digit integers
        std::snprintf(buffer, sizeof buffer, "%.6g", v);
        return buffer;
    }
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
    std::string s = buffer;
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    if (s == "-0") s = "0";
    return s;
}

fs::path fmnist_dir(const train_settings& s) {
    return s.fmnist ? fs::path(*s.fmnist) : fs::path(tensor::fashion_mnist_default_dir);
}

eval::training_options training_options(const train_settings& s) {
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
            .threads = 0,
            .data_dir = fmnist_dir(s)};
}

/// The evaluator, with Fashion-MNIST loaded; a missing data set says where it looked.
eval::training_evaluator make_evaluator(const train_settings& s, std::size_t threads) {
    auto options = training_options(s);
    options.threads = threads;
    if (s.input_channels != 1 && s.input_channels != 3) {
        throw std::invalid_argument("--input-channels " + std::to_string(s.input_channels) + " must be 1 or 3");
    }
    std::shared_ptr<const tensor::fashion_mnist> data;
    try {
        data = eval::load_fashion_mnist(fmnist_dir(s), s.input_channels);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string(e.what()) + "; or pass --fmnist DIR");
    }
    return eval::training_evaluator(options, std::move(data));
}

using any_cell = std::variant<nb201::cell, nb101::cell, mbconv::arch>;

any_cell parse_cell(const std::string& space, std::string_view text) {
    if (space == "nb101") return nb101::parse(text);
    if (space == "mbconv") return mbconv::space::parse(text);
    return nb201::space::parse(text);
}

std::string cell_string(const any_cell& c) {
    if (const auto* a = std::get_if<nb201::cell>(&c)) return nb201::space::to_string(*a);
    if (const auto* m = std::get_if<mbconv::arch>(&c)) return mbconv::space::to_string(*m);
    return nb101::to_string(std::get<nb101::cell>(c));
}

/// What makes two cells the same row: the arch string (NB201, MBConv), the module hash (NB101,
/// so isomorphic cells are one network and one row, as in the benchmark).
std::string cell_key(const any_cell& c) {
    if (const auto* b = std::get_if<nb101::cell>(&c)) return nb101::hash_hex(*b);
    return cell_string(c);
}

evaluation evaluate_cell(const eval::training_evaluator& trainer, const any_cell& c, double epochs) {
    return std::visit([&](const auto& cell) { return trainer.evaluate(cell, epochs); }, c);
}

std::string settings_line(const train_settings& s, bool official_index) {
    std::string line = "space=" + s.space + " epochs=" + format_number(s.epochs, 6) +
                       " channels=" + std::to_string(s.channels) +
                       " cells=" + std::to_string(s.cells) +
                       " input_channels=" + std::to_string(s.input_channels) +
                       " batch=" + std::to_string(s.batch) + " lr=" + format_number(s.lr, 9) +
                       " momentum=" + format_number(s.momentum, 9) +
                       " weight_decay=" + format_number(s.weight_decay, 9) +
                       " train_subset=" + std::to_string(s.train_subset) +
                       " eval_subset=" + std::to_string(s.eval_subset) +
                       " seed=" + std::to_string(s.seed);
    if (s.space == "mbconv") line += " width=" + format_number(s.width, 9);
    if (s.space == "nb201") line += official_index ? " index=official" : " index=row";
    line += s.with_seconds ? " train_seconds=1" : " train_seconds=0";
    return line + "\n";
}

// ---------------------------------------------------------------------------------------------
// The list of cells

std::string trimmed(std::string_view line) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = line.find_last_not_of(" \t\r");
    return std::string(line.substr(first, last - first + 1));
}

/// One arch string per line (blank lines ignored); duplicates are an error.
std::vector<any_cell> read_cells(const train_settings& s, const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("cannot read the arch list '" + path + "'");
    std::vector<any_cell> cells;
    std::unordered_map<std::string, std::size_t> line_of;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        const auto text = trimmed(line);
        if (text.empty()) continue;
        any_cell c;
        try {
            c = parse_cell(s.space, text);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(path + ":" + std::to_string(number) + ": " + e.what());
        }
        const auto [it, added] = line_of.emplace(cell_key(c), number);
        if (!added) {
            throw std::invalid_argument(path + ":" + std::to_string(number) +
                                        ": the same cell as line " + std::to_string(it->second));
        }
        cells.push_back(c);
    }
    if (cells.empty()) throw std::invalid_argument("the arch list '" + path + "' has no cells");
    return cells;
}

/// `n` distinct cells drawn uniformly by the space's sampler.
std::vector<any_cell> sample_cells(const train_settings& s, std::size_t n) {
    if (s.space == "nb201" && n > nb201::num_cells) {
        throw std::invalid_argument("--sample " + std::to_string(n) + " exceeds the " +
                                    std::to_string(nb201::num_cells) + " NB201 cells");
    }
    rng gen(derive_seed(s.seed, 0, 1)); // a stream of its own, apart from the training seeds
    std::vector<any_cell> cells;
    std::unordered_set<std::string> seen;
    while (cells.size() < n) {
        const any_cell c = s.space == "nb101"    ? any_cell(nb101::space::sample(gen))
                           : s.space == "mbconv" ? any_cell(mbconv::space::sample(gen))
                                                 : any_cell(nb201::space::sample(gen));
        if (seen.insert(cell_key(c)).second) cells.push_back(c);
    }
    return cells;
}

// ---------------------------------------------------------------------------------------------
// The table

struct table_layout {
    std::string space;
    bool with_seconds = false;
    std::optional<bench::nb201_table> nb201; // official indices, when available

    [[nodiscard]] std::string header() const {
        std::string h = space == "nb101"    ? "hash,num_vertices,adjacency,ops"
                        : space == "mbconv" ? "arch"
                                            : "index,arch";
        for (const auto& m : table_metrics) h += "," + std::string(m.name);
        if (with_seconds) h += "," + std::string(seconds_column.name);
        return h + "\n";
    }

    /// The key of a row (first column for NB101, second for NB201) from its text.
    [[nodiscard]] std::string key_of_row(const std::string& row) const {
        const auto comma = row.find(',');
        if (space == "nb101" || space == "mbconv") return row.substr(0, comma);
        const auto next = row.find(',', comma + 1);
        return comma == std::string::npos ? std::string() : row.substr(comma + 1, next - comma - 1);
    }

    [[nodiscard]] std::string row(const any_cell& c, std::size_t position, const evaluation& e) const {
        std::string r;
        if (const auto* a = std::get_if<nb201::cell>(&c)) {
            const std::size_t index = nb201 ? nb201->index_of(*a) : position;
            r = std::to_string(index) + "," + nb201::space::to_string(*a);
        } else if (const auto* m = std::get_if<mbconv::arch>(&c)) {
            r = mbconv::space::to_string(*m);
        } else {
            const auto& b = std::get<nb101::cell>(c);
            const auto text = nb101::to_string(b);
            const auto colon = text.find(':');
            r = nb101::hash_hex(b) + "," + std::to_string(b.num_vertices) + "," +
                text.substr(0, colon) + "," + text.substr(colon + 1);
        }
        const auto add = [&](const metric_column& m) {
            const auto v = e.metrics.get(m.name);
            // A failed evaluation leaves its accuracies and losses empty (a diverged run).
            r += ",";
            if (v && std::isfinite(*v) && (e.ok() || m.name == "params")) r += format_number(*v, m.decimals);
        };
        for (const auto& m : table_metrics) add(m);
        if (with_seconds) add(seconds_column);
        return r + "\n";
    }
};

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The keys of the rows already in `out` (after checking that it is this table); drops a last
/// line cut short by an interruption.
std::unordered_set<std::string> resume(const fs::path& out, const table_layout& layout,
                                       const std::string& settings,
                                       const std::unordered_set<std::string>& wanted) {
    std::unordered_set<std::string> done;
    std::error_code ec;
    if (!fs::exists(out, ec) || fs::file_size(out, ec) == 0) return done;
    const std::string content = read_all(out);
    const std::string header = layout.header();
    if (content.compare(0, header.size(), header) != 0) {
        const auto end = content.find('\n');
        throw std::invalid_argument("'" + out.string() + "' exists with another header ('" +
                                    content.substr(0, end) + "'): not this table; choose another --out");
    }
    const fs::path settings_path = out.string() + ".settings";
    if (!fs::exists(settings_path, ec)) {
        throw std::invalid_argument("'" + out.string() + "' exists but '" + settings_path.string() +
                                    "' does not: the settings that built it are unknown; choose another --out");
    }
    const std::string previous = read_all(settings_path);
    if (previous != settings) {
        auto strip = [](std::string t) {
            if (!t.empty() && t.back() == '\n') t.pop_back();
            return t;
        };
        throw std::invalid_argument("'" + out.string() + "' was built with other settings (" + strip(previous) +
                                    "; now " + strip(settings) + "); choose another --out");
    }
    std::size_t complete = content.rfind('\n') + 1; // whole lines only
    if (complete < content.size()) {
        std::fprintf(stderr, "nascent: note: dropping the unfinished last line of '%s'\n", out.c_str());
        fs::resize_file(out, complete);
    }
    std::size_t line_number = 1;
    for (std::size_t pos = header.size(); pos < complete; ++line_number) {
        const auto end = content.find('\n', pos);
        const std::string row = content.substr(pos, end - pos);
        pos = end + 1;
        const auto key = layout.key_of_row(row);
        if (!wanted.contains(key)) {
            throw std::invalid_argument("'" + out.string() + "' line " + std::to_string(line_number + 1) +
                                        " holds a cell that is not in this list ('" + key +
                                        "'): another list or --sample/--seed?");
        }
        done.insert(key);
    }
    return done;
}

/// Appends rows to a file, flushing each: a crash loses no finished row.
class row_writer {
public:
    explicit row_writer(const fs::path& path) : m_path(path), m_file(std::fopen(path.c_str(), "ab")) {
        if (m_file == nullptr) throw std::runtime_error("cannot write '" + path.string() + "'");
    }
    ~row_writer() {
        if (m_file != nullptr) std::fclose(m_file);
    }
    row_writer(const row_writer&) = delete;
    row_writer& operator=(const row_writer&) = delete;

    void write(const std::string& text) {
        if (std::fputs(text.c_str(), m_file) < 0 || std::fflush(m_file) != 0) {
            throw std::runtime_error("cannot write '" + m_path.string() + "'");
        }
    }

private:
    fs::path m_path;
    std::FILE* m_file;
};

/// The NB201 table for official indices: required when --data or NASCENT_DATA names a
/// directory; from the default directory only if it is there.
std::optional<bench::nb201_table> index_table(const train_settings& s) {
    const char* env = std::getenv("NASCENT_DATA");
    const bool asked = (s.data && !s.data->empty()) || (env != nullptr && *env != '\0');
    if (asked) return bench::nb201_table::load(io::resolve_data_dir(s.data, NASCENT_DEFAULT_DATA_DIR));
    try {
        return bench::nb201_table::load(io::resolve_data_dir(std::nullopt, NASCENT_DEFAULT_DATA_DIR));
    } catch (const std::exception&) {
        std::fprintf(stderr, "nascent: note: no NB201 table in the default data directory; the index "
                             "column is the row number (give --data DIR for official indices)\n");
        return std::nullopt;
    }
}

} // namespace

int train_cell(const train_settings& s) {
    const auto cell = parse_cell(s.space, s.arch);
    const auto trainer = make_evaluator(s, s.threads);
    const auto e = evaluate_cell(trainer, cell, s.epochs);
    std::printf("%-14s %s\n%-14s %s\n%-14s %s\n", "space", s.space.c_str(), "arch", cell_string(cell).c_str(),
                "epochs", format_number(s.epochs, 6).c_str());
    if (e.ok()) {
        std::printf("%-14s ok\n", "status");
    } else {
        std::printf("%-14s %s (%s)\n", "status", std::string(to_string(e.status)).c_str(),
                    std::string(e.reason).c_str());
    }
    for (std::size_t i = 0; i < e.metrics.size(); ++i) {
        const auto name = e.metrics.name(i);
        int decimals = 6;
        for (const auto& m : table_metrics) decimals = m.name == name ? m.decimals : decimals;
        if (name == seconds_column.name) decimals = seconds_column.decimals;
        std::printf("%-14s %s\n", std::string(name).c_str(), format_number(e.metrics.value(i), decimals).c_str());
    }
    return 0;
}

int build_table(const train_settings& s) {
    const auto start = clock_type::now();
    const std::vector<any_cell> cells = s.archs ? read_cells(s, *s.archs) : sample_cells(s, s.sample.value_or(0));
    table_layout layout{.space = s.space, .with_seconds = s.with_seconds, .nb201 = std::nullopt};
    if (s.space == "nb201") layout.nb201 = index_table(s);
    const auto trainer = make_evaluator(s, 0); // cells share the build's threads
    const std::string settings = settings_line(s, layout.nb201.has_value());

    std::unordered_set<std::string> wanted;
    for (const auto& c : cells) wanted.insert(cell_key(c));
    const fs::path out = s.out;
    const auto done = resume(out, layout, settings, wanted);
    std::vector<std::size_t> todo; // positions in `cells`, in order
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (!done.contains(cell_key(cells[i]))) todo.push_back(i);
    }
    if (done.empty()) { // a new table: its settings first, then the header
        io::write_file_atomically(out.string() + ".settings", settings);
        io::write_file_atomically(out, layout.header());
    }
    row_writer writer(out);

    // Workers take cells in list order; finished rows wait until every earlier one is written.
    std::vector<std::optional<std::string>> rows(todo.size());
    std::vector<std::exception_ptr> errors(todo.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex write_mutex;
    std::size_t written = 0;
    progress_bar progress("training", std::max<std::size_t>(todo.size(), 1));
    const auto worker = [&] {
        for (std::size_t k = next++; k < todo.size() && !stop; k = next++) {
            try {
                const auto& c = cells[todo[k]];
                rows[k] = layout.row(c, todo[k], evaluate_cell(trainer, c, s.epochs));
            } catch (...) {
                errors[k] = std::current_exception();
                stop = true;
            }
            const std::lock_guard lock(write_mutex);
            try {
                while (written < todo.size() && rows[written]) {
                    writer.write(*rows[written]);
                    rows[written].reset();
                    ++written;
                }
            } catch (...) {
                if (!errors[k]) errors[k] = std::current_exception();
                stop = true;
            }
            progress.update(written);
        }
    };
    tbb::task_arena arena(static_cast<int>(s.threads));
    arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, s.threads, [&](std::size_t) { worker(); });
    });
    for (const auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }
    std::printf("%s: %zu cells, %zu already there, %zu rows written (%.1f s)\n", out.c_str(), cells.size(),
                done.size(), written, seconds_since(start));
    return 0;
}

} // namespace nascent::cli
