#pragma once
// NAS-Bench-101 tables: cells keyed by their official NAS-Bench-101 hash, with CIFAR-10
// validation accuracies after the 4/12/36/108-epoch budgets, the parameter count and the
// 108-epoch training time (columns: ../shared/data/README.md, section 3).
//
// Two files: `nb101/nb101_1k.csv` (1,000 cells with their graphs: load) and
// `nb101/nb101_20k_acc.csv` (20,001 hashes, accuracies only: load_accuracy_only). Both cover a
// hash-ordered slice of the benchmark's 423,624 cells, so a cell missing from the table is
// common and not an error: the evaluator answers eval_status::out_of_table. Each value is a single
// training run, not a mean over the benchmark's three repeats.
//
// Metric names: "valid_acc@4", "valid_acc@12", "valid_acc@36", "valid_acc@108" (percent),
// "params" (count), "train_seconds@108".

#include <nascent/bench/names.hpp>
#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/detail/md5.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/nb101.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nascent::bench {

enum class nb101_metric : std::uint8_t {
    valid_4,
    valid_12,
    valid_36,
    valid_108,
    params,
    train_seconds_108
};
inline constexpr std::size_t nb101_num_metrics = 6;
inline constexpr std::array<std::string_view, nb101_num_metrics> nb101_metric_names{
    "valid_acc@4", "valid_acc@12", "valid_acc@36", "valid_acc@108", "params", "train_seconds@108"};

[[nodiscard]] inline nb101_metric parse_nb101_metric(std::string_view name) {
    return parse_name<nb101_metric>(nb101_metric_names, name, "metric");
}

class nb101_table;

struct nb101_evaluator_options {
    std::string_view reward = "valid_acc@108"; ///< the search objective (maximised)
};

/// Looks cells up in a table (which must outlive it). Thread-safe: lookups are const.
/// Each evaluation computes the cell's NAS-Bench-101 hash (about 10 microseconds).
class nb101_evaluator {
public:
    static constexpr auto thread_safety = nascent::thread_safety::constant;

    /// ok with all six metrics for a cell of the table; eval_status::out_of_table (not an
    /// error) for a valid cell the table lacks, or for an invalid cell.
    [[nodiscard]] evaluation evaluate(const nb101::cell& c) const;

    [[nodiscard]] nb101_metric reward_metric() const noexcept { return m_reward; }
    [[nodiscard]] const nb101_table& table() const noexcept { return *m_table; }

private:
    friend class nb101_table;
    nb101_evaluator(const nb101_table& table, nb101_metric reward)
        : m_table(&table), m_reward(reward) {}

    const nb101_table* m_table;
    nb101_metric m_reward;
};

class nb101_table {
public:
    static constexpr std::string_view relative_path = "nb101/nb101_1k.csv";
    static constexpr std::string_view accuracy_only_relative_path = "nb101/nb101_20k_acc.csv";
    static constexpr std::size_t rows_in_1k = 1000;
    static constexpr std::size_t rows_in_20k = 20001;

    using row = std::array<double, nb101_num_metrics>;
    using digest = nascent::detail::md5::digest;

    /// Loads `nb101/nb101_1k.csv` (cells with graphs) from a data directory and checks that it
    /// has all its 1,000 rows.
    [[nodiscard]] static nb101_table load(const io::data_dir& dir) {
        return checked_rows(load_file(dir.file(relative_path)), rows_in_1k);
    }
    /// Loads `nb101/nb101_20k_acc.csv` (hashes and metrics, no graphs; 20,001 rows).
    [[nodiscard]] static nb101_table load_accuracy_only(const io::data_dir& dir) {
        return checked_rows(load_accuracy_only_file(dir.file(accuracy_only_relative_path)),
                            rows_in_20k);
    }

    /// A table with graphs from any CSV with the columns of nb101_1k.csv; every malformed input
    /// throws std::invalid_argument naming the file, line and value.
    [[nodiscard]] static nb101_table load_file(const std::filesystem::path& csv_path) {
        return from_csv(io::csv_table::read(csv_path), true);
    }
    /// A table without graphs from any CSV with the columns of nb101_20k_acc.csv.
    [[nodiscard]] static nb101_table
    load_accuracy_only_file(const std::filesystem::path& csv_path) {
        return from_csv(io::csv_table::read(csv_path), false);
    }

    /// `with_graphs`: the num_vertices, adjacency and ops columns are read and every row's hash
    /// must equal the recomputed hash of its cell.
    [[nodiscard]] static nb101_table from_csv(const io::csv_table& csv, bool with_graphs);

