#include "dxpy/index/dxti.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>

#include "dxpy/core/codec.h"
#include "dxpy/core/codec_visit.h"
#include "dxpy/util/bytes.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/thread.h"

namespace dxpy::index {

// Records are stored codec-encoded, so a codec change is a format change.
static_assert(kCodecVersion == 2 && kDxtiVersion == 3, "bump kDxtiVersion together with kCodecVersion");

namespace {

using format::FileRow;
using format::Header;
using format::TestEnd;

constexpr size_t kHeaderSize = sizeof(Header);
constexpr uint32_t kMaxU32 = std::numeric_limits<uint32_t>::max();

uint64_t root_hash(std::string_view rootdir) { return blake3_u64(absolute_path(rootdir)); }

Hash256 checksum(std::string_view header, std::string_view body) {
  return header_body_checksum(header, format::kChecksummedHeaderBytes, body);
}

Unexpected<Error> corrupt(std::string message) { return make_error(Errc::kCorrupt, "corrupt index: " + std::move(message)); }

}  // namespace

namespace {

// A record as the index stores it: each test's path and file repeat the record's, so they
// are left out and record() puts the path back. This halves the index of a typical suite.
// FileRecord's own visitor lays out the fields; only its list of tests is written here.
class IndexEncoder {
 public:
  explicit IndexEncoder(ByteWriter& w) : w_(w), enc_(w) {}
  template <class T>
  void operator()(T& x) { enc_(x); }
  void operator()(std::vector<TestCase>& tests) {
    w_.varint(tests.size());
    for (auto& t : tests) {
      if (t.id.path.empty() && t.file.empty()) {
        enc_(t);
        continue;
      }
      // Moved out and back rather than copying the test: the caller sees no change.
      std::string path = std::move(t.id.path), file = std::move(t.file);
      t.id.path.clear();
      t.file.clear();
      enc_(t);
      t.id.path = std::move(path);
      t.file = std::move(file);
    }
  }

