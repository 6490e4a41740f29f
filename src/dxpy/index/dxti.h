#pragma once
/// .dxti: the test index, one file per rootdir, caching what discovery learned per source file.
///
///   header      64 bytes, format::Header
///   file table  file_count rows of format::FileRow (80 bytes), sorted by path, unique
///   test table  test_count u32 ends (format::TestEnd), grouped by file in file order
///   pool        each file's blob: its path, its `dxpy::encode(FileRecord)`, then the node id
///               tails of its tests back to back
///
/// A record's tests are stored without their path and file (the record's path stands for
/// both); record() restores the path and leaves `file` empty. Likewise a test's node id is
/// stored without its file's path: its tail, "::TestC::test_m[1]" (the path is the file
/// row's), which takes a third of the bytes the whole ids took. The tails of a file's tests
/// start right after its record (record_offset + record_len); the test table gives where
/// each ends, counted from there, so test k of a file is [end[k-1], end[k]) (end[-1] = 0).
/// 4 bytes a test rather than a row of offset, length and file: the writer copies the ends
/// as parsing left them, with nothing to lay out per test.
///
/// Every integer is little-endian; pool offsets count from the start of the pool. A file's
/// record is stored encoded and whole, so loading one file decodes only that one, while
/// listing node ids, paths, sizes, mtimes and hashes reads the tables in place (mmap).
///
/// checksum = XXH3-128(header bytes [0, 32) || XXH3-128(body)), where body = everything
/// after the header, in the checksum field's first 16 bytes, the other 16 zero (see
/// header_body_checksum in util/hash.h). It covers the header's counts too, so a flipped
/// count cannot shift the tables into a plausible but wrong list. The file is written whole
/// to a temp file and renamed over the old one, so a reader sees the old index or the new,
/// never a torn one.
///
/// Opening checks, in order: size >= header (kTruncated), magic (kCorrupt), version
/// (kVersion), header size, rootdir hash, body size (kTruncated if short), checksum, then
/// every table offset and length, sortedness of paths, the test grouping, and each file's
/// ends: not decreasing, within the pool (kCorrupt).
/// The caller treats any error as "no index" and rebuilds it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/util/expected.h"
#include "dxpy/util/hash.h"

namespace dxpy::index {

/// Bump on any change to the layout below or to the codec that encodes the records.
/// 2: core codec 2 (a test's param is optional, so "test_x[]" is stored as such).
/// 3: the checksum is XXH3-128 instead of BLAKE3; node ids stored without their path,
///    located by a table of ends.
inline constexpr uint16_t kDxtiVersion = 3;
inline constexpr char kDxtiMagic[4] = {'D', 'X', 'T', 'I'};

namespace format {

// These structs name the fields and fix their offsets; the bytes are read and written
// field by field as little-endian, never by copying a struct, so host layout and
// endianness do not matter.
struct Header {
  char magic[4];          // "DXTI"
  uint16_t version;       // kDxtiVersion
  uint16_t header_size;   // sizeof(Header)
  uint32_t file_count;
  uint32_t test_count;
  uint64_t root_hash;     // blake3_u64(absolute_path(rootdir))
  uint64_t body_size;     // file size - header_size
  uint8_t checksum[32];   // see above
};
static_assert(offsetof(Header, magic) == 0);
static_assert(offsetof(Header, version) == 4);
static_assert(offsetof(Header, header_size) == 6);
static_assert(offsetof(Header, file_count) == 8);
static_assert(offsetof(Header, test_count) == 12);
static_assert(offsetof(Header, root_hash) == 16);
static_assert(offsetof(Header, body_size) == 24);
static_assert(offsetof(Header, checksum) == 32);
static_assert(sizeof(Header) == 64);
/// The checksum covers the header bytes before it.
inline constexpr size_t kChecksummedHeaderBytes = offsetof(Header, checksum);

struct FileRow {
  uint64_t size;
  int64_t mtime_ns;
  uint8_t content_hash[32];
  uint64_t path_offset;
  uint64_t record_offset;  // the encoded FileRecord
  uint32_t path_len;
  uint32_t record_len;
  uint32_t first_test;     // index of this file's first row in the test table
  uint32_t test_count;
};
static_assert(offsetof(FileRow, size) == 0);
static_assert(offsetof(FileRow, mtime_ns) == 8);
static_assert(offsetof(FileRow, content_hash) == 16);
static_assert(offsetof(FileRow, path_offset) == 48);
static_assert(offsetof(FileRow, record_offset) == 56);
static_assert(offsetof(FileRow, path_len) == 64);
static_assert(offsetof(FileRow, record_len) == 68);
static_assert(offsetof(FileRow, first_test) == 72);
static_assert(offsetof(FileRow, test_count) == 76);
static_assert(sizeof(FileRow) == 80);

/// Where a test's node id tail ends, counted from the start of its file's tails.
using TestEnd = uint32_t;

}  // namespace format

/// The whole index file for `files` (in any order; paths must be unique). kUsage on a
/// duplicate path, kLimit when a count or length does not fit its field.
Expected<std::string> encode_index(std::string_view rootdir, const std::vector<FileRecord>& files);

/// encode_index, then an atomic replace of `path` (temp file, rename; no fsync: a cache).
Expected<void> write_index(const std::string& path, std::string_view rootdir, const std::vector<FileRecord>& files);

/// Memory for prepared records: large chunks handed out in order and freed together, so
/// that preparing thousands of records costs a few mappings rather than thousands of
/// allocations, and the blobs of records prepared one after the other lie back to back
/// (the writer then hashes and writes them as one piece). One arena per thread.
class RecordArena {
 public:
  RecordArena() = default;
  RecordArena(const RecordArena&) = delete;
  RecordArena& operator=(const RecordArena&) = delete;
  ~RecordArena();

