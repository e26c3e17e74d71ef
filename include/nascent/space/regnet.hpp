#pragma once
// RegNet (Radosavovic et al., "Designing Network Design Spaces", CVPR 2020): networks whose
// block widths follow a quantized linear function, and the RegNetX design space of them.
//
// Six parameters describe a network (pycls' REGNET.{DEPTH, W0, WA, WM, GROUP_W, BOT_MUL}):
//   u_j = w0 + wa·j for blocks j < d,  s_j = round(log(u_j / w0) / log(wm)),
//   w_j = round(w0·wm^s_j / 8)·8;  consecutive equal w_j form a stage,
// then each stage's width and group width are made compatible as pycls'
// `adjust_block_compatibility` does. Rounding is half-to-even, as numpy's and Python's `round`,
// so the widths are pycls' own.
//
// The network is pycls' AnyNet with X blocks: a 3×3 stride-2 stem to 32 channels + BN; per stage,
// residual bottleneck blocks (1×1, 3×3 group conv carrying the stage's stride 2 on the first block,
// 1×1, each + BN; a 1×1 projection + BN on the shortcut when width or stride change); global
// average pool and a linear classifier. Costs use nascent::cost's convention (multiply-accumulates
// of convolutions and linear layers). Parameters agree with pycls; its FLOP counter also adds one
// per output of a biased layer, so its FLOPs exceed ours by num_classes (1,000 of 199.04 M).

#include <nascent/core/rng.hpp>
#include <nascent/space/cost.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace nascent::regnet {

namespace detail {
/// The shortest decimal form that parses back to the same double.
[[nodiscard]] inline std::string to_text(double x) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}
} // namespace detail

/// A RegNet: the genotype of the design space. `bottleneck` multiplies a block's width to give its
/// bottleneck width (pycls' BOT_MUL; the paper's bottleneck ratio is 1/bottleneck).
struct params {
    std::int64_t depth = 0;       ///< d: number of blocks
    std::int64_t w0 = 0;          ///< initial width, a multiple of 8
    double wa = 0;                ///< slope of the linear widths
    double wm = 0;                ///< width multiplier between stages (> 1)
    std::int64_t group_width = 0; ///< g: channels per group of the 3×3 conv
    double bottleneck = 1;        ///< b: bottleneck width = b · block width, a power of two
    friend bool operator==(const params&, const params&) = default;
};

/// The published RegNetX-200MF and RegNetX-600MF (pycls model zoo).
inline constexpr params regnetx_200mf{13, 24, 36.44, 2.49, 8, 1.0};
inline constexpr params regnetx_600mf{16, 48, 36.97, 2.24, 24, 1.0};

/// Width quantum of the block widths (pycls' q).
inline constexpr std::int64_t width_quantum = 8;

/// Bounds that keep every count finite and small; the design spaces sit far inside them.
inline constexpr std::int64_t max_depth = 1000;
inline constexpr std::int64_t max_width = 65536;

/// Round half to even, as numpy's `round` and Python's `round` (std::round rounds halves away
/// from zero, which would change widths such as round(40 / 16) = 2).
[[nodiscard]] inline double round_half_even(double x) noexcept {
    if (std::abs(x - std::trunc(x)) == 0.5)
        return 2.0 * std::round(x / 2.0);
    return std::round(x);
}

[[nodiscard]] inline bool is_power_of_two(double x) noexcept {
    if (!(x > 0) || !std::isfinite(x))
        return false;
    int exponent = 0;
    return std::frexp(x, &exponent) == 0.5;
}

/// Why `p` is not a RegNet (generate_regnet's and adjust_block_compatibility's preconditions, plus
/// finite bounds), or nullopt if it is one.
[[nodiscard]] inline std::optional<std::string> why_malformed(const params& p) {
    if (p.depth < 1 || p.depth > max_depth)
        return "depth d=" + std::to_string(p.depth) + " is outside [1, 1000]";
    if (p.w0 < width_quantum || p.w0 > max_width || p.w0 % width_quantum != 0)
        return "w0=" + std::to_string(p.w0) + " is not a multiple of 8 in [8, 65536]";
    if (!(p.wa >= 0 && p.wa <= static_cast<double>(max_width)))
        return "wa=" + detail::to_text(p.wa) + " is outside [0, 65536]";
    if (!(p.wm > 1 && p.wm <= static_cast<double>(max_width)))
        return "wm=" + detail::to_text(p.wm) + " is outside (1, 65536]";
    if (p.group_width < 1 || p.group_width > max_width)
        return "group width g=" + std::to_string(p.group_width) + " is outside [1, 65536]";
    if (!is_power_of_two(p.bottleneck) || p.bottleneck < 1.0 / 128 || p.bottleneck > 128)
        return "bottleneck b=" + detail::to_text(p.bottleneck) +
               " is not a power of two in [1/128, 128]";
    return std::nullopt;
}

