#pragma once
/// .dx-py/snapshots.idx: the BLAKE3 hash of every snapshot value of the rootdir's .snap
/// files, so that a match is decided from a hash without reading or parsing the .snap file.
///
///   header      64 bytes: magic "DXSI", u16 version, u16 header_size (64), u32 file_count,
///               u32 entry_count, u64 root_hash (blake3_u64 of the absolute rootdir),
///               u64 body_size, u8[32] checksum
///   file table  file_count rows of 64 bytes, sorted by path, unique:
///               u64 size, i64 mtime_ns, u8[32] BLAKE3 of the .snap file's bytes,
///               u32 path_offset, u32 path_len, u32 first_entry, u32 entry_count
///   entry table entry_count rows of 48 bytes, grouped by file in file order, each file's
///               sorted by (test, name) as in the .snap file:
///               u32 key_offset, u32 test_len, u32 name_len, u32 reserved (0),
///               u8[32] BLAKE3 of the value's UTF-8 bytes
///   pool        the paths (rootdir-relative .snap paths) and the keys (test then name)
///
/// Integers are little-endian; pool offsets count from the start of the pool. checksum =
/// header_body_checksum(header, 32, body) (XXH3-128) as in .dxti. The file is replaced
/// whole by rename, under the lock `.dx-py/snapshots.lock`; a reader that finds it missing, truncated,
/// corrupt, of another version or rootdir treats it as empty and rebuilds the rows it needs
/// from the .snap files. A row is fresh while its .snap file has the same size and mtime,
/// or, when those changed, the same content hash.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"
#include "dxpy/util/hash.h"

namespace dxpy::snapshot {

/// 2: the checksum is XXH3-128 (util/hash.h) instead of BLAKE3.
inline constexpr uint16_t kIndexVersion = 2;
inline constexpr char kIndexMagic[4] = {'D', 'X', 'S', 'I'};
inline constexpr size_t kIndexHeaderSize = 64;
inline constexpr size_t kIndexFileRowSize = 64;
inline constexpr size_t kIndexEntryRowSize = 48;

struct IndexedEntry {
  std::string test;
  std::string name;
  Hash256 value_hash{};
  bool operator==(const IndexedEntry&) const = default;
};

struct IndexedFile {
  std::string path;  // rootdir-relative
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  Hash256 content_hash{};
  std::vector<IndexedEntry> entries;  // sorted by (test, name), unique
  bool operator==(const IndexedFile&) const = default;
};

struct Index {
  std::vector<IndexedFile> files;  // sorted by path, unique
  bool operator==(const Index&) const = default;

  const IndexedFile* find(std::string_view path) const;
  /// Replaces (or inserts) the row of `file.path`, keeping the order.
  void put(IndexedFile file);
  void erase(std::string_view path);
};

/// The index read once into one buffer and validated (the same checks as decode_index),
/// its rows read in place: a lookup decodes nothing and copies nothing. Shared, so that a
/// row stays readable after the file on disk was replaced.
class IndexView {
 public:
  struct File {
    std::string_view path;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    const uint8_t* content_hash = nullptr;  // 32 bytes
    uint32_t first = 0;                     // first entry row
    uint32_t count = 0;                     // entry rows
  };
  struct Key {
    std::string_view test;
    std::string_view name;
  };

  /// kTruncated, kCorrupt, kVersion as decode_index.
  static Expected<std::shared_ptr<const IndexView>> parse(std::string bytes, uint64_t root_hash);

  size_t file_count() const { return files_; }
  File file(size_t i) const;
  /// The row of `path`, or none.
  const File* find(std::string_view path, File& out) const;
  Key key(uint32_t entry) const;
  const uint8_t* value_hash(uint32_t entry) const;  // 32 bytes
  /// The value hash of (test, name) among `file`'s entries (binary search), or null.
  const uint8_t* find_entry(const File& file, std::string_view test, std::string_view name) const;

 private:
  IndexView() = default;
  std::string bytes_;
  std::string_view body_, pool_;
  size_t files_ = 0;
  size_t entries_ = 0;
};

/// Whether `path` may name a .snap file: rootdir-relative, no empty, "." or ".." part, no
/// NUL byte. Paths read from the index or given to the Store must be (docs/security.md).
bool snap_path_is_safe(std::string_view path);

std::string encode_index(const Index& index, uint64_t root_hash);
/// kTruncated, kCorrupt (magic, checksum, offsets, order, a path that is not
/// snap_path_is_safe), kVersion, or kCorrupt for another rootdir's index.
Expected<Index> decode_index(std::string_view bytes, uint64_t root_hash);

}  // namespace dxpy::snapshot
