// The readers of users' own data sets (tensor/datasets/): IDX directories, CIFAR-10/100 binary
// files and .npy pairs, on small files written here; every bad-file case gives one
// std::invalid_argument line naming the file and what is wrong. Then the seeded validation split,
// the normalisation, the weights file round trip, and the export of a tiny search reloaded to the
// same test accuracy.

#include "error_of.hpp"

#include <nascent/eval/user_search.hpp>
#include <nascent/tensor/datasets/cifar_binary.hpp>
#include <nascent/tensor/datasets/idx_directory.hpp>
#include <nascent/tensor/datasets/npy.hpp>
#include <nascent/tensor/datasets/npy_images.hpp>
#include <nascent/tensor/datasets/user_dataset.hpp>
#include <nascent/tensor/weights_file.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace t = nascent::tensor;
namespace fs = std::filesystem;
using nascent::test::contains;
using nascent::test::error_of;

namespace {

class scratch {
public:
    explicit scratch(const std::string& name)
        : m_path(fs::temp_directory_path() / ("nascent_datasets_" + name)) {
        fs::remove_all(m_path);
        fs::create_directories(m_path);
    }
    ~scratch() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
    [[nodiscard]] fs::path operator/(const std::string& f) const { return m_path / f; }
    [[nodiscard]] const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

void write(const fs::path& path, const std::string& content) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
}

// -- IDX
void put_be32(std::string& s, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        s += static_cast<char>((v >> shift) & 0xFFU);
}
std::string idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                       std::uint32_t magic = 0x803) {
    std::string s;
    put_be32(s, magic);
    put_be32(s, count);
    put_be32(s, rows);
    put_be32(s, cols);
    for (std::uint32_t i = 0; i < count * rows * cols; ++i)
        s += static_cast<char>((i * 13) % 256);
    return s;
}
/// Images that all differ (n^2 + 7n is distinct mod 256 for n < 128).
std::string distinct_idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
    std::string s;
    put_be32(s, 0x803);
    put_be32(s, count);
    put_be32(s, rows);
    put_be32(s, cols);
    for (std::uint32_t n = 0; n < count; ++n) {
        for (std::uint32_t k = 0; k < rows * cols; ++k)
            s += static_cast<char>((n * n + 7 * n + 13 * k) % 256);
    }
    return s;
}
std::string idx_labels(const std::vector<int>& labels, std::uint32_t magic = 0x801) {
    std::string s;
    put_be32(s, magic);
    put_be32(s, static_cast<std::uint32_t>(labels.size()));
    for (const int l : labels)
        s += static_cast<char>(l);
    return s;
}
std::vector<int> cycle(std::size_t n, int classes) {
    std::vector<int> out;
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(static_cast<int>(i % static_cast<std::size_t>(classes)));
    return out;
}

// -- CIFAR
std::string cifar_records(std::size_t n, std::size_t label_bytes, int classes, int first = 0) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t b = 0; b < label_bytes; ++b)
            s += static_cast<char>((first + static_cast<int>(i + b)) % classes);
        for (std::size_t k = 0; k < 3072; ++k)
            s += static_cast<char>((i * 31 + k) % 256);
    }
    return s;
}

// -- .npy (version 1.0)
std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                bool fortran = false) {
    std::string header = "{'descr': '" + descr +
                         "', 'fortran_order': " + (fortran ? "True" : "False") +
                         ", 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0)
        header += ' ';
    header += '\n';
    std::string s = "\x93NUMPY";
    s += '\x01';
    s += '\x00';
    s += static_cast<char>(header.size() & 0xFFU);
    s += static_cast<char>(header.size() >> 8U);
    return s + header + data;
}
template <class T>
std::string raw(const std::vector<T>& v) {
    std::string s(v.size() * sizeof(T), '\0');
    std::memcpy(s.data(), v.data(), s.size());
    return s;
}

