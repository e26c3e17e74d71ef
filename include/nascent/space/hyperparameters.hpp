#pragma once
// Training hyper-parameters as a categorical space, for joint NAS + HPO through product_space:
// each named dimension takes one of a list of values (learning rates, weight decays, batch
// sizes...). The genotype holds choice indices, so point mutation, crossover and neighbourhoods
// of ops/categorical.hpp apply.

#include <nascent/core/rng.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent::space {

struct hyperparameter {
    std::string name;
    std::vector<double> values;
};

class hyperparameter_space {
public:
    using genotype = std::vector<std::uint8_t>;

    /// Throws std::invalid_argument for no dimensions, an empty or over-long value list, or a
    /// repeated or malformed name.
    hyperparameter_space(std::initializer_list<hyperparameter> dims) : m_dims(dims) {
        if (m_dims.empty())
            throw std::invalid_argument("hyperparameter_space: no dimensions");
        for (std::size_t i = 0; i < m_dims.size(); ++i) {
            const auto& d = m_dims[i];
            if (d.name.empty() || d.name.find_first_of("=,[]") != std::string::npos)
                throw std::invalid_argument("hyperparameter_space: invalid name '" + d.name + "'");
            if (d.values.empty() || d.values.size() > 255)
                throw std::invalid_argument("hyperparameter_space: '" + d.name +
                                            "' needs 1 to 255 values, got " +
                                            std::to_string(d.values.size()));
            for (std::size_t j = 0; j < i; ++j) {
                if (m_dims[j].name == d.name)
                    throw std::invalid_argument("hyperparameter_space: repeated name '" + d.name +
                                                "'");
            }
        }
    }

    [[nodiscard]] std::size_t positions() const noexcept { return m_dims.size(); }
    [[nodiscard]] std::size_t choices(std::size_t i) const noexcept {
        return m_dims[i].values.size();
    }
    [[nodiscard]] const std::vector<hyperparameter>& dimensions() const noexcept { return m_dims; }

    [[nodiscard]] std::uint64_t size() const noexcept {
        std::uint64_t n = 1;
        for (const auto& d : m_dims)
            n *= d.values.size();
        return n;
    }
    [[nodiscard]] std::uint64_t id(const genotype& g) const noexcept {
        std::uint64_t id = 0;
        for (std::size_t i = m_dims.size(); i-- > 0;)
            id = id * m_dims[i].values.size() + g[i];
        return id;
    }
    [[nodiscard]] genotype at(std::uint64_t id) const {
        genotype g(m_dims.size());
        for (std::size_t i = 0; i < m_dims.size(); ++i) {
            g[i] = static_cast<std::uint8_t>(id % m_dims[i].values.size());
            id /= m_dims[i].values.size();
        }
        return g;
    }

    template <RandomGenerator G>
    [[nodiscard]] genotype sample(G& gen) const {
        genotype g(m_dims.size());
        for (std::size_t i = 0; i < m_dims.size(); ++i) {
            g[i] = static_cast<std::uint8_t>(uniform_index(gen, m_dims[i].values.size()));
        }
        return g;
    }

    [[nodiscard]] bool is_valid(const genotype& g) const noexcept {
        if (g.size() != m_dims.size())
            return false;
        for (std::size_t i = 0; i < g.size(); ++i) {
            if (g[i] >= m_dims[i].values.size())
                return false;
        }
        return true;
    }
    [[nodiscard]] std::uint64_t hash(const genotype& g) const noexcept { return id(g); }

    /// The value of the named dimension; throws std::invalid_argument for an unknown name.
    [[nodiscard]] double value(const genotype& g, std::string_view name) const {
        return m_dims[index_of(name)].values[g[index_of(name)]];
    }

    /// "lr=0.1,wd=0.0005"
    [[nodiscard]] std::string to_string(const genotype& g) const {
        std::string s;
        for (std::size_t i = 0; i < m_dims.size(); ++i) {
            if (i > 0)
                s += ',';
            s += m_dims[i].name + "=" + format(m_dims[i].values[g[i]]);
        }
        return s;
    }

    /// Parses "name=value,..." with every dimension once, values from the lists.
    [[nodiscard]] genotype parse(std::string_view text) const {
        auto fail = [&](const std::string& what) {
            return std::invalid_argument("invalid hyper-parameters '" + std::string(text) +
                                         "': " + what);
        };
        genotype g(m_dims.size(), 0xff);
        std::size_t pos = 0;
        while (pos <= text.size()) {
            const auto end = std::min(text.find(',', pos), text.size());
            const auto item = text.substr(pos, end - pos);
            const auto eq = item.find('=');
            if (eq == std::string_view::npos)
                throw fail("entry '" + std::string(item) + "' is not name=value");
            const auto name = item.substr(0, eq);
            const auto value = item.substr(eq + 1);
            std::size_t d = m_dims.size();
            for (std::size_t i = 0; i < m_dims.size(); ++i) {
                if (m_dims[i].name == name)
                    d = i;
            }
            if (d == m_dims.size())
                throw fail("unknown name '" + std::string(name) + "'");
            if (g[d] != 0xff)
                throw fail("'" + std::string(name) + "' given twice");
            for (std::size_t j = 0; j < m_dims[d].values.size(); ++j) {
                if (format(m_dims[d].values[j]) == value)
                    g[d] = static_cast<std::uint8_t>(j);
            }
            if (g[d] == 0xff)
                throw fail("'" + std::string(value) + "' is not a value of '" + std::string(name) +
                           "'");
            pos = end + 1;
        }
        for (std::size_t i = 0; i < m_dims.size(); ++i) {
            if (g[i] == 0xff)
                throw fail("missing '" + m_dims[i].name + "'");
        }
        return g;
    }

private:
    [[nodiscard]] std::size_t index_of(std::string_view name) const {
        for (std::size_t i = 0; i < m_dims.size(); ++i) {
            if (m_dims[i].name == name)
                return i;
        }
        throw std::invalid_argument("hyperparameter_space: unknown dimension '" +
                                    std::string(name) + "'");
    }
    static std::string format(double v) {
        char buffer[32];
        const int n = std::snprintf(buffer, sizeof buffer, "%.10g", v);
        return {buffer, static_cast<std::size_t>(n)};
    }

    std::vector<hyperparameter> m_dims;
};

} // namespace nascent::space