 private:
  ByteWriter& w_;
  Encoder enc_;
};

// The pool position of each file's blob, in sorted order.
struct Layout {
  std::vector<const PreparedRecord*> sorted;
  std::vector<uint64_t> blob_at;  // pool offset of sorted[i]'s blob
  uint64_t tests = 0;
  size_t ends_start = 0;  // header + file table
  size_t pool_start = 0;  // header + tables
  size_t total = 0;       // the whole file
};

Expected<Layout> plan(const std::vector<const PreparedRecord*>& files) {
  Layout l;
  l.sorted = files;
  auto by_path = [](const PreparedRecord* a, const PreparedRecord* b) { return a->path() < b->path(); };
  if (!std::is_sorted(l.sorted.begin(), l.sorted.end(), by_path))  // often they come sorted
    std::sort(l.sorted.begin(), l.sorted.end(), by_path);
  for (size_t i = 1; i < l.sorted.size(); ++i)
    if (l.sorted[i - 1]->path() == l.sorted[i]->path())
      return make_error(Errc::kUsage, "duplicate path in the index: " + std::string(l.sorted[i]->path()));
  l.blob_at.resize(l.sorted.size());
  uint64_t pool = 0;
  for (size_t i = 0; i < l.sorted.size(); ++i) {
    l.blob_at[i] = pool;
    pool += l.sorted[i]->blob.size();
    l.tests += l.sorted[i]->test_count();
  }
  if (l.sorted.size() > kMaxU32 || l.tests > kMaxU32) return make_error(Errc::kLimit, "too many files or tests for one index");
  l.ends_start = kHeaderSize + l.sorted.size() * sizeof(FileRow);
  l.pool_start = l.ends_start + l.tests * sizeof(TestEnd);
  l.total = l.pool_start + pool;
  return l;
}

// The header (all but its checksum) and the file table, into `out` (l.ends_start bytes).
void lay_out_tables(std::string_view rootdir, const Layout& l, char* out) {
  char* const files = out + kHeaderSize;
  uint32_t test = 0;
  for (size_t i = 0; i < l.sorted.size(); ++i) {
    const PreparedRecord& f = *l.sorted[i];
    const uint64_t at = l.blob_at[i];
    char* row = files + i * sizeof(FileRow);
    store_le(row + offsetof(FileRow, size), f.size);
    store_le(row + offsetof(FileRow, mtime_ns), f.mtime_ns);
    std::memcpy(row + offsetof(FileRow, content_hash), f.content_hash.data(), f.content_hash.size());
    store_le(row + offsetof(FileRow, path_offset), at);
    store_le(row + offsetof(FileRow, record_offset), at + f.path_len);
    store_le(row + offsetof(FileRow, path_len), f.path_len);
    store_le(row + offsetof(FileRow, record_len), f.record_len);
    store_le(row + offsetof(FileRow, first_test), test);
    store_le(row + offsetof(FileRow, test_count), f.tests);
    test += f.tests;
  }
  char* h = out;
  std::memcpy(h + offsetof(Header, magic), kDxtiMagic, sizeof kDxtiMagic);
  store_le(h + offsetof(Header, version), kDxtiVersion);
  store_le(h + offsetof(Header, header_size), static_cast<uint16_t>(kHeaderSize));
  store_le(h + offsetof(Header, file_count), static_cast<uint32_t>(l.sorted.size()));
  store_le(h + offsetof(Header, test_count), static_cast<uint32_t>(l.tests));
  store_le(h + offsetof(Header, root_hash), root_hash(rootdir));
  store_le(h + offsetof(Header, body_size), static_cast<uint64_t>(l.total - kHeaderSize));
  std::memset(h + offsetof(Header, checksum), 0, sizeof(Header::checksum));
}

// The test table (the files' ends, in file order) into `out` (l.tests * 4 bytes).
void copy_ends(const Layout& l, char* out) {
  for (const PreparedRecord* f : l.sorted)
    for (uint32_t k = 0; k < f->tests; ++k, out += sizeof(TestEnd)) store_le(out, f->node_id_ends[k]);
}

// The test table as pieces: each file's ends as parsing left them in its arena (they are
// the table's bytes on a little-endian host; elsewhere they are copied into `scratch`),
// neighbours that lie back to back joined.
std::vector<std::string_view> ends_pieces(const Layout& l, std::string& scratch) {
  std::vector<std::string_view> pieces;
  if constexpr (std::endian::native != std::endian::little) {
    scratch.assign(l.tests * sizeof(TestEnd), '\0');
    copy_ends(l, scratch.data());
    pieces.push_back(scratch);
    return pieces;
  }
  for (const PreparedRecord* f : l.sorted) {
    if (f->tests == 0) continue;
    std::string_view e(reinterpret_cast<const char*>(f->node_id_ends), size_t{f->tests} * sizeof(TestEnd));
    if (!pieces.empty() && pieces.back().data() + pieces.back().size() == e.data())
      pieces.back() = std::string_view(pieces.back().data(), pieces.back().size() + e.size());
    else
      pieces.push_back(e);
  }
  return pieces;
}

// The pool as pieces: the blobs in order, neighbours that lie back to back in memory
// (records prepared one after the other in one arena) joined into one piece.
std::vector<std::string_view> pool_pieces(const Layout& l) {
  std::vector<std::string_view> pieces;
  for (const PreparedRecord* f : l.sorted) {
    if (f->blob.empty()) continue;
    if (!pieces.empty() && pieces.back().data() + pieces.back().size() == f->blob.data())
      pieces.back() = std::string_view(pieces.back().data(), pieces.back().size() + f->blob.size());
    else
      pieces.push_back(f->blob);
  }
  return pieces;
}

// Writes the header's checksum (see dxti.h) over the file table, the test table's pieces
// and the pool's pieces.
void seal(char* header, std::string_view file_table, const std::vector<std::string_view>& ends,
          const std::vector<std::string_view>& pool) {
  std::vector<std::string_view> body;
  body.reserve(ends.size() + pool.size() + 1);
  body.push_back(file_table);
  body.insert(body.end(), ends.begin(), ends.end());
  body.insert(body.end(), pool.begin(), pool.end());
  Hash256 h = header_body_checksum(std::string_view(header, kHeaderSize), format::kChecksummedHeaderBytes, body.data(),
                                   body.size());
  std::memcpy(header + offsetof(Header, checksum), h.data(), h.size());
}

// Prepares every record, on every core when there are many.
Expected<std::vector<PreparedRecord>> prepare_all(const std::vector<FileRecord>& files,
                                                  std::vector<std::unique_ptr<RecordArena>>& arenas) {
  std::vector<std::optional<Expected<PreparedRecord>>> done(files.size());
  std::atomic<size_t> next{0};
  unsigned threads = files.size() < 64 ? 1u : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < threads; ++t) arenas.push_back(std::make_unique<RecordArena>());
  auto work = [&](RecordArena* arena) {
    for (size_t i; (i = next.fetch_add(1)) < files.size();) done[i].emplace(prepare_record(files[i], *arena));
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, arenas[t].get());
  work(arenas[0].get());
  for (auto& t : pool) t.join();
  std::vector<PreparedRecord> out;
  out.reserve(files.size());
  for (auto& d : done) {
    if (!*d) return Unexpected<Error>{d->error()};
    out.push_back(**d);
  }
  return out;
}

Expected<void> check_unique(const std::vector<FileRecord>& files) {
  std::vector<std::string_view> paths;
  paths.reserve(files.size());
  for (const auto& f : files) paths.push_back(f.path);
  std::sort(paths.begin(), paths.end());
  for (size_t i = 1; i < paths.size(); ++i)
    if (paths[i - 1] == paths[i]) return make_error(Errc::kUsage, "duplicate path in the index: " + std::string(paths[i]));
  return {};
}

std::vector<const PreparedRecord*> pointers(const std::vector<PreparedRecord>& v) {
  std::vector<const PreparedRecord*> out;
  out.reserve(v.size());
  for (const auto& p : v) out.push_back(&p);
  return out;
}

constexpr size_t kPage = 4096;
constexpr size_t kHugePage = size_t{1} << 21;

// `size` bytes of fresh memory in small pages, populated in one call rather than a page
// fault per page.
std::pair<void*, size_t> map_small_populated(size_t size) {
  size = (std::max<size_t>(size, 1) + kPage - 1) / kPage * kPage;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  DXPY_CHECK(p != MAP_FAILED);
  return {p, size};
}

// `size` bytes of fresh memory, already populated: one call rather than a page fault per
// page. Whole huge pages are aligned to them and asked for huge pages, which the kernel
// clears and maps (and unmaps) much faster than 512 small ones.
std::pair<void*, size_t> map_populated(size_t size) {
  if (size >= kHugePage) {
    size = (size + kHugePage - 1) / kHugePage * kHugePage;
    void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw != MAP_FAILED) {
      // Mapped a huge page too long, then trimmed to the aligned part: [at, aligned) before
      // it and [aligned + size, at + size + kHugePage) after it, never both empty.
      const auto at = reinterpret_cast<uintptr_t>(raw);
      const uintptr_t aligned = (at + kHugePage - 1) / kHugePage * kHugePage;
      if (aligned > at) ::munmap(raw, aligned - at);
      if (at + kHugePage > aligned) ::munmap(reinterpret_cast<void*>(aligned + size), at + kHugePage - aligned);
      void* p = reinterpret_cast<void*>(aligned);
      ::madvise(p, size, MADV_HUGEPAGE);  // a hint: without it (or THP off), small pages
#ifdef MADV_POPULATE_WRITE
      ::madvise(p, size, MADV_POPULATE_WRITE);  // Linux 5.14; else the first writes fault the pages in
#endif
      return {p, size};
    }
  }
  return map_small_populated(size);
}

}  // namespace

