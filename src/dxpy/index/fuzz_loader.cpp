// libFuzzer target for the .dxti loader: arbitrary bytes as an index file. The header's
// root hash and checksum are set right first (else almost every input stops at the
// checksum), so the table and pool checks behind them see the fuzzer's bytes. After open()
// succeeds, every accessor and every record must stay in bounds (ASan) and not abort.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dxpy/index/dxti.h"
#include "dxpy/util/bytes.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/hash.h"

namespace {

using namespace dxpy;
using namespace dxpy::index;
using namespace dxpy::index::format;

constexpr const char* kRoot = "/fuzz/root";

const std::string& scratch() {
  static const std::string path = [] {
    char dir[] = "/tmp/dxti_fuzz.XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    return std::string(dir) + "/index.dxti";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= sizeof(Header)) {
    store_le(bytes.data() + offsetof(Header, root_hash), blake3_u64(absolute_path(kRoot)));
    store_le(bytes.data() + offsetof(Header, body_size), uint64_t{bytes.size() - sizeof(Header)});
    Hash256 sum = header_body_checksum(std::string_view(bytes).substr(0, sizeof(Header)), kChecksummedHeaderBytes,
                                       std::string_view(bytes).substr(sizeof(Header)));
    std::memcpy(bytes.data() + offsetof(Header, checksum), sum.data(), sum.size());
  }
  if (!write_file_atomic(scratch(), bytes, Durability::kCache)) std::abort();
  auto reader = IndexReader::open(scratch(), kRoot);
  if (!reader) return 0;
  RecordArena arena;
  for (size_t i = 0; i < reader->file_count(); ++i) {
    (void)reader->file_path(i);
    (void)reader->file_size(i);
    auto [first, count] = reader->file_tests(i);
    for (size_t t = first; t < first + count; ++t) {
      (void)reader->test_node_id(t);
      if (reader->test_file(t) != i) std::abort();
    }
    (void)reader->record(i);
    (void)reader->record_head(i);
    if (reader->find(reader->file_path(i)) != i) std::abort();
    (void)reader->prepared(i, arena);
  }
  return 0;
}