/// One stage of an AnyNetX network: `depth` X blocks of output width `width`.
struct stage {
    std::int64_t width = 0;
    std::int64_t depth = 0;
    std::int64_t group_width = 0;
    double bottleneck = 1;
    friend bool operator==(const stage&, const stage&) = default;
};

/// Compatible widths: the bottleneck width `width·b` is a multiple of `group_width`.
struct compatible_widths {
    std::int64_t width = 0;
    std::int64_t group_width = 0;
    friend bool operator==(const compatible_widths&, const compatible_widths&) = default;
};

/// pycls' `adjust_block_compatibility` for one stage: caps g at the bottleneck width, then rounds
/// the bottleneck width to a multiple of g (of lcm(g, b) when b > 1) and divides by b again.
[[nodiscard]] inline compatible_widths adjust_compatibility(std::int64_t width, double bottleneck,
                                                            std::int64_t group_width) {
    auto v = static_cast<std::int64_t>(std::max(1.0, static_cast<double>(width) * bottleneck));
    const std::int64_t g = std::min(group_width, v);
    const std::int64_t m = bottleneck > 1 ? std::lcm(g, static_cast<std::int64_t>(bottleneck)) : g;
    v = std::max(m, static_cast<std::int64_t>(
                        round_half_even(static_cast<double>(v) / static_cast<double>(m))) *
                        m);
    return {static_cast<std::int64_t>(static_cast<double>(v) / bottleneck), g};
}

/// What the parameters generate: the stages and the number of quantization levels max(s_j) + 1.
/// pycls' design-space sampler keeps a RegNet only when every level gives a stage
/// (stages.size() == levels).
struct design {
    std::vector<stage> stages;
    std::int64_t levels = 0;
};

/// The quantized per-block widths w_j (before the compatibility adjustment).
[[nodiscard]] inline std::vector<std::int64_t> block_widths(const params& p,
                                                            std::int64_t* levels = nullptr) {
    if (const auto why = why_malformed(p))
        throw std::invalid_argument("invalid RegNet: " + *why);
    std::vector<std::int64_t> widths;
    widths.reserve(static_cast<std::size_t>(p.depth));
    const auto w0 = static_cast<double>(p.w0);
    double max_level = 0;
    for (std::int64_t j = 0; j < p.depth; ++j) {
        const double u = w0 + p.wa * static_cast<double>(j);
        const double s = round_half_even(std::log(u / w0) / std::log(p.wm));
        max_level = std::max(max_level, s);
        const double w = w0 * std::pow(p.wm, s);
        widths.push_back(
            static_cast<std::int64_t>(round_half_even(w / static_cast<double>(width_quantum))) *
            width_quantum);
    }
    if (levels != nullptr)
        *levels = static_cast<std::int64_t>(max_level) + 1;
    return widths;
}

/// The stages of a RegNet: runs of equal block widths (non-decreasing, as wa >= 0 and wm > 1),
/// each with the compatibility adjustment applied. Throws std::invalid_argument if malformed.
[[nodiscard]] inline design generate(const params& p) {
    design out;
    const auto widths = block_widths(p, &out.levels);
    for (const auto w : widths) {
        if (!out.stages.empty() && out.stages.back().width == w) {
            ++out.stages.back().depth;
        } else {
            out.stages.push_back({w, 1, p.group_width, p.bottleneck});
        }
    }
    for (auto& s : out.stages) {
        const auto adjusted = adjust_compatibility(s.width, s.bottleneck, s.group_width);
        s.width = adjusted.width;
        s.group_width = adjusted.group_width;
    }
    return out;
}

/// The fixed parts of the network around the stages.
struct network_options {
    std::int64_t resolution = 224; ///< square input side
    std::int64_t num_classes = 1000;
    std::int64_t stem_width = 32;
    std::int64_t stage_stride = 2; ///< stride of every stage's first block
};

