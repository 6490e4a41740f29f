// libFuzzer target: every decoder on arbitrary bytes. Besides ASan/UBSan finding a crash or
// an out-of-bounds read, a decoded message must survive encode -> decode unchanged.
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "dxpy/protocol/message.h"

namespace {

using namespace dxpy::protocol;

template <class Decode>
void check(std::string_view bytes, Decode decode) {
  for (uint32_t limit : {kDefaultMaxPayload, uint32_t{64}}) {
    auto m = decode(bytes, limit);
    if (!m) continue;
    const std::string again = encode(*m);
    auto back = decode(again, limit);
    if (!back || !(*back == *m)) {
      std::fprintf(stderr, "re-encoding a decoded %s message changed it\n", std::string(to_string(read_header(bytes)->type)).c_str());
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)validate(bytes);
  check(bytes, decode_test);
  check(bytes, decode_test_result);
  check(bytes, decode_hello);
  check(bytes, decode_shutdown);
  check(bytes, decode_log);
  check(bytes, decode_collect_error);
  check(bytes, decode_chunk);
  return 0;
}