/// Element `index` of a row-major array.
double at(const t::ndarray& a, std::initializer_list<std::size_t> index) {
    std::size_t offset = 0;
    std::size_t k = 0;
    for (const auto i : index)
        offset = offset * a.shape().at(k++) + i;
    return a.data()[offset];
}

} // namespace

TEST_CASE("datasets: an IDX directory loads with its test set, classes inferred") {
    const scratch d("idx_ok");
    write(d / "train-images-idx3-ubyte", idx_images(20, 5, 4));
    write(d / "train-labels-idx1-ubyte", idx_labels(cycle(20, 3)));
    write(d / "t10k-images-idx3-ubyte", idx_images(6, 5, 4));
    write(d / "t10k-labels-idx1-ubyte", idx_labels(cycle(6, 3)));
    const auto data = t::read_idx_directory(d.path());
    CHECK(data.classes == 3);
    CHECK(data.train.size() == 20);
    REQUIRE(data.test);
    CHECK(data.test->size() == 6);
    CHECK(data.train.stored_shape().rows == 5);
    CHECK(data.train.stored_shape().cols == 4);
    // Unnormalised bytes / 255, pixel (0, 1, 2) of image 1 = byte (20 + 6) * 13 % 256.
    const auto x = data.train.images(1, 1);
    CHECK(at(x, {0, 0, 1, 2}) == doctest::Approx(((20 + 6) * 13 % 256) / 255.0));
    CHECK(data.train.labels(2, 1)[0] == 2);
    // Without test files: no test set.
    const scratch e("idx_no_test");
    write(e / "train-images-idx3-ubyte", idx_images(4, 2, 2));
    write(e / "train-labels-idx1-ubyte", idx_labels({0, 1, 1, 0}));
    CHECK_FALSE(t::read_idx_directory(e.path()).test.has_value());
}

TEST_CASE("datasets: bad IDX files name the file and the problem") {
    const scratch d("idx_bad");
    const auto images = d / "train-images-idx3-ubyte";
    const auto labels = d / "train-labels-idx1-ubyte";
    const auto load = [&](const t::idx_options& o = {}) {
        (void)t::read_idx_directory(d.path(), o);
    };
    const auto reset = [&] {
        write(images, idx_images(8, 3, 3));
        write(labels, idx_labels(cycle(8, 4)));
        fs::remove(d / "t10k-images-idx3-ubyte");
        fs::remove(d / "t10k-labels-idx1-ubyte");
    };
    reset();
    CHECK(error_of(load).empty());

    write(images, idx_images(8, 3, 3, 0x804));
    auto msg = error_of(load);
    CHECK(contains(msg, images.string()));
    CHECK(contains(msg, "bad magic number 0x00000804"));
    reset();
    write(labels, idx_labels(cycle(8, 4), 0x803));
    CHECK(contains(error_of(load), "bad magic number 0x00000803"));
    reset();
    write(images, idx_images(8, 3, 3).substr(0, 16 + 8 * 9 - 5)); // truncated pixels
    msg = error_of(load);
    CHECK(contains(msg, images.string()));
    CHECK(contains(msg, "truncated"));
    reset();
    write(images, idx_images(8, 3, 3).substr(0, 10)); // truncated header
    CHECK(contains(error_of(load), "truncated header"));
    reset();
    write(labels, idx_labels(cycle(7, 4))); // count mismatch
    msg = error_of(load);
    CHECK(contains(msg, labels.string()));
    CHECK(contains(msg, "7 labels but"));
    reset();
    CHECK(contains(error_of([&] { load({.classes = 3}); }), "label 3 of item 3 outside 0..2"));
    // A test label outside the training labels' classes, and test images of another size.
    write(d / "t10k-images-idx3-ubyte", idx_images(2, 3, 3));
    write(d / "t10k-labels-idx1-ubyte", idx_labels({1, 7}));
    msg = error_of(load);
    CHECK(contains(msg, "t10k-labels-idx1-ubyte"));
    CHECK(contains(msg, "label 7 of item 1 outside 0..3"));
    write(d / "t10k-images-idx3-ubyte", idx_images(2, 4, 3));
    write(d / "t10k-labels-idx1-ubyte", idx_labels({1, 2}));
    CHECK(contains(error_of(load), "images of 4x3 but the training images are 3x3"));
    fs::remove(d / "t10k-images-idx3-ubyte");
    CHECK(contains(error_of(load), "no such file")); // labels without images
    fs::remove(images);
    msg = error_of(load);
    CHECK(contains(msg, "train-images-idx3-ubyte"));
    CHECK(contains(msg, "no such file"));
}

