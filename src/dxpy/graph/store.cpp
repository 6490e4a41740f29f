#include "dxpy/graph/store.h"

#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "dxpy/util/bytes.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/hash.h"

namespace dxpy::graph {

namespace {

using format::Header;
constexpr size_t kHeaderSize = sizeof(Header);
// No real import climbs more folders than this; a larger level is a corrupt file.
constexpr uint64_t kMaxLevel = 1024;

uint64_t root_hash(std::string_view rootdir) { return blake3_u64(absolute_path(rootdir)); }

Hash256 checksum(std::string_view header, std::string_view body) {
  return header_body_checksum(header, format::kChecksummedHeaderBytes, body);
}

Unexpected<Error> corrupt(std::string message) {
  return make_error(Errc::kCorrupt, "corrupt import graph: " + std::move(message));
}

// A graph path as the graph itself makes them: relative, normalised, a Python file.
bool valid_path(std::string_view p) {
  if (p.size() < 3 || p.substr(p.size() - 3) != ".py" || p.front() == '/') return false;
  if (p.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
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

std::string encode_graph(const ImportGraph& g) {
  ByteWriter body;
  uint64_t imports = 0;
  const auto paths = g.paths();
  for (const auto& path : paths) {
    const FileStamp st = *g.stamp(path);
    const auto& refs = *g.imports(path);
    body.str(path);
    body.varint(st.size);
    body.u64(static_cast<uint64_t>(st.mtime_ns));
    body.varint(refs.size());
    for (const ImportRef& r : refs) {
      body.str(r.module);
      body.varint(r.level);
      body.varint(r.line);
      body.u8(r.nested ? 1 : 0);
      body.varint(r.names.size());
      for (const auto& n : r.names) body.str(n);
    }
    imports += refs.size();
  }
  DXPY_CHECK(paths.size() <= std::numeric_limits<uint32_t>::max());
  DXPY_CHECK(imports <= std::numeric_limits<uint32_t>::max());
  std::string out(kHeaderSize, '\0');
  char* h = out.data();
  std::memcpy(h + offsetof(Header, magic), kGraphMagic, sizeof kGraphMagic);
  store_le(h + offsetof(Header, version), kGraphVersion);
  store_le(h + offsetof(Header, header_size), static_cast<uint16_t>(kHeaderSize));
  store_le(h + offsetof(Header, file_count), static_cast<uint32_t>(paths.size()));
  store_le(h + offsetof(Header, import_count), static_cast<uint32_t>(imports));
  store_le(h + offsetof(Header, root_hash), root_hash(g.options().rootdir));
  store_le(h + offsetof(Header, body_size), static_cast<uint64_t>(body.size()));
  Hash256 sum = checksum(std::string_view(out), body.view());
  std::memcpy(out.data() + offsetof(Header, checksum), sum.data(), sum.size());
  out.append(body.view());
  return out;
}

Expected<ImportGraph> decode_graph(std::string_view bytes, const GraphOptions& options) {
  if (bytes.size() < kHeaderSize)
    return make_error(Errc::kTruncated, std::to_string(bytes.size()) + " bytes, shorter than the .dxig header");
  const char* h = bytes.data();
  if (std::memcmp(h + offsetof(Header, magic), kGraphMagic, sizeof kGraphMagic) != 0)
    return corrupt("not a .dxig file (bad magic)");
  auto version = load_le<uint16_t>(h + offsetof(Header, version));
  if (version != kGraphVersion)
    return make_error(Errc::kVersion, "import graph version " + std::to_string(version) + ", this dx-py reads " +
                                          std::to_string(kGraphVersion));
  auto header_size = load_le<uint16_t>(h + offsetof(Header, header_size));
  if (header_size != kHeaderSize) return corrupt("header size " + std::to_string(header_size));
  if (load_le<uint64_t>(h + offsetof(Header, root_hash)) != root_hash(options.rootdir))
    return corrupt("written for another rootdir than " + options.rootdir);
  auto body_size = load_le<uint64_t>(h + offsetof(Header, body_size));
  const uint64_t actual = bytes.size() - kHeaderSize;
  if (body_size > actual)
    return make_error(Errc::kTruncated, "truncated import graph: body is " + std::to_string(actual) +
                                            " bytes, header says " + std::to_string(body_size));
  if (body_size < actual) return corrupt(std::to_string(actual - body_size) + " bytes after the body");
  Hash256 sum = checksum(bytes.substr(0, kHeaderSize), bytes.substr(kHeaderSize));
  if (std::memcmp(h + offsetof(Header, checksum), sum.data(), sum.size()) != 0) return corrupt("checksum mismatch");

  // The checksum vouches for the bytes; the checks below keep even a buggy writer's file
  // from sending the decoder out of bounds or into a graph the code does not expect.
  const uint32_t files = load_le<uint32_t>(h + offsetof(Header, file_count));
  const uint64_t want_imports = load_le<uint32_t>(h + offsetof(Header, import_count));
  ByteReader in(bytes.substr(kHeaderSize));
  ImportGraph g(options);
  std::string previous;
  uint64_t imports = 0;
  for (uint32_t f = 0; f < files; ++f) {
    DXPY_TRY(std::string_view path, in.str());
    if (!valid_path(path)) return corrupt("bad path in record " + std::to_string(f));
    if (f > 0 && !(previous < path)) return corrupt("paths out of order at " + std::string(path));
    previous.assign(path);
    FileStamp st;
    DXPY_TRY(st.size, in.varint());
    DXPY_TRY(uint64_t mtime, in.u64());
    st.mtime_ns = static_cast<int64_t>(mtime);
    DXPY_TRY(uint64_t count, in.varint());
    // Each import takes at least 5 bytes: a count cannot exceed what is left.
    if (count > in.remaining() / 5) return corrupt("import count of " + std::string(path));
    imports += count;
    if (imports > want_imports) return corrupt("more imports than the header's count");
    std::vector<ImportRef> refs(static_cast<size_t>(count));
    for (ImportRef& r : refs) {
      DXPY_TRY(std::string_view module, in.str());
      r.module.assign(module);
      DXPY_TRY(uint64_t level, in.varint());
      DXPY_TRY(uint64_t line, in.varint());
      DXPY_TRY(uint8_t flags, in.u8());
      DXPY_TRY(uint64_t names, in.varint());
      if (level > kMaxLevel || line > std::numeric_limits<uint32_t>::max() || flags > 1 ||
          names > in.remaining())
        return corrupt("bad import in " + std::string(path));
      r.level = static_cast<uint32_t>(level);
      r.line = static_cast<uint32_t>(line);
      r.nested = flags & 1;
      r.names.reserve(static_cast<size_t>(names));
      for (uint64_t k = 0; k < names; ++k) {
        DXPY_TRY(std::string_view name, in.str());
        r.names.emplace_back(name);
      }
    }
    g.set_imports(path, std::move(refs), st);
  }
  if (imports != want_imports) return corrupt("fewer imports than the header's count");
  if (!in.at_end()) return corrupt(std::to_string(in.remaining()) + " bytes after the last record");
  g.resolve();
  return g;
}

Expected<void> save_graph(const std::string& path, const ImportGraph& g) {
  return write_file_atomic(path, encode_graph(g), Durability::kCache);
}

Expected<ImportGraph> load_graph(const std::string& path, const GraphOptions& options) {
  if (!stat_path(path)) return make_error(Errc::kNotFound, path + ": no import graph yet");
  DXPY_TRY(std::string bytes, read_file(path));
  auto g = decode_graph(bytes, options);
  if (!g) return make_error(g.error().code, path + ": " + g.error().message);
  return g;
}

}  // namespace dxpy::graph
