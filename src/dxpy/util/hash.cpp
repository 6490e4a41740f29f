#include "dxpy/util/hash.h"

#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include <blake3.h>

// Header-only: XXH3 is compiled here, with this build's flags; nothing to link.
#define XXH_INLINE_ALL
#include <xxhash.h>

// BLAKE3's compression functions, from the C implementation's internal header.
extern "C" {
void blake3_compress_in_place(uint32_t cv[8], const uint8_t block[BLAKE3_BLOCK_LEN], uint8_t block_len,
                              uint64_t counter, uint8_t flags);
void blake3_hash_many(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                      uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start, uint8_t flags_end,
                      uint8_t* out);
}

namespace dxpy {

Hash256 blake3(std::string_view data) {
  blake3_hasher h;
  blake3_hasher_init(&h);
  blake3_hasher_update(&h, data.data(), data.size());
  Hash256 out;
  blake3_hasher_finalize(&h, out.data(), out.size());
  return out;
}

namespace {

// BLAKE3's C code detects the CPU's features on first use and caches them in a plain global
// (blake3_dispatch.c: g_cpu_features), which two threads hashing at once both write: a data
// race (ThreadSanitizer, scripts/sanitizers.sh). One hash while the program starts, before
// any thread, sets it; later uses only read it.
const bool g_blake3_ready = [] {
  (void)blake3(std::string_view("dx-py", 5));
  return true;
}();

constexpr size_t kChunk = BLAKE3_CHUNK_LEN;  // 1024
constexpr size_t kBlock = BLAKE3_BLOCK_LEN;  // 64
constexpr uint32_t kIv[8] = {0x6A09E667UL, 0xBB67AE85UL, 0x3C6EF372UL, 0xA54FF53AUL,
                             0x510E527FUL, 0x9B05688CUL, 0x1F83D9ABUL, 0x5BE0CD19UL};
// The flags of BLAKE3's compression function (blake3_impl.h).
constexpr uint8_t kChunkStart = 1 << 0, kChunkEnd = 1 << 1, kParent = 1 << 2, kRoot = 1 << 3;

using Cv = std::array<uint8_t, 32>;  // a chaining value, as bytes

// Inputs of more chunks than this are hashed on their own (see blake3_many).
constexpr size_t kMaxBatchedChunks = 4;

uint32_t load32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
void words(const Cv& cv, uint32_t out[8]) {
  for (int k = 0; k < 8; ++k) out[k] = load32(cv.data() + 4 * k);
}
Cv bytes(const uint32_t w[8]) {
  Cv out;
  for (int k = 0; k < 8; ++k)
    for (int b = 0; b < 4; ++b) out[static_cast<size_t>(4 * k + b)] = static_cast<uint8_t>(w[k] >> (8 * b));
  return out;
}

// A parent node's chaining value, or with kRoot the hash.
Cv parent(const Cv& left, const Cv& right, uint8_t flags) {
  uint8_t block[kBlock];
  std::memcpy(block, left.data(), 32);
  std::memcpy(block + 32, right.data(), 32);
  uint32_t cv[8];
  std::memcpy(cv, kIv, sizeof cv);
  blake3_compress_in_place(cv, block, kBlock, 0, static_cast<uint8_t>(kParent | flags));
  return bytes(cv);
}

// blake3_hash_many over `jobs` that share a counter and a block count: each job's input and
// where its chaining value goes.
struct Job {
  const uint8_t* input;
  Cv* out;
};
void hash_group(std::vector<Job>& jobs, size_t blocks, uint64_t counter, uint8_t start, uint8_t end) {
  std::vector<const uint8_t*> inputs(jobs.size());
  std::vector<uint8_t> outs(32 * jobs.size());
  for (size_t k = 0; k < jobs.size(); ++k) inputs[k] = jobs[k].input;
  blake3_hash_many(inputs.data(), inputs.size(), blocks, kIv, counter, false, 0, start, end, outs.data());
  for (size_t k = 0; k < jobs.size(); ++k) std::memcpy(jobs[k].out->data(), outs.data() + 32 * k, 32);
}

}  // namespace

void blake3_many(const std::string_view* inputs, size_t n, Hash256* out) {
  // Each input is split as BLAKE3 splits it: full chunks but for the last, then the last
  // chunk's full blocks but for its last, then that last block (1 to 64 bytes). The first
  // two kinds are compressed with blake3_hash_many, grouped by what must be equal within
  // one call: the chunk counter and the number of blocks. The tree above the chunks is then
  // merged as blake3_hasher does (a stack of subtrees, the root compressed last).
  std::vector<std::vector<Cv>> cvs(n);  // each input's chunk chaining values
  std::map<std::pair<uint64_t, size_t>, std::vector<Job>> groups;  // (counter, blocks) -> jobs
  for (size_t i = 0; i < n; ++i) {
    const auto* data = reinterpret_cast<const uint8_t*>(inputs[i].data());
    const size_t len = inputs[i].size();
    const size_t chunks = len == 0 ? 1 : (len + kChunk - 1) / kChunk;
    if (chunks > kMaxBatchedChunks) {
      // Enough chunks of its own to fill the vector lanes, and its tree's parents too:
      // blake3_hasher does that best.
      out[i] = blake3(inputs[i]);
      continue;
    }
    cvs[i].resize(chunks);
    for (size_t k = 0; k + 1 < chunks; ++k) groups[{k, kChunk / kBlock}].push_back({data + k * kChunk, &cvs[i][k]});
    const size_t last = len - (chunks - 1) * kChunk;  // 1..1024 bytes, 0 only for empty input
    const size_t full_blocks = last == 0 ? 0 : (last - 1) / kBlock;
    if (full_blocks > 0) groups[{chunks - 1, full_blocks}].push_back({data + (chunks - 1) * kChunk, &cvs[i].back()});
  }
  // A group of 16 blocks holds whole chunks only: a last chunk keeps its final block out of
  // the group, so it brings 15 at most.
  for (auto& [key, jobs] : groups)
    hash_group(jobs, key.second, key.first, kChunkStart, key.second == kChunk / kBlock ? kChunkEnd : 0);
  for (size_t i = 0; i < n; ++i) {
    const auto* data = reinterpret_cast<const uint8_t*>(inputs[i].data());
    const size_t len = inputs[i].size();
    std::vector<Cv>& cv = cvs[i];
    const size_t chunks = cv.size();
    if (chunks == 0) continue;  // hashed whole above
    const size_t last = len - (chunks - 1) * kChunk;
    const size_t full_blocks = last == 0 ? 0 : (last - 1) / kBlock;
    // The last block of the last chunk, zero-padded.
    uint8_t block[kBlock] = {};
    const size_t tail = last - full_blocks * kBlock;
    if (tail) std::memcpy(block, data + (chunks - 1) * kChunk + full_blocks * kBlock, tail);
    uint32_t w[8];
    if (full_blocks > 0) words(cv.back(), w);
    else std::memcpy(w, kIv, sizeof w);
    uint8_t flags = kChunkEnd;
    if (full_blocks == 0) flags |= kChunkStart;
    if (chunks == 1) flags |= kRoot;
    blake3_compress_in_place(w, block, static_cast<uint8_t>(tail), chunks - 1, flags);
    if (chunks == 1) {
      Cv h = bytes(w);
      std::memcpy(out[i].data(), h.data(), 32);
      continue;
    }
    cv.back() = bytes(w);
    // The chunks' tree: each finished chunk merges with the subtrees it completes.
    std::vector<Cv> stack;
    for (size_t k = 0; k + 1 < chunks; ++k) {
      Cv c = cv[k];
      for (uint64_t total = k + 1; (total & 1) == 0; total >>= 1) {
        c = parent(stack.back(), c, 0);
        stack.pop_back();
      }
      stack.push_back(c);
    }
    Cv right = cv.back();
    while (stack.size() > 1) {
      right = parent(stack.back(), right, 0);
      stack.pop_back();
    }
    Cv h = parent(stack.back(), right, kRoot);
    std::memcpy(out[i].data(), h.data(), 32);
  }
}

uint64_t blake3_u64(std::string_view data) {
  Hash256 h = blake3(data);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(h[static_cast<size_t>(i)]) << (8 * i);
  return v;
}

static_assert(sizeof(blake3_hasher) <= sizeof(unsigned char[2048]) && alignof(blake3_hasher) <= 16);

Blake3::Blake3() { blake3_hasher_init(reinterpret_cast<blake3_hasher*>(state_)); }

void Blake3::update(std::string_view data) {
  blake3_hasher_update(reinterpret_cast<blake3_hasher*>(state_), data.data(), data.size());
}

Hash256 Blake3::finish() const {
  Hash256 out;
  blake3_hasher_finalize(reinterpret_cast<const blake3_hasher*>(state_), out.data(), out.size());
  return out;
}

std::string to_hex(const Hash256& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : h) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

Hash256 header_body_checksum(std::string_view header, size_t header_bytes, const std::string_view* body_pieces,
                             size_t count) {
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_128bits_reset(&state);
  for (size_t i = 0; i < count; ++i) XXH3_128bits_update(&state, body_pieces[i].data(), body_pieces[i].size());
  XXH128_canonical_t body;
  XXH128_canonicalFromHash(&body, XXH3_128bits_digest(&state));
  std::string buf(header.substr(0, header_bytes));
  buf.append(reinterpret_cast<const char*>(body.digest), sizeof body.digest);
  XXH128_canonical_t sum;
  XXH128_canonicalFromHash(&sum, XXH3_128bits(buf.data(), buf.size()));
  Hash256 out{};
  std::memcpy(out.data(), sum.digest, sizeof sum.digest);
  return out;
}

Hash256 header_body_checksum(std::string_view header, size_t header_bytes, std::string_view body) {
  return header_body_checksum(header, header_bytes, &body, 1);
}

}  // namespace dxpy