TEST_CASE("datasets: CIFAR-10 and CIFAR-100 binary files load; bad ones are named") {
    const scratch ten("cifar10");
    write(ten / "data_batch_1.bin", cifar_records(3, 1, 10));
    write(ten / "data_batch_2.bin", cifar_records(2, 1, 10, 5));
    write(ten / "test_batch.bin", cifar_records(2, 1, 10, 8));
    const auto c10 = t::read_cifar_binary(ten.path());
    CHECK(c10.classes == 10);
    CHECK(c10.train.size() == 5);
    CHECK(c10.train.labels() == std::vector<std::int32_t>{0, 1, 2, 5, 6});
    REQUIRE(c10.test);
    CHECK(c10.test->labels() == std::vector<std::int32_t>{8, 9});
    CHECK(c10.train.channels() == 3);
    // Record 1 of batch 1: channel 1 (green), row 2, column 3 = byte (31 + 1024 + 2 * 32 + 3).
    const auto x = c10.train.images(1, 1);
    CHECK(at(x, {0, 1, 2, 3}) == doctest::Approx(((31 + 1024 + 67) % 256) / 255.0));

    const scratch hundred("cifar100");
    write(hundred / "train.bin", cifar_records(4, 2, 20));
    const auto fine = t::read_cifar_binary(hundred.path());
    CHECK(fine.classes == 100);
    CHECK(fine.train.labels() == std::vector<std::int32_t>{1, 2, 3, 4}); // the second byte
    CHECK_FALSE(fine.test.has_value());
    const auto coarse = t::read_cifar_binary(hundred.path(), {.label = t::cifar100_label::coarse});
    CHECK(coarse.classes == 20);
    CHECK(coarse.train.labels() == std::vector<std::int32_t>{0, 1, 2, 3});

    // Truncated, empty, a label out of range, no files.
    write(ten / "data_batch_2.bin", cifar_records(2, 1, 10).substr(0, 3073 + 100));
    auto msg = error_of([&] { (void)t::read_cifar_binary(ten.path()); });
    CHECK(contains(msg, "data_batch_2.bin"));
    CHECK(contains(msg, "truncated: 3173 bytes is not a whole number of 3073-byte records"));
    write(ten / "data_batch_2.bin", "");
    CHECK(contains(error_of([&] { (void)t::read_cifar_binary(ten.path()); }), "empty file"));
    write(ten / "data_batch_2.bin", cifar_records(2, 1, 12, 10)); // labels 10, 11
    msg = error_of([&] { (void)t::read_cifar_binary(ten.path()); });
    CHECK(contains(msg, "data_batch_2.bin"));
    CHECK(contains(msg, "label 10 of item 0 outside 0..9"));
    write(hundred / "train.bin", cifar_records(2, 2, 25, 18)); // coarse 18, 19; then 19, 20
    msg = error_of(
        [&] { (void)t::read_cifar_binary(hundred.path(), {.label = t::cifar100_label::coarse}); });
    CHECK(msg.empty());
    write(hundred / "train.bin", cifar_records(3, 2, 25, 18)); // coarse 18, 19, 20
    msg = error_of(
        [&] { (void)t::read_cifar_binary(hundred.path(), {.label = t::cifar100_label::coarse}); });
    CHECK(contains(msg, "label 20 of item 2 outside 0..19"));
    const scratch none("cifar_none");
    CHECK(contains(error_of([&] { (void)t::read_cifar_binary(none.path()); }),
                   "no CIFAR binary files"));
}

