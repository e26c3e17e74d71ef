#pragma once
// A resumable table of evaluations in the style of the shipped tables: one CSV row per genotype,
// written in parallel on any Executor (concepts.hpp) and safe to interrupt.
//
// Rows already in the file are kept and skipped, new rows are appended and flushed one at a
// time. Genotypes are evaluated in parallel, taken in list order, but rows are appended in the
// order of the list, as soon as every earlier genotype is done, so the file is always a prefix
// of the complete table and its content does not depend on the executor or its thread count.
// train_seconds (which varies run to run) is therefore a column only on request. The settings
// that decide the rows are kept beside the table in FILE.settings; a restart with other
// settings, onto a file with another header, or with genotypes that are not in the list is
// refused (std::invalid_argument saying which) rather than mixing two tables in one file.
//
// How a space's genotypes appear in a row is a TableRows type: the leading columns (nb201_rows:
// "index,arch"; nb101_rows: "hash,num_vertices,adjacency,ops"; mbconv_rows: "arch"), which of
// them is the key (what makes two genotypes one row), and their fields for a genotype. The
// metric columns follow (table_metrics), with empty accuracies and losses for a failed
// evaluation.
//
//     eval::table_writer table(cells, eval::nb201_rows{}, {.out = "t.csv", .settings = line});
//     table.write(trainer, exec::tbb_executor(2));

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/exec/sequential.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>

#include <array>
#include <atomic>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace nascent::eval {

/// A metric column of a table and its decimals (shipped tables: accuracies in percent with at
/// most 4 decimals).
struct metric_column {
    std::string_view name;
    int decimals;
};
inline constexpr std::array<metric_column, 6> table_metrics{{{"train_acc", 4},
                                                             {"valid_acc", 4},
                                                             {"test_acc", 4},
                                                             {"train_loss", 6},
                                                             {"valid_loss", 6},
                                                             {"params", 0}}};
inline constexpr metric_column seconds_column{"train_seconds", 3};

/// `v` with at most `decimals` decimals, trailing zeros dropped ("82.834", "17").
[[nodiscard]] inline std::string format_number(double v, int decimals) {
    if (std::isnan(v))
        return "nan";
    if (std::isinf(v))
        return v > 0 ? "inf" : "-inf";
    char buffer[64];
    if (std::abs(v) >= 1e15) { // a diverged loss: no 30-digit integers
        std::snprintf(buffer, sizeof buffer, "%.6g", v);
        return buffer;
    }
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
    std::string s = buffer;
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0')
            s.pop_back();
        if (s.back() == '.')
            s.pop_back();
    }
    if (s == "-0")
        s = "0";
    return s;
}

/// How genotypes of type G appear in a table row.
template <class R, class G>
concept TableRows = requires(const R& rows, const G& g, std::size_t position) {
    { rows.columns() } -> std::convertible_to<std::string>; ///< the leading header, no newline
    { R::key_column } -> std::convertible_to<std::size_t>;  ///< the leading column of the key
    { rows.key(g) } -> std::convertible_to<std::string>;    ///< that column's field
    /// The leading fields of g, the `position`-th genotype of the list.
    { rows.fields(g, position) } -> std::convertible_to<std::string>;
};

/// NAS-Bench-201 cells: "index,arch", keyed by the arch string. The index is `index_of(cell)`
/// (e.g. the official one from bench::nb201_table), or the position in the list without it.
struct nb201_rows {
    std::function<std::size_t(const nb201::cell&)> index_of;
    static constexpr std::size_t key_column = 1;

    [[nodiscard]] static std::string columns() { return "index,arch"; }
    [[nodiscard]] static std::string key(const nb201::cell& c) {
        return nb201::space::to_string(c);
    }
    [[nodiscard]] std::string fields(const nb201::cell& c, std::size_t position) const {
        return std::to_string(index_of ? index_of(c) : position) + "," + key(c);
    }
};

/// NAS-Bench-101 cells: "hash,num_vertices,adjacency,ops", keyed by the module hash, so that
/// isomorphic cells are one network and one row, as in the benchmark.
struct nb101_rows {
    static constexpr std::size_t key_column = 0;

    [[nodiscard]] static std::string columns() { return "hash,num_vertices,adjacency,ops"; }
    [[nodiscard]] static std::string key(const nb101::cell& c) { return nb101::hash_hex(c); }
    [[nodiscard]] static std::string fields(const nb101::cell& c, std::size_t /*position*/) {
        const auto text = nb101::to_string(c);
        const auto colon = text.find(':');
        return key(c) + "," + std::to_string(c.num_vertices) + "," + text.substr(0, colon) + "," +
               text.substr(colon + 1);
    }
};

/// MBConv genotypes: "arch", keyed by the arch string.
struct mbconv_rows {
    static constexpr std::size_t key_column = 0;