RecordArena::~RecordArena() {
  for (auto [p, n] : chunks_) ::munmap(p, n);
}

char* RecordArena::grow(Region& r, size_t n) {
  // Chunks are populated whole, and every page populated costs (1 to 3 us each on the
  // development VM, for clearing it), used or not: so they grow in small steps and waste at
  // most one step. Blobs: 64 KiB first (a run that parses a few files needs no more), then
  // 128 KiB at a time up to 1 MiB, 256 KiB up to 2 MiB, then huge pages; node-id ends take
  // about a sixth of that. (The 1,000-file tree needs about 0.5 MiB per thread: 256 KiB
  // then a huge page cleared 2 MiB each.)
  static constexpr size_t kBlobChunks[] = {kPage * 16, kPage * 32, kPage * 32, kPage * 32, kPage * 32,
                                           kPage * 32, kPage * 32, kPage * 32, kPage * 64, kPage * 64,
                                           kPage * 64, kPage * 64, kHugePage};
  static constexpr size_t kEndChunks[] = {kPage * 4, kPage * 8, kPage * 8, kPage * 8, kPage * 8,
                                          kPage * 8, kPage * 8, kPage * 8, kPage * 16, kPage * 16,
                                          kPage * 16, kPage * 16, kPage * 64};
  static_assert(std::size(kBlobChunks) == std::size(kEndChunks));
  constexpr unsigned kLast = std::size(kBlobChunks) - 1;
  const bool ends = &r == &ends_;
  size_t size = (ends ? kEndChunks : kBlobChunks)[std::min(r.chunks, kLast)];
  auto [p, mapped] = map_populated(std::max(size, n));
  chunks_.emplace_back(p, mapped);
  ++r.chunks;
  r.cur = static_cast<char*>(p);
  r.end = r.cur + mapped;
  return take(r, n);
}

