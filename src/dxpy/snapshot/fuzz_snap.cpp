// libFuzzer target for the .snap file parser: arbitrary text to parse(). Parsed entries
// must be sorted and unique, render to text that parses back to the same entries, and
// render the same bytes again (a .snap file is stable under a read-write cycle).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dxpy/snapshot/snap_file.h"

using namespace dxpy::snapshot;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto entries = parse(text);
  if (!entries) return 0;
  for (size_t i = 1; i < entries->size(); ++i) {
    const Entry& a = (*entries)[i - 1];
    const Entry& b = (*entries)[i];
    if (!(a.test < b.test || (a.test == b.test && a.name < b.name))) std::abort();
  }
  std::string rendered = render(*entries);
  auto back = parse(rendered);
  if (!back || *back != *entries) std::abort();
  if (render(*back) != rendered) std::abort();
  for (const auto& e : *entries) {
    auto t = unescape_field(escape_field(e.test));
    if (!t || *t != e.test) std::abort();
  }
  return 0;
}
