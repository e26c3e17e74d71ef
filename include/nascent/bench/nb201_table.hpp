#pragma once
// The NAS-Bench-201 tabular benchmark: all 15,625 cells with their accuracies on CIFAR-10,
// CIFAR-100 and ImageNet16-120 after 12 and 200 epochs, loaded from `nb201/nb201.csv` of the data
// directory (columns: ../shared/data/README.md). Missing values stay missing (nullopt / failed
// evaluation), never 0.
//
// Metric names: "valid_acc@12", "test_acc@12", "valid_acc@200", "test_acc@200" (percent),
// "params_m" (millions). 200-epoch validation accuracy exists for CIFAR-10 only.

#include <nascent/bench/names.hpp>
#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/nb201.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::bench {

enum class nb201_dataset : std::uint8_t { cifar10, cifar100, imagenet16_120 };

inline constexpr std::array<std::string_view, 3> nb201_dataset_names{"cifar10", "cifar100",
                                                                     "imagenet16-120"};

[[nodiscard]] inline nb201_dataset parse_nb201_dataset(std::string_view name) {
    return parse_name<nb201_dataset>(nb201_dataset_names, name, "dataset");
}

/// The accuracy metrics of a cell on one dataset, in this order.
enum class nb201_metric : std::uint8_t { valid_12, test_12, valid_200, test_200 };
inline constexpr std::size_t nb201_num_metrics = 4;
inline constexpr std::array<std::string_view, nb201_num_metrics> nb201_metric_names{
    "valid_acc@12", "test_acc@12", "valid_acc@200", "test_acc@200"};

[[nodiscard]] inline nb201_metric parse_nb201_metric(std::string_view name) {
    return parse_name<nb201_metric>(nb201_metric_names, name, "metric");
}

class nb201_table;

struct nb201_evaluator_options {
    std::string_view dataset = "cifar10";
    std::string_view reward = "valid_acc@12"; ///< the search objective
};

/// Looks cells up in a table (which must outlive it). Thread-safe: lookups are const.
class nb201_evaluator {
public:
    static constexpr auto thread_safety = nascent::thread_safety::constant;

    [[nodiscard]] evaluation evaluate(const nb201::cell& c) const {
        return evaluate_with_reward(c, m_reward);
    }

    /// Evaluation at a fidelity (epochs): the reward is the validation accuracy after that many
    /// epochs. Fidelities are 12 and, for CIFAR-10 (the only dataset with a 200-epoch validation
    /// accuracy in the table), 200; any other value gives a failed evaluation.
    [[nodiscard]] evaluation evaluate(const nb201::cell& c, double fidelity) const {
        if (fidelity == 12.0)
            return evaluate_with_reward(c, nb201_metric::valid_12);
        if (fidelity == 200.0 && m_fidelities.size() == 2) {
            return evaluate_with_reward(c, nb201_metric::valid_200);
        }
        return evaluation::failure("fidelity not in the NAS-Bench-201 table");
    }

    /// The fidelities (epochs) at which this dataset has a validation accuracy, ascending.
    [[nodiscard]] const std::vector<double>& fidelities() const noexcept { return m_fidelities; }

    [[nodiscard]] nb201_dataset dataset() const noexcept { return m_dataset; }
    [[nodiscard]] nb201_metric reward_metric() const noexcept { return m_reward; }
    [[nodiscard]] const nb201_table& table() const noexcept { return *m_table; }

private:
    friend class nb201_table;
    nb201_evaluator(const nb201_table& table, nb201_dataset d, nb201_metric reward);

    [[nodiscard]] evaluation evaluate_with_reward(const nb201::cell& c, nb201_metric reward) const;

    const nb201_table* m_table;
    nb201_dataset m_dataset;
    nb201_metric m_reward;
    std::vector<double> m_fidelities;
};

class nb201_table {
public:
    static constexpr std::string_view relative_path = "nb201/nb201.csv";
    using row = std::array<double, nb201_num_metrics>; ///< NaN = missing

    /// Loads `nb201/nb201.csv` from a data directory.
    [[nodiscard]] static nb201_table load(const io::data_dir& dir) {
        return load_file(dir.file(relative_path));
    }

    /// Loads the table from a CSV file; every malformed input throws std::invalid_argument
    /// naming the file, line and value.
    [[nodiscard]] static nb201_table load_file(const std::filesystem::path& csv_path) {
        return from_csv(io::csv_table::read(csv_path));
    }

    [[nodiscard]] static nb201_table from_csv(const io::csv_table& csv);

    [[nodiscard]] static constexpr std::size_t size() noexcept { return nb201::num_cells; }

