#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0: the magic "\x93NUMPY", a version, a
// little-endian header length, then a Python dict literal with 'descr', 'fortran_order' and
// 'shape'), as numpy.save writes them.
//
// Read: C-order arrays of little-endian float32 ('<f4'), float64 ('<f8'), uint8 ('|u1'), int32
// ('<i4') and int64 ('<i8'). Refused, with the file and the reason: Fortran order, big-endian
// data, any other dtype (float16, bool, unsigned or narrow integers other than uint8, complex,
// strings, structured and object arrays; pickled object arrays are never read), a missing or
// malformed header, and data shorter or longer than the shape says. Every error is one
// std::invalid_argument naming the file.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace nascent::tensor {

/// The element types read.
enum class npy_dtype : std::uint8_t { u8, i32, i64, f32, f64 };

[[nodiscard]] constexpr std::size_t item_size(npy_dtype t) noexcept {
    switch (t) {
    case npy_dtype::u8:
        return 1;
    case npy_dtype::i32:
    case npy_dtype::f32:
        return 4;
    case npy_dtype::i64:
    case npy_dtype::f64:
        return 8;
    }
    return 0;
}

[[nodiscard]] constexpr bool is_integer(npy_dtype t) noexcept {
    return t == npy_dtype::u8 || t == npy_dtype::i32 || t == npy_dtype::i64;
}

/// An array as read: its dtype, shape (C order) and the raw little-endian element bytes.
struct npy_array {
    npy_dtype dtype = npy_dtype::f32;
    std::string descr; ///< as written, e.g. "<f4"
    std::vector<std::size_t> shape;
    std::string data;

    [[nodiscard]] std::size_t count() const noexcept { return data.size() / item_size(dtype); }

    /// Element i as a double (exact for every dtype but int64 beyond 2^53).
    [[nodiscard]] double at(std::size_t i) const noexcept {
        const char* p = data.data() + i * item_size(dtype);
        switch (dtype) {
        case npy_dtype::u8:
            return static_cast<double>(static_cast<std::uint8_t>(*p));
        case npy_dtype::i32:
            return static_cast<double>(load<std::int32_t>(p));
        case npy_dtype::i64:
            return static_cast<double>(load<std::int64_t>(p));
        case npy_dtype::f32:
            return static_cast<double>(load<float>(p));
        case npy_dtype::f64:
            return load<double>(p);
        }
        return 0;
    }
    /// Element i of an integer array.
    [[nodiscard]] std::int64_t integer_at(std::size_t i) const noexcept {
        const char* p = data.data() + i * item_size(dtype);
        if (dtype == npy_dtype::u8)
            return static_cast<std::uint8_t>(*p);
        if (dtype == npy_dtype::i32)
            return load<std::int32_t>(p);
        return load<std::int64_t>(p);
    }

private:
    // The bytes are little-endian, as this library's targets are (x86-64, AArch64).
    template <class T>
    [[nodiscard]] static T load(const char* p) noexcept {
        T v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }
};

namespace detail {

[[nodiscard]] inline std::string_view trim_npy(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == ','))
        s.remove_suffix(1);
    return s;
}

/// The value text after 'key': in a header dict, up to the next top-level comma or brace.
[[nodiscard]] inline std::string_view npy_field(std::string_view header, std::string_view key,
                                                const std::string& name) {
    for (const char quote : {'\'', '"'}) {
        const std::string k = std::string(1, quote) + std::string(key) + quote;
        const auto at = header.find(k);
        if (at == std::string_view::npos)
            continue;
        auto rest = header.substr(at + k.size());
        const auto colon = rest.find(':');
        if (colon == std::string_view::npos)
            break;
        rest = rest.substr(colon + 1);
        std::size_t end = 0;
        int depth = 0;
        for (; end < rest.size(); ++end) {
            const char c = rest[end];
            if (c == '(' || c == '[')
                ++depth;
            else if (c == ')' || c == ']')
                --depth;
            else if ((c == ',' && depth == 0) || (c == '}' && depth <= 0))
                break;
        }
        return trim_npy(rest.substr(0, end));
    }
    throw std::invalid_argument(name + ": the .npy header has no '" + std::string(key) + "' entry");
}

} // namespace detail