TEST_CASE("datasets: .npy headers, dtypes and layouts") {
    const scratch d("npy_read");
    // float32 NCHW, int64 labels
    std::vector<float> x(2 * 3 * 2 * 2);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = static_cast<float>(i) * 0.5F;
    write(d / "x.npy", npy("<f4", "(2, 3, 2, 2)", raw(x)));
    write(d / "y.npy", npy("<i8", "(2,)", raw(std::vector<std::int64_t>{1, 4})));
    const auto a = t::read_npy(d / "x.npy");
    CHECK(a.dtype == t::npy_dtype::f32);
    CHECK(a.shape == std::vector<std::size_t>{2, 3, 2, 2});
    CHECK(a.at(5) == 2.5);
    const auto set = t::read_npy_images(d / "x.npy", d / "y.npy", std::nullopt);
    CHECK(set.classes == 5);
    CHECK(set.train.holds_floats());
    CHECK(set.train.stored_shape().channels == 3);
    CHECK(at(set.train.images(1, 1), {0, 2, 1, 0}) == doctest::Approx((12 + 8 + 2) * 0.5));

    // NHWC uint8 (channel last: (N, H, W, C) with C <= 4 < H), int32 labels of shape (N, 1)
    std::vector<std::uint8_t> bytes(2 * 6 * 5 * 3);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<std::uint8_t>(i);
    write(d / "xh.npy", npy("|u1", "(2, 6, 5, 3)", raw(bytes)));
    write(d / "yh.npy", npy("<i4", "(2, 1)", raw(std::vector<std::int32_t>{0, 1})));
    write(d / "xt.npy", npy("|u1", "(1, 6, 5, 3)", raw(std::vector<std::uint8_t>(90, 7))));
    write(d / "yt.npy", npy("|u1", "(1,)", std::string(1, '\1')));
    const auto hwc =
        t::read_npy_images(d / "xh.npy", d / "yh.npy", std::pair{d / "xt.npy", d / "yt.npy"});
    CHECK(hwc.train.stored_shape().channels == 3);
    CHECK(hwc.train.stored_shape().rows == 6);
    CHECK(hwc.train.stored_shape().cols == 5);
    // image 1, channel 2, row 4, column 3 was at ((1 * 6 + 4) * 5 + 3) * 3 + 2 in the file
    CHECK(at(hwc.train.images(1, 1), {0, 2, 4, 3}) ==
          doctest::Approx((((1 * 6 + 4) * 5 + 3) * 3 + 2) % 256 / 255.0));
    REQUIRE(hwc.test);
    CHECK(hwc.test->labels() == std::vector<std::int32_t>{1});
    // (N, H, W) float64, version 2.0 header
    std::string v2 = npy("<f8", "(1, 2, 2)", raw(std::vector<double>{1, 2, 3, 4}));
    const std::string header = v2.substr(10);
    v2 = std::string("\x93NUMPY\x02\x00", 8) + v2.substr(8, 2) + std::string(2, '\0') + header;
    write(d / "x2.npy", v2);
    const auto a2 = t::read_npy(d / "x2.npy");
    CHECK(a2.dtype == t::npy_dtype::f64);
    CHECK(a2.at(3) == 4.0);
}