    /// The official NAS-Bench-201 index of a cell (an array lookup, no search).
    [[nodiscard]] std::uint32_t index_of(const nb201::cell& c) const noexcept {
        return m_index_of_id[nb201::space::id(c)];
    }
    /// The index of an arch string; throws std::invalid_argument for an invalid string.
    [[nodiscard]] std::uint32_t index_of(std::string_view arch) const {
        return index_of(nb201::space::parse(arch));
    }
    /// The cell at an official index; throws std::out_of_range for index >= 15,625.
    [[nodiscard]] nb201::cell cell_at(std::uint64_t index) const {
        check_index(index);
        return nb201::space::at(m_id_of_index[index]);
    }
    /// The smallest index of the cell's isomorphism class (the table's `iso` column).
    [[nodiscard]] std::uint32_t iso(std::uint64_t index) const {
        check_index(index);
        return m_iso[index];
    }

    /// An accuracy in percent, or nullopt where the table has none.
    [[nodiscard]] std::optional<double> accuracy(std::uint64_t index, nb201_dataset d,
                                                 nb201_metric m) const {
        check_index(index);
        return present(
            m_rows[static_cast<std::size_t>(d)][m_id_of_index[index]][static_cast<std::size_t>(m)]);
    }
    [[nodiscard]] std::optional<double> params_m(std::uint64_t index) const {
        check_index(index);
        return present(m_params_m[m_id_of_index[index]]);
    }
    [[nodiscard]] std::optional<double> naswot(std::uint64_t index) const {
        check_index(index);
        return present(m_naswot[m_id_of_index[index]]);
    }

    /// Whether metric m exists for dataset d at all (200-epoch validation: CIFAR-10 only).
    [[nodiscard]] bool has_metric(nb201_dataset d, nb201_metric m) const noexcept {
        return m_has_metric[static_cast<std::size_t>(d)][static_cast<std::size_t>(m)];
    }

    struct optimum_t {
        std::uint32_t index;
        double value;
    };
    /// The best value of a metric over the table and the first index that reaches it.
    [[nodiscard]] optimum_t optimum(nb201_dataset d, nb201_metric m) const {
        require_metric(d, m);
        optimum_t best{0, -std::numeric_limits<double>::infinity()};
        for (std::uint32_t i = 0; i < size(); ++i) {
            const double v =
                m_rows[static_cast<std::size_t>(d)][m_id_of_index[i]][static_cast<std::size_t>(m)];
            if (v > best.value)
                best = {i, v};
        }
        return best;
    }

    /// An evaluator answering from this table; throws std::invalid_argument for an unknown
    /// dataset or metric, or a metric the table lacks for that dataset.
    [[nodiscard]] nb201_evaluator evaluator(const nb201_evaluator_options& options = {}) const {
        const auto d = parse_nb201_dataset(options.dataset);
        const auto m = parse_nb201_metric(options.reward);
        require_metric(d, m);
        return {*this, d, m};
    }

    /// The metrics row of a dense cell id (see nb201::space::id) for a dataset.
    [[nodiscard]] const row& row_of_id(nb201_dataset d, std::uint64_t id) const noexcept {
        return m_rows[static_cast<std::size_t>(d)][id];
    }
    [[nodiscard]] double params_m_of_id(std::uint64_t id) const noexcept { return m_params_m[id]; }

private:
    nb201_table() = default;

    static std::optional<double> present(double v) noexcept {
        return std::isnan(v) ? std::nullopt : std::optional<double>(v);
    }
    static void check_index(std::uint64_t index) {
        if (index >= nb201::num_cells) {
            throw std::out_of_range("NAS-Bench-201 index " + std::to_string(index) +
                                    " out of range [0, 15624]");
        }
    }
    void require_metric(nb201_dataset d, nb201_metric m) const {
        if (!has_metric(d, m)) {
            throw std::invalid_argument(
                "metric '" + std::string(nb201_metric_names[static_cast<std::size_t>(m)]) +
                "' is not in the NAS-Bench-201 table for " +
                std::string(nb201_dataset_names[static_cast<std::size_t>(d)]));
        }
    }

    // Everything is stored by dense cell id (nb201::space::id) so that evaluation is one load.
    std::array<std::vector<row>, 3> m_rows;
    std::vector<double> m_params_m;
    std::vector<double> m_naswot;
    std::vector<std::uint32_t> m_index_of_id;
    std::vector<std::uint16_t> m_id_of_index;
    std::vector<std::uint32_t> m_iso; // by official index
    std::array<std::array<bool, nb201_num_metrics>, 3> m_has_metric{};
};