    [[nodiscard]] std::size_t size() const noexcept { return m_rows.size(); }
    [[nodiscard]] bool has_graphs() const noexcept { return m_has_graphs; }

    /// The cells of the table in file order (pruned), so that a search can be restricted to
    /// them; empty for a table without graphs.
    [[nodiscard]] const std::vector<nb101::cell>& members() const noexcept { return m_cells; }

    /// The row of a cell (by its NAS-Bench-101 hash: a hash-map lookup), or nullopt when the
    /// table lacks it or the cell is invalid.
    [[nodiscard]] std::optional<std::size_t> find(const nb101::cell& c) const {
        if (!nb101::is_valid(c))
            return std::nullopt;
        return find(nb101::fingerprint(c));
    }
    [[nodiscard]] std::optional<std::size_t> find(const digest& hash) const {
        const auto it = m_row_of_hash.find(hash);
        if (it == m_row_of_hash.end())
            return std::nullopt;
        return it->second;
    }
    /// The row of a hash given as 32 hex digits; throws std::invalid_argument for other text.
    [[nodiscard]] std::optional<std::size_t> find_hash(std::string_view hex) const {
        const auto d = parse_digest(hex);
        if (!d) {
            throw std::invalid_argument("invalid NAS-Bench-101 hash '" + std::string(hex) +
                                        "': expected 32 lower-case hex digits");
        }
        return find(*d);
    }

    [[nodiscard]] const digest& hash_at(std::size_t r) const {
        check_row(r);
        return m_hashes[r];
    }
    [[nodiscard]] std::string hash_hex_at(std::size_t r) const {
        return nascent::detail::md5::to_hex(hash_at(r));
    }
    [[nodiscard]] const row& row_at(std::size_t r) const {
        check_row(r);
        return m_rows[r];
    }
    [[nodiscard]] double value(std::size_t r, nb101_metric m) const {
        return row_at(r)[static_cast<std::size_t>(m)];
    }

    struct optimum_t {
        std::size_t row;
        double value;
    };
    /// The largest value of a metric and the first row that reaches it.
    [[nodiscard]] optimum_t optimum(nb101_metric m) const {
        optimum_t best{0, -std::numeric_limits<double>::infinity()};
        for (std::size_t r = 0; r < m_rows.size(); ++r) {
            const double v = m_rows[r][static_cast<std::size_t>(m)];
            if (v > best.value)
                best = {r, v};
        }
        return best;
    }

    /// An evaluator answering from this table; throws std::invalid_argument for an unknown
    /// reward metric.
    [[nodiscard]] nb101_evaluator evaluator(const nb101_evaluator_options& options = {}) const {
        return {*this, parse_nb101_metric(options.reward)};
    }

    /// 32 lower-case hex digits as a digest, or nullopt.
    [[nodiscard]] static constexpr std::optional<digest>
    parse_digest(std::string_view hex) noexcept {
        if (hex.size() != 32)
            return std::nullopt;
        digest d{};
        for (std::size_t i = 0; i < 32; ++i) {
            const char ch = hex[i];
            int v = 0;
            if (ch >= '0' && ch <= '9') {
                v = ch - '0';
            } else if (ch >= 'a' && ch <= 'f') {
                v = ch - 'a' + 10;
            } else {
                return std::nullopt;
            }
            d[i / 2] = static_cast<std::uint8_t>(d[i / 2] << 4U | static_cast<unsigned>(v));
        }
        return d;
    }

private:
    nb101_table() = default;

    // Digests are uniformly distributed: their leading 64 bits are a good hash already.
    struct digest_hash {
        std::size_t operator()(const digest& d) const noexcept {
            return static_cast<std::size_t>(nb101::leading_bits(d));
        }
    };

    static nb101_table checked_rows(nb101_table t, std::size_t expected) {
        if (t.size() != expected) {
            throw std::invalid_argument(t.m_path + ": expected " + std::to_string(expected) +
                                        " data rows, found " + std::to_string(t.size()));
        }
        return t;
    }
    void check_row(std::size_t r) const {
        if (r >= m_rows.size()) {
            throw std::out_of_range("NAS-Bench-101 table row " + std::to_string(r) +
                                    " out of range (" + std::to_string(m_rows.size()) + " rows)");
        }
    }

    std::string m_path;
    bool m_has_graphs = false;
    std::vector<row> m_rows;
    std::vector<digest> m_hashes;
    std::vector<nb101::cell> m_cells; // by row; empty without graphs
    std::unordered_map<digest, std::size_t, digest_hash> m_row_of_hash;
};