/// Reads a .npy file (see the top of this header for what is read and refused).
[[nodiscard]] inline npy_array read_npy(const std::filesystem::path& path) {
    const std::string name = "'" + path.string() + "'";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw std::invalid_argument(
            "cannot read " + name + ": " +
            (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::invalid_argument("cannot open " + name);
    std::ostringstream content;
    content << in.rdbuf();
    const std::string bytes = std::move(content).str();

    static constexpr std::string_view magic = "\x93NUMPY";
    if (bytes.size() < 10 || std::string_view(bytes).substr(0, 6) != magic) {
        throw std::invalid_argument(name + ": not a .npy file (bad magic; .npy files start with "
                                           "\\x93NUMPY)");
    }
    const int major = static_cast<std::uint8_t>(bytes[6]);
    std::size_t header_length = 0;
    std::size_t header_start = 0;
    const auto byte = [&](std::size_t i) {
        return static_cast<std::size_t>(static_cast<std::uint8_t>(bytes[i]));
    };
    if (major == 1) {
        header_length = byte(8) | (byte(9) << 8U);
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12)
            throw std::invalid_argument(name + ": truncated .npy header");
        header_length = byte(8) | (byte(9) << 8U) | (byte(10) << 16U) | (byte(11) << 24U);
        header_start = 12;
    } else {
        throw std::invalid_argument(name + ": .npy format version " + std::to_string(major) +
                                    " (read: 1, 2 and 3)");
    }
    if (bytes.size() < header_start + header_length) {
        throw std::invalid_argument(name + ": truncated .npy header (" +
                                    std::to_string(header_length) + " header bytes announced, " +
                                    std::to_string(bytes.size() - header_start) + " present)");
    }
    const std::string_view header(bytes.data() + header_start, header_length);

    npy_array out;
    const auto descr_text = detail::npy_field(header, "descr", name);
    if (descr_text.size() < 2 || (descr_text.front() != '\'' && descr_text.front() != '"') ||
        descr_text.back() != descr_text.front()) {
        throw std::invalid_argument(name + ": dtype " + std::string(descr_text) +
                                    " is not a simple type (structured arrays are not read)");
    }
    out.descr = std::string(descr_text.substr(1, descr_text.size() - 2));
    const std::string& d = out.descr;
    if (d == "|u1" || d == "<u1" || d == "u1")
        out.dtype = npy_dtype::u8;
    else if (d == "<i4")
        out.dtype = npy_dtype::i32;
    else if (d == "<i8")
        out.dtype = npy_dtype::i64;
    else if (d == "<f4")
        out.dtype = npy_dtype::f32;
    else if (d == "<f8")
        out.dtype = npy_dtype::f64;
    else if (!d.empty() && d[0] == '>')
        throw std::invalid_argument(name + ": big-endian dtype '" + d +
                                    "' (read: little-endian '<f4', '<f8', '<i4', '<i8', '|u1')");
    else
        throw std::invalid_argument(name + ": dtype '" + d +
                                    "' is not read (read: '<f4', '<f8', '<i4', '<i8', '|u1')");

    const auto fortran = detail::npy_field(header, "fortran_order", name);
    if (fortran == "True")
        throw std::invalid_argument(name + ": Fortran-order array (save it in C order: "
                                           "numpy.ascontiguousarray)");
    if (fortran != "False")
        throw std::invalid_argument(name + ": malformed fortran_order '" + std::string(fortran) +
                                    "'");

    auto shape = detail::npy_field(header, "shape", name);
    if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
        throw std::invalid_argument(name + ": malformed shape " + std::string(shape));
    shape = shape.substr(1, shape.size() - 2);
    std::size_t elements = 1;
    while (!(shape = detail::trim_npy(shape)).empty()) {
        const auto comma = shape.find(',');
        const auto token = detail::trim_npy(shape.substr(0, comma));
        std::size_t v = 0;
        if (token.empty())
            throw std::invalid_argument(name + ": malformed shape");
        for (const char c : token) {
            if (c < '0' || c > '9' || v > (std::numeric_limits<std::size_t>::max() - 9) / 10)
                throw std::invalid_argument(name + ": malformed shape dimension '" +
                                            std::string(token) + "'");
            v = v * 10 + static_cast<std::size_t>(c - '0');
        }
        if (v != 0 && elements > std::numeric_limits<std::size_t>::max() / v / 8)
            throw std::invalid_argument(name + ": shape too large");
        elements *= v;
        out.shape.push_back(v);
        if (comma == std::string_view::npos)
            break;
        shape = shape.substr(comma + 1);
    }

    const std::size_t data_start = header_start + header_length;
    const std::size_t expected = elements * item_size(out.dtype);
    const std::size_t present = bytes.size() - data_start;
    if (present != expected) {
        std::string dims;
        for (const auto v : out.shape)
            dims += (dims.empty() ? "" : "x") + std::to_string(v);
        throw std::invalid_argument(
            name + ": " + (present < expected ? "truncated" : "trailing data") + ": shape (" +
            dims + ") of '" + d + "' needs " + std::to_string(expected) +
            " data bytes, the file has " + std::to_string(present));
    }
    out.data = bytes.substr(data_start);
    return out;
}

} // namespace nascent::tensor