    [[nodiscard]] static std::string columns() { return "arch"; }
    [[nodiscard]] static std::string key(const mbconv::arch& a) {
        return mbconv::space::to_string(a);
    }
    [[nodiscard]] static std::string fields(const mbconv::arch& a, std::size_t /*position*/) {
        return key(a);
    }
};

struct table_options {
    std::filesystem::path out;
    /// The settings that decide the rows (one line, kept in OUT.settings); a restart must
    /// bring the same.
    std::string settings;
    bool with_seconds = false; ///< a train_seconds column
};

/// A table of `genotypes` (distinct keys) in `options.out`; see the top of this header.
template <class G, TableRows<G> Rows>
class table_writer {
public:
    /// Opens the table: checks that an existing file is this table and keeps its rows (a last
    /// line cut short by an interruption is dropped; dropped_unfinished_line() says so), or
    /// starts a new one (settings, then header). Throws std::invalid_argument naming the file.
    table_writer(std::vector<G> genotypes, Rows rows, table_options options)
        : m_genotypes(std::move(genotypes)), m_rows(std::move(rows)),
          m_options(std::move(options)) {
        std::unordered_set<std::string> wanted;
        for (const auto& g : m_genotypes)
            wanted.insert(std::string(m_rows.key(g)));
        const auto done = resume(wanted);
        for (std::size_t i = 0; i < m_genotypes.size(); ++i) {
            if (!done.contains(std::string(m_rows.key(m_genotypes[i]))))
                m_todo.push_back(i);
        }
        m_already_there = done.size();
        if (done.empty()) { // a new table: its settings first, then the header
            io::write_file_atomically(settings_path(), m_options.settings);
            io::write_file_atomically(m_options.out, header());
        }
    }

    /// Evaluates the genotypes that have no row yet on `executor` (evaluator.evaluate(g)) and
    /// appends their rows in list order; `on_row(rows written)` follows each evaluation. An
    /// exception (from an evaluation or a write) stops the workers and is rethrown here, the
    /// first in list order, after every finished earlier row is written. Returns the rows
    /// written.
    template <class E, Executor X>
    requires Evaluator<const E, G> std::size_t
    write(const E& evaluator, const X& executor,
          const std::function<void(std::size_t)>& on_row = {}) {
        row_file file(m_options.out);
        const std::size_t n = m_todo.size();
        std::vector<std::optional<std::string>> rows(n);
        std::vector<std::exception_ptr> errors(n);
        std::atomic<std::size_t> next{0};
        std::atomic<bool> stop{false};
        std::mutex write_mutex;
        std::size_t written = 0;
        // Workers take genotypes in list order; finished rows wait until every earlier one is
        // written. Nothing leaves a worker: errors are kept and rethrown below.
        const auto worker = [&](const E& ev) {
            for (std::size_t k = next++; k < n && !stop; k = next++) {
                try {
                    const auto& g = m_genotypes[m_todo[k]];
                    rows[k] = row(g, m_todo[k], ev.evaluate(g));
                } catch (...) {
                    errors[k] = std::current_exception();
                    stop = true;
                }
                const std::lock_guard lock(write_mutex);
                try {
                    while (written < n && rows[written]) {
                        file.write(*rows[written]);
                        rows[written].reset();
                        ++written;
                    }
                    if (on_row)
                        on_row(written);
                } catch (...) {
                    if (!errors[k])
                        errors[k] = std::current_exception();
                    stop = true;
                }
            }
        };
        constexpr auto safety = thread_safety_of<E>;
        if constexpr (safety == thread_safety::none) {
            exec::sequential_executor{}.for_each(1, [&](std::size_t) { worker(evaluator); });
        } else if constexpr (safety == thread_safety::constant) {
            executor.for_each(executor.concurrency(), [&](std::size_t) { worker(evaluator); });
        } else {
            executor.for_each(executor.concurrency(), [&](std::size_t) {
                const E local = evaluator;
                worker(local);
            });
        }
        for (const auto& e : errors) {
            if (e)
                std::rethrow_exception(e);
        }
        return written;
    }

    [[nodiscard]] std::string header() const {
        std::string h = m_rows.columns();
        for (const auto& m : table_metrics)
            h += "," + std::string(m.name);
        if (m_options.with_seconds)
            h += "," + std::string(seconds_column.name);
        return h + "\n";
    }
    /// The row of `g`, the `position`-th genotype of the list, for its evaluation `e`.
    [[nodiscard]] std::string row(const G& g, std::size_t position, const evaluation& e) const {
        std::string r = m_rows.fields(g, position);
        const auto add = [&](const metric_column& m) {
            const auto v = e.metrics.get(m.name);
            // A failed evaluation leaves its accuracies and losses empty (a diverged run).
            r += ",";
            if (v && std::isfinite(*v) && (e.ok() || m.name == "params")) {
                r += format_number(*v, m.decimals);
            }
        };
        for (const auto& m : table_metrics)
            add(m);
        if (m_options.with_seconds)
            add(seconds_column);
        return r + "\n";
    }