inline nb101_table nb101_table::from_csv(const io::csv_table& csv, bool with_graphs) {
    // File columns of the metrics, in nb101_metric order.
    static constexpr std::array<std::string_view, nb101_num_metrics> columns{
        "valid_acc_4", "valid_acc_12", "valid_acc_36", "valid_acc_108", "params", "train_time_108"};
    const auto col_hash = csv.column("hash");
    std::array<std::size_t, nb101_num_metrics> metric_cols{};
    for (std::size_t m = 0; m < nb101_num_metrics; ++m)
        metric_cols[m] = csv.column(columns[m]);
    std::size_t col_vertices = 0;
    std::size_t col_adjacency = 0;
    std::size_t col_ops = 0;
    if (with_graphs) {
        col_vertices = csv.column("num_vertices");
        col_adjacency = csv.column("adjacency");
        col_ops = csv.column("ops");
    }
    if (csv.rows() == 0)
        throw std::invalid_argument(csv.path() + ": no data rows");

    nb101_table t;
    t.m_path = csv.path();
    t.m_has_graphs = with_graphs;
    t.m_rows.reserve(csv.rows());
    t.m_hashes.reserve(csv.rows());
    if (with_graphs)
        t.m_cells.reserve(csv.rows());
    t.m_row_of_hash.reserve(csv.rows());

    for (std::size_t r = 0; r < csv.rows(); ++r) {
        const auto hash_text = csv.field(r, col_hash);
        const auto hash = parse_digest(hash_text);
        if (!hash) {
            throw csv.field_error(r, col_hash,
                                  "expected 32 lower-case hex digits, got '" +
                                      std::string(hash_text) + "'");
        }
        if (const auto it = t.m_row_of_hash.find(*hash); it != t.m_row_of_hash.end()) {
            throw csv.field_error(r, col_hash,
                                  "duplicate hash '" + std::string(hash_text) +
                                      "' (first at line " + std::to_string(csv.line(it->second)) +
                                      ")");
        }
        if (with_graphs) {
            const auto vertices = csv.integer(r, col_vertices, 2, nb101::max_vertices);
            nb101::cell c;
            try {
                c = nb101::parse(csv.field(r, col_adjacency), csv.field(r, col_ops));
            } catch (const std::invalid_argument& e) {
                throw csv.field_error(r, col_adjacency,
                                      std::string("with column 'ops': ") + e.what());
            }
            if (c.num_vertices != vertices) {
                throw csv.field_error(r, col_vertices,
                                      "value " + std::to_string(vertices) + ", but the cell has " +
                                          std::to_string(c.num_vertices) +
                                          " vertices after pruning");
            }
            const auto computed = nb101::detail::fingerprint_of_pruned(c);
            if (computed != *hash) {
                throw csv.field_error(r, col_hash,
                                      "hash '" + std::string(hash_text) +
                                          "' is not the NAS-Bench-101 hash of the row's cell, '" +
                                          nascent::detail::md5::to_hex(computed) + "'");
            }
            t.m_cells.push_back(c);
        }
        row values{};
        for (std::size_t m = 0; m < nb101_num_metrics; ++m) {
            const auto col = metric_cols[m];
            if (static_cast<nb101_metric>(m) == nb101_metric::params) {
                values[m] = static_cast<double>(csv.integer(r, col, 1, 1'000'000'000'000LL));
                continue;
            }
            const bool accuracy = m <= static_cast<std::size_t>(nb101_metric::valid_108);
            values[m] =
                csv.required_number(r, col, accuracy ? io::percent_range : io::positive_range);
        }
        t.m_row_of_hash.emplace(*hash, r);
        t.m_hashes.push_back(*hash);
        t.m_rows.push_back(values);
    }
    return t;
}

inline evaluation nb101_evaluator::evaluate(const nb101::cell& c) const {
    const auto p = nb101::prune(c);
    if (!p || p->num_edges() > nb101::max_edges) {
        return evaluation::missing("not a valid NAS-Bench-101 cell");
    }
    const auto r = m_table->find(nb101::detail::fingerprint_of_pruned(*p));
    if (!r)
        return evaluation::missing("not in the NAS-Bench-101 table");
    const auto& values = m_table->row_at(*r);
    evaluation e;
    for (std::size_t m = 0; m < nb101_num_metrics; ++m)
        e.metrics.append(nb101_metric_names[m], values[m]);
    e.status = eval_status::ok;
    e.reward = values[static_cast<std::size_t>(m_reward)];
    return e;
}

} // namespace nascent::bench