TEST_CASE("datasets: bad .npy files name the file and the problem") {
    const scratch d("npy_bad");
    const auto x = d / "x.npy";
    const auto y = d / "y.npy";
    const std::string good_x = npy("<f4", "(3, 2, 2)", raw(std::vector<float>(12, 1.0F)));
    const std::string good_y = npy("<i8", "(3,)", raw(std::vector<std::int64_t>{0, 1, 2}));
    const auto load = [&] { (void)t::read_npy_images(x, y, std::nullopt); };
    const auto with_x = [&](const std::string& content) {
        write(x, content);
        write(y, good_y);
        return error_of(load);
    };
    const auto with_y = [&](const std::string& content) {
        write(x, good_x);
        write(y, content);
        return error_of(load);
    };
    CHECK(with_x(good_x).empty());
    auto msg = with_x("PK\x03\x04 not an npy file");
    CHECK(contains(msg, x.string()));
    CHECK(contains(msg, "bad magic"));
    msg = with_x(good_x.substr(0, good_x.size() - 3));
    CHECK(contains(msg, x.string()));
    CHECK(contains(msg, "truncated: shape (3x2x2) of '<f4' needs 48 data bytes, the file has 45"));
    CHECK(contains(with_x(good_x + "xx"), "trailing data"));
    CHECK(contains(with_x(good_x.substr(0, 40)), "truncated .npy header"));
    CHECK(
        contains(with_x(npy(">f4", "(3, 2, 2)", std::string(48, '\0'))), "big-endian dtype '>f4'"));
    CHECK(contains(with_x(npy("<f2", "(3, 2, 2)", std::string(24, '\0'))),
                   "dtype '<f2' is not read"));
    CHECK(contains(with_x(npy("|O", "(3,)", std::string(24, '\0'))), "dtype '|O' is not read"));
    CHECK(contains(with_x(npy("<f4", "(3, 2, 2)", std::string(48, '\0'), true)),
                   "Fortran-order array"));
    CHECK(contains(with_x(npy("<f4", "(12,)", std::string(48, '\0'))), "is not images"));
    std::vector<float> nan_x(12, 0.0F);
    nan_x[5] = std::nanf("");
    CHECK(contains(with_x(npy("<f4", "(3, 2, 2)", raw(nan_x))), "non-finite value at element 5"));
    // Labels: count mismatch, float labels, bad shape, out of range (negative; above --classes)
    msg = with_y(npy("<i8", "(2,)", raw(std::vector<std::int64_t>{0, 1})));
    CHECK(contains(msg, y.string()));
    CHECK(contains(msg, "2 labels but '" + x.string() + "' has 3 images"));
    CHECK(contains(with_y(npy("<f4", "(3,)", raw(std::vector<float>{0, 1, 2}))),
                   "labels must be integers"));
    CHECK(contains(with_y(npy("<i8", "(3, 2)", std::string(48, '\0'))), "labels of shape (3, 2)"));
    msg = with_y(npy("<i8", "(3,)", raw(std::vector<std::int64_t>{0, -1, 2})));
    CHECK(contains(msg, y.string()));
    CHECK(contains(msg, "label -1 of item 1 outside 0..2"));
    write(y, good_y);
    CHECK(contains(error_of([&] { (void)t::read_npy_images(x, y, std::nullopt, {.classes = 2}); }),
                   "label 2 of item 2 outside 0..1"));
    // The test pair: other image shape; a label the training set's classes do not have.
    write(d / "xt.npy", npy("<f4", "(1, 3, 2)", raw(std::vector<float>(6, 0.0F))));
    write(d / "yt.npy", npy("<i8", "(1,)", raw(std::vector<std::int64_t>{0})));
    CHECK(contains(error_of([&] {
                       (void)t::read_npy_images(x, y, std::pair{d / "xt.npy", d / "yt.npy"});
                   }),
                   "images of 1x3x2 but the training images are 1x2x2"));
    write(d / "xt.npy", npy("<f4", "(1, 2, 2)", raw(std::vector<float>(4, 0.0F))));
    write(d / "yt.npy", npy("<i8", "(1,)", raw(std::vector<std::int64_t>{3})));
    msg = error_of([&] { (void)t::read_npy_images(x, y, std::pair{d / "xt.npy", d / "yt.npy"}); });
    CHECK(contains(msg, "yt.npy"));
    CHECK(contains(msg, "label 3 of item 0 outside 0..2"));
    CHECK(contains(error_of([&] { (void)t::read_npy(d / "missing.npy"); }), "no such file"));
}

