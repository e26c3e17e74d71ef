// Why GraSP's Hessian-vector product is computed by forward-over-reverse differentiation and not
// by finite differences of gradients: on full-size NAS-Bench-201 networks, the finite-difference
// score at several steps against the exact one (rank correlation over cells, and the typical
// relative deviation).
//
//   grasp_hvp [--cells N] [--batch B] [--threads T]

#include <nascent/eval/proxies.hpp>
#include <nascent/exec/tbb_executor.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    namespace ev = nascent::eval;
    try {
        std::size_t cells = 24;
        std::size_t batch_size = 32;
        std::size_t threads = 2;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (i + 1 >= argc)
                throw std::invalid_argument(a + " needs a value");
            const std::string v = argv[++i];
            if (a == "--cells")
                cells = std::stoul(v);
            else if (a == "--batch")
                batch_size = std::stoul(v);
            else if (a == "--threads")
                threads = std::stoul(v);
            else
                throw std::invalid_argument("unknown argument '" + a + "'");
        }
        const auto batch = ev::fashion_mnist_batch(batch_size, 0);
        nascent::rng gen(1);
        std::vector<nascent::nb201::cell> sample;
        while (sample.size() < cells) {
            const auto c = nascent::nb201::space{}.sample(gen);
            // Only cells with a convolution on the path to the output have a non-trivial score.
            if (ev::nb201_proxies(c, {.data_dependent = false}).synflow > 0)
                sample.push_back(c);
        }
        const std::vector<double> steps{1e-2, 1e-3, 1e-4};
        std::vector<std::vector<double>> scores(1 + steps.size(), std::vector<double>(cells));
        nascent::exec::tbb_executor(threads).for_each(cells, [&](std::size_t i) {
            nascent::rng g(nascent::derive_seed(0, nascent::nb201::space::id(sample[i])));
            const auto net = ev::make_nb201_network(sample[i], {}, g);
            scores[0][i] = ev::data_proxies(*net, batch.images, batch.labels).grasp;
            for (std::size_t k = 0; k < steps.size(); ++k) {
                scores[k + 1][i] = ev::data_proxies(*net, batch.images, batch.labels,
                                                    {.grasp_hvp = ev::hvp_method::finite_difference,
                                                     .grasp_step = steps[k]})
                                       .grasp;
            }
        });
        std::printf("GraSP on %zu full-size NB201 networks, Fashion-MNIST batch of %zu\n", cells,
                    batch_size);
        std::printf("| finite-difference step | Spearman with exact | median |fd - exact| / "
                    "|exact| |\n|---:|---:|---:|\n");
        for (std::size_t k = 0; k < steps.size(); ++k) {
            std::vector<double> rel;
            for (std::size_t i = 0; i < cells; ++i) {
                rel.push_back(std::abs(scores[k + 1][i] - scores[0][i]) / std::abs(scores[0][i]));
            }
            std::nth_element(rel.begin(), rel.begin() + static_cast<std::ptrdiff_t>(rel.size() / 2),
                             rel.end());
            std::printf("| %g | %.3f | %.3f |\n", steps[k], ev::spearman(scores[k + 1], scores[0]),
                        rel[rel.size() / 2]);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "grasp_hvp: %s\n", e.what());
        return 2;
    }
}