/// One residual X block (pycls' ResBottleneckBlock) on an in_h × in_w input.
[[nodiscard]] constexpr cost::network_cost x_block_cost(std::int64_t w_in, std::int64_t w_out,
                                                        std::int64_t stride, double bottleneck,
                                                        std::int64_t group_width, std::int64_t in_h,
                                                        std::int64_t in_w) {
    const auto out_h = cost::conv_out(in_h, 3, stride, 1);
    const auto out_w = cost::conv_out(in_w, 3, stride, 1);
    cost::network_cost c;
    if (w_in != w_out || stride != 1) { // projection shortcut, a parallel branch
        c += cost::conv2d(w_in, w_out, 1, out_h, out_w) + cost::batch_norm(w_out);
    }
    // int(round(w_out * b)) in pycls; exact here since b is a power of two
    const auto w_b = static_cast<std::int64_t>(static_cast<double>(w_out) * bottleneck + 0.5);
    c += cost::conv2d(w_in, w_b, 1, in_h, in_w) + cost::batch_norm(w_b);
    c += cost::conv2d(w_b, w_b, 3, out_h, out_w, w_b / group_width) + cost::batch_norm(w_b);
    c += cost::conv2d(w_b, w_out, 1, out_h, out_w) + cost::batch_norm(w_out);
    return c;
}

/// Parameters and FLOPs of an AnyNetX network with the given stages.
[[nodiscard]] inline cost::network_cost anynet_complexity(std::span<const stage> stages,
                                                          const network_options& net = {}) {
    std::int64_t h = cost::conv_out(net.resolution, 3, 2, 1);
    cost::network_cost c =
        cost::conv2d(3, net.stem_width, 3, h, h) + cost::batch_norm(net.stem_width);
    std::int64_t prev = net.stem_width;
    for (const auto& s : stages) {
        for (std::int64_t i = 0; i < s.depth; ++i) {
            const std::int64_t stride = i == 0 ? net.stage_stride : 1;
            c += x_block_cost(i == 0 ? prev : s.width, s.width, stride, s.bottleneck, s.group_width,
                              h, h);
            h = cost::conv_out(h, 3, stride, 1);
        }
        prev = s.width;
    }
    return c + cost::linear(prev, net.num_classes); // after global average pooling
}

/// Parameters and FLOPs of the RegNetX network of `p`.
[[nodiscard]] inline cost::network_cost complexity(const params& p,
                                                   const network_options& net = {}) {
    return anynet_complexity(generate(p).stages, net);
}

// ---------------------------------------------------------------------------------------------
// The design space

/// A closed interval [lo, hi].
template <class T>
struct interval {
    T lo{};
    T hi{};
    [[nodiscard]] constexpr bool contains(T x) const noexcept { return lo <= x && x <= hi; }
    [[nodiscard]] constexpr bool fixed() const noexcept { return lo == hi; }
};

/// The constraints that define (or refine) a design space. The defaults are the paper's RegNetX
/// space as pycls samples it (REGNET_SAMPLER defaults and CONSTRAINTS.REGNET.NUM_STAGES):
///   d ∈ [12, 28] uniform;  w0 ∈ [8, 256] log-uniform on multiples of 8;
///   wa ∈ [8, 256] log-uniform on multiples of 0.1 (the paper writes wa < 256; pycls starts at 8);
///   wm ∈ [2, 3] log-uniform on multiples of 0.001 (RegNetX's wm >= 2; the wider RegNet space of
///   Sec. 3.3 is [1.5, 3]);  b = 1;
///   g ∈ [1, 32] by pycls' power2_or_log_uniform: a power of two uniformly, and if it is >= 8 a
///   multiple of 8 log-uniformly instead (so 24, the published RegNetX-600MF's g, belongs);
///   exactly 4 stages, none skipped.
/// Sampled wa and wm lie on their grids; a genotype is valid for any wa, wm in range (the published
/// wa = 36.44 is not a multiple of 0.1). FLOPs and params constraints: rejection sampling.
struct space_options {
    interval<std::int64_t> depth{12, 28};
    interval<std::int64_t> w0{8, 256};
    interval<double> wa{8.0, 256.0};
    interval<double> wm{2.0, 3.0};
    interval<std::int64_t> group_width{1, 32};
    interval<double> bottleneck{1.0, 1.0};
    interval<std::int64_t> stages{4, 4};
    interval<double> flops{0, std::numeric_limits<double>::infinity()};
    interval<double> params{0, std::numeric_limits<double>::infinity()};
    network_options network{};
    std::int64_t max_tries = 100000; ///< draws before sample() gives up
};

