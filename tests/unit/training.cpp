// Real training with the tensor layer: the Fashion-MNIST loader (validated on small corrupt
// files and on Debian's dataset-fashion-mnist), a small CNN that reaches >= 85 % test accuracy
// in a few hundred SGD steps, and bit-identical losses for a fixed seed.

#include "error_of.hpp"

#include <nascent/core/rng.hpp>
#include <nascent/tensor/autograd.hpp>
#include <nascent/tensor/fashion_mnist.hpp>
#include <nascent/tensor/nn.hpp>
#include <nascent/tensor/optim.hpp>

#include <doctest/doctest.h>

#include <tbb/task_arena.h>

#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace t = nascent::tensor;
namespace nn = nascent::tensor::nn;
using t::ndarray;
using t::variable;

namespace {

// ---------------------------------------------------------------------------------------------
// Small IDX files in a scratch directory

class temp_dir {
public:
    explicit temp_dir(const std::string& name)
        : m_path(std::filesystem::temp_directory_path() / ("nascent_test_" + name)) {
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

void put_u32(std::string& s, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        s += static_cast<char>((v >> shift) & 0xFFU);
}

std::string idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                       std::uint32_t magic = 0x803) {
    std::string s;
    put_u32(s, magic);
    put_u32(s, count);
    put_u32(s, rows);
    put_u32(s, cols);
    for (std::uint32_t i = 0; i < count * rows * cols; ++i)
        s += static_cast<char>((i * 7) % 256);
    return s;
}

std::string idx_labels(std::uint32_t count, std::uint32_t magic = 0x801) {
    std::string s;
    put_u32(s, magic);
    put_u32(s, count);
    for (std::uint32_t i = 0; i < count; ++i)
        s += static_cast<char>(i % 10);
    return s;
}

void write_gz(const std::filesystem::path& path, const std::string& content) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, content.data(), static_cast<unsigned>(content.size())) ==
            static_cast<int>(content.size()));
    gzclose(f);
}

void write_plain(const std::filesystem::path& path, const std::string& content) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
}

// A complete small data set: 12 training images (4 for validation), 5 test images, 4x3 pixels.
void write_small_set(const std::filesystem::path& dir) {
    write_gz(dir / "train-images-idx3-ubyte.gz", idx_images(12, 4, 3));
    write_gz(dir / "train-labels-idx1-ubyte.gz", idx_labels(12));
    write_gz(dir / "t10k-images-idx3-ubyte.gz", idx_images(5, 4, 3));
    write_gz(dir / "t10k-labels-idx1-ubyte.gz", idx_labels(5));
}

using nascent::test::error_of;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("fashion_mnist: a small well-formed set loads, splits and formats") {
    const temp_dir dir("fmnist_good");
    write_small_set(dir.path());
    const auto d = t::fashion_mnist::load(
        {.dir = dir.path(), .validation_size = 4, .format = {.normalise = false}});
    CHECK(d.train.size() == 8);
    CHECK(d.validation.size() == 4);
    CHECK(d.test.size() == 5);
    CHECK(d.validation.labels(0, 4) == std::vector<std::int32_t>{8, 9, 0, 1}); // items 8..11
    const auto first = d.train.images(0, 1);
    CHECK(first.shape() == t::shape_t{1, 1, 4, 3});
    CHECK(first[1] == doctest::Approx(7.0 / 255.0));
    const auto v = d.validation.images(0, 1); // item 8 of the training file
    CHECK(v[0] == doctest::Approx(static_cast<double>((8 * 12 * 7) % 256) / 255.0));

    const auto padded =
        t::fashion_mnist::load({.dir = dir.path(),
                                .validation_size = 4,
                                .format = {.pad_to_32 = true, .three_channels = true}});
    const std::size_t idx[] = {0, 2};
    const auto batch = padded.train.images(idx);
    CHECK(batch.shape() == t::shape_t{2, 3, 32, 32});
    const float background = (0.0F - 0.2860F) / 0.3530F; // black padding, normalised
    CHECK(batch[0] == doctest::Approx(background));
    // pixel (0, 1) of image 2 sits at (14 + 0, 14 + 1) of every channel
    const float expected =
        (static_cast<float>((2 * 12 + 1) * 7 % 256) / 255.0F - 0.2860F) / 0.3530F;
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(batch[((1 * 3 + c) * 32 + 14) * 32 + 15] == doctest::Approx(expected));
    }
    CHECK(padded.train.labels(idx) == std::vector<std::int32_t>{0, 2});
    CHECK(
        contains(error_of([&] { (void)d.train.images(7, 2); }), "range [7, 9) out of range for 8"));
}

