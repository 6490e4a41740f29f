#pragma once
/// The Outline's binary form, stored opaquely in FileRecord::outline so that classes in
/// other files can resolve base classes without parsing this file again.

#include <string>
#include <string_view>

#include "dxpy/discovery/outline.h"
#include "dxpy/util/expected.h"

namespace dxpy::discovery {

std::string encode_outline(const Outline& o);
/// An error for malformed bytes, including nesting deeper than kMaxOutlineDepth.
Expected<Outline> decode_outline(std::string_view bytes);

inline constexpr int kMaxOutlineDepth = 100;

}  // namespace dxpy::discovery
