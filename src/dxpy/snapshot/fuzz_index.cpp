// libFuzzer target for the snapshot index (.dx-py/snapshots.idx): arbitrary bytes to
// decode_index. As for the .dxti index, the header's root hash, body size and checksum are
// set right first, so the decoder's own checks (counts, offsets, order) see the fuzzer's
// body. A decoded index must hold only rootdir-relative paths without "..", encode and
// decode again to the same index, and encode to the same bytes a second time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dxpy/snapshot/index.h"
#include "dxpy/util/bytes.h"
#include "dxpy/util/hash.h"

using namespace dxpy;
using namespace dxpy::snapshot;

namespace {
constexpr uint64_t kRootHash = 0x5eed5eed5eed5eedULL;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= kIndexHeaderSize) {
    store_le<uint64_t>(bytes.data() + 16, kRootHash);
    store_le<uint64_t>(bytes.data() + 24, uint64_t{bytes.size() - kIndexHeaderSize});
    std::string_view view(bytes);
    Hash256 sum = header_body_checksum(view.substr(0, kIndexHeaderSize), 32, view.substr(kIndexHeaderSize));
    std::memcpy(bytes.data() + 32, sum.data(), sum.size());
  }
  auto index = decode_index(bytes, kRootHash);
  if (!index) return 0;
  for (const auto& f : index->files)
    if (!snap_path_is_safe(f.path)) std::abort();
  std::string again = encode_index(*index, kRootHash);
  auto back = decode_index(again, kRootHash);
  if (!back || !(*back == *index)) std::abort();
  if (encode_index(*back, kRootHash) != again) std::abort();
  return 0;
}
