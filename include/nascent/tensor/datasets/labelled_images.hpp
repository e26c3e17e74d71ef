#pragma once
// What a data-set reader returns (tensor/datasets/*.hpp): the training images, the test images
// when the data set has them, the number of classes, and where each came from. The validation
// split is taken from the training images afterwards (datasets/splits.hpp).

#include <nascent/tensor/image_set.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace nascent::tensor {

struct labelled_images {
    image_set train;
    std::optional<image_set> test;
    std::size_t classes = 0;
    std::string train_source; ///< the files, for messages
    std::string test_source;
};

namespace detail {

/// Throws "'file': label L of item I outside 0..C-1" unless 0 <= label < classes.
inline void check_label(const std::string& file, std::int64_t label, std::size_t item,
                        std::size_t classes) {
    if (label < 0 || static_cast<std::uint64_t>(label) >= classes) {
        throw std::invalid_argument("'" + file + "': label " + std::to_string(label) + " of item " +
                                    std::to_string(item) + " outside 0.." +
                                    std::to_string(classes - 1));
    }
}

} // namespace detail
} // namespace nascent::tensor
