// libFuzzer target: the arch-string parsers (NB201, NB101 adjacency+ops, DARTS, OFA MBConv).
// Invariant: a valid genotype that prints as a string parsing back to the same genotype, or a
// one-line std::invalid_argument; never a crash or hang.
#include <nascent/space/darts.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {
void require(bool condition) {
    if (!condition)
        std::abort();
}

template <class S>
void round_trip(const S& space, std::string_view text, bool exact) {
    try {
        const auto g = space.parse(text);
        require(space.is_valid(g));
        const auto printed = space.to_string(g);
        if (exact)
            require(printed == text); // strict parsers: one text per genotype
        require(space.to_string(space.parse(printed)) == printed);
    } catch (const std::invalid_argument& e) {
        // One line, unless the input itself holds a newline (messages quote the input).
        require(text.find('\n') != std::string_view::npos ||
                std::string_view(e.what()).find('\n') == std::string_view::npos);
    }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 4) {
    case 0:
        round_trip(nascent::nb201::space{}, text, true);
        break;
    case 1: // NB101 texts may be unpruned: they print pruned, so only the printed form is exact
        round_trip(nascent::nb101::space{}, text, false);
        break;
    case 2:
        round_trip(nascent::darts::space{}, text, false);
        break;
    default:
        round_trip(nascent::mbconv::space{}, text, false);
    }
    return 0;
}
