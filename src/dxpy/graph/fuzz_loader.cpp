// libFuzzer target for the import graph cache (.dx-py/graph.dxig): arbitrary bytes to
// decode_graph. As for the index, the header's root hash, body size and checksum are set
// right first so the decoder's own checks see the fuzzer's body. A decoded graph must encode
// and decode again to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dxpy/graph/store.h"
#include "dxpy/util/bytes.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/hash.h"

using namespace dxpy;
using namespace dxpy::graph;
using namespace dxpy::graph::format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const GraphOptions options = [] {
    GraphOptions o;
    o.rootdir = "/fuzz/root";
    return o;
  }();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= sizeof(Header)) {
    store_le(bytes.data() + offsetof(Header, root_hash), blake3_u64(absolute_path(options.rootdir)));
    store_le(bytes.data() + offsetof(Header, body_size), uint64_t{bytes.size() - sizeof(Header)});
    Hash256 sum = header_body_checksum(std::string_view(bytes).substr(0, sizeof(Header)), kChecksummedHeaderBytes,
                                       std::string_view(bytes).substr(sizeof(Header)));
    std::memcpy(bytes.data() + offsetof(Header, checksum), sum.data(), sum.size());
  }
  auto g = decode_graph(bytes, options);
  if (!g) return 0;
  const std::string again = encode_graph(*g);
  auto back = decode_graph(again, options);
  if (!back || encode_graph(*back) != again) {
    std::fprintf(stderr, "a decoded graph does not survive encode -> decode\n");
    __builtin_trap();
  }
  return 0;
}