namespace detail {

/// Group widths pycls can sample: powers of two below 8, multiples of 8 from 8 on.
[[nodiscard]] constexpr bool on_group_grid(std::int64_t g) noexcept {
    return g >= 1 && (g >= 8 ? g % 8 == 0 : (g & (g - 1)) == 0);
}
[[nodiscard]] constexpr std::int64_t next_group_width(std::int64_t g) noexcept {
    return g < 8 ? g * 2 : g + 8;
}
[[nodiscard]] constexpr std::int64_t previous_group_width(std::int64_t g) noexcept {
    return g <= 8 ? g / 2 : g - 8;
}

/// The first grid step index k with k/per_unit >= lo and the last with k/per_unit <= hi.
[[nodiscard]] inline double first_step(double lo, double per_unit) noexcept {
    return std::ceil(lo * per_unit - 1e-9);
}
[[nodiscard]] inline double last_step(double hi, double per_unit) noexcept {
    return std::floor(hi * per_unit + 1e-9);
}

/// pycls' `log_uniform(lo, hi, q)`: log-uniform in (lo - min(q, lo/2), hi], rounded up to the grid
/// of step q = 1/per_unit and kept inside [lo, hi]. A fixed interval gives its value.
template <RandomGenerator G>
[[nodiscard]] double log_uniform_on_grid(G& gen, interval<double> range, double per_unit) {
    if (range.fixed())
        return range.lo;
    const double q = 1.0 / per_unit;
    const double a = std::log(range.lo - std::min(q, range.lo / 2));
    const double b = std::log(range.hi);
    const double f = std::exp(a + uniform_real(gen) * (b - a));
    const double k = std::clamp(std::ceil(f * per_unit), first_step(range.lo, per_unit),
                                last_step(range.hi, per_unit));
    return k / per_unit;
}

/// pycls' power2_uniform: a power of two, uniform in exponent over [lo, hi] (powers of two).
template <RandomGenerator G>
[[nodiscard]] double power2_uniform(G& gen, interval<double> range) {
    const auto lo = static_cast<int>(std::log2(range.lo));
    const auto hi = static_cast<int>(std::log2(range.hi));
    return std::ldexp(
        1.0, lo + static_cast<int>(uniform_index(gen, static_cast<std::uint64_t>(hi - lo + 1))));
}

/// pycls' power2_or_log_uniform(lo, hi, 8) over the group-width grid within [lo, hi].
template <RandomGenerator G>
[[nodiscard]] std::int64_t group_width(G& gen, interval<std::int64_t> range) {
    if (range.fixed())
        return range.lo;
    std::int64_t small = 0; // powers of two below 8 in range
    std::int64_t large = 0; // powers of two from 8 in range: the odds of a multiple of 8
    for (std::int64_t p = 1; p <= range.hi; p *= 2) {
        if (p >= range.lo)
            ++(p < 8 ? small : large);
    }
    if (small + large > 0) {
        const auto pick = static_cast<std::int64_t>(
            uniform_index(gen, static_cast<std::uint64_t>(small + large)));
        if (pick < small) { // the pick-th power of two in range
            std::int64_t p = 1;
            while (p < range.lo)
                p *= 2;
            return p << pick;
        }
    }
    const interval<double> multiples{static_cast<double>(std::max<std::int64_t>(range.lo, 8)),
                                     static_cast<double>(range.hi)};
    return static_cast<std::int64_t>(log_uniform_on_grid(gen, multiples, 1.0 / 8));
}

} // namespace detail

class space {
public:
    using genotype = params;

    space() : space(space_options{}) {}
    /// Throws std::invalid_argument naming the first inconsistent option.
    explicit space(const space_options& options) : m_options(options) { validate(); }

    [[nodiscard]] const space_options& options() const noexcept { return m_options; }

