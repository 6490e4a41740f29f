#include "dxpy/index/dxti.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <thread>
#include <type_traits>

#include "dxpy/core/codec.h"
#include "dxpy/util/fs.h"

namespace dxpy::index {

// Records are stored codec-encoded, so a codec change is a format change.
static_assert(kCodecVersion == 1, "bump kDxtiVersion together with kCodecVersion");

namespace {

using format::FileRow;
using format::Header;
using format::TestRow;

constexpr size_t kHeaderSize = sizeof(Header);
constexpr uint32_t kMaxU32 = std::numeric_limits<uint32_t>::max();

template <class T>
T load(const char* p) {
  static_assert(std::is_integral_v<T>);
  uint64_t v = 0;
  for (size_t k = 0; k < sizeof(T); ++k) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[k])) << (8 * k);
  return static_cast<T>(static_cast<std::make_unsigned_t<T>>(v));
}

template <class T>
void store(char* p, T value) {
  static_assert(std::is_integral_v<T>);
  auto v = static_cast<uint64_t>(static_cast<std::make_unsigned_t<T>>(value));
  for (size_t k = 0; k < sizeof(T); ++k) p[k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

uint64_t root_hash(std::string_view rootdir) { return blake3_u64(absolute_path(rootdir)); }

Hash256 checksum(std::string_view header, std::string_view body) {
  Hash256 body_hash = blake3(body);
  std::string buf(header.substr(0, format::kChecksummedHeaderBytes));
  buf.append(reinterpret_cast<const char*>(body_hash.data()), body_hash.size());
  return blake3(buf);
}

Unexpected<Error> corrupt(std::string message) { return make_error(Errc::kCorrupt, "corrupt index: " + std::move(message)); }

}  // namespace

namespace {

// A record as the index stores it: each test's path and file repeat the record's, so they
// are left out and record() puts the path back. This halves the index of a typical suite.
// They are moved out and back rather than copying the record: the caller sees no change,
// and each thread touches only its own record.
std::string encode_compact(const FileRecord& f) {
  auto& tests = const_cast<std::vector<TestCase>&>(f.tests);
  std::vector<std::pair<std::string, std::string>> saved(tests.size());
  for (size_t k = 0; k < tests.size(); ++k) {
    saved[k].first.swap(tests[k].id.path);
    saved[k].second.swap(tests[k].file);
  }
  std::string bytes = encode(f);
  for (size_t k = 0; k < tests.size(); ++k) {
    saved[k].first.swap(tests[k].id.path);
    saved[k].second.swap(tests[k].file);
  }
  return bytes;
}

}  // namespace

Expected<std::string> encode_index(std::string_view rootdir, const std::vector<FileRecord>& files) {
  std::vector<const FileRecord*> sorted;
  sorted.reserve(files.size());
  uint64_t total_tests = 0;
  for (const auto& f : files) {
    sorted.push_back(&f);
    total_tests += f.tests.size();
  }
  std::sort(sorted.begin(), sorted.end(), [](const FileRecord* a, const FileRecord* b) { return a->path < b->path; });
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i - 1]->path == sorted[i]->path)
      return make_error(Errc::kUsage, "duplicate path in the index: " + sorted[i]->path);
  if (sorted.size() > kMaxU32 || total_tests > kMaxU32)
    return make_error(Errc::kLimit, "too many files or tests for one index");

  const size_t tables = sorted.size() * sizeof(FileRow) + total_tests * sizeof(TestRow);
  const size_t pool_start = kHeaderSize + tables;
  std::string out(pool_start, '\0');
  // Appends to the pool and gives back the offset, or nullopt if the length overflows u32.
  auto append = [&](std::string_view s) -> std::optional<uint64_t> {
    if (s.size() > kMaxU32) return std::nullopt;
    uint64_t at = out.size() - pool_start;
    out.append(s);
    return at;
  };

  uint32_t test = 0;
  // Records are encoded on every core first (they are independent), then laid out in order.
  std::vector<std::string> encoded(sorted.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < sorted.size();) encoded[i] = encode_compact(*sorted[i]);
  };
  unsigned threads = sorted.size() < 64 ? 1u : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  size_t pool_bytes = 0;
  for (size_t i = 0; i < sorted.size(); ++i)
    pool_bytes += encoded[i].size() + 2 * sorted[i]->path.size() + 16 * sorted[i]->tests.size();
  out.reserve(pool_start + pool_bytes + 48 * total_tests);

  for (size_t i = 0; i < sorted.size(); ++i) {
    const FileRecord& f = *sorted[i];
    auto path_at = append(f.path);
    auto record_at = append(encoded[i]);
    encoded[i] = std::string();
    if (!path_at || !record_at) return make_error(Errc::kLimit, "record too large for the index: " + f.path);
    char* row = out.data() + kHeaderSize + i * sizeof(FileRow);
    store(row + offsetof(FileRow, size), f.size);
    store(row + offsetof(FileRow, mtime_ns), f.mtime_ns);
    std::memcpy(row + offsetof(FileRow, content_hash), f.content_hash.data(), f.content_hash.size());
    store(row + offsetof(FileRow, path_offset), *path_at);
    store(row + offsetof(FileRow, record_offset), *record_at);
    store(row + offsetof(FileRow, path_len), static_cast<uint32_t>(f.path.size()));
    store(row + offsetof(FileRow, record_len), static_cast<uint32_t>(out.size() - pool_start - *record_at));
    store(row + offsetof(FileRow, first_test), test);
    store(row + offsetof(FileRow, test_count), static_cast<uint32_t>(f.tests.size()));
    for (const auto& t : f.tests) {
      // Appended straight into the pool: no temporary string per test.
      uint64_t node_at = out.size() - pool_start;
      t.id.append_node_id(out);
      size_t node_len = out.size() - pool_start - node_at;
      if (node_len > kMaxU32) return make_error(Errc::kLimit, "node id too long for the index: " + f.path);
      char* trow = out.data() + kHeaderSize + sorted.size() * sizeof(FileRow) + size_t{test} * sizeof(TestRow);
      store(trow + offsetof(TestRow, node_id_offset), node_at);
      store(trow + offsetof(TestRow, node_id_len), static_cast<uint32_t>(node_len));
      store(trow + offsetof(TestRow, file_index), static_cast<uint32_t>(i));
      ++test;
    }
  }

  char* h = out.data();
  std::memcpy(h + offsetof(Header, magic), kDxtiMagic, sizeof kDxtiMagic);
  store(h + offsetof(Header, version), kDxtiVersion);
  store(h + offsetof(Header, header_size), static_cast<uint16_t>(kHeaderSize));
  store(h + offsetof(Header, file_count), static_cast<uint32_t>(sorted.size()));
  store(h + offsetof(Header, test_count), static_cast<uint32_t>(total_tests));
  store(h + offsetof(Header, root_hash), root_hash(rootdir));
  store(h + offsetof(Header, body_size), static_cast<uint64_t>(out.size() - kHeaderSize));
  std::string_view whole(out);
  Hash256 sum = checksum(whole.substr(0, kHeaderSize), whole.substr(kHeaderSize));
  std::memcpy(h + offsetof(Header, checksum), sum.data(), sum.size());
  return out;
}