TEST_CASE("datasets: --dataset specs parse, and bad ones say what is accepted") {
    using k = t::dataset_spec::kind;
    CHECK(t::dataset_spec::parse("fashion-mnist").format == k::fashion_mnist);
    CHECK(t::dataset_spec::parse("idx:/a/b").paths.at(0) == "/a/b");
    CHECK(t::dataset_spec::parse("cifar-bin:c").format == k::cifar_binary);
    CHECK(t::dataset_spec::parse("npy:x.npy,y.npy,xt.npy,yt.npy").paths.size() == 4);
    for (const char* bad :
         {"mnist", "npy:x.npy", "npy:x.npy,y.npy,z.npy", "idx:", "csv:a", "npy:x.npy,,y.npy"}) {
        CHECK(contains(error_of([&] { (void)t::dataset_spec::parse(bad); }),
                       "accepted: fashion-mnist, idx:DIR"));
    }
}

TEST_CASE("datasets: the validation split is seeded, disjoint and normalised by the training "
          "split") {
    const scratch d("split");
    write(d / "train-images-idx3-ubyte", distinct_idx_images(50, 4, 4));
    write(d / "train-labels-idx1-ubyte", idx_labels(cycle(50, 5)));
    const auto spec = t::dataset_spec::parse("idx:" + d.path().string());
    const auto split = [&](double f, std::size_t subset, std::uint64_t seed) {
        return t::split_dataset(t::read_dataset(spec),
                                {.valid_fraction = f, .subset = subset, .seed = seed});
    };
    const auto a = split(0.2, 0, 3);
    CHECK(a.train.size() == 40);
    CHECK(a.validation.size() == 10);
    CHECK(a.test.empty());
    CHECK(a.classes == 5);
    CHECK(a.train.height() == 32); // padded
    // Every image once (the 50 differ): identified by a position-weighted sum.
    std::multiset<double> seen;
    for (const auto* s : {&a.train, &a.validation}) {
        for (std::size_t i = 0; i < s->size(); ++i) {
            const auto x = s->images(i, 1);
            double sum = 0;
            for (std::size_t k = 0; k < x.size(); ++k)
                sum += x.data()[k] * static_cast<double>(k + 1);
            seen.insert(sum);
        }
    }
    CHECK(std::set<double>(seen.begin(), seen.end()).size() == 50);
    // Normalised by the training split: its (unpadded) values have mean 0, std 1.
    const auto [mean, sd] = a.train.channel_statistics();
    REQUIRE(a.train.format().channel_mean.size() == 1);
    CHECK(a.train.format().channel_mean[0] == mean[0]);
    CHECK(a.train.format().channel_std[0] == sd[0]);
    CHECK(a.validation.format().channel_mean[0] == mean[0]);
    // The same seed: the same split; another seed: another one.
    const auto b = split(0.2, 0, 3);
    const auto c = split(0.2, 0, 4);
    CHECK(a.validation.labels() == b.validation.labels());
    CHECK(at(a.train.images(0, 40), {7, 0, 16, 16}) == at(b.train.images(0, 40), {7, 0, 16, 16}));
    const auto differs = [&] {
        const auto x = a.train.images(0, 40);
        const auto y = c.train.images(0, 40);
        for (std::size_t k = 0; k < x.size(); ++k) {
            if (x.data()[k] != y.data()[k])
                return true;
        }
        return false;
    };
    CHECK(differs());
    // A subset: 20 images, 5 of them validation.
    const auto s = split(0.25, 20, 3);
    CHECK(s.train.size() == 15);
    CHECK(s.validation.size() == 5);
    CHECK(contains(error_of([&] { (void)split(0.2, 60, 3); }), "subset 60 exceeds the 50"));
    CHECK(contains(error_of([&] { (void)split(1.0, 0, 3); }), "valid_fraction 1.0"));
}