    /// Draws from pycls' distributions within the options' ranges until a draw is valid (stage
    /// count, FLOPs, params); throws std::runtime_error after `max_tries` rejected draws.
    template <RandomGenerator G>
    [[nodiscard]] params sample(G& gen) const {
        for (std::int64_t t = 0; t < m_options.max_tries; ++t) {
            const params p = draw(gen);
            if (is_valid(p))
                return p;
        }
        throw std::runtime_error("regnet::space: no RegNet met the constraints in " +
                                 std::to_string(m_options.max_tries) + " draws (stages [" +
                                 std::to_string(m_options.stages.lo) + ", " +
                                 std::to_string(m_options.stages.hi) + "], flops [" +
                                 detail::to_text(m_options.flops.lo) + ", " +
                                 detail::to_text(m_options.flops.hi) + "], params [" +
                                 detail::to_text(m_options.params.lo) + ", " +
                                 detail::to_text(m_options.params.hi) + "])");
    }

    /// One draw from the parameter distributions, before the stage and cost constraints.
    template <RandomGenerator G>
    [[nodiscard]] params draw(G& gen) const {
        const auto& o = m_options;
        params p;
        p.depth = o.depth.lo + static_cast<std::int64_t>(uniform_index(
                                   gen, static_cast<std::uint64_t>(o.depth.hi - o.depth.lo + 1)));
        p.w0 = static_cast<std::int64_t>(detail::log_uniform_on_grid(
            gen, {static_cast<double>(o.w0.lo), static_cast<double>(o.w0.hi)}, 1.0 / 8));
        p.wa = detail::log_uniform_on_grid(gen, o.wa, 10);
        p.wm = detail::log_uniform_on_grid(gen, o.wm, 1000);
        p.group_width = detail::group_width(gen, o.group_width);
        p.bottleneck = detail::power2_uniform(gen, o.bottleneck);
        return p;
    }

    /// Well-formed, every parameter in range (w0 a multiple of 8, g on pycls' grid, b a power of
    /// two), a stage for every quantization level, stage count, FLOPs and params in range.
    [[nodiscard]] bool is_valid(const params& p) const {
        const auto& o = m_options;
        if (why_malformed(p))
            return false;
        if (!o.depth.contains(p.depth) || !o.w0.contains(p.w0) || !o.wa.contains(p.wa) ||
            !o.wm.contains(p.wm) || !o.group_width.contains(p.group_width) ||
            !o.bottleneck.contains(p.bottleneck) || !detail::on_group_grid(p.group_width)) {
            return false;
        }
        const auto d = generate(p);
        const auto n = static_cast<std::int64_t>(d.stages.size());
        if (n != d.levels || !o.stages.contains(n))
            return false;
        if (constrains_cost()) {
            const auto c = anynet_complexity(d.stages, o.network);
            if (!o.flops.contains(c.flops) || !o.params.contains(c.params))
                return false;
        }
        return true;
    }

    /// Exact identity: equal parameters, equal hashes (-0.0 and 0.0 compare and hash alike).
    [[nodiscard]] static std::uint64_t hash(const params& p) noexcept {
        std::uint64_t h = splitmix64(static_cast<std::uint64_t>(p.depth));
        h = splitmix64(h ^ static_cast<std::uint64_t>(p.w0));
        h = splitmix64(h ^ std::bit_cast<std::uint64_t>(p.wa + 0.0));
        h = splitmix64(h ^ std::bit_cast<std::uint64_t>(p.wm + 0.0));
        h = splitmix64(h ^ static_cast<std::uint64_t>(p.group_width));
        return splitmix64(h ^ std::bit_cast<std::uint64_t>(p.bottleneck + 0.0));
    }

    /// `d=13,w0=24,wa=36.44,wm=2.49,g=8,b=1`: shortest decimal forms, which parse back exactly.
    [[nodiscard]] static std::string to_string(const params& p) {
        return "d=" + std::to_string(p.depth) + ",w0=" + std::to_string(p.w0) +
               ",wa=" + detail::to_text(p.wa) + ",wm=" + detail::to_text(p.wm) +
               ",g=" + std::to_string(p.group_width) + ",b=" + detail::to_text(p.bottleneck);
    }

