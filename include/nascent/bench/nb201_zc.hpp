#pragma once
// Published zero-cost proxy scores of NAS-Bench-201 cells (NASLib's zc_nasbench201.json, as
// data/zc/nb201_<dataset>.csv): a few hundred cells per dataset, each with synflow, snip, grasp,
// fisher, grad_norm, jacov, nwot, ... Used to warm-start searches and to check our own proxies.

#include <nascent/bench/nb201_table.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/io/data_dir.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nascent::bench {

class nb201_zc_scores {
public:
    struct entry {
        std::uint32_t index; ///< official NAS-Bench-201 index
        double score;        ///< NaN where the file has none
    };

    /// Reads one proxy's column of zc/nb201_<dataset>.csv. Throws std::invalid_argument (file,
    /// line, value) for a missing file, an unknown proxy or a bad row.
    [[nodiscard]] static nb201_zc_scores load(const io::data_dir& dir, std::string_view dataset,
                                              std::string_view proxy) {
        (void)parse_nb201_dataset(dataset); // a clear error for unknown names
        const auto csv = io::csv_table::read(dir.file("zc/nb201_" + std::string(dataset) + ".csv"));
        const auto column = csv.find_column(proxy);
        if (!column || proxy == "index" || proxy == "arch" || proxy == "val_acc") {
            std::string valid;
            for (const auto name : csv.header()) {
                if (name == "index" || name == "arch" || name == "val_acc")
                    continue;
                valid += (valid.empty() ? "" : ", ") + std::string(name);
            }
            throw std::invalid_argument(csv.path() + ": no proxy '" + std::string(proxy) +
                                        "' (valid: " + valid + ")");
        }
        nb201_zc_scores out;
        out.m_proxy = std::string(proxy);
        const auto index_column = csv.column("index");
        // Declared ranges: val_acc is a percentage, flops and params are sizes; the proxies'
        // scores have no sign (NASLib's plain and jacov are negative), only finiteness.
        const auto accuracy_column = csv.find_column("val_acc");
        const auto flops_column = csv.find_column("flops");
        const auto params_column = csv.find_column("params");
        std::vector<std::size_t> row_of_index(nb201::num_cells, csv.rows());
        for (std::size_t r = 0; r < csv.rows(); ++r) {
            const auto index =
                static_cast<std::uint32_t>(csv.integer(r, index_column, 0, nb201::num_cells - 1));
            if (row_of_index[index] != csv.rows()) {
                throw csv.field_error(r, index_column,
                                      "duplicate index '" + std::to_string(index) +
                                          "' (first at line " +
                                          std::to_string(csv.line(row_of_index[index])) + ")");
            }
            row_of_index[index] = r;
            if (accuracy_column)
                (void)csv.number(r, *accuracy_column, io::percent_range);
            for (const auto size_column : {flops_column, params_column}) {
                if (size_column)
                    (void)csv.number(r, *size_column, io::non_negative_range);
            }
            out.m_entries.push_back({index, csv.number(r, *column).value_or(std::nan(""))});
        }
        if (out.m_entries.empty())
            throw std::invalid_argument(csv.path() + ": no rows");
        return out;
    }

    [[nodiscard]] const std::vector<entry>& entries() const noexcept { return m_entries; }
    [[nodiscard]] const std::string& proxy() const noexcept { return m_proxy; }

private:
    std::string m_proxy;
    std::vector<entry> m_entries;
};

} // namespace nascent::bench
