// A space of your own (3-block CNNs, each block 4, 8 or 16 channels) trained for real on
// Fashion-MNIST: a NetworkFactory is all the training evaluator needs to know of it.
#include <nascent/eval/training_evaluator.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/strategy/random_search.hpp>

#include <array>
#include <cstdio>
#include <utility>
namespace nn = nascent::tensor::nn;
struct cnn_space {
    using genotype = std::array<std::uint8_t, 3>; // each block's width: 4 << g[i]
    genotype sample(nascent::rng& gen) const {
        genotype g;
        for (auto& w : g)
            w = static_cast<std::uint8_t>(nascent::uniform_index(gen, 3));
        return g;
    }
    bool is_valid(const genotype& g) const { return g[0] < 3 && g[1] < 3 && g[2] < 3; }
    std::uint64_t hash(const genotype& g) const { return g[0] * 9U + g[1] * 3U + g[2]; }
};
struct cnn_factory { // per block conv3x3/2 (no bias) + BN + ReLU; global pool; linear to 10
    std::shared_ptr<nn::module> build(const cnn_space::genotype& g, nascent::rng& gen) const {
        auto net = std::make_shared<nn::sequential>();
        std::size_t c = 1;
        for (const std::size_t w : {4U << g[0], 4U << g[1], 4U << g[2]}) {
            nn::conv2d_options conv{.out_channels = w, .stride = 2, .bias = false};
            conv.in_channels = std::exchange(c, w);
            net->add(std::make_shared<nn::conv2d>(conv, gen));
            net->add(std::make_shared<nn::batch_norm2d>(nn::batch_norm_options{.channels = w}));
            net->add(std::make_shared<nn::relu>());
        }
        net->add(std::make_shared<nn::global_avg_pool>());
        net->add(std::make_shared<nn::flatten>());
        net->add(std::make_shared<nn::linear>(
            nn::linear_options{.in_features = c, .out_features = 10}, gen));
        return net;
    }
    nascent::tensor::shape_t input_shape() const { return {1, 32, 32}; }
    std::size_t parameter_count(const cnn_space::genotype& g) const {
        std::size_t c = 1, n = 0; // conv weights, BN scale and shift; the linear layer and its bias
        for (const std::size_t w : {4U << g[0], 4U << g[1], 4U << g[2]})
            n += std::exchange(c, w) * w * 9 + 2 * w;
        return n + c * 10 + 10;
    }
};
int main(int argc, char** argv) {
    const std::string_view dir = argc > 1 ? argv[1] : nascent::tensor::fashion_mnist_default_dir;
    const nascent::eval::training_options tiny{
        .batch_size = 50, .train_subset = 1000, .eval_subset = 500, .fidelities = {1}};
    const nascent::eval::training_evaluator train{
        cnn_space{}, cnn_factory{}, nascent::eval::load_fashion_mnist(std::string(dir), 1), tiny};
    const auto r = nascent::run(nascent::strategy::random_search<cnn_space>{}, train,
                                {.budget = 3, .seed = 1, .report = "params"});
    std::printf("best of 3 CNNs, 1 epoch on 1,000 images: valid_acc %.1f %%, %g params\n",
                r.best_reward, r.best_report);
    const auto params = static_cast<double>(cnn_factory{}.parameter_count(*r.best));
    return r.best_reward > 20 && r.best_report == params ? 0 : 1; // it learnt; params as counted
}