    /// Parses the form of to_string strictly (keys in that order, no spaces) into a well-formed
    /// RegNet; whether it lies in this space's ranges is is_valid's question. Throws
    /// std::invalid_argument naming the text and the bad value.
    [[nodiscard]] static params parse(std::string_view text) {
        auto fail = [&](const std::string& what) {
            return std::invalid_argument("invalid RegNet parameters '" + std::string(text) +
                                         "': " + what);
        };
        std::string_view rest = text;
        // the value of `key=value`, which a ',' and `next` follow unless next is empty
        auto field = [&](std::string_view key, std::string_view next) -> std::string_view {
            const auto comma = rest.find(',');
            const auto item = rest.substr(0, comma);
            if (next.empty() && comma != std::string_view::npos)
                throw fail("unexpected text '" + std::string(rest.substr(comma)) + "' after b");
            if (!next.empty() && comma == std::string_view::npos)
                throw fail("missing '," + std::string(next) + "=...' after '" + std::string(item) +
                           "'");
            rest = next.empty() ? std::string_view{} : rest.substr(comma + 1);
            const auto eq = item.find('=');
            if (eq == std::string_view::npos || item.substr(0, eq) != key)
                throw fail("expected '" + std::string(key) + "=...' but found '" +
                           std::string(item) + "'");
            return item.substr(eq + 1);
        };
        auto integer = [&](std::string_view key, std::string_view next) {
            const auto value = field(key, next);
            std::int64_t x = 0;
            const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
            if (ec != std::errc{} || ptr != value.data() + value.size() || value.empty())
                throw fail(std::string(key) + "='" + std::string(value) + "' is not an integer");
            return x;
        };
        auto real = [&](std::string_view key, std::string_view next) {
            const auto value = field(key, next);
            double x = 0;
            const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
            if (ec != std::errc{} || ptr != value.data() + value.size() || value.empty() ||
                !std::isfinite(x))
                throw fail(std::string(key) + "='" + std::string(value) +
                           "' is not a finite number");
            return x;
        };
        params p;
        p.depth = integer("d", "w0");
        p.w0 = integer("w0", "wa");
        p.wa = real("wa", "wm");
        p.wm = real("wm", "g");
        p.group_width = integer("g", "b");
        p.bottleneck = real("b", "");
        if (const auto why = why_malformed(p))
            throw fail(*why);
        return p;
    }

private:
    [[nodiscard]] bool constrains_cost() const noexcept {
        return m_options.flops.lo > 0 || m_options.params.lo > 0 ||
               std::isfinite(m_options.flops.hi) || std::isfinite(m_options.params.hi);
    }

    void validate() const {
        const auto& o = m_options;
        auto fail = [](const std::string& what) {
            return std::invalid_argument("regnet::space_options: " + what);
        };
        auto range_text = [](auto r) {
            if constexpr (std::is_floating_point_v<decltype(r.lo)>) {
                return "[" + detail::to_text(r.lo) + ", " + detail::to_text(r.hi) + "]";
            } else {
                return "[" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]";
            }
        };
        auto ordered = [&](auto r, const char* name) {
            if (!(r.lo <= r.hi))
                throw fail(std::string(name) + " " + range_text(r) + " is empty");
        };
        ordered(o.depth, "depth");
        ordered(o.w0, "w0");
        ordered(o.wa, "wa");
        ordered(o.wm, "wm");
        ordered(o.group_width, "group_width");
        ordered(o.bottleneck, "bottleneck");
        ordered(o.stages, "stages");
        ordered(o.flops, "flops");
        ordered(o.params, "params");
        if (o.depth.lo < 1 || o.depth.hi > max_depth)
            throw fail("depth " + range_text(o.depth) + " is outside [1, 1000]");
        if (o.w0.lo < 1 || o.w0.hi > max_width || (o.w0.lo + 7) / 8 * 8 > o.w0.hi)
            throw fail("w0 " + range_text(o.w0) + " holds no multiple of 8 in [8, 65536]");
        auto grid_range = [&](interval<double> r, double lowest, double per_unit, const char* name,
                              const char* domain) {
            const bool in_domain = r.lo >= lowest && r.hi <= static_cast<double>(max_width);
            const bool has_step = r.fixed() || detail::first_step(r.lo, per_unit) <=
                                                   detail::last_step(r.hi, per_unit);
            if (!in_domain || !has_step || (!r.fixed() && !(r.lo > lowest)))
                throw fail(std::string(name) + " " + range_text(r) + " must lie in " + domain +
                           " and hold a multiple of " + detail::to_text(1 / per_unit) +
                           " (or be a single value)");
        };
        grid_range(o.wa, 0.0, 10, "wa", "(0, 65536]");
        if (!(o.wm.lo > 1))
            throw fail("wm " + range_text(o.wm) + " must lie above 1");
        grid_range(o.wm, 1.0, 1000, "wm", "(1, 65536]");
        bool any_group = false;
        for (std::int64_t g = std::max<std::int64_t>(o.group_width.lo, 1);
             g <= std::min<std::int64_t>(o.group_width.hi, o.group_width.lo + 8); ++g) {
            any_group = any_group || detail::on_group_grid(g);
        }
        if (o.group_width.lo < 1 || o.group_width.hi > max_width || !any_group)
            throw fail("group_width " + range_text(o.group_width) +
                       " holds no power of two below 8 or multiple of 8 in [1, 65536]");
        if (!is_power_of_two(o.bottleneck.lo) || !is_power_of_two(o.bottleneck.hi) ||
            o.bottleneck.lo < 1.0 / 128 || o.bottleneck.hi > 128)
            throw fail("bottleneck " + range_text(o.bottleneck) +
                       " must have powers of two in [1/128, 128] as bounds");
        if (o.stages.lo < 1)
            throw fail("stages " + range_text(o.stages) + " must start at 1 or more");
        if (o.flops.lo < 0 || o.params.lo < 0)
            throw fail("flops " + range_text(o.flops) + " and params " + range_text(o.params) +
                       " must not be negative");
        if (o.network.resolution < 1 || o.network.num_classes < 1 || o.network.stem_width < 1 ||
            o.network.stage_stride < 1)
            throw fail("network resolution " + std::to_string(o.network.resolution) + ", classes " +
                       std::to_string(o.network.num_classes) + ", stem width " +
                       std::to_string(o.network.stem_width) + " and stride " +
                       std::to_string(o.network.stage_stride) + " must be positive");
        if (o.max_tries < 1)
            throw fail("max_tries " + std::to_string(o.max_tries) + " must be positive");
    }

    space_options m_options;
};