uint32_t* RecordArena::ends(size_t n) {
  const size_t bytes = n * sizeof(uint32_t);
  char* p = bytes <= size_t(ends_.end - ends_.cur) ? take(ends_, bytes) : grow(ends_, bytes);
  return reinterpret_cast<uint32_t*>(p);  // chunks are page-aligned, and every take a multiple of 4
}

Expected<PreparedRecord> prepare_record(const FileRecord& f, RecordArena& arena) {
  if (f.path.size() > kMaxU32) return make_error(Errc::kLimit, "path too long for the index: " + f.path.substr(0, 200));
  if (f.tests.size() > kMaxU32) return make_error(Errc::kLimit, "too many tests for one index: " + f.path);
  // Encoded into a buffer the thread keeps (it stops growing after the first files), then
  // copied into the arena.
  thread_local std::string scratch;
  ByteWriter w = ByteWriter::reusing(std::move(scratch));
  struct GiveBack {  // the buffer goes back to `scratch` on every return
    ByteWriter& w;
    ~GiveBack() { scratch = w.take_buffer(); }
  } give_back{w};
  w.raw(f.path);
  w.u8(static_cast<uint8_t>(CodecTag::kFileRecord));
  w.u8(kCodecVersion);
  IndexEncoder enc(w);
  visit_fields(enc, const_cast<FileRecord&>(f));  // the encoder leaves it as it was
  const size_t record_len = w.size() - f.path.size();
  if (record_len > kMaxU32) return make_error(Errc::kLimit, "record too large for the index: " + f.path);
  const size_t ids_at = w.size();
  uint32_t* ends = arena.ends(f.tests.size());
  for (size_t k = 0; k < f.tests.size(); ++k) {
    const TestId& id = f.tests[k].id;
    for (const auto& c : id.classes) {
      w.raw("::");
      w.raw(c);
    }
    w.raw("::");
    w.raw(id.name);
    if (id.param) {
      w.raw("[");
      w.raw(*id.param);
      w.raw("]");
    }
    if (w.size() - ids_at > kMaxU32) return make_error(Errc::kLimit, "node ids too long for the index: " + f.path);
    ends[k] = static_cast<uint32_t>(w.size() - ids_at);
  }
  std::string_view bytes = w.view();
  char* blob = arena.bytes(bytes.size());
  std::memcpy(blob, bytes.data(), bytes.size());
  PreparedRecord p;
  p.size = f.size;
  p.mtime_ns = f.mtime_ns;
  p.content_hash = f.content_hash;
  p.blob = std::string_view(blob, bytes.size());
  p.path_len = static_cast<uint32_t>(f.path.size());
  p.record_len = static_cast<uint32_t>(record_len);
  p.tests = static_cast<uint32_t>(f.tests.size());
  p.node_id_ends = ends;
  return p;
}

