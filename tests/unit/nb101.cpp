// NAS-Bench-101: MD5, the cell space (pruning, validity, the official hash, text form, sampling,
// mutation, neighbourhood), the exact cost model, encodings for predictors and the tables.
#include "error_of.hpp"
#include "test_data.hpp"

#include <nascent/bench/nb101_table.hpp>
#include <nascent/concepts.hpp>
#include <nascent/detail/md5.hpp>
#include <nascent/exec/runner.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/space/encodings.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb101_cost.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace nb101 = nascent::nb101;
namespace md5 = nascent::detail::md5;
using nascent::bench::nb101_metric;
using nascent::bench::nb101_table;

static_assert(std::regular<nb101::cell>);
static_assert(nascent::SearchSpace<nb101::space>);
static_assert(nascent::PrintableSpace<nb101::space>);
static_assert(nascent::NeighbourhoodSpace<nb101::space>);
static_assert(nascent::CanonicalSpace<nb101::space>);
static_assert(nascent::Mutator<nb101::mutation, nb101::space>);
static_assert(std::is_same_v<nascent::ops::default_mutator_t<nb101::space>, nb101::mutation>);
static_assert(nascent::Evaluator<nascent::bench::nb101_evaluator, nb101::cell>);
static_assert(nascent::thread_safety_of<nascent::bench::nb101_evaluator> ==
              nascent::thread_safety::constant);

// RFC 1321, appendix A.5, at compile time.
static_assert(md5::hash("abc") == md5::digest{0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6,
                                              0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72});

namespace {

const nb101_table& table_1k() {
    static const nb101_table t = nb101_table::load(nascent::test::data_dir());
    return t;
}

const nb101_table& table_20k() {
    static const nb101_table t = nb101_table::load_accuracy_only(nascent::test::data_dir());
    return t;
}

const nascent::io::csv_table& csv_1k() {
    static const auto t =
        nascent::io::csv_table::read(nascent::test::data_dir().file("nb101/nb101_1k.csv"));
    return t;
}

const nascent::io::csv_table& csv_zc() {
    static const auto t =
        nascent::io::csv_table::read(nascent::test::data_dir().file("zc/nb101_cifar10.csv"));
    return t;
}

using nascent::test::error_of;

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// input -> conv3x3 -> output
const nb101::cell chain = nb101::parse("010001000:input|conv3x3-bn-relu|output");

} // namespace

// ---------------------------------------------------------------------------------------------
// MD5