  /// `n` bytes for blobs; consecutive calls are contiguous while a chunk lasts.
  char* bytes(size_t n) { return n <= size_t(bytes_.end - bytes_.cur) ? take(bytes_, n) : grow(bytes_, n); }
  /// Room for `n` node-id ends, kept apart from the blobs.
  uint32_t* ends(size_t n);

 private:
  struct Region {
    char* cur = nullptr;
    char* end = nullptr;
    unsigned chunks = 0;
  };
  static char* take(Region& r, size_t n) {
    char* p = r.cur;
    r.cur += n;
    return p;
  }
  char* grow(Region& r, size_t n);
  Region bytes_, ends_;
  std::vector<std::pair<void*, size_t>> chunks_;
};

/// One file's share of an index, encoded ahead of the write (on the thread that parsed the
/// file): `blob` holds what the pool stores for it, back to back: the path, the encoded
/// record, then the node id tails of its tests. A view: the bytes live in a RecordArena.
struct PreparedRecord {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  Hash256 content_hash{};
  std::string_view blob;
  uint32_t path_len = 0;
  uint32_t record_len = 0;
  uint32_t tests = 0;
  const uint32_t* node_id_ends = nullptr;  // where each node id tail ends, counted from the first's start

  std::string_view path() const { return blob.substr(0, path_len); }
  std::string_view record() const { return blob.substr(path_len, record_len); }
  size_t test_count() const { return tests; }
  ListedFile listed() const { return {path(), blob.data() + path_len + record_len, node_id_ends, nullptr, tests}; }
  NodeIdView node_id(size_t k) const { return listed().id(k); }
};

/// `f` as the index stores it, in `arena`: its record without the tests' path and file
/// (which may be set or left empty; a test's path is its record's), and each test's node
/// id tail. kLimit when a length does not fit its field. `f` is left as it was
/// (a test's path and file are moved out and back while it is encoded): one thread per record.
Expected<PreparedRecord> prepare_record(const FileRecord& f, RecordArena& arena);

/// encode_index and write_index from prepared records (in any order; paths must be unique).
Expected<std::string> encode_prepared_index(std::string_view rootdir, const std::vector<const PreparedRecord*>& files);
Expected<void> write_prepared_index(const std::string& path, std::string_view rootdir,
                                    const std::vector<const PreparedRecord*>& files);
/// Above this size write_prepared_index lays out and checksums on a helper thread.
inline constexpr size_t kHelperBytes = size_t{8} << 20;

/// A validated, read-only mapping of a .dxti file. After open() succeeds every accessor
/// stays in bounds; an index (file or test) out of range is a bug and aborts. The mapping
/// outlives a concurrent replace of the file: rename leaves the old inode to us.
class IndexReader {
 public:
  /// kNotFound if the file is missing, kIo if unreadable, else the checks listed above.
  static Expected<IndexReader> open(const std::string& path, std::string_view rootdir);

  IndexReader(IndexReader&& other) noexcept;
  IndexReader& operator=(IndexReader&& other) noexcept;
  IndexReader(const IndexReader&) = delete;
  IndexReader& operator=(const IndexReader&) = delete;
  ~IndexReader();

  /// Files are in ascending byte order of path.
  size_t file_count() const { return file_count_; }
  std::string_view file_path(size_t i) const;
  uint64_t file_size(size_t i) const;
  int64_t file_mtime_ns(size_t i) const;
  Hash256 file_hash(size_t i) const;
  /// The tests of file i are [first, first + count) in the test table.
  std::pair<size_t, size_t> file_tests(size_t i) const;
  /// Decodes file i's record; kCorrupt if it disagrees with its table row.
  Expected<FileRecord> record(size_t i) const;
  /// Decodes only the head of file i's record (error, dependencies): with the test table,
  /// enough to list node ids without decoding tests.
  Expected<FileRecordHead> record_head(size_t i) const;
  /// Binary search by path.
  std::optional<size_t> find(std::string_view path) const;
  /// File i's entry as it is stored, copied into `arena` without decoding, for writing a
  /// new index.
  PreparedRecord prepared(size_t i, RecordArena& arena) const;

  size_t test_count() const { return test_count_; }
  /// File i's node ids where they lie in the mapping.
  ListedFile listed(size_t i) const;
  NodeIdView test_node_id(size_t t) const {
    const size_t i = test_file(t);
    return listed(i).id(t - file_tests(i).first);
  }
  /// The file test t belongs to: a binary search of the file table.
  size_t test_file(size_t t) const;

 private:
  IndexReader(const char* map, size_t map_size) : map_(map), map_size_(map_size) {}
  Expected<void> validate(std::string_view rootdir);
  const char* file_row(size_t i) const;
  format::TestEnd test_end(size_t t) const;
  std::string_view pool_slice(uint64_t offset, uint32_t len) const;
  void release();

  const char* map_ = nullptr;
  size_t map_size_ = 0;
  const char* files_ = nullptr;
  const char* tests_ = nullptr;
  const char* pool_ = nullptr;
  size_t pool_size_ = 0;
  size_t file_count_ = 0;
  size_t test_count_ = 0;
};

}  // namespace dxpy::index
