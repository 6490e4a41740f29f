// libFuzzer target for the Python source scanner: any bytes as a source file. The scanner
// must not crash, read out of bounds or hang, and the outline codec must round-trip what it
// produced (the index stores outlines this way).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "dxpy/discovery/outline_codec.h"
#include "dxpy/discovery/scanner.h"

using namespace dxpy::discovery;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  Outline outline = scan_outline(source);
  (void)fold_source_text(source);
  auto back = decode_outline(encode_outline(outline));
  if (!back || !(*back == outline)) {
    std::fprintf(stderr, "the outline of a scanned source does not survive encode -> decode\n");
    __builtin_trap();
  }
  return 0;
}
