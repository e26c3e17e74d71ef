#pragma once
// Measured latencies of all 15,625 NAS-Bench-201 cells on 27 devices (HELP;
// `nb201/nb201_latency.csv` of the data directory, columns: ../shared/data/README.md), in
// milliseconds. Joined with the accuracy table by official index; the loader checks that both name
// the same cell at every index.

#include <nascent/bench/names.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/space/nb201.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nascent::bench {

class nb201_latency_table {
public:
    static constexpr std::string_view relative_path = "nb201/nb201_latency.csv";

    /// Loads the latency file; `accuracy` (if given) must list the same cell at every index.
    [[nodiscard]] static nb201_latency_table load(const io::data_dir& dir,
                                                  const nb201_table* accuracy = nullptr) {
        return from_csv(io::csv_table::read(dir.file(relative_path)), accuracy);
    }

    [[nodiscard]] static nb201_latency_table from_csv(const io::csv_table& csv,
                                                      const nb201_table* accuracy = nullptr) {
        const auto col_index = csv.column("index");
        const auto col_arch = csv.column("arch");
        if (csv.rows() != nb201::num_cells) {
            throw std::invalid_argument(csv.path() + ": expected " +
                                        std::to_string(nb201::num_cells) + " data rows, found " +
                                        std::to_string(csv.rows()));
        }
        nb201_latency_table t;
        std::vector<std::size_t> device_cols;
        for (std::size_t c = 0; c < csv.columns(); ++c) {
            if (c == col_index || c == col_arch)
                continue;
            t.m_devices.emplace_back(csv.header()[c]);
            device_cols.push_back(c);
        }
        if (t.m_devices.empty())
            throw std::invalid_argument(csv.path() + ":1: no device columns");
        t.m_values.assign(t.m_devices.size(), std::vector<double>(nb201::num_cells, 0.0));
        std::vector<bool> seen(nb201::num_cells, false);
        for (std::size_t r = 0; r < csv.rows(); ++r) {
            const auto index =
                static_cast<std::uint32_t>(csv.integer(r, col_index, 0, nb201::num_cells - 1));
            if (seen[index])
                throw csv.field_error(r, col_index,
                                      "duplicate index '" + std::to_string(index) + "'");
            seen[index] = true;
            nb201::cell c;
            try {
                c = nb201::space::parse(csv.field(r, col_arch));
            } catch (const std::invalid_argument& e) {
                throw csv.field_error(r, col_arch, e.what());
            }
            if (accuracy != nullptr && accuracy->index_of(c) != index) {
                throw csv.field_error(r, col_arch,
                                      "arch '" + std::string(csv.field(r, col_arch)) +
                                          "' has index " + std::to_string(accuracy->index_of(c)) +
                                          " in the accuracy table, not " + std::to_string(index));
            }
            const auto id = nb201::space::id(c);
            for (std::size_t d = 0; d < device_cols.size(); ++d) {
                t.m_values[d][id] = csv.required_number(r, device_cols[d], io::positive_range);
            }
        }
        return t;
    }

    [[nodiscard]] const std::vector<std::string>& devices() const noexcept { return m_devices; }

    /// The column of a device; throws std::invalid_argument listing the devices.
    [[nodiscard]] std::size_t device(std::string_view name) const {
        for (std::size_t d = 0; d < m_devices.size(); ++d) {
            if (m_devices[d] == name)
                return d;
        }
        throw std::invalid_argument("unknown device '" + std::string(name) +
                                    "' (valid: " + join_names(m_devices) + ")");
    }

    /// Latency in ms of a cell on a device column.
    [[nodiscard]] double latency(const nb201::cell& c, std::size_t device) const noexcept {
        return m_values[device][nb201::space::id(c)];
    }

private:
    nb201_latency_table() = default;
    std::vector<std::string> m_devices;
    std::vector<std::vector<double>> m_values; // [device][dense cell id]
};

} // namespace nascent::bench