TEST_CASE("fashion_mnist: uncompressed files are accepted") {
    const temp_dir dir("fmnist_plain");
    write_small_set(dir.path());
    std::filesystem::remove(dir.path() / "t10k-labels-idx1-ubyte.gz");
    write_plain(dir.path() / "t10k-labels-idx1-ubyte", idx_labels(5));
    CHECK(t::fashion_mnist::load({.dir = dir.path(), .validation_size = 2}).test.size() == 5);
}

TEST_CASE("fashion_mnist: broken files are rejected with the file and the problem named") {
    const temp_dir dir("fmnist_bad");
    const auto& p = dir.path();
    const auto load = [&] { (void)t::fashion_mnist::load({.dir = p, .validation_size = 2}); };

    write_small_set(p);
    std::filesystem::remove(p / "train-labels-idx1-ubyte.gz");
    auto message = error_of(load);
    CHECK(contains(message, "train-labels-idx1-ubyte.gz"));
    CHECK(contains(message, "no such file"));

    write_small_set(p);
    write_gz(p / "train-images-idx3-ubyte.gz", idx_images(12, 4, 3, 0x801));
    message = error_of(load);
    CHECK(contains(message, "train-images-idx3-ubyte.gz"));
    CHECK(contains(message, "bad magic number 0x00000801"));

    write_small_set(p);
    write_gz(p / "t10k-labels-idx1-ubyte.gz", idx_labels(5, 0x12345678));
    CHECK(contains(error_of(load), "t10k-labels-idx1-ubyte.gz': bad magic number 0x12345678"));

    write_small_set(p);
    auto truncated = idx_images(12, 4, 3);
    truncated.resize(truncated.size() - 5);
    write_gz(p / "train-images-idx3-ubyte.gz", truncated);
    message = error_of(load);
    CHECK(contains(message, "train-images-idx3-ubyte.gz': truncated: 12 images of 4x3 need 160 "
                            "bytes, the file has 155"));

    write_small_set(p);
    write_gz(p / "t10k-images-idx3-ubyte.gz", idx_images(1, 4, 3).substr(0, 10));
    CHECK(contains(error_of(load), "truncated header (10 bytes"));

    write_small_set(p);
    write_gz(p / "train-labels-idx1-ubyte.gz", idx_labels(11));
    message = error_of(load);
    CHECK(contains(message, "train-labels-idx1-ubyte.gz': 11 labels but"));
    CHECK(contains(message, "train-images-idx3-ubyte.gz' has 12 images"));

    write_small_set(p);
    auto bad_label = idx_labels(5);
    bad_label[8 + 3] = 10;
    write_gz(p / "t10k-labels-idx1-ubyte.gz", bad_label);
    CHECK(contains(error_of(load), "label 10 of item 3 outside 0..9"));

    write_small_set(p);
    write_gz(p / "t10k-images-idx3-ubyte.gz", idx_images(5, 5, 3));
    CHECK(contains(error_of(load), "images of 5x3 but the training images are 4x3"));

    // A gzip stream cut short (as by an interrupted download).
    write_small_set(p);
    {
        std::string gz;
        {
            const auto full = p / "full.gz";
            write_gz(full, idx_images(12, 4, 3));
            std::FILE* f = std::fopen(full.c_str(), "rb");
            char buf[4096];
            const auto n = std::fread(buf, 1, sizeof buf, f);
            std::fclose(f);
            gz.assign(buf, n / 2);
            std::filesystem::remove(full);
        }
        write_plain(p / "train-images-idx3-ubyte.gz", gz);
    }
    message = error_of(load);
    CHECK(contains(message, "train-images-idx3-ubyte.gz"));
    CHECK(contains(message, "corrupt or truncated gzip data"));

    write_small_set(p);
    CHECK(
        contains(error_of([&] { (void)t::fashion_mnist::load({.dir = p, .validation_size = 12}); }),
                 "validation_size 12 leaves no training images out of 12"));
    CHECK(contains(error_of([&] { (void)t::fashion_mnist::load({.dir = p / "nowhere"}); }),
                   "no such file"));
}

// ---------------------------------------------------------------------------------------------
// The real data set (Debian's dataset-fashion-mnist)

namespace {

const t::fashion_mnist& real_data() {
    static const t::fashion_mnist data = t::fashion_mnist::load();
    return data;
}

// conv3x3(1->8)-BN-ReLU-maxpool, conv3x3(8->16)-BN-ReLU-maxpool, linear(784->10).
std::shared_ptr<nn::sequential> small_cnn(nascent::rng& gen) {
    auto net = std::make_shared<nn::sequential>();
    net->add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 1, .out_channels = 8, .padding = 1, .bias = false}, gen));
    net->add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 8}));
    net->add(std::make_shared<nn::relu>());
    net->add(std::make_shared<nn::max_pool2d>());
    net->add(std::make_shared<nn::conv2d>(
        nn::conv2d_options{.in_channels = 8, .out_channels = 16, .padding = 1, .bias = false},
        gen));
    net->add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = 16}));
    net->add(std::make_shared<nn::relu>());
    net->add(std::make_shared<nn::max_pool2d>());
    net->add(std::make_shared<nn::flatten>());
    net->add(std::make_shared<nn::linear>(
        nn::linear_options{.in_features = 16 * 7 * 7, .out_features = 10}, gen));
    return net;
}

