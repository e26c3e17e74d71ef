#pragma once
// The macro space of Once-for-All's MobileNetV3 (Cai et al., ICLR 2020): a chain of 5 stages of
// MBConv blocks; each stage chooses its depth {2, 3, 4}, and each of its active layers a kernel
// size {3, 5, 7} and an expansion ratio {3, 4, 6}. (3^2 + 3^4 ... ) = (9^2 + 9^3 + 9^4)^5 ~ 2.2e19
// architectures.
//
// Genotypes are canonical: the choices of layers beyond a stage's depth are stored as 0, so two
// genotypes are equal exactly when they build the same network.
//
// The network (OFA-MobileNetV3, width 1.0, 224x224 input, 1000 classes): conv3x3/2 3->16 + BN;
// MBConv 16->16 (k3, no expansion); the 5 stages (widths 24, 40, 80, 112, 160; strides 2, 2, 2,
// 1, 2; squeeze-and-excitation in stages 2, 4, 5; ReLU in stages 1-2, h-swish in 3-5); 1x1
// 160->960 + BN; global pool; 1x1 960->1280 (no BN, no bias); linear 1280->1000. cost() gives
// its exact params and FLOPs, also for OFA's width multipliers (every width scaled and
// make_divisible'd); eval/mbconv_network.hpp builds it as a trainable module.