// ---------------------------------------------------------------------------------------------
// Mutation

/// Changes one parameter, chosen uniformly among those the space lets vary, by one local step:
/// d ± 1, w0 ± 8, g to the neighbouring grid value, b ×2 or ÷2, wa and wm by a factor drawn
/// log-uniformly within ±`step` and snapped to the sampler's grid (0.1, 0.001; at least one step).
/// A child must be valid in the space (ranges, stages, FLOPs); after `max_tries` invalid attempts,
/// or if nothing may vary, the parent is returned unchanged.
struct perturb_one {
    double step = 0.1;
    std::int64_t max_tries = 64;

    template <RandomGenerator G>
    [[nodiscard]] params operator()(const space& s, const params& parent, G& gen) const {
        const auto& o = s.options();
        enum which : std::uint8_t { d, w0, wa, wm, g, b };
        which movable[6];
        std::uint64_t n = 0;
        if (!o.depth.fixed())
            movable[n++] = d;
        if (!o.w0.fixed())
            movable[n++] = w0;
        if (!o.wa.fixed())
            movable[n++] = wa;
        if (!o.wm.fixed())
            movable[n++] = wm;
        if (!o.group_width.fixed())
            movable[n++] = g;
        if (!o.bottleneck.fixed())
            movable[n++] = b;
        if (n == 0)
            return parent;
        for (std::int64_t t = 0; t < max_tries; ++t) {
            params child = parent;
            const bool up = (gen() >> 63U) != 0;
            switch (movable[uniform_index(gen, n)]) {
            case d:
                child.depth += up ? 1 : -1;
                break;
            case w0:
                child.w0 += up ? width_quantum : -width_quantum;
                break;
            case wa:
                child.wa = scaled(parent.wa, up, 10, gen);
                break;
            case wm:
                child.wm = scaled(parent.wm, up, 1000, gen);
                break;
            case g:
                child.group_width = up ? detail::next_group_width(parent.group_width)
                                       : detail::previous_group_width(parent.group_width);
                break;
            case b:
                child.bottleneck = up ? parent.bottleneck * 2 : parent.bottleneck / 2;
                break;
            }
            if (child != parent && s.is_valid(child))
                return child;
        }
        return parent;
    }

private:
    template <RandomGenerator G>
    [[nodiscard]] double scaled(double x, bool up, double per_unit, G& gen) const {
        const double factor = std::exp(uniform_real(gen) * std::log1p(step));
        const double y = up ? std::ceil(x * factor * per_unit) / per_unit
                            : std::floor(x / factor * per_unit) / per_unit;
        if (y != x)
            return y;
        return (std::round(x * per_unit) + (up ? 1 : -1)) / per_unit;
    }
};

} // namespace nascent::regnet