Expected<std::string> encode_prepared_index(std::string_view rootdir, const std::vector<const PreparedRecord*>& files) {
  DXPY_TRY(Layout l, plan(files));
  std::string out(l.total, '\0');
  lay_out_tables(rootdir, l, out.data());
  copy_ends(l, out.data() + l.ends_start);
  for (size_t i = 0; i < l.sorted.size(); ++i)
    std::memcpy(out.data() + l.pool_start + l.blob_at[i], l.sorted[i]->blob.data(), l.sorted[i]->blob.size());
  std::string_view rest(out.data() + l.ends_start, l.total - l.ends_start);
  seal(out.data(), std::string_view(out.data() + kHeaderSize, l.ends_start - kHeaderSize), {rest}, {});
  return out;
}

Expected<void> write_prepared_index(const std::string& path, std::string_view rootdir,
                                    const std::vector<const PreparedRecord*>& files) {
  DXPY_TRY(Layout l, plan(files));
  // The test table and the pool are written straight from the arenas, and the header and
  // file table after them: an index of more than 8 MiB has those laid out and checksummed on
  // another thread meanwhile (below that, a file row per file and XXH3 take less than
  // starting the thread: with the helper from 512 KiB, cold listings of the 1,000-file and
  // 100,000-test trees were no faster, `perf stat -r 30`). Their buffer is populated in one
  // call, as the arenas are.
  auto [tables_at, tables_mapped] = map_small_populated(l.ends_start);
  struct Unmap {
    void* p;
    size_t n;
    ~Unmap() { ::munmap(p, n); }
  } unmap_tables{tables_at, tables_mapped};
  char* const tables = static_cast<char*>(tables_at);
  const std::vector<std::string_view> pool = pool_pieces(l);
  std::string ends_scratch;
  const std::vector<std::string_view> ends = ends_pieces(l, ends_scratch);
  auto finish = [&] {
    lay_out_tables(rootdir, l, tables);
    seal(tables, std::string_view(tables + kHeaderSize, l.ends_start - kHeaderSize), ends, pool);
  };
  const bool large = l.total > kHelperBytes && std::thread::hardware_concurrency() > 1;
  std::thread helper;
  if (large) {
    helper = std::thread(finish);
    start_elsewhere(helper, 0);
  }
  std::vector<std::string_view> pieces;
  pieces.reserve(ends.size() + pool.size() + 1);
  pieces.push_back(std::string_view(tables, l.ends_start));
  pieces.insert(pieces.end(), ends.begin(), ends.end());
  pieces.insert(pieces.end(), pool.begin(), pool.end());
  // A cache: validated when loaded and rebuilt when invalid, so no fsync (it cost more than
  // the rest of a cold collection).
  auto written = write_file_atomic_pieces(path, pieces, Durability::kCache, [&] {
    if (large) helper.join();
    else finish();
  });
  if (helper.joinable()) helper.join();  // (the writer calls back on every path; this is a guard)
  return written;
}

Expected<std::string> encode_index(std::string_view rootdir, const std::vector<FileRecord>& files) {
  DXPY_TRY_VOID(check_unique(files));
  std::vector<std::unique_ptr<RecordArena>> arenas;
  DXPY_TRY(auto prepared, prepare_all(files, arenas));
  return encode_prepared_index(rootdir, pointers(prepared));
}

Expected<void> write_index(const std::string& path, std::string_view rootdir, const std::vector<FileRecord>& files) {
  DXPY_TRY_VOID(check_unique(files));
  std::vector<std::unique_ptr<RecordArena>> arenas;
  DXPY_TRY(auto prepared, prepare_all(files, arenas));
  return write_prepared_index(path, rootdir, pointers(prepared));
}

// --- reader ------------------------------------------------------------------------------