Expected<void> write_index(const std::string& path, std::string_view rootdir, const std::vector<FileRecord>& files) {
  DXPY_TRY(std::string bytes, encode_index(rootdir, files));
  // A cache: validated when loaded and rebuilt when invalid, so no fsync (it cost more than
  // the rest of a cold collection).
  return write_file_atomic(path, bytes, Durability::kCache);
}

// --- reader ------------------------------------------------------------------------------

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
  auto version = load<uint16_t>(h + offsetof(Header, version));
  if (version != kDxtiVersion)
    return make_error(Errc::kVersion, "index version " + std::to_string(version) + ", this dx-py reads " +
                                          std::to_string(kDxtiVersion));
  auto header_size = load<uint16_t>(h + offsetof(Header, header_size));
  if (header_size != kHeaderSize) return corrupt("header size " + std::to_string(header_size));
  if (load<uint64_t>(h + offsetof(Header, root_hash)) != root_hash(rootdir))
    return corrupt("written for another rootdir than " + std::string(rootdir));
  auto body_size = load<uint64_t>(h + offsetof(Header, body_size));
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
  const uint64_t files = load<uint32_t>(h + offsetof(Header, file_count));
  const uint64_t tests = load<uint32_t>(h + offsetof(Header, test_count));
  const uint64_t tables = files * sizeof(FileRow) + tests * sizeof(TestRow);  // < 2^39: no overflow
  if (tables > body_size) return corrupt("tables of " + std::to_string(tables) + " bytes exceed the body");
  file_count_ = static_cast<size_t>(files);
  test_count_ = static_cast<size_t>(tests);
  files_ = map_ + kHeaderSize;
  tests_ = files_ + files * sizeof(FileRow);
  pool_ = tests_ + tests * sizeof(TestRow);
  pool_size_ = static_cast<size_t>(body_size - tables);

  auto in_pool = [&](uint64_t offset, uint64_t len) { return offset <= pool_size_ && len <= pool_size_ - offset; };
  uint64_t next_test = 0;
  std::string_view prev_path;
  for (size_t i = 0; i < file_count_; ++i) {
    const char* row = file_row(i);
    auto path_offset = load<uint64_t>(row + offsetof(FileRow, path_offset));
    auto path_len = load<uint32_t>(row + offsetof(FileRow, path_len));
    auto record_offset = load<uint64_t>(row + offsetof(FileRow, record_offset));
    auto record_len = load<uint32_t>(row + offsetof(FileRow, record_len));
    if (!in_pool(path_offset, path_len) || !in_pool(record_offset, record_len))
      return corrupt("file " + std::to_string(i) + " points outside the string pool");
    std::string_view path = pool_slice(path_offset, path_len);
    if (i > 0 && !(prev_path < path)) return corrupt("file paths are not sorted and unique at file " + std::to_string(i));
    prev_path = path;
    auto first = load<uint32_t>(row + offsetof(FileRow, first_test));
    auto count = load<uint32_t>(row + offsetof(FileRow, test_count));
    if (first != next_test || uint64_t{first} + count > tests)
      return corrupt("tests of file " + std::to_string(i) + " are not the next rows of the test table");
    next_test = uint64_t{first} + count;
    for (size_t t = first; t < next_test; ++t) {
      const char* trow = test_row(t);
      if (load<uint32_t>(trow + offsetof(TestRow, file_index)) != i)
        return corrupt("test " + std::to_string(t) + " names the wrong file");
      if (!in_pool(load<uint64_t>(trow + offsetof(TestRow, node_id_offset)), load<uint32_t>(trow + offsetof(TestRow, node_id_len))))
        return corrupt("test " + std::to_string(t) + " points outside the string pool");
    }
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

const char* IndexReader::test_row(size_t t) const {
  DXPY_CHECK(t < test_count_);
  return tests_ + t * sizeof(TestRow);
}

std::string_view IndexReader::pool_slice(uint64_t offset, uint32_t len) const {
  return {pool_ + offset, len};  // validated on open
}

std::string_view IndexReader::file_path(size_t i) const {
  const char* row = file_row(i);
  return pool_slice(load<uint64_t>(row + offsetof(FileRow, path_offset)), load<uint32_t>(row + offsetof(FileRow, path_len)));
}

uint64_t IndexReader::file_size(size_t i) const { return load<uint64_t>(file_row(i) + offsetof(FileRow, size)); }

int64_t IndexReader::file_mtime_ns(size_t i) const { return load<int64_t>(file_row(i) + offsetof(FileRow, mtime_ns)); }

Hash256 IndexReader::file_hash(size_t i) const {
  Hash256 h;
  std::memcpy(h.data(), file_row(i) + offsetof(FileRow, content_hash), h.size());
  return h;
}

std::pair<size_t, size_t> IndexReader::file_tests(size_t i) const {
  const char* row = file_row(i);
  return {load<uint32_t>(row + offsetof(FileRow, first_test)), load<uint32_t>(row + offsetof(FileRow, test_count))};
}

Expected<FileRecord> IndexReader::record(size_t i) const {
  const char* row = file_row(i);
  std::string_view bytes =
      pool_slice(load<uint64_t>(row + offsetof(FileRow, record_offset)), load<uint32_t>(row + offsetof(FileRow, record_len)));
  auto rec = decode<FileRecord>(bytes);
  if (!rec) return make_error(rec.error().code, "record of " + std::string(file_path(i)) + ": " + rec.error().message);
  auto [first, count] = file_tests(i);
  bool agrees = rec->path == file_path(i) && rec->size == file_size(i) && rec->mtime_ns == file_mtime_ns(i) &&
                rec->content_hash == file_hash(i) && rec->tests.size() == count;
  // The checksum already vouches for the bytes; this catches a writer that put a record and
  // its table rows out of step. Node ids are compared by their name part only, which keeps
  // a large index's load cheap.
  for (size_t k = 0; agrees && k < count; ++k) {
    TestCase& t = rec->tests[k];
    std::string_view node = test_node_id(first + k);
    agrees = t.id.path.empty() && t.file.empty() && node.size() > t.id.name.size() &&
             node.find(t.id.name, rec->path.size()) != std::string_view::npos;
    t.id.path = rec->path;
  }
  if (!agrees) return corrupt("record of " + std::string(file_path(i)) + " disagrees with its table row");
  return rec;
}

Expected<FileRecordHead> IndexReader::record_head(size_t i) const {
  const char* row = file_row(i);
  std::string_view bytes =
      pool_slice(load<uint64_t>(row + offsetof(FileRow, record_offset)), load<uint32_t>(row + offsetof(FileRow, record_len)));
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

std::string_view IndexReader::test_node_id(size_t t) const {
  const char* row = test_row(t);
  return pool_slice(load<uint64_t>(row + offsetof(TestRow, node_id_offset)), load<uint32_t>(row + offsetof(TestRow, node_id_len)));
}

size_t IndexReader::test_file(size_t t) const { return load<uint32_t>(test_row(t) + offsetof(TestRow, file_index)); }

}  // namespace dxpy::index
