#pragma once
// A module's parameters and buffers (running statistics) in one binary file, in module::state()
// order (named_parameters(), then named_buffers()), each tensor with its name and shape, so that
// a network rebuilt from its architecture gets them back with load_state, and other tools can read
// them without this library. Every number is little-endian:
//
//   8 bytes   "NASCENTW"
//   u32       format version (1)
//   u32       tensor count T
//   T times:  u32 name length L, L bytes of name (UTF-8, e.g. "cells.0.edges.3.conv.weight"),
//             u32 rank R, R x u64 dimensions, then prod(dimensions) x float32 values (C order)
//
// Reading checks the magic, the version, every length against the file size, and (load_weights)
// every name and shape against the network's; any mismatch throws std::invalid_argument naming
// the file and the tensor.

#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nascent::tensor {

inline constexpr std::uint32_t weights_file_version = 1;

/// A named tensor of a weights file.
struct named_array {
    std::string name;
    ndarray value;
};

/// The parameters, then the buffers, of `net` with their names.
[[nodiscard]] inline std::vector<named_array> named_state(const nn::module& net) {
    std::vector<named_array> out;
    for (const auto& [name, p] : net.named_parameters())
        out.push_back({name, p.value()});
    for (const auto& [name, b] : net.named_buffers())
        out.push_back({name, *b});
    return out;
}

namespace detail {
template <class T>
void put(std::string& out, T v) {
    char bytes[sizeof v];
    std::memcpy(bytes, &v, sizeof v); // little-endian targets (x86-64, AArch64)
    out.append(bytes, sizeof v);
}
} // namespace detail

/// The file's bytes for `tensors`.
[[nodiscard]] inline std::string encode_weights(const std::vector<named_array>& tensors) {
    std::string out = "NASCENTW";
    detail::put(out, weights_file_version);
    detail::put(out, static_cast<std::uint32_t>(tensors.size()));
    for (const auto& t : tensors) {
        detail::put(out, static_cast<std::uint32_t>(t.name.size()));
        out += t.name;
        detail::put(out, static_cast<std::uint32_t>(t.value.shape().size()));
        for (const auto d : t.value.shape())
            detail::put(out, static_cast<std::uint64_t>(d));
        out.append(reinterpret_cast<const char*>(t.value.data()), t.value.size() * sizeof(float));
    }
    return out;
}

/// Reads a weights file (the format at the top of this header).
[[nodiscard]] inline std::vector<named_array> read_weights(const std::filesystem::path& path) {
    const std::string name = "'" + path.string() + "'";
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::invalid_argument("cannot read weights file " + name);
    std::ostringstream content;
    content << in.rdbuf();
    const std::string bytes = std::move(content).str();
    std::size_t at = 0;
    const auto need = [&](std::size_t n, const char* what) {
        if (bytes.size() - at < n)
            throw std::invalid_argument(name + ": truncated weights file (in " + what + ")");
    };
    const auto get32 = [&](const char* what) {
        need(4, what);
        std::uint32_t v = 0;
        std::memcpy(&v, bytes.data() + at, 4);
        at += 4;
        return v;
    };
    need(8, "the magic");
    if (bytes.compare(0, 8, "NASCENTW") != 0)
        throw std::invalid_argument(name + ": not a nascent weights file (bad magic)");
    at = 8;
    const std::uint32_t version = get32("the version");
    if (version != weights_file_version) {
        throw std::invalid_argument(name + ": weights format version " + std::to_string(version) +
                                    " (this build reads " + std::to_string(weights_file_version) +
                                    ")");
    }
    const std::uint32_t count = get32("the tensor count");
    std::vector<named_array> out;
    for (std::uint32_t t = 0; t < count; ++t) {
        const std::uint32_t length = get32("a name length");
        need(length, "a name");
        std::string tensor_name = bytes.substr(at, length);
        at += length;
        const std::uint32_t rank = get32("a rank");
        if (rank > 8)
            throw std::invalid_argument(name + ": tensor '" + tensor_name + "' of rank " +
                                        std::to_string(rank));
        shape_t shape;
        std::size_t elements = 1;
        for (std::uint32_t r = 0; r < rank; ++r) {
            need(8, "a dimension");
            std::uint64_t d = 0;
            std::memcpy(&d, bytes.data() + at, 8);
            at += 8;
            if (d > (std::uint64_t{1} << 32U))
                throw std::invalid_argument(name + ": tensor '" + tensor_name +
                                            "' has a dimension of " + std::to_string(d));
            shape.push_back(static_cast<std::size_t>(d));
            elements *= static_cast<std::size_t>(d);
        }
        need(elements * sizeof(float), "tensor values");
        std::vector<float> values(elements);
        std::memcpy(values.data(), bytes.data() + at, elements * sizeof(float));
        at += elements * sizeof(float);
        out.push_back({std::move(tensor_name), ndarray(std::move(shape), values)});
    }
    if (at != bytes.size())
        throw std::invalid_argument(name + ": trailing data after " + std::to_string(count) +
                                    " tensors");
    return out;
}

/// Puts the tensors of a weights file into `net`, whose names and shapes must match one to one.
inline void load_weights(nn::module& net, const std::vector<named_array>& tensors,
                         const std::string& source) {
    const auto expected = named_state(net);
    if (expected.size() != tensors.size()) {
        throw std::invalid_argument("'" + source + "': " + std::to_string(tensors.size()) +
                                    " tensors for a network of " + std::to_string(expected.size()));
    }
    std::vector<ndarray> values;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (tensors[i].name != expected[i].name ||
            tensors[i].value.shape() != expected[i].value.shape()) {
            throw std::invalid_argument(
                "'" + source + "': tensor " + std::to_string(i) + " is '" + tensors[i].name + "' " +
                to_string(tensors[i].value.shape()) + ", the network's is '" + expected[i].name +
                "' " + to_string(expected[i].value.shape()));
        }
        values.push_back(tensors[i].value);
    }
    net.load_state(values);
}

} // namespace nascent::tensor