namespace {

// What the writer stores: a path relative to the rootdir, or an absolute one for a file
// outside it, both normalised: no "." or ".." component, no empty one, no NUL. A hostile
// index can then name nothing but what a walk of the project could have found.
bool stored_path_ok(std::string_view p) {
  if (p.empty() || p.find('\0') != std::string_view::npos) return false;
  size_t start = p.front() == '/' ? 1 : 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    if (slash == std::string_view::npos) slash = p.size();
    std::string_view part = p.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

}  // namespace

Expected<IndexReader> IndexReader::open(const std::string& path, std::string_view rootdir) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(errno == ENOENT ? Errc::kNotFound : Errc::kIo, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    return make_error(Errc::kIo, path + ": not a readable regular file" + (err ? std::string(": ") + std::strerror(err) : ""));
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size < kHeaderSize) {
    ::close(fd);
    return make_error(Errc::kTruncated, path + ": " + std::to_string(size) + " bytes, shorter than the .dxti header");
  }
  // MAP_PRIVATE of a file that is only ever replaced by rename, never rewritten in place:
  // the mapping keeps the old inode alive and unchanged for as long as we hold it.
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) return make_error(Errc::kIo, "cannot map " + path + ": " + std::strerror(map_errno));
  IndexReader reader(static_cast<const char*>(map), size);
  if (auto ok = reader.validate(rootdir); !ok)
    return make_error(ok.error().code, path + ": " + ok.error().message);
  return reader;
}

Expected<void> IndexReader::validate(std::string_view rootdir) {
  const char* h = map_;
  if (std::memcmp(h + offsetof(Header, magic), kDxtiMagic, sizeof kDxtiMagic) != 0)
    return corrupt("not a .dxti file (bad magic)");
  auto version = load_le<uint16_t>(h + offsetof(Header, version));
  if (version != kDxtiVersion)
    return make_error(Errc::kVersion, "index version " + std::to_string(version) + ", this dx-py reads " +
                                          std::to_string(kDxtiVersion));
  auto header_size = load_le<uint16_t>(h + offsetof(Header, header_size));
  if (header_size != kHeaderSize) return corrupt("header size " + std::to_string(header_size));
  if (load_le<uint64_t>(h + offsetof(Header, root_hash)) != root_hash(rootdir))
    return corrupt("written for another rootdir than " + std::string(rootdir));
  auto body_size = load_le<uint64_t>(h + offsetof(Header, body_size));
  const uint64_t actual = map_size_ - kHeaderSize;
  if (body_size > actual)
    return make_error(Errc::kTruncated, "truncated index: body is " + std::to_string(actual) + " bytes, header says " +
                                            std::to_string(body_size));
  if (body_size < actual) return corrupt(std::to_string(actual - body_size) + " bytes after the body");
  std::string_view whole(map_, map_size_);
  Hash256 sum = checksum(whole.substr(0, kHeaderSize), whole.substr(kHeaderSize));
  if (std::memcmp(h + offsetof(Header, checksum), sum.data(), sum.size()) != 0) return corrupt("checksum mismatch");

  // The checksum proves the bytes are what some writer wrote; the bounds checks below make
  // sure that even a buggy writer's tables cannot send an accessor out of the mapping.
  const uint64_t files = load_le<uint32_t>(h + offsetof(Header, file_count));
  const uint64_t tests = load_le<uint32_t>(h + offsetof(Header, test_count));
  const uint64_t tables = files * sizeof(FileRow) + tests * sizeof(TestEnd);  // < 2^39: no overflow
  if (tables > body_size) return corrupt("tables of " + std::to_string(tables) + " bytes exceed the body");
  file_count_ = static_cast<size_t>(files);
  test_count_ = static_cast<size_t>(tests);
  files_ = map_ + kHeaderSize;
  tests_ = files_ + files * sizeof(FileRow);
  pool_ = tests_ + tests * sizeof(TestEnd);
  pool_size_ = static_cast<size_t>(body_size - tables);

  auto in_pool = [&](uint64_t offset, uint64_t len) { return offset <= pool_size_ && len <= pool_size_ - offset; };
  uint64_t next_test = 0;
  std::string_view prev_path;
  for (size_t i = 0; i < file_count_; ++i) {
    const char* row = file_row(i);
    auto path_offset = load_le<uint64_t>(row + offsetof(FileRow, path_offset));
    auto path_len = load_le<uint32_t>(row + offsetof(FileRow, path_len));
    auto record_offset = load_le<uint64_t>(row + offsetof(FileRow, record_offset));
    auto record_len = load_le<uint32_t>(row + offsetof(FileRow, record_len));
    if (!in_pool(path_offset, path_len) || !in_pool(record_offset, record_len))
      return corrupt("file " + std::to_string(i) + " points outside the string pool");
    std::string_view path = pool_slice(path_offset, path_len);
    if (!stored_path_ok(path)) return corrupt("file " + std::to_string(i) + " has a path the writer never stores");
    if (i > 0 && !(prev_path < path)) return corrupt("file paths are not sorted and unique at file " + std::to_string(i));
    prev_path = path;
    auto first = load_le<uint32_t>(row + offsetof(FileRow, first_test));
    auto count = load_le<uint32_t>(row + offsetof(FileRow, test_count));
    if (first != next_test || uint64_t{first} + count > tests)
      return corrupt("tests of file " + std::to_string(i) + " are not the next rows of the test table");
    next_test = uint64_t{first} + count;
    // Its tails follow its record (in the pool: checked above), each ending at or after
    // the one before, the last within the pool.
    const uint64_t tails_at = record_offset + record_len;
    uint64_t end = 0;
    for (size_t t = first; t < next_test; ++t) {
      const uint64_t e = test_end(t);
      if (e < end) return corrupt("node ids of test " + std::to_string(t) + " end before the one before");
      end = e;
    }
    if (!in_pool(tails_at, end)) return corrupt("node ids of file " + std::to_string(i) + " run past the string pool");
  }
  if (next_test != tests) return corrupt("test table has rows that belong to no file");
  return {};
}