struct training_run {
    std::vector<float> losses;
    double train_seconds = 0.0;
    double forward_backward_seconds = 0.0; // summed over steps
};

// SGD (Nesterov momentum 0.9, weight decay 5e-4), cosine schedule with 5 % warmup, batches of 64
// drawn from a seeded permutation of the training split.
training_run train(nn::module& net, std::size_t steps, std::uint64_t seed) {
    const auto& data = real_data();
    constexpr std::size_t batch = 64;
    const double lr = 0.1;
    t::optim::sgd opt(net.parameters(),
                      {.lr = lr, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true});
    const t::optim::cosine_schedule schedule(
        {.base_lr = lr, .total_steps = steps, .warmup_steps = steps / 20});
    nascent::rng gen(nascent::derive_seed(seed, 1));
    std::vector<std::size_t> order(data.train.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::size_t next = order.size();
    training_run run;
    net.train();
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t step = 0; step < steps; ++step) {
        if (next + batch > order.size()) { // a new epoch
            nascent::shuffle(order.begin(), order.end(), gen);
            next = 0;
        }
        const std::span<const std::size_t> idx(order.data() + next, batch);
        next += batch;
        const variable x(data.train.images(idx));
        const auto labels = data.train.labels(idx);
        opt.set_lr(schedule.lr(step));
        const auto t0 = std::chrono::steady_clock::now();
        opt.zero_grad();
        const auto loss = t::softmax_cross_entropy(net(x), labels);
        loss.backward();
        run.forward_backward_seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        opt.step();
        run.losses.push_back(loss.item());
    }
    run.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return run;
}

double test_accuracy(nn::module& net) {
    const auto& test = real_data().test;
    const t::no_grad_guard guard;
    net.eval();
    std::size_t correct = 0;
    for (std::size_t first = 0; first < test.size(); first += 1000) {
        const std::size_t n = std::min<std::size_t>(1000, test.size() - first);
        const auto logits = net(variable(test.images(first, n)));
        correct += nn::count_correct(logits.value(), test.labels(first, n));
    }
    return static_cast<double>(correct) / static_cast<double>(test.size());
}

} // namespace

TEST_CASE("fashion_mnist: the installed data set loads with the documented split") {
    const auto& d = real_data();
    CHECK(d.train.size() == 50000);
    CHECK(d.validation.size() == 10000);
    CHECK(d.test.size() == 10000);
    std::vector<std::size_t> per_class(10, 0);
    for (const auto label : d.test.labels())
        ++per_class[static_cast<std::size_t>(label)];
    CHECK(per_class == std::vector<std::size_t>(10, 1000)); // the test set is balanced
    // Normalised training images have mean ~0 and std ~1.
    const auto x = d.train.images(0, 2000);
    double sum = 0, sum2 = 0;
    for (const float v : x.values()) {
        sum += v;
        sum2 += static_cast<double>(v) * v;
    }
    const double mean = sum / static_cast<double>(x.size());
    CHECK(std::abs(mean) < 0.02);
    CHECK(std::sqrt(sum2 / static_cast<double>(x.size()) - mean * mean) ==
          doctest::Approx(1.0).epsilon(0.03));
}

TEST_CASE("training: a small CNN reaches >= 85 % Fashion-MNIST test accuracy in 600 steps") {
    nascent::rng gen(0);
    const auto net = small_cnn(gen);
    constexpr std::size_t steps = 600;
    const auto run = train(*net, steps, 0);
    const auto t0 = std::chrono::steady_clock::now();
    const double accuracy = test_accuracy(*net);
    const double eval_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("small CNN (" << net->parameter_count() << " parameters): " << steps
                          << " steps of batch 64 in " << run.train_seconds << " s ("
                          << 1e3 * run.forward_backward_seconds / steps
                          << " ms per forward+backward), final loss " << run.losses.back()
                          << ", test accuracy " << 100 * accuracy << " % (evaluated in "
                          << eval_seconds << " s)");
    CHECK(accuracy >= 0.85);
}

TEST_CASE("training: the same seed gives bit-identical losses, for any thread count") {
    const auto losses = [](std::uint64_t seed) {
        nascent::rng gen(seed);
        const auto net = small_cnn(gen);
        return train(*net, 25, seed).losses;
    };
    const auto a = losses(5);
    const auto b = losses(5);
    std::vector<float> single;
    tbb::task_arena(1).execute([&] { single = losses(5); });
    CHECK(a == b);
    CHECK(a == single);
    CHECK(a != losses(6));
    CHECK(a.back() < a.front()); // and it learns
}