TEST_CASE("md5: RFC 1321 test suite and Python's hexdigest form") {
    CHECK(md5::hex("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(md5::hex("a") == "0cc175b9c0f1b6a831c399e269772661");
    CHECK(md5::hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(md5::hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
    CHECK(md5::hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
    CHECK(md5::hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
          "d174ab98d277d9f5a5611c2c9f419d9f");
    CHECK(md5::hex("1234567890123456789012345678901234567890123456789012345678901234567890123456"
                   "7890") == "57edf4a22be3c955ac49da2e2107b67a");
    // hashlib.md5(str((1, 0, -1)).encode()).hexdigest(): the input vertex of the chain cell.
    CHECK(md5::hex("(1, 0, -1)") == "3bb65a81afada4c50c2c4630873f0a79");
    CHECK(md5::hex(std::string(1000, 'x')) == "398533d48111e9f664b1f64cb10c4b63");
}

TEST_CASE("md5: a batch equals one message at a time, across block boundaries") {
    std::vector<std::string> texts;
    for (std::size_t len : {0U, 1U, 55U, 56U, 57U, 63U, 64U, 65U, 119U, 120U, 128U, 226U, 300U}) {
        std::string s(len, 'a');
        for (std::size_t i = 0; i < len; ++i)
            s[i] = static_cast<char>('a' + (i * 7 + len) % 26);
        texts.push_back(s);
    }
    for (std::size_t count = 1; count <= md5::max_batch; ++count) {
        for (std::size_t start = 0; start + count <= texts.size(); ++start) {
            std::vector<std::string_view> views(texts.begin() + static_cast<std::ptrdiff_t>(start),
                                                texts.begin() +
                                                    static_cast<std::ptrdiff_t>(start + count));
            std::vector<md5::digest> out(count);
            md5::hash_batch(views.data(), count, out.data());
            for (std::size_t k = 0; k < count; ++k)
                REQUIRE(out[k] == md5::hash(views[k]));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The cell space

TEST_CASE("nb101 hash: all 1,000 cells of nb101_1k.csv hash to their listed hash") {
    const auto& csv = csv_1k();
    const auto col_hash = csv.column("hash");
    const auto col_adj = csv.column("adjacency");
    const auto col_ops = csv.column("ops");
    REQUIRE(csv.rows() == 1000);
    std::size_t matches = 0;
    for (std::size_t r = 0; r < csv.rows(); ++r) {
        const auto c = nb101::parse(csv.field(r, col_adj), csv.field(r, col_ops));
        const auto hex = nb101::hash_hex(c);
        matches += hex == csv.field(r, col_hash) ? 1 : 0;
        // The space's 64-bit hash is the first 16 hex digits; the canonical key is the hex.
        REQUIRE(nb101::space::hash(c) == std::stoull(hex.substr(0, 16), nullptr, 16));
        REQUIRE(nb101::space::canonical_key(c) == hex);
    }
    CHECK(matches == 1000);
}

TEST_CASE("nb101 hash: NASLib's unpruned 7x7 specs prune to the listed cell and hash") {
    // zc/nb101_cifar10.csv holds the raw spec as NASLib sampled it (499 of 500 with dangling
    // vertices) next to the pruned cell and its hash.
    const auto& csv = csv_zc();
    const auto col_hash = csv.column("hash");
    std::size_t pruned_differs = 0;
    std::size_t matches = 0;
    for (std::size_t r = 0; r < csv.rows(); ++r) {
        const auto raw = nb101::parse(csv.field(r, csv.column("spec_adjacency_7x7")),
                                      csv.field(r, csv.column("spec_ops_7")));
        const auto pruned =
            nb101::parse(csv.field(r, csv.column("adjacency")), csv.field(r, csv.column("ops")));
        REQUIRE(raw == pruned); // parse prunes
        REQUIRE(raw.num_vertices == csv.integer(r, csv.column("num_vertices"), 2, 7));
        pruned_differs += raw.num_vertices < 7 ? 1 : 0;
        matches += nb101::hash_hex(raw) == csv.field(r, col_hash) ? 1 : 0;
    }
    CHECK(csv.rows() == 500);
    CHECK(matches == 500);
    CHECK(pruned_differs > 100); // the test exercises pruning
}

TEST_CASE("nb101 hash: invariant under every renumbering of interior vertices") {
    // Relabel the interior vertices of each table cell in every order that keeps the matrix
    // upper-triangular: a different genotype, the same network, the same hash.
    std::size_t relabelings = 0;
    for (const auto& c : table_1k().members()) {
        const std::size_t n = c.num_vertices;
        std::vector<std::size_t> perm(n);
        std::iota(perm.begin(), perm.end(), 0);
        const auto h = nb101::hash_hex(c);
        do {
            nb101::cell p = c;
            p.adjacency = 0;
            bool forward = true;
            for (std::size_t i = 0; i < n; ++i) {
                for (std::size_t j = 0; j < n; ++j) {
                    if (!c.edge(i, j))
                        continue;
                    forward = forward && perm[i] < perm[j];
                    if (forward)
                        p.set_edge(perm[i], perm[j]);
                }
            }
            if (!forward || p == c)
                continue;
            for (std::size_t v = 1; v + 1 < n; ++v)
                p.ops[perm[v]] = c.ops[v];
            REQUIRE(nb101::hash_hex(p) == h);
            ++relabelings;
        } while (std::next_permutation(perm.begin() + 1, perm.end() - 1));
    }
    CHECK(relabelings > 1000);
    // ...while one changed op is a different network.
    auto other = chain;
    other.ops[1] = nb101::conv1x1;
    CHECK(nb101::hash_hex(other) != nb101::hash_hex(chain));
}

TEST_CASE("nb101 cell: pruning and validity as NAS-Bench-101's ModelSpec") {
    // Vertex 2 is fed by the input but feeds nothing: pruned away, vertices renumbered.
    const auto raw =
        nb101::cell{4,
                    {0, nb101::conv3x3, nb101::maxpool3x3, 0, 0, 0, 0},
                    nb101::cell::bit(0, 1) | nb101::cell::bit(0, 2) | nb101::cell::bit(1, 3)};
    REQUIRE(nb101::is_well_formed(raw));
    CHECK_FALSE(nb101::is_pruned(raw));
    CHECK(nb101::is_valid(raw));
    const auto pruned = nb101::prune(raw);
    REQUIRE(pruned.has_value());
    CHECK(*pruned == chain);
    CHECK(nb101::hash_hex(raw) == nb101::hash_hex(chain));
    CHECK(nb101::to_string(raw) == "0110000100000000:input|conv3x3-bn-relu|maxpool3x3|output");

    // The default cell is input -> output, valid.
    CHECK(nb101::to_string(nb101::cell{}) == "0100:input|output");
    CHECK(nb101::is_valid(nb101::cell{}));
    CHECK(nb101::hash_hex(nb101::cell{}) == "043721b9c7fe8c5fad811d47d83132ec"); // zc data

    // Disconnected: invalid, no hash, but space::hash still answers (history needs it).
    auto cut = chain;
    cut.set_edge(1, 2, false);
    CHECK_FALSE(nb101::is_valid(cut));
    CHECK_FALSE(nb101::prune(cut).has_value());
    CHECK_THROWS_AS((void)nb101::hash_hex(cut), std::invalid_argument);
    CHECK(nb101::space::hash(cut) != nb101::space::hash(chain));

    // Not well-formed: an edge below the diagonal, an op past the last, a non-zero unused op.
    auto backward = chain;
    backward.set_edge(2, 1);
    CHECK_FALSE(nb101::is_well_formed(backward));
    CHECK_FALSE(nb101::is_valid(backward));
    auto bad_op = chain;
    bad_op.ops[1] = 3;
    CHECK_FALSE(nb101::is_valid(bad_op));
    auto stray = chain;
    stray.ops[5] = 1;
    CHECK_FALSE(nb101::is_valid(stray));
}

TEST_CASE("nb101 cell: 9 edges is the limit, counted after pruning") {
    // Input -> 1..5 -> output in a chain, plus shortcuts: 6 + k edges.
    auto c = nb101::parse("0100000001000000010000000100000001000000010000000:"
                          "input|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|"
                          "conv3x3-bn-relu|output");
    REQUIRE(c.num_edges() == 6);
    c.set_edge(0, 2);
    c.set_edge(0, 3);
    c.set_edge(0, 4);
    CHECK(c.num_edges() == 9);
    CHECK(nb101::is_valid(c));
    c.set_edge(0, 5);
    CHECK_FALSE(nb101::is_valid(c));
    CHECK_FALSE(nb101::space::is_valid(c));
    // Still 10 edges, but vertex 5 loses its way out and dangles: pruning removes it and its
    // two in-edges, leaving 6 vertices and 8 edges, a valid cell.
    c.set_edge(5, 6, false);
    c.set_edge(4, 6);
    CHECK(c.num_edges() == 10);
    CHECK(nb101::is_valid(c));
    CHECK(nb101::prune(c)->num_edges() == 8);
    CHECK(nb101::prune(c)->num_vertices == 6);
}

TEST_CASE("nb101 text form: round trip for every table cell and strict errors") {
    for (const auto& c : table_1k().members())
        REQUIRE(nb101::parse(nb101::to_string(c)) == c);
    CHECK(nb101::to_string(chain) == "010001000:input|conv3x3-bn-relu|output");

    auto message = [](std::string_view text) {
        return error_of([&] { (void)nb101::space::parse(text); });
    };
    CHECK(message("0100") ==
          "invalid NAS-Bench-101 cell '0100': expected '<adjacency>:<ops>', e.g. "
          "'010001000:input|conv3x3-bn-relu|output'");
    CHECK(message("010:input|output") ==
          "invalid NAS-Bench-101 cell '010:input|output': adjacency has 3 characters, expected 4 "
          "(2 x 2 for 2 ops)");
    CHECK(message("01x0:input|output") ==
          "invalid NAS-Bench-101 cell '01x0:input|output': adjacency character 'x' at position 2 "
          "is not 0 or 1");
    CHECK(contains(message("0110:input|output"), "edge 1->0 is not above the diagonal"));
    CHECK(contains(message("1100:input|output"), "edge 0->0 is not above the diagonal"));
    CHECK(contains(message("010001000:input|conv5x5|output"),
                   "unknown op 'conv5x5' at vertex 1 (valid: conv3x3-bn-relu, conv1x1-bn-relu, "
                   "maxpool3x3)"));
    CHECK(contains(message("010001000:input|output|output"), "unknown op 'output' at vertex 1"));
    CHECK(contains(message("010001000:maxpool3x3|conv3x3-bn-relu|output"),
                   "vertex 0 must be 'input', got 'maxpool3x3'"));
    CHECK(contains(message("010001000:input|conv3x3-bn-relu|input"),
                   "vertex 2 (the last) must be 'output', got 'input'"));
    CHECK(contains(message(std::string(64, '0') + ":input|maxpool3x3|maxpool3x3|maxpool3x3|"
                                                  "maxpool3x3|maxpool3x3|maxpool3x3|output"),
                   "too many vertices: 8 ops (max 7)"));
    CHECK(contains(message("0:input"), "needs at least 2 vertices"));
    CHECK(contains(message("010000000:input|conv3x3-bn-relu|output"),
                   "the input is not connected to the output"));
    std::string full(49, '0'); // every upper-triangular edge: 21 > 9
    for (std::size_t i = 0; i < 7; ++i) {
        for (std::size_t j = i + 1; j < 7; ++j)
            full[i * 7 + j] = '1';
    }
    CHECK(contains(message(full + ":input|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|"
                                  "conv3x3-bn-relu|conv3x3-bn-relu|output"),
                   "too many edges: 21 after pruning (max 9)"));
}

TEST_CASE("nb101 sample: valid pruned cells with NAS-Bench-101's random_spec distribution") {
    // The exact distribution of vertex counts of a valid random_spec, by enumerating all 2^21
    // adjacency matrices (ops do not affect validity or pruning). The counts were computed
    // independently (a Python transcription of ModelSpec's pruning and is_valid).
    std::array<std::size_t, 8> count{};
    for (std::uint32_t bits = 0; bits < (1U << 21U); ++bits) {
        nb101::cell c;
        c.num_vertices = 7;
        c.adjacency = 0;
        std::uint32_t b = bits;
        for (std::size_t i = 0; i < 7; ++i) {
            for (std::size_t j = i + 1; j < 7; ++j, b >>= 1U)
                c.set_edge(i, j, (b & 1U) != 0);
        }
        const auto p = nb101::prune(c);
        if (!p || p->num_edges() > 9)
            continue;
        ++count[p->num_vertices];
    }
    CHECK(count == std::array<std::size_t, 8>{0, 0, 149607, 310754, 422740, 466334, 183855, 4793});
    const double valid =
        static_cast<double>(std::accumulate(count.begin(), count.end(), std::size_t{0}));
    CHECK(valid == 1538083); // 73 % of random specs are valid; only 0.3 % of those keep 7 vertices
    std::array<double, 8> exact{};
    for (std::size_t n = 0; n < 8; ++n)
        exact[n] = static_cast<double>(count[n]) / valid;

    const nb101::space space;
    nascent::rng gen(7);
    constexpr std::size_t samples = 4000;
    std::array<double, 8> seen{};
    std::array<std::size_t, 3> ops{};
    for (std::size_t i = 0; i < samples; ++i) {
        const auto c = space.sample(gen);
        REQUIRE(space.is_valid(c));
        REQUIRE(nb101::is_pruned(c));
        seen[c.num_vertices] += 1.0 / samples;
        for (std::size_t v = 1; v + 1 < c.num_vertices; ++v)
            ++ops[c.ops[v]];
    }
    for (std::size_t n = 2; n <= 7; ++n) {
        const double sigma = std::sqrt(exact[n] * (1 - exact[n]) / samples);
        CHECK(std::abs(seen[n] - exact[n]) <= 5 * sigma + 1e-12);
    }
    const double total_ops = static_cast<double>(ops[0] + ops[1] + ops[2]);
    for (const auto n_op : ops)
        CHECK(std::abs(static_cast<double>(n_op) / total_ops - 1.0 / 3) < 0.03);

    nascent::rng a(11);
    nascent::rng b(11);
    for (int i = 0; i < 50; ++i)
        REQUIRE(space.sample(a) == space.sample(b));
}

TEST_CASE("nb101 neighbours: single op changes and edge flips that stay valid, distinct networks") {
    const nb101::space space;
    // The chain: conv3x3 -> conv1x1 or maxpool (2); add input -> output (1); removing either
    // edge disconnects the input.
    const auto n = space.neighbours(chain);
    REQUIRE(n.size() == 3);
    CHECK(n[0] == nb101::parse("010001000:input|conv1x1-bn-relu|output"));
    CHECK(n[1] == nb101::parse("010001000:input|maxpool3x3|output"));
    CHECK(n[2] == nb101::parse("011001000:input|conv3x3-bn-relu|output"));

    std::size_t total = 0;
    for (const auto& c : table_1k().members()) {
        const auto h = nb101::hash_hex(c);
        std::set<std::string> hashes;
        const auto all = space.neighbours(c);
        for (const auto& x : all) {
            REQUIRE(space.is_valid(x));
            REQUIRE(nb101::is_pruned(x));
            REQUIRE(x.num_vertices <= c.num_vertices);
            hashes.insert(nb101::hash_hex(x));
        }
        REQUIRE(hashes.size() == all.size());
        REQUIRE(hashes.count(h) == 0);
        // At most 2 per interior op and one per upper-triangular pair.
        REQUIRE(hashes.size() <=
                2 * (c.num_vertices - 2U) + c.num_vertices * (c.num_vertices - 1U) / 2);
        total += hashes.size();
    }
    CHECK(total > 10000); // about 17 per cell
}

TEST_CASE("nb101 mutation: valid, different network, reproducible, single changes at low rates") {
    const nb101::space space;
    const auto& members = table_1k().members();
    const nb101::mutation mutate{};
    nascent::rng gen(3);
    for (std::size_t i = 0; i < 300; ++i) {
        const auto& parent = members[i];
        const auto child = mutate(space, parent, gen);
        REQUIRE(space.is_valid(child));
        REQUIRE(nb101::is_pruned(child));
        REQUIRE(nb101::hash_hex(child) != nb101::hash_hex(parent));
    }
    // The smallest cell mutates too (its missing vertices get drawn ops).
    for (int i = 0; i < 50; ++i)
        REQUIRE(nb101::hash_hex(mutate(space, nb101::cell{}, gen)) !=
                nb101::hash_hex(nb101::cell{}));

    nascent::rng a(5);
    nascent::rng b(5);
    for (std::size_t i = 0; i < 50; ++i)
        REQUIRE(mutate(space, members[i], a) == mutate(space, members[i], b));

    // At a low rate almost every child is one edge flip or one op change away: a neighbour.
    const auto& parent = members[0]; // 7 vertices, so every flip of the 7 x 7 form counts
    REQUIRE(parent.num_vertices == 7);
    std::set<std::string> neighbour_hashes;
    for (const auto& x : space.neighbours(parent))
        neighbour_hashes.insert(nb101::hash_hex(x));
    auto neighbour_share = [&](double rate) {
        const nb101::mutation m{.mutation_rate = rate};
        std::size_t single = 0;
        for (std::size_t i = 0; i < 400; ++i)
            single += neighbour_hashes.count(nb101::hash_hex(m(space, parent, gen)));
        return static_cast<double>(single) / 400;
    };
    CHECK(neighbour_share(0.01) >= 0.95); // about 0.98
    // At the default rate, 3 edge flips and 1 op change are expected: mostly farther away.
    CHECK(neighbour_share(1.0) < 0.4); // about 0.2

    CHECK(contains(error_of([&] { (void)nb101::mutation{.mutation_rate = 0}(space, chain, gen); }),
                   "mutation_rate must be positive and finite, got 0"));
    auto cut = chain;
    cut.set_edge(0, 1, false);
    CHECK(contains(error_of([&] { (void)mutate(space, cut, gen); }),
                   "cannot mutate an invalid cell"));
}

// ---------------------------------------------------------------------------------------------
// Cost model

TEST_CASE("nb101 cost: parameters match the benchmark exactly for all 1,000 cells") {
    const auto& t = table_1k();
    std::size_t matches = 0;
    for (std::size_t r = 0; r < t.size(); ++r) {
        const auto params = nb101::parameter_count(t.members()[r]);
        matches += static_cast<double>(params) == t.value(r, nb101_metric::params) ? 1 : 0;
    }
    CHECK(matches == 1000);

    // By hand: input -> output alone is the stem (3*3*3*128 + 256), per cell a projection (plus
    // BN) 128->128 (x3), 128->256, 256->256 (x2), 256->512, 512->512 (x2), and the dense layer.
    CHECK(nb101::parameter_count(nb101::cell{}) ==
          3712 + 3 * 16640 + 33280 + 2 * 66048 + 132096 + 2 * 263168 + 5130);
    CHECK(nb101::parameter_count(nb101::cell{}) == 882570); // zc/nb101_cifar10.csv: 0.88257 M
    // Its multiply-accumulates: stem, 1x1 projections at 32, 16 and 8 pixels, dense.
    CHECK(nb101::network_cost(nb101::cell{}).flops ==
          27.0 * 128 * 1024 + 3.0 * 128 * 128 * 1024 + (128.0 * 256 + 2 * 256 * 256) * 256 +
              (256.0 * 512 + 2 * 512 * 512) * 64 + 5120);
}

TEST_CASE("nb101 cost: output channels are split as compute_vertex_channels does") {
    // Vertices 2, 3, 4 feed the output: 128 = 43 + 43 + 42 in vertex order; vertex 1 feeds only
    // 2 and 3 and takes the larger of their widths.
    nb101::cell c{
        6, {0, nb101::conv3x3, nb101::conv3x3, nb101::conv1x1, nb101::maxpool3x3, 0, 0}, 0};
    for (const auto& [from, to] :
         {std::pair{0, 1}, {1, 2}, {1, 3}, {2, 5}, {3, 5}, {0, 4}, {4, 5}}) {
        c.set_edge(static_cast<std::size_t>(from), static_cast<std::size_t>(to));
    }
    REQUIRE(nb101::is_pruned(c));
    CHECK(nb101::vertex_channels(c, 64, 128) ==
          std::array<std::int64_t, 7>{64, 43, 43, 43, 42, 128, 0});
    CHECK(nb101::vertex_channels(c, 128, 256) ==
          std::array<std::int64_t, 7>{128, 86, 86, 85, 85, 256, 0});
    CHECK(nb101::vertex_channels(chain, 128, 256) ==
          std::array<std::int64_t, 7>{128, 256, 256, 0, 0, 0, 0});
    CHECK(nb101::vertex_channels(nb101::cell{}, 128, 256) ==
          std::array<std::int64_t, 7>{128, 256, 0, 0, 0, 0, 0});
    // A network of one 64 -> 64 module on a 1 x 1 image, by hand: widths 22, 22, 21, 21;
    // projections (conv + BN) into vertices 1 and 4, conv3x3 at 1 and 2, conv1x1 at 3, a free
    // max-pool at 4.
    const nb101::network_options one_module{.image_size = 1,
                                            .image_channels = 1,
                                            .stem_channels = 64,
                                            .stacks = 1,
                                            .cells_per_stack = 1,
                                            .classes = 1};
    CHECK(nb101::vertex_channels(c, 64, 64) ==
          std::array<std::int64_t, 7>{64, 22, 22, 21, 21, 64, 0});
    const double expected = (1 * 64 * 9 + 128)                // stem 1 -> 64, 1x1 image
                            + (64 * 22 + 44) + (64 * 21 + 42) // projections into 1 and 4
                            + (9 * 22 * 22 + 44) + (9 * 22 * 22 + 44) + (21 * 21 + 42) // ops 1..3
                            + (64 * 1 + 1); // dense 64 -> 1
    CHECK(nb101::network_cost(c, one_module).params == expected);
}

TEST_CASE("nb101 cost: FLOPs, and NASLib's FLOPs column reproduced to its 8 digits") {
    // NASLib's zero-cost data counts tensorwatch FLOPs (MACs plus BN, ReLU and pooling); with
    // that convention every row matches to the rounding of the file (8 significant digits),
    // which checks every layer's width and map size. nascent's MACs are 1-13 % lower.
    const auto& csv = csv_zc();
    const auto col_flops = csv.column("flops");
    const auto col_params = csv.column("params");
    std::size_t matches = 0;
    double worst_mac_gap = 0;
    for (std::size_t r = 0; r < csv.rows(); ++r) {
        const auto c =
            nb101::parse(csv.field(r, csv.column("adjacency")), csv.field(r, csv.column("ops")));
        const double naslib_m = csv.required_number(r, col_flops);
        const double unit = std::pow(10.0, std::floor(std::log10(naslib_m)) - 7); // last digit
        matches +=
            std::abs(nb101::naslib_flops(c) / 1e6 - naslib_m) <= 0.5 * unit * (1 + 1e-9) ? 1 : 0;
        const auto cost = nb101::network_cost(c);
        REQUIRE(cost.flops < nb101::naslib_flops(c));
        worst_mac_gap = std::max(worst_mac_gap, 1 - cost.flops / 1e6 / naslib_m);
        REQUIRE(std::abs(cost.params / 1e6 - csv.required_number(r, col_params)) <= 5e-7);
    }
    CHECK(matches == 500);
    CHECK(worst_mac_gap < 0.14);
    CHECK_THROWS_AS((void)nb101::network_cost(nb101::cell{2, {}, 0}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Encodings

TEST_CASE("encodings nb101: adjacency + one-hot ops, hand-checked") {
    namespace enc = nascent::encoding;
    const auto a = enc::adjacency(chain);
    static_assert(std::tuple_size_v<std::remove_cvref_t<decltype(a)>> == 36);
    // Edges (0,1) at 0 and (1, output = padded vertex 6) at 6 + 4 = 10; vertex 1 conv3x3 at 21.
    std::vector<std::size_t> ones;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] != 0)
            ones.push_back(i);
    }
    CHECK(ones == std::vector<std::size_t>{0, 10, 21});
    const auto bare = enc::adjacency(nb101::cell{});
    CHECK(std::accumulate(bare.begin(), bare.end(), 0.0) == 1.0);
    CHECK(bare[5] == 1.0); // (0, 6)
    // A full 7-vertex cell: one-hot rows sum to 1 for each of the 5 interior vertices.
    const auto& c = table_1k().members()[0];
    const auto e = enc::adjacency(c);
    CHECK(std::accumulate(e.begin(), e.begin() + 21, 0.0) == static_cast<double>(c.num_edges()));
    CHECK(std::accumulate(e.begin() + 21, e.end(), 0.0) == 5.0);
}

TEST_CASE("encodings nb101: path encoding, hand-checked, and invariant to pruning") {
    namespace enc = nascent::encoding;
    // The chain has one path, of one conv3x3: index 3^0 * (0 + 1) = 1.
    auto p = enc::paths(chain);
    REQUIRE(p.size() == 364);
    CHECK(std::accumulate(p.begin(), p.end(), 0.0) == 1.0);
    CHECK(p[1] == 1.0);
    // input -> output directly: index 0.
    CHECK(enc::paths(nb101::cell{})[0] == 1.0);
    // Two conv3x3 vertices in parallel, and a maxpool after the first.
    const auto diamond = nb101::parse("0110000011000010000100000:"
                                      "input|conv3x3-bn-relu|conv3x3-bn-relu|maxpool3x3|output");
    REQUIRE(diamond.edge(0, 1));
    REQUIRE(diamond.edge(0, 2));
    REQUIRE(diamond.edge(1, 3));
    REQUIRE(diamond.edge(1, 4));
    REQUIRE(diamond.edge(2, 4));
    REQUIRE(diamond.edge(3, 4));
    // Paths: [c3] via 1, [c3] via 2, [c3, pool] via 1,3 -> indices 1, 1, 1 + 3 * 3 = 10.
    const auto counts = enc::paths(diamond, {.counts = true});
    CHECK(counts[1] == 2.0);
    CHECK(counts[10] == 1.0);
    CHECK(std::accumulate(counts.begin(), counts.end(), 0.0) == 3.0);
    const auto indicator = enc::paths(diamond);
    CHECK(indicator[1] == 1.0);
    CHECK(std::accumulate(indicator.begin(), indicator.end(), 0.0) == 2.0);
    CHECK(enc::paths(diamond, {.truncate = 4}) == std::vector<double>{0, 1, 0, 0});
    CHECK(enc::nb101_path_index(std::array<std::uint8_t, 5>{2, 2, 2, 2, 2}.data(), 5) == 363);

    // Pruning invariance: a dangling vertex changes neither encoding.
    const auto raw =
        nb101::cell{4,
                    {0, nb101::conv3x3, nb101::maxpool3x3, 0, 0, 0, 0},
                    nb101::cell::bit(0, 1) | nb101::cell::bit(0, 2) | nb101::cell::bit(1, 3)};
    CHECK(enc::adjacency(raw) == enc::adjacency(chain));
    CHECK(enc::paths(raw) == enc::paths(chain));
    for (std::size_t r = 0; r < csv_zc().rows(); ++r) {
        const auto unpruned_text =
            std::string(csv_zc().field(r, csv_zc().column("spec_adjacency_7x7")));
        const auto ops_text = std::string(csv_zc().field(r, csv_zc().column("spec_ops_7")));
        nb101::cell unpruned;
        unpruned.num_vertices = 7;
        unpruned.adjacency = 0;
        for (std::size_t k = 0; k < 49; ++k) {
            if (unpruned_text[k] == '1')
                unpruned.set_edge(k / 7, k % 7);
        }
        const auto pruned = nb101::parse(unpruned_text, ops_text);
        std::size_t v = 0;
        for (std::size_t start = 0; v < 7; ++v) { // ops of the raw spec, unpruned
            const auto bar = std::min(ops_text.find('|', start), ops_text.size());
            const auto name = std::string_view(ops_text).substr(start, bar - start);
            if (v > 0 && v < 6)
                unpruned.ops[v] = *nb101::op_from_name(name);
            start = bar + 1;
        }
        REQUIRE(nb101::hash_hex(unpruned) == csv_zc().field(r, csv_zc().column("hash")));
        REQUIRE(nb101::space::hash(unpruned) == nb101::space::hash(pruned));
        REQUIRE(enc::adjacency(unpruned) == enc::adjacency(pruned));
        REQUIRE(enc::paths(unpruned, {.counts = true}) == enc::paths(pruned, {.counts = true}));
    }
    CHECK_THROWS_AS((void)enc::paths(nb101::cell{2, {}, 0}), std::invalid_argument);
}

TEST_CASE("encodings nb201: one-hot edges and paths cut by 'none'") {
    namespace enc = nascent::encoding;
    namespace nb201 = nascent::nb201;
    const auto all_skip = nb201::space::parse("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|"
                                              "skip_connect~0|skip_connect~1|skip_connect~2|");
    const auto one_hot = enc::adjacency(all_skip);
    CHECK(one_hot.size() == 30);
    for (std::size_t e = 0; e < 6; ++e)
        CHECK(one_hot[e * 5 + nb201::skip_connect] == 1.0);
    CHECK(std::accumulate(one_hot.begin(), one_hot.end(), 0.0) == 6.0);

    // All skips: 4 paths -> [skip] at 0, [skip, skip] at 4 (twice), [skip, skip, skip] at 20.
    const auto counts = enc::paths(all_skip, {.counts = true});
    REQUIRE(counts.size() == 84);
    CHECK(counts[0] == 1.0);
    CHECK(counts[4] == 2.0);
    CHECK(counts[20] == 1.0);
    CHECK(std::accumulate(counts.begin(), counts.end(), 0.0) == 4.0);
    CHECK(enc::paths(all_skip)[4] == 1.0);

    // 'none' cuts: only node 0 -> 3 via conv3x3 on edge (0,3) survives.
    const auto cut = nb201::space::parse(
        "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|");
    const auto p = enc::paths(cut);
    CHECK(std::accumulate(p.begin(), p.end(), 0.0) == 1.0);
    CHECK(p[2] == 1.0); // nor_conv_3x3 -> 2
    // Path (0,1)(1,3) = conv1x1, avg_pool: 4 + 1 + 4 * 3 = 17; others cut by 'none'.
    const auto two =
        nb201::space::parse("|nor_conv_1x1~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|none~2|");
    const auto p2 = enc::paths(two);
    CHECK(std::accumulate(p2.begin(), p2.end(), 0.0) == 1.0);
    CHECK(p2[17] == 1.0);
    const auto none = nb201::space::parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    const auto z = enc::paths(none);
    CHECK(std::accumulate(z.begin(), z.end(), 0.0) == 0.0);
    CHECK(enc::paths(all_skip, {.truncate = 5}).size() == 5);
}

// ---------------------------------------------------------------------------------------------
// Tables

TEST_CASE("nb101 table: rows, README sanity numbers, members and lookup") {
    const auto& t = table_1k();
    REQUIRE(t.size() == 1000);
    CHECK(t.has_graphs());
    REQUIRE(t.members().size() == 1000);

    const auto best = t.optimum(nb101_metric::valid_108);
    CHECK(best.value == doctest::Approx(94.6715).epsilon(1e-12));
    CHECK(t.hash_hex_at(best.row) == "009a0f4922f1f1ef74542d849f60fbf2");
    double sum = 0;
    double lowest = 100;
    double fewest = 1e18;
    double most = 0;
    for (std::size_t r = 0; r < t.size(); ++r) {
        sum += t.value(r, nb101_metric::valid_108);
        lowest = std::min(lowest, t.value(r, nb101_metric::valid_108));
        fewest = std::min(fewest, t.value(r, nb101_metric::params));
        most = std::max(most, t.value(r, nb101_metric::params));
    }
    CHECK(sum / 1000 == doctest::Approx(91.1456).epsilon(1e-6));
    CHECK(lowest == 9.5052);
    CHECK(fewest == 358986);
    CHECK(most == 49105546);
    CHECK(t.optimum(nb101_metric::valid_36).value == 93.1591);
    CHECK(t.optimum(nb101_metric::valid_12).value == 85.7272);
    CHECK(t.optimum(nb101_metric::valid_4).value == 68.0889);

    for (std::size_t r = 0; r < t.size(); ++r)
        REQUIRE(t.find(t.members()[r]) == r);
    CHECK(t.find_hash("009a0f4922f1f1ef74542d849f60fbf2") == best.row);
    CHECK_FALSE(t.find_hash("ffffffffffffffffffffffffffffffff").has_value());
    CHECK(contains(error_of([&] { (void)t.find_hash("009A"); }),
                   "invalid NAS-Bench-101 hash '009A'"));
    CHECK_THROWS_AS((void)t.row_at(1000), std::out_of_range);
}

TEST_CASE("nb101 evaluator: ok in the table, out_of_table outside, metrics and errors") {
    const auto& t = table_1k();
    const auto ev = t.evaluator({.reward = "valid_acc@108"});
    const auto best = t.optimum(nb101_metric::valid_108);
    const auto e = ev.evaluate(t.members()[best.row]);
    REQUIRE(e.ok());
    CHECK(e.reward == 94.6715);
    CHECK(e.metrics.size() == 6);
    CHECK(e.metrics.get("params") == 11930506);
    CHECK(e.metrics.get("valid_acc@36") == 92.6683);
    CHECK(e.metrics.get("train_seconds@108") == 3023.023);
    CHECK(t.evaluator({.reward = "valid_acc@12"}).evaluate(t.members()[best.row]).reward ==
          84.8257);

    // input -> output is in the benchmark (its hash is in the 20k file), not in the 1k slice.
    const auto out = ev.evaluate(nb101::cell{});
    CHECK(out.status == nascent::eval_status::out_of_table);
    CHECK(out.reason == "not in the NAS-Bench-101 table");
    CHECK(out.reward == -std::numeric_limits<double>::infinity());
    auto cut = chain;
    cut.set_edge(0, 1, false);
    CHECK(ev.evaluate(cut).status == nascent::eval_status::out_of_table);
    CHECK(ev.evaluate(cut).reason == "not a valid NAS-Bench-101 cell");

    CHECK(contains(error_of([&] { (void)t.evaluator({.reward = "test_acc@108"}); }),
                   "unknown metric 'test_acc@108'"));
}

TEST_CASE("nb101 table: the 20k accuracy-only table") {
    const auto& big = table_20k();
    REQUIRE(big.size() == 20001);
    CHECK_FALSE(big.has_graphs());
    CHECK(big.members().empty());
    const auto best = big.optimum(nb101_metric::valid_108);
    CHECK(best.value == 94.9119);
    CHECK(big.hash_hex_at(best.row) == "096f593e0f12d65f6220bf8565b764a9");
    double sum = 0;
    for (std::size_t r = 0; r < big.size(); ++r)
        sum += big.value(r, nb101_metric::valid_108);
    CHECK(sum / 20001 == doctest::Approx(91.0418).epsilon(1e-6));

    // Its first 1,000 rows are the 1k table; cells are found by computing their hash.
    const auto& small = table_1k();
    for (std::size_t r = 0; r < small.size(); ++r) {
        REQUIRE(big.find(small.members()[r]) == r);
        REQUIRE(big.row_at(r) == small.row_at(r));
    }
    const auto e = big.evaluator().evaluate(nb101::cell{});
    REQUIRE(e.ok());
    CHECK(e.reward == 83.5837);
    CHECK(e.metrics.get("params") == 882570);
    CHECK(e.metrics.get("params") == nb101::parameter_count(nb101::cell{}));
}

TEST_CASE("nb101 search: REA and local search run on the space and the 20k table") {
    const auto& big = table_20k();
    const auto ev = big.evaluator({.reward = "valid_acc@108"});
    const nb101::space space;
    const nascent::strategy::regularized_evolution rea{
        space, nb101::mutation{}, {.population = 10, .sample = 3}};
    const auto one = nascent::run(rea, ev, {.budget = 25, .seed = 1});
    CHECK(one.queries == 25);
    CHECK(one.out_of_table > 0); // most of the space is outside the 20k slice
    REQUIRE(one.best.has_value());
    CHECK(ev.evaluate(*one.best).reward == one.best_reward);
    const auto again = nascent::run(rea, ev, {.budget = 25, .seed = 1});
    CHECK(again.best == one.best);
    CHECK(again.out_of_table == one.out_of_table);

    const nascent::strategy::local_search ls{space};
    const auto walk = nascent::run(ls, ev, {.budget = 15, .seed = 2});
    CHECK(walk.queries == 15);
    CHECK(walk.best.has_value());
}

// ---------------------------------------------------------------------------------------------
// Bad files

namespace {

// The real header and the first `rows` data lines of a real file.
std::string nb101_text(std::string_view relative, std::size_t rows) {
    const auto full = nascent::io::read_file(nascent::test::data_dir().file(relative));
    std::size_t pos = 0;
    for (std::size_t line = 0; line <= rows && pos != std::string::npos; ++line) {
        pos = full.find('\n', pos);
        if (pos != std::string::npos)
            ++pos;
    }
    return pos == std::string::npos ? full : full.substr(0, pos);
}

std::string nb101_load_error(const std::string& name, const std::string& content,
                             bool graphs = true) {
    const nascent::test::temp_file file("nb101_" + name, content);
    return error_of([&] {
        if (graphs) {
            (void)nb101_table::load_file(file.path());
        } else {
            (void)nb101_table::load_accuracy_only_file(file.path());
        }
    });
}

std::string nb101_replace_once(std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    return text.replace(pos, from.size(), to);
}

} // namespace

TEST_CASE("nb101 table: bad files get one-line errors naming file, line and value") {
    const auto full = nb101_text("nb101/nb101_1k.csv", 1000);
    SUBCASE("the intact file loads") {
        CHECK(nb101_load_error("ok.csv", full).empty());
    }
    SUBCASE("wrong row count in the data directory") {
        const auto dir = std::filesystem::temp_directory_path() / "nascent_test_nb101_dir";
        std::filesystem::create_directories(dir / "nb101");
        std::FILE* f = std::fopen((dir / "nb101" / "nb101_1k.csv").c_str(), "wb");
        REQUIRE(f != nullptr);
        const auto text = nb101_text("nb101/nb101_1k.csv", 100);
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
        const auto what = error_of([&] { (void)nb101_table::load({dir, "test"}); });
        std::filesystem::remove_all(dir);
        CHECK(contains(what, "nb101_1k.csv: expected 1000 data rows, found 100"));
    }
    SUBCASE("missing column") {
        const auto what =
            nb101_load_error("col.csv", nb101_replace_once(full, "valid_acc_36", "valid_acc_63"));
        CHECK(contains(what, "col.csv:1: missing column 'valid_acc_36'"));
    }
    SUBCASE("malformed number") {
        const auto what =
            nb101_load_error("num.csv", nb101_replace_once(full, ",36.0477,", ",36.0x77,"));
        CHECK(contains(what, "num.csv:2:182: column 'valid_acc_4': malformed number '36.0x77'"));
    }
    SUBCASE("accuracy out of range") {
        const auto what =
            nb101_load_error("acc.csv", nb101_replace_once(full, ",93.0489,", ",193.0489,"));
        CHECK(contains(what,
                       "acc.csv:2:205: column 'valid_acc_108': value '193.0489' outside [0, 100]"));
    }
    SUBCASE("malformed hash") {
        const auto what = nb101_load_error(
            "hex.csv", nb101_replace_once(full, "00005c142e6f48ac74fdcf73e3439874", "00005C14"));
        CHECK(contains(
            what, "hex.csv:2:1: column 'hash': expected 32 lower-case hex digits, got '00005C14'"));
    }
    SUBCASE("a hash that is not the cell's") {
        const auto what = nb101_load_error(
            "hash.csv", nb101_replace_once(full, "00005c142e6f48ac74fdcf73e3439874",
                                           "00005c142e6f48ac74fdcf73e3439875"));
        CHECK(contains(what, "hash.csv:2:1: column 'hash': hash '00005c142e6f48ac74fdcf73e3439875' "
                             "is not the NAS-Bench-101 "
                             "hash of the row's cell, '00005c142e6f48ac74fdcf73e3439874'"));
    }
    SUBCASE("duplicate hash") {
        const auto what =
            nb101_load_error("dup.csv", nb101_replace_once(full, "0000718c96730a92ea6d5242f8ce77e2",
                                                           "00005c142e6f48ac74fdcf73e3439874"));
        CHECK(contains(what, "dup.csv:3:1: column 'hash': duplicate hash "
                             "'00005c142e6f48ac74fdcf73e3439874' (first at line 2)"));
    }
    SUBCASE("a backward edge (a cycle)") {
        const auto what = nb101_load_error(
            "cycle.csv",
            nb101_replace_once(full, ",0100110001000000010010000010000001000000010000000,",
                               ",0100110101000000010010000010000001000000010000000,"));
        CHECK(contains(
            what,
            "cycle.csv:2:36: column 'adjacency': with column 'ops': invalid NAS-Bench-101 cell"));
        CHECK(contains(what, "edge 1->0 is not above the diagonal"));
    }
    SUBCASE("an unknown op") {
        const auto what =
            nb101_load_error("op.csv", nb101_replace_once(full, "input|conv3x3-bn-relu|maxpool3x3|",
                                                          "input|conv3x3-bn-relu|avgpool3x3|"));
        CHECK(contains(what, "op.csv:2:36: column 'adjacency': with column 'ops'"));
        CHECK(contains(what, "unknown op 'avgpool3x3' at vertex 2"));
    }
    SUBCASE("adjacency of the wrong size") {
        const auto what = nb101_load_error(
            "size.csv",
            nb101_replace_once(full, ",0100110001000000010010000010000001000000010000000,",
                               ",010011000100000001001000001000000100000001000000,"));
        CHECK(contains(what, "size.csv:2:"));
        CHECK(contains(what, "adjacency has 48 characters, expected 49"));
    }
    SUBCASE("num_vertices disagrees with the cell") {
        const auto what =
            nb101_load_error("nv.csv", nb101_replace_once(full, "3439874,7,", "3439874,6,"));
        CHECK(contains(what, "nv.csv:2:34: column 'num_vertices': value 6, but the cell has 7 "
                             "vertices after pruning"));
    }
    SUBCASE("accuracy-only file: intact, and a bad row") {
        const auto acc = nb101_text("nb101/nb101_20k_acc.csv", 20001);
        CHECK(nb101_load_error("acc_ok.csv", acc, false).empty());
        const auto what =
            nb101_load_error("acc_bad.csv", nb101_replace_once(acc, ",8555530,", ",-5,"), false);
        CHECK(contains(what, "acc_bad.csv:2:34: column 'params': expected an integer in [1, "
                             "1000000000000], got '-5'"));
        CHECK(contains(nb101_load_error("acc_graph.csv", acc, true),
                       "acc_graph.csv:1: missing column 'num_vertices'"));
    }
}

TEST_CASE("nb101: a run's history treats isomorphic cells as one architecture") {
    const nascent::nb101::space space;
    const auto a = space.parse("0110000100010000:input|conv3x3-bn-relu|conv1x1-bn-relu|output");
    const auto b = space.parse("0110000100010000:input|conv1x1-bn-relu|conv3x3-bn-relu|output");
    REQUIRE(a != b);
    CHECK(space.hash(a) == space.hash(b));
    CHECK(space.same(a, b));
    nascent::history<nascent::nb101::space> seen(space, 4);
    seen.insert_hashed(a, space.hash(a), [] { return nascent::evaluation::success(1.0); });
    const auto* found = seen.find(b);
    REQUIRE(found != nullptr);
    CHECK(found->reward == 1.0);
    CHECK(seen.find(space.parse("0110000100010000:input|conv3x3-bn-relu|conv3x3-bn-relu|output")) ==
          nullptr);
}