IndexReader::IndexReader(IndexReader&& other) noexcept { *this = std::move(other); }

IndexReader& IndexReader::operator=(IndexReader&& other) noexcept {
  if (this != &other) {
    release();
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    files_ = std::exchange(other.files_, nullptr);
    tests_ = std::exchange(other.tests_, nullptr);
    pool_ = std::exchange(other.pool_, nullptr);
    pool_size_ = std::exchange(other.pool_size_, 0);
    file_count_ = std::exchange(other.file_count_, 0);
    test_count_ = std::exchange(other.test_count_, 0);
  }
  return *this;
}

IndexReader::~IndexReader() { release(); }

void IndexReader::release() {
  if (map_ != nullptr) ::munmap(const_cast<char*>(map_), map_size_);
  map_ = nullptr;
}

const char* IndexReader::file_row(size_t i) const {
  DXPY_CHECK(i < file_count_);
  return files_ + i * sizeof(FileRow);
}

TestEnd IndexReader::test_end(size_t t) const {
  DXPY_CHECK(t < test_count_);
  return load_le<uint32_t>(tests_ + t * sizeof(TestEnd));
}

std::string_view IndexReader::pool_slice(uint64_t offset, uint32_t len) const {
  return {pool_ + offset, len};  // validated on open
}

std::string_view IndexReader::file_path(size_t i) const {
  const char* row = file_row(i);
  return pool_slice(load_le<uint64_t>(row + offsetof(FileRow, path_offset)), load_le<uint32_t>(row + offsetof(FileRow, path_len)));
}

uint64_t IndexReader::file_size(size_t i) const { return load_le<uint64_t>(file_row(i) + offsetof(FileRow, size)); }

int64_t IndexReader::file_mtime_ns(size_t i) const { return load_le<int64_t>(file_row(i) + offsetof(FileRow, mtime_ns)); }

Hash256 IndexReader::file_hash(size_t i) const {
  Hash256 h;
  std::memcpy(h.data(), file_row(i) + offsetof(FileRow, content_hash), h.size());
  return h;
}

std::pair<size_t, size_t> IndexReader::file_tests(size_t i) const {
  const char* row = file_row(i);
  return {load_le<uint32_t>(row + offsetof(FileRow, first_test)), load_le<uint32_t>(row + offsetof(FileRow, test_count))};
}