    [[nodiscard]] const std::vector<G>& genotypes() const noexcept { return m_genotypes; }
    [[nodiscard]] std::size_t already_there() const noexcept { return m_already_there; }
    /// Genotypes without a row yet.
    [[nodiscard]] std::size_t todo() const noexcept { return m_todo.size(); }
    [[nodiscard]] bool dropped_unfinished_line() const noexcept { return m_dropped; }

private:
    /// Appends rows to a file, flushing each: a crash loses no finished row.
    class row_file {
    public:
        explicit row_file(const std::filesystem::path& path)
            : m_path(path), m_file(std::fopen(path.c_str(), "ab")) {
            if (m_file == nullptr)
                throw std::runtime_error("cannot write '" + path.string() + "'");
        }
        ~row_file() {
            if (m_file != nullptr)
                std::fclose(m_file);
        }
        row_file(const row_file&) = delete;
        row_file& operator=(const row_file&) = delete;

        void write(const std::string& text) {
            if (std::fputs(text.c_str(), m_file) < 0 || std::fflush(m_file) != 0) {
                throw std::runtime_error("cannot write '" + m_path.string() + "'");
            }
        }

    private:
        std::filesystem::path m_path;
        std::FILE* m_file;
    };

    [[nodiscard]] std::filesystem::path settings_path() const {
        return m_options.out.string() + ".settings";
    }

    static std::string read_all(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    /// The key field of a row's text.
    static std::string key_of_row(const std::string& row) {
        std::size_t first = 0;
        for (std::size_t c = 0; c < Rows::key_column; ++c) {
            const auto comma = row.find(',', first);
            if (comma == std::string::npos)
                return {};
            first = comma + 1;
        }
        const auto end = row.find(',', first);
        return row.substr(first, end == std::string::npos ? std::string::npos : end - first);
    }

    /// The keys of the rows already in the file (after checking that it is this table); drops
    /// a last line cut short by an interruption.
    std::unordered_set<std::string> resume(const std::unordered_set<std::string>& wanted) {
        namespace fs = std::filesystem;
        const fs::path& out = m_options.out;
        std::unordered_set<std::string> done;
        std::error_code ec;
        if (!fs::exists(out, ec) || fs::file_size(out, ec) == 0)
            return done;
        const std::string content = read_all(out);
        const std::string head = header();
        if (content.compare(0, head.size(), head) != 0) {
            const auto end = content.find('\n');
            throw std::invalid_argument("'" + out.string() + "' exists with another header ('" +
                                        content.substr(0, end) +
                                        "'): not this table; choose another --out");
        }
        if (!fs::exists(settings_path(), ec)) {
            throw std::invalid_argument("'" + out.string() + "' exists but '" +
                                        settings_path().string() +
                                        "' does not: the settings that built it are unknown; "
                                        "choose another --out");
        }
        const std::string previous = read_all(settings_path());
        if (previous != m_options.settings) {
            const auto strip = [](std::string t) {
                if (!t.empty() && t.back() == '\n')
                    t.pop_back();
                return t;
            };
            throw std::invalid_argument("'" + out.string() + "' was built with other settings (" +
                                        strip(previous) + "; now " + strip(m_options.settings) +
                                        "); choose another --out");
        }
        const std::size_t complete = content.rfind('\n') + 1; // whole lines only
        if (complete < content.size()) {
            m_dropped = true;
            fs::resize_file(out, complete);
        }
        std::size_t line_number = 1;
        for (std::size_t pos = head.size(); pos < complete; ++line_number) {
            const auto end = content.find('\n', pos);
            const std::string row_text = content.substr(pos, end - pos);
            pos = end + 1;
            const auto key = key_of_row(row_text);
            if (!wanted.contains(key)) {
                throw std::invalid_argument("'" + out.string() + "' line " +
                                            std::to_string(line_number + 1) +
                                            " holds a cell that is not in this list ('" + key +
                                            "'): another list or --sample/--seed?");
            }
            done.insert(key);
        }
        return done;
    }

    std::vector<G> m_genotypes;
    Rows m_rows;
    table_options m_options;
    std::vector<std::size_t> m_todo; // positions in m_genotypes, in order
    std::size_t m_already_there = 0;
    bool m_dropped = false;
};

template <class G, class Rows>
table_writer(std::vector<G>, Rows, table_options) -> table_writer<G, Rows>;

} // namespace nascent::eval
