#pragma once
/// .dxig: the import graph of one rootdir, cached beside the index (`.dx-py/graph.dxig`), so
/// that a run reads and scans again only the Python files whose size or mtime changed.
///
///   header  64 bytes, format::Header
///   body    file_count records, sorted by path, paths unique:
///             str path (graph path: rootdir-relative, '/'-separated, ending in ".py"),
///             varint size, u64 mtime_ns, varint import count, then for each import
///               str module, varint level, varint line, u8 flags (bit 0: nested),
///               varint name count, str name ...
///   str: a varint length, then the bytes; varint: LEB128; fixed integers little-endian.
///
/// Only what the files said is stored: edges are resolved again on load, since they depend
/// on every file and on the config's pythonpath, which may have changed since.
///
/// checksum = XXH3-128(header bytes [0, 32) || XXH3-128(body)), as in .dxti: it covers the
/// counts, so a flipped count cannot pass. The file is written whole to a temp file and
/// renamed over the old one (no fsync: a cache), so a reader sees the old graph or the new.
///
/// Loading checks, in order: size >= header (kTruncated), magic (kCorrupt), version
/// (kVersion), header size, rootdir hash (kCorrupt), body size (kTruncated when short),
/// checksum, then while decoding every length against the bytes left, each path's form,
/// the path order, the header's counts and the end of the body (kCorrupt). The caller
/// treats any error as "no graph" and builds it again.
///
/// Concurrent runs use the index's protocol: a reader needs no lock (a rename replaces the
/// file whole); a writer holds index::FileLock exclusively on lock_path_for(graph path)
/// around save_graph and skips the write when another run holds it. Session does the
/// locking: graph sits on the index's level and may not link it. For a run:
///
///   auto g = load_graph(path, options);            // error: note it, start from ImportGraph(options)
///   SyncStats s = sync_graph(*g);                  // project.h
///   if (s.changed()) { lock = FileLock::try_acquire(lock_path_for(path), kExclusive);
///                      if (lock && *lock) save_graph(path, *g); }

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dxpy/graph/graph.h"
#include "dxpy/util/expected.h"

namespace dxpy::graph {

/// Bump on any change to the layout below or to what the scanner extracts.
/// 2: the checksum is XXH3-128 instead of BLAKE3.
inline constexpr uint16_t kGraphVersion = 2;
inline constexpr char kGraphMagic[4] = {'D', 'X', 'I', 'G'};
/// The file's name in the cache folder, beside the index's "index.dxti".
inline constexpr std::string_view kGraphFileName = "graph.dxig";

namespace format {

// Field names and offsets; the bytes are read and written field by field, little-endian.
struct Header {
  char magic[4];          // "DXIG"
  uint16_t version;       // kGraphVersion
  uint16_t header_size;   // sizeof(Header)
  uint32_t file_count;
  uint32_t import_count;  // every file's imports together
  uint64_t root_hash;     // blake3_u64(absolute_path(rootdir))
  uint64_t body_size;     // file size - header_size
  uint8_t checksum[32];   // see above
};
static_assert(offsetof(Header, magic) == 0);
static_assert(offsetof(Header, version) == 4);
static_assert(offsetof(Header, header_size) == 6);
static_assert(offsetof(Header, file_count) == 8);
static_assert(offsetof(Header, import_count) == 12);
static_assert(offsetof(Header, root_hash) == 16);
static_assert(offsetof(Header, body_size) == 24);
static_assert(offsetof(Header, checksum) == 32);
static_assert(sizeof(Header) == 64);
inline constexpr size_t kChecksummedHeaderBytes = offsetof(Header, checksum);

}  // namespace format

/// The whole file for `g` (resolved or not: only files, stamps and imports are stored).
std::string encode_graph(const ImportGraph& g);
/// The graph `bytes` hold, resolved under `options` (whose rootdir must be the one it was
/// written for). Errors as described above; never reads out of `bytes`.
Expected<ImportGraph> decode_graph(std::string_view bytes, const GraphOptions& options);

/// encode_graph, then an atomic replace of `path`.
Expected<void> save_graph(const std::string& path, const ImportGraph& g);
/// read and decode_graph; kNotFound when there is no file.
Expected<ImportGraph> load_graph(const std::string& path, const GraphOptions& options);

}  // namespace dxpy::graph
