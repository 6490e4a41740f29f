#pragma once
/// The Outline's binary form, stored opaquely in FileRecord::outline so that classes in
/// other files can resolve base classes without parsing this file again.

#include <string>
#include <string_view>

#include "dxpy/discovery/outline.h"
#include "dxpy/util/expected.h"

namespace dxpy::discovery {

std::string encode_outline(const Outline& o);
/// What FileRecord::outline must keep for other files: the whole outline when the module
/// defines a class, else the outline without its defs. Other files look for classes in it
/// (CrossFileResolver), then follow its imports; only a module with a class can have one
/// whose bases are resolved again from its own outline (collect.cpp's Inheritance). For a
/// module of test functions alone, this halves the record.
std::string encode_outline_for_record(const Outline& o);
/// An error for malformed bytes, including nesting deeper than kMaxOutlineDepth.
Expected<Outline> decode_outline(std::string_view bytes);

inline constexpr int kMaxOutlineDepth = 100;

}  // namespace dxpy::discovery