Expected<FileRecord> IndexReader::record(size_t i) const {
  const char* row = file_row(i);
  std::string_view bytes =
      pool_slice(load_le<uint64_t>(row + offsetof(FileRow, record_offset)), load_le<uint32_t>(row + offsetof(FileRow, record_len)));
  auto rec = decode<FileRecord>(bytes);
  if (!rec) return make_error(rec.error().code, "record of " + std::string(file_path(i)) + ": " + rec.error().message);
  const ListedFile tails = listed(i);
  const size_t count = tails.count;
  bool agrees = rec->path == file_path(i) && rec->size == file_size(i) && rec->mtime_ns == file_mtime_ns(i) &&
                rec->content_hash == file_hash(i) && rec->tests.size() == count;
  // The checksum already vouches for the bytes; this catches a writer that put a record and
  // its table rows out of step. Node ids are compared by their name part only, which keeps
  // a large index's load cheap.
  for (size_t k = 0; agrees && k < count; ++k) {
    TestCase& t = rec->tests[k];
    std::string_view node = tails.tail(k);
    agrees = t.id.path.empty() && t.file.empty() && node.size() > t.id.name.size() &&
             node.find(t.id.name) != std::string_view::npos;
    t.id.path = rec->path;
  }
  if (!agrees) return corrupt("record of " + std::string(file_path(i)) + " disagrees with its table row");
  return rec;
}

Expected<FileRecordHead> IndexReader::record_head(size_t i) const {
  const char* row = file_row(i);
  std::string_view bytes =
      pool_slice(load_le<uint64_t>(row + offsetof(FileRow, record_offset)), load_le<uint32_t>(row + offsetof(FileRow, record_len)));
  auto head = decode_record_head(bytes);
  if (!head) return make_error(head.error().code, "record of " + std::string(file_path(i)) + ": " + head.error().message);
  if (head->path != file_path(i) || head->size != file_size(i) || head->mtime_ns != file_mtime_ns(i) ||
      head->content_hash != file_hash(i))
    return corrupt("record of " + std::string(file_path(i)) + " disagrees with its table row");
  return head;
}

std::optional<size_t> IndexReader::find(std::string_view path) const {
  size_t lo = 0;
  size_t hi = file_count_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (file_path(mid) < path)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < file_count_ && file_path(lo) == path) return lo;
  return std::nullopt;
}

PreparedRecord IndexReader::prepared(size_t i, RecordArena& arena) const {
  const char* row = file_row(i);
  PreparedRecord p;
  p.size = file_size(i);
  p.mtime_ns = file_mtime_ns(i);
  p.content_hash = file_hash(i);
  std::string_view path = file_path(i);
  std::string_view record =
      pool_slice(load_le<uint64_t>(row + offsetof(FileRow, record_offset)), load_le<uint32_t>(row + offsetof(FileRow, record_len)));
  auto [first, count] = file_tests(i);
  const size_t ids = count ? test_end(first + count - 1) : 0;
  char* blob = arena.bytes(path.size() + record.size() + ids);
  uint32_t* ends = arena.ends(count);
  char* at = blob;
  std::memcpy(at, path.data(), path.size());
  at += path.size();
  std::memcpy(at, record.data(), record.size());
  at += record.size();
  // The tails as they are stored, with their ends (validated on open).
  std::memcpy(at, record.data() + record.size(), ids);
  at += ids;
  for (size_t k = 0; k < count; ++k) ends[k] = test_end(first + k);
  p.blob = std::string_view(blob, static_cast<size_t>(at - blob));
  p.path_len = static_cast<uint32_t>(path.size());
  p.record_len = static_cast<uint32_t>(record.size());
  p.tests = static_cast<uint32_t>(count);
  p.node_id_ends = ends;
  return p;
}

ListedFile IndexReader::listed(size_t i) const {
  const char* row = file_row(i);
  auto [first, count] = file_tests(i);
  const uint64_t tails_at =
      load_le<uint64_t>(row + offsetof(FileRow, record_offset)) + load_le<uint32_t>(row + offsetof(FileRow, record_len));
  return {file_path(i), pool_ + tails_at, nullptr,
          tests_ + first * sizeof(TestEnd), static_cast<uint32_t>(count)};
}

size_t IndexReader::test_file(size_t t) const {
  DXPY_CHECK(t < test_count_);
  // The last file whose first test is at or before t: its tests are the ones from there
  // (first_test never decreases, and a file without tests shares the next one's).
  size_t lo = 0, hi = file_count_;
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    if (file_tests(mid).first <= t) lo = mid;
    else hi = mid;
  }
  return lo;
}

}  // namespace dxpy::index
