#pragma once
// The message of the exception a call throws, and whether a text contains a part, for tests
// that check what an error says.

#include <stdexcept>
#include <string>

namespace nascent::test {

/// f()'s exception message if it throws an E, "" if it throws nothing (any other exception
/// escapes, so a wrong exception type fails the test).
template <class E = std::invalid_argument, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "";
}

/// Whether `part` occurs in `text` (for checks of what a message says).
inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace nascent::test