#include <nascent/core/rng.hpp>
#include <nascent/space/cost.hpp>

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nascent::mbconv {

inline constexpr std::size_t num_stages = 5;
inline constexpr std::size_t max_depth = 4;
inline constexpr std::array<int, 3> depth_choices{2, 3, 4};
inline constexpr std::array<int, 3> kernel_choices{3, 5, 7};
inline constexpr std::array<int, 3> expand_choices{3, 4, 6};

struct arch {
    std::array<std::uint8_t, num_stages> depth{};              ///< index into depth_choices
    std::array<std::uint8_t, num_stages * max_depth> kernel{}; ///< index into kernel_choices
    std::array<std::uint8_t, num_stages * max_depth> expand{}; ///< index into expand_choices
    friend constexpr auto operator<=>(const arch&, const arch&) = default;

    [[nodiscard]] constexpr int depth_of(std::size_t stage) const noexcept {
        return depth_choices[depth[stage]];
    }
};

/// OFA's evolutionary-search mutation: each stage's depth and each active layer's kernel and
/// expansion are resampled with probability `probability`; repeated until the child differs.
struct mutation {
    double probability = 0.1;

    template <class S, RandomGenerator G>
    arch operator()(const S& space, const arch& parent, G& gen) const {
        while (true) {
            arch child = parent;
            for (std::size_t s = 0; s < num_stages; ++s) {
                if (uniform_real(gen) < probability)
                    child.depth[s] =
                        static_cast<std::uint8_t>(uniform_index(gen, depth_choices.size()));
            }
            for (std::size_t s = 0; s < num_stages; ++s) {
                for (int l = 0; l < child.depth_of(s); ++l) {
                    const auto i = s * max_depth + static_cast<std::size_t>(l);
                    if (uniform_real(gen) < probability)
                        child.kernel[i] =
                            static_cast<std::uint8_t>(uniform_index(gen, kernel_choices.size()));
                    if (uniform_real(gen) < probability)
                        child.expand[i] =
                            static_cast<std::uint8_t>(uniform_index(gen, expand_choices.size()));
                }
            }
            space.canonicalise(child);
            if (child != parent)
                return child;
        }
    }
};

/// OFA's make_divisible: round to the nearest multiple of `divisor`, never below 90 % of v.
[[nodiscard]] constexpr std::int64_t make_divisible(double v, std::int64_t divisor = 8) noexcept {
    auto rounded =
        static_cast<std::int64_t>(v + static_cast<double>(divisor) / 2) / divisor * divisor;
    if (rounded < divisor)
        rounded = divisor;
    if (static_cast<double>(rounded) < 0.9 * v)
        rounded += divisor;
    return rounded;
}

/// The network cost() describes: OFA's width multiplier scales every width (stem, first block,
/// stages, final expansion, feature mix) to make_divisible(width * multiplier).
struct network_options {
    std::int64_t resolution = 224; ///< square input size
    std::int64_t classes = 1000;
    double width_multiplier = 1.0;
    std::int64_t input_channels = 3;
};

class space {
public:
    using genotype = arch;
    using mutator = mutation;

    static constexpr std::array<int, num_stages> widths{24, 40, 80, 112, 160};
    static constexpr std::array<int, num_stages> strides{2, 2, 2, 1, 2};
    static constexpr std::array<bool, num_stages> squeeze_excite{false, true, false, true, true};
    /// The stages' activation: h-swish, else ReLU (the stem, final expansion and feature mix use
    /// h-swish, the first block ReLU).
    static constexpr std::array<bool, num_stages> hard_swish{false, false, true, true, true};
    static constexpr int stem_width = 16;   ///< also the first block's width
    static constexpr int final_width = 960; ///< the final 1x1 expansion
    static constexpr int mix_width = 1280;  ///< the feature mix before the classifier

    /// A base width scaled by OFA's width multiplier.
    [[nodiscard]] static constexpr std::int64_t scaled(int width, double multiplier) noexcept {
        return make_divisible(static_cast<double>(width) * multiplier);
    }

    /// Number of architectures: (sum over depths of 9^depth)^5.
    [[nodiscard]] static constexpr long double size() noexcept {
        long double per_stage = 0;
        for (int d : depth_choices) {
            long double layers = 1;
            for (int l = 0; l < d; ++l)
                layers *= kernel_choices.size() * expand_choices.size();
            per_stage += layers;
        }
        long double total = 1;
        for (std::size_t s = 0; s < num_stages; ++s)
            total *= per_stage;
        return total;
    }

    template <RandomGenerator G>
    [[nodiscard]] static arch sample(G& gen) {
        arch a;
        for (std::size_t s = 0; s < num_stages; ++s) {
            a.depth[s] = static_cast<std::uint8_t>(uniform_index(gen, depth_choices.size()));
            for (int l = 0; l < a.depth_of(s); ++l) {
                const auto i = s * max_depth + static_cast<std::size_t>(l);
                a.kernel[i] = static_cast<std::uint8_t>(uniform_index(gen, kernel_choices.size()));
                a.expand[i] = static_cast<std::uint8_t>(uniform_index(gen, expand_choices.size()));
            }
        }
        return a;
    }

    /// Zeroes the choices of inactive layers.
    static constexpr void canonicalise(arch& a) noexcept {
        for (std::size_t s = 0; s < num_stages; ++s) {
            for (std::size_t l = static_cast<std::size_t>(a.depth_of(s)); l < max_depth; ++l) {
                a.kernel[s * max_depth + l] = 0;
                a.expand[s * max_depth + l] = 0;
            }
        }
    }

    [[nodiscard]] static constexpr bool is_valid(const arch& a) noexcept {
        for (std::size_t s = 0; s < num_stages; ++s) {
            if (a.depth[s] >= depth_choices.size())
                return false;
            for (std::size_t l = 0; l < max_depth; ++l) {
                const auto i = s * max_depth + l;
                const bool active = l < static_cast<std::size_t>(a.depth_of(s));
                if (a.kernel[i] >= (active ? kernel_choices.size() : 1))
                    return false;
                if (a.expand[i] >= (active ? expand_choices.size() : 1))
                    return false;
            }
        }
        return true;
    }

    [[nodiscard]] static constexpr std::uint64_t hash(const arch& a) noexcept {
        std::uint64_t h = 0;
        for (std::size_t s = 0; s < num_stages; ++s) {
            h = h * 3 + a.depth[s];
            for (std::size_t l = 0; l < max_depth; ++l) {
                h = h * 9 + a.kernel[s * max_depth + l] * 3U + a.expand[s * max_depth + l];
            }
        }
        return splitmix64(h); // 5 x (3 x 9^4) < 2^64, so h itself is collision-free
    }

    /// One change: a stage's depth (new layers take the first kernel and expansion), or one
    /// active layer's kernel or expansion.
    [[nodiscard]] static std::vector<arch> neighbours(const arch& a) {
        std::vector<arch> out;
        for (std::size_t s = 0; s < num_stages; ++s) {
            for (std::uint8_t d = 0; d < depth_choices.size(); ++d) {
                if (d == a.depth[s])
                    continue;
                arch n = a;
                n.depth[s] = d;
                canonicalise(n);
                out.push_back(n);
            }
            for (int l = 0; l < a.depth_of(s); ++l) {
                const auto i = s * max_depth + static_cast<std::size_t>(l);
                for (std::uint8_t k = 0; k < kernel_choices.size(); ++k) {
                    if (k == a.kernel[i])
                        continue;
                    arch n = a;
                    n.kernel[i] = k;
                    out.push_back(n);
                }
                for (std::uint8_t e = 0; e < expand_choices.size(); ++e) {
                    if (e == a.expand[i])
                        continue;
                    arch n = a;
                    n.expand[i] = e;
                    out.push_back(n);
                }
            }
        }
        return out;
    }

    /// Stages separated by '|', layers by '-': "k3e4-k5e6|k7e3-k3e3-k3e6|..."
    [[nodiscard]] static std::string to_string(const arch& a) {
        std::string s;
        for (std::size_t st = 0; st < num_stages; ++st) {
            if (st > 0)
                s += '|';
            for (int l = 0; l < a.depth_of(st); ++l) {
                const auto i = st * max_depth + static_cast<std::size_t>(l);
                if (l > 0)
                    s += '-';
                s += 'k' + std::to_string(kernel_choices[a.kernel[i]]) + 'e' +
                     std::to_string(expand_choices[a.expand[i]]);
            }
        }
        return s;
    }

    [[nodiscard]] static arch parse(std::string_view text) {
        auto fail = [&](const std::string& what) {
            return std::invalid_argument("invalid MBConv architecture '" + std::string(text) +
                                         "': " + what);
        };
        arch a;
        std::size_t pos = 0;
        for (std::size_t st = 0; st < num_stages; ++st) {
            const auto end = std::min(text.find('|', pos), text.size());
            if (pos > text.size())
                throw fail("expected 5 stages separated by '|'");
            const auto stage = text.substr(pos, end - pos);
            int depth = 0;
            std::size_t p = 0;
            while (p <= stage.size()) {
                const auto e = std::min(stage.find('-', p), stage.size());
                const auto layer = stage.substr(p, e - p);
                if (depth == static_cast<int>(max_depth))
                    throw fail("stage " + std::to_string(st) + " has more than 4 layers");
                const auto i = st * max_depth + static_cast<std::size_t>(depth);
                if (layer.size() != 4 || layer[0] != 'k' || layer[2] != 'e')
                    throw fail("layer '" + std::string(layer) + "' is not kKeE (e.g. k5e6)");
                a.kernel[i] = index_of(kernel_choices, layer[1] - '0', "kernel", layer, fail);
                a.expand[i] = index_of(expand_choices, layer[3] - '0', "expansion", layer, fail);
                ++depth;
                p = e + 1;
            }
            bool ok = false;
            for (std::size_t d = 0; d < depth_choices.size(); ++d) {
                if (depth_choices[d] == depth) {
                    a.depth[st] = static_cast<std::uint8_t>(d);
                    ok = true;
                }
            }
            if (!ok)
                throw fail("stage " + std::to_string(st) + " has " + std::to_string(depth) +
                           " layers (valid: 2, 3, 4)");
            pos = end + 1;
        }
        if (pos < text.size() + 1)
            throw fail("more than 5 stages");
        return a;
    }

    /// Exact params and FLOPs of the network for `resolution` x `resolution` inputs.
    [[nodiscard]] static cost::network_cost cost(const arch& a, std::int64_t resolution = 224,
                                                 std::int64_t classes = 1000) {
        return cost(a, network_options{.resolution = resolution, .classes = classes});
    }

    /// Exact params and FLOPs of the network `o` describes.
    [[nodiscard]] static cost::network_cost cost(const arch& a, const network_options& o) {
        const double m = o.width_multiplier;
        const std::int64_t stem = scaled(stem_width, m);
        std::int64_t size = cost::conv_out(o.resolution, 3, 2, 1);
        auto c = cost::conv2d(o.input_channels, stem, 3, size, size) + cost::batch_norm(stem);
        c += cost::mbconv_block({.in_channels = stem, .mid_channels = stem, .out_channels = stem},
                                size, size);
        std::int64_t channels = stem;
        for (std::size_t st = 0; st < num_stages; ++st) {
            const std::int64_t width = scaled(widths[st], m);
            for (int l = 0; l < a.depth_of(st); ++l) {
                const auto i = st * max_depth + static_cast<std::size_t>(l);
                const std::int64_t stride = l == 0 ? strides[st] : 1;
                const auto mid = expanded(channels, a.expand[i]);
                const auto se = squeeze_excite[st] ? squeezed(mid) : 0;
                c += cost::mbconv_block({.in_channels = channels,
                                         .mid_channels = mid,
                                         .out_channels = width,
                                         .kernel = kernel_choices[a.kernel[i]],
                                         .stride = stride,
                                         .se_channels = se},
                                        size, size);
                size = cost::conv_out(size, kernel_choices[a.kernel[i]], stride,
                                      kernel_choices[a.kernel[i]] / 2);
                channels = width;
            }
        }
        const std::int64_t last = scaled(final_width, m);
        const std::int64_t mix = scaled(mix_width, m);
        c += cost::conv2d(channels, last, 1, size, size) + cost::batch_norm(last);
        c += cost::conv2d(last, mix, 1, 1, 1);
        c += cost::linear(mix, o.classes);
        return c;
    }

    /// Expanded (middle) channels of a layer with `in` input channels and expansion index `e`.
    [[nodiscard]] static constexpr std::int64_t expanded(std::int64_t in, std::uint8_t e) noexcept {
        return make_divisible(static_cast<double>(in) * expand_choices[e]);
    }
    /// Squeeze width of the SE module on `mid` channels (OFA: make_divisible(mid // 4)).
    [[nodiscard]] static constexpr std::int64_t squeezed(std::int64_t mid) noexcept {
        return make_divisible(static_cast<double>(mid / 4));
    }

private:
    template <class F>
    static std::uint8_t index_of(const std::array<int, 3>& values, int v, const char* what,
                                 std::string_view layer, F& fail) {
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (values[i] == v)
                return static_cast<std::uint8_t>(i);
        }
        throw fail(std::string(what) + " in '" + std::string(layer) +
                   "' is not one of the choices");
    }
};

} // namespace nascent::mbconv