inline nb201_table nb201_table::from_csv(const io::csv_table& csv) {
    constexpr double missing = std::numeric_limits<double>::quiet_NaN();
    // Column of (dataset, metric) in the file, or "" where the benchmark has no such value.
    static constexpr std::array<std::array<std::string_view, nb201_num_metrics>, 3> columns{{
        {"c10_valid_12", "c10_test_12", "c10_valid_200", "c10_test_200"},
        {"c100_valid_12", "c100_test_12", "", "c100_test_200"},
        {"in16_valid_12", "in16_test_12", "", "in16_test_200"},
    }};

    const auto col_index = csv.column("index");
    const auto col_arch = csv.column("arch");
    const auto col_iso = csv.column("iso");
    const auto col_params = csv.column("params_m");
    const auto col_naswot = csv.column("naswot");
    std::array<std::array<std::optional<std::size_t>, nb201_num_metrics>, 3> metric_cols{};
    for (std::size_t d = 0; d < 3; ++d) {
        for (std::size_t m = 0; m < nb201_num_metrics; ++m) {
            if (!columns[d][m].empty())
                metric_cols[d][m] = csv.column(columns[d][m]);
        }
    }
    if (csv.rows() != nb201::num_cells) {
        throw std::invalid_argument(csv.path() + ": expected " + std::to_string(nb201::num_cells) +
                                    " data rows, found " + std::to_string(csv.rows()));
    }

    nb201_table t;
    const std::size_t n = nb201::num_cells;
    for (auto& rows : t.m_rows)
        rows.assign(n, row{missing, missing, missing, missing});
    t.m_params_m.assign(n, missing);
    t.m_naswot.assign(n, missing);
    constexpr auto unset = std::numeric_limits<std::uint32_t>::max();
    t.m_index_of_id.assign(n, unset);
    t.m_id_of_index.assign(n, 0);
    t.m_iso.assign(n, 0);
    std::vector<std::size_t> row_of_index(n, n);

    for (std::size_t r = 0; r < csv.rows(); ++r) {
        const auto index = static_cast<std::uint32_t>(csv.integer(r, col_index, 0, n - 1));
        if (row_of_index[index] != n) {
            throw csv.field_error(r, col_index,
                                  "duplicate index '" + std::to_string(index) +
                                      "' (first at line " +
                                      std::to_string(csv.line(row_of_index[index])) + ")");
        }
        row_of_index[index] = r;
        nb201::cell c;
        try {
            c = nb201::space::parse(csv.field(r, col_arch));
        } catch (const std::invalid_argument& e) {
            throw csv.field_error(r, col_arch, e.what());
        }
        const auto id = nb201::space::id(c);
        if (t.m_index_of_id[id] != unset) {
            throw csv.field_error(r, col_arch,
                                  "arch '" + std::string(csv.field(r, col_arch)) +
                                      "' repeats the arch of index " +
                                      std::to_string(t.m_index_of_id[id]));
        }
        t.m_index_of_id[id] = index;
        t.m_id_of_index[index] = static_cast<std::uint16_t>(id);
        // iso is the smallest index of the class, so never above the row's own index.
        t.m_iso[index] = static_cast<std::uint32_t>(csv.integer(r, col_iso, 0, index));
        for (std::size_t d = 0; d < 3; ++d) {
            for (std::size_t m = 0; m < nb201_num_metrics; ++m) {
                if (metric_cols[d][m]) {
                    t.m_rows[d][id][m] =
                        csv.number(r, *metric_cols[d][m], io::percent_range).value_or(missing);
                }
            }
        }
        t.m_params_m[id] = csv.number(r, col_params, io::non_negative_range).value_or(missing);
        t.m_naswot[id] = csv.number(r, col_naswot).value_or(missing);
    }
    // 15,625 distinct valid indices and 15,625 distinct valid cells: both maps are bijections.
    // A class representative is its own class: iso[iso[i]] == iso[i].
    for (std::size_t i = 0; i < n; ++i) {
        const auto rep = t.m_iso[i];
        if (t.m_iso[rep] != rep) {
            throw csv.field_error(
                row_of_index[i], col_iso,
                "iso '" + std::to_string(rep) + "' is not a class representative" + " (index " +
                    std::to_string(rep) + " has iso " + std::to_string(t.m_iso[rep]) + ")");
        }
    }
    for (std::size_t d = 0; d < 3; ++d) {
        for (std::size_t m = 0; m < nb201_num_metrics; ++m) {
            t.m_has_metric[d][m] = metric_cols[d][m].has_value();
        }
    }
    return t;
}

inline nb201_evaluator::nb201_evaluator(const nb201_table& table, nb201_dataset d,
                                        nb201_metric reward)
    : m_table(&table), m_dataset(d), m_reward(reward), m_fidelities{12.0} {
    if (table.has_metric(d, nb201_metric::valid_200))
        m_fidelities.push_back(200.0);
}

inline evaluation nb201_evaluator::evaluate_with_reward(const nb201::cell& c,
                                                        nb201_metric reward_metric) const {
    const auto id = nb201::space::id(c);
    const auto& values = m_table->row_of_id(m_dataset, id);
    const double reward = values[static_cast<std::size_t>(reward_metric)];
    evaluation e;
    for (std::size_t m = 0; m < nb201_num_metrics; ++m) {
        if (!std::isnan(values[m]))
            e.metrics.append(nb201_metric_names[m], values[m]);
    }
    if (const double p = m_table->params_m_of_id(id); !std::isnan(p))
        e.metrics.append("params_m", p);
    if (std::isnan(reward)) {
        e.reason = "reward missing in the NAS-Bench-201 table";
        return e; // status failed, reward -inf
    }
    e.status = eval_status::ok;
    e.reward = reward;
    return e;
}

} // namespace nascent::bench