TEST_CASE("datasets: a weights file round-trips a network's state; bad files are named") {
    const scratch d("weights");
    nascent::rng gen(5);
    const nascent::eval::nb201_factory factory{
        {.channels = 4, .cells_per_stage = 1, .classes = 3, .input_channels = 1}};
    const auto cell = nascent::nb201::space::parse(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
    const auto a = factory.build(cell, gen);
    const auto b = factory.build(cell, gen); // other initial weights
    const auto file = d / "w.bin";
    write(file, t::encode_weights(t::named_state(*a)));
    t::load_weights(*b, t::read_weights(file), file.string());
    const auto sa = a->state();
    const auto sb = b->state();
    REQUIRE(sa.size() == sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
        REQUIRE(sa[i].size() == sb[i].size());
        CHECK(std::memcmp(sa[i].data(), sb[i].data(), sa[i].size() * sizeof(float)) == 0);
    }
    const std::string bytes = t::encode_weights(t::named_state(*a));
    write(file, bytes.substr(0, bytes.size() - 1));
    CHECK(contains(error_of([&] { (void)t::read_weights(file); }), "truncated weights file"));
    write(file, "NOTNASCW" + bytes.substr(8));
    CHECK(contains(error_of([&] { (void)t::read_weights(file); }), "bad magic"));
    // Another architecture's weights do not fit.
    const auto other = factory.build(nascent::nb201::space::parse("|none~0|+|none~0|none~1|+|"
                                                                  "none~0|none~1|skip_connect~2|"),
                                     gen);
    write(file, bytes);
    CHECK(contains(error_of([&] { t::load_weights(*other, t::read_weights(file), "w"); }),
                   "tensors for a network of"));
}

TEST_CASE("user search: a tiny search exports a network that reloads to the same test accuracy") {
    // 60 training images (12 for validation) and 20 test images of 8x8, 3 classes, as .npy.
    const scratch d("search");
    std::vector<float> x(60 * 8 * 8);
    std::vector<std::int64_t> y(60);
    nascent::rng gen(1);
    for (std::size_t i = 0; i < 60; ++i) {
        y[i] = static_cast<std::int64_t>(i % 3);
        for (std::size_t k = 0; k < 64; ++k) // class c: a brighter band of rows
            x[i * 64 + k] = static_cast<float>(nascent::uniform_real(gen)) +
                            ((k / 8) % 3 == static_cast<std::size_t>(y[i]) ? 1.0F : 0.0F);
    }
    write(d / "x.npy", npy("<f4", "(60, 8, 8)", raw(x)));
    write(d / "y.npy", npy("<i8", "(60,)", raw(y)));
    write(d / "xt.npy",
          npy("<f4", "(20, 8, 8)", raw(std::vector<float>(x.begin(), x.begin() + 20 * 64))));
    write(d / "yt.npy",
          npy("<i8", "(20,)", raw(std::vector<std::int64_t>(y.begin(), y.begin() + 20))));
    nascent::eval::user_search_settings s;
    s.strategy = "random";
    s.dataset = "npy:" + (d / "x.npy").string() + "," + (d / "y.npy").string() + "," +
                (d / "xt.npy").string() + "," + (d / "yt.npy").string();
    s.budget = 3;
    s.valid_fraction = 0.2;
    s.seed = 2;
    s.in_flight = 2;
    s.threads = 1;
    s.channels = 2;
    s.batch = 16;
    s.out = d / "export";
    const auto summary = nascent::eval::run_user_search(s);
    CHECK(summary.at("evaluated") == 3);
    CHECK(summary.at("data").at("train") == 48);
    CHECK(summary.at("data").at("classes") == 3);
    CHECK(summary.at("best").at("retrained_identically") == true);
    const auto reloaded = nascent::eval::evaluate_export(d / "export");
    CHECK(reloaded.at("metric") == "test_acc");
    CHECK(reloaded.at("equal") == true);
    CHECK(reloaded.at("accuracy").dump() == summary.at("best").at("metrics").at("test_acc").dump());
    // A registry strategy that search does not run is refused by name.
    s.strategy = "hyperband";
    CHECK(contains(error_of([&] { (void)nascent::eval::run_user_search(s); }),
                   "is not a plain single-objective strategy"));
}
