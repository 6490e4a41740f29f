#include "dxpy/snapshot/index.h"

#include <algorithm>
#include <cstring>

#include "dxpy/util/bytes.h"

namespace dxpy::snapshot {

namespace {

bool entry_less(const IndexedEntry& a, const IndexedEntry& b) {
  if (a.test != b.test) return a.test < b.test;
  return a.name < b.name;
}

}  // namespace

bool snap_path_is_safe(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view part = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

const IndexedFile* Index::find(std::string_view path) const {
  auto it = std::lower_bound(files.begin(), files.end(), path,
                             [](const IndexedFile& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

void Index::put(IndexedFile file) {
  auto it = std::lower_bound(files.begin(), files.end(), file.path,
                             [](const IndexedFile& f, const std::string& p) { return f.path < p; });
  if (it != files.end() && it->path == file.path)
    *it = std::move(file);
  else
    files.insert(it, std::move(file));
}

void Index::erase(std::string_view path) {
  std::erase_if(files, [&](const IndexedFile& f) { return f.path == path; });
}

std::string encode_index(const Index& index, uint64_t root_hash) {
  size_t entries = 0;
  std::string pool;
  for (const auto& f : index.files) {
    entries += f.entries.size();
    pool += f.path;
    for (const auto& e : f.entries) pool += e.test + e.name;
  }
  DXPY_CHECK(pool.size() < (uint64_t{1} << 32) && entries < (uint64_t{1} << 32));
  std::string body(index.files.size() * kIndexFileRowSize + entries * kIndexEntryRowSize, '\0');
  char* frow = body.data();
  char* erow = body.data() + index.files.size() * kIndexFileRowSize;
  uint32_t offset = 0;
  uint32_t first = 0;
  for (const auto& f : index.files) {
    store_le<uint64_t>(frow, f.size);
    store_le<int64_t>(frow + 8, f.mtime_ns);
    std::memcpy(frow + 16, f.content_hash.data(), 32);
    store_le<uint32_t>(frow + 48, offset);
    store_le<uint32_t>(frow + 52, static_cast<uint32_t>(f.path.size()));
    store_le<uint32_t>(frow + 56, first);
    store_le<uint32_t>(frow + 60, static_cast<uint32_t>(f.entries.size()));
    frow += kIndexFileRowSize;
    offset += static_cast<uint32_t>(f.path.size());
    for (const auto& e : f.entries) {
      store_le<uint32_t>(erow, offset);
      store_le<uint32_t>(erow + 4, static_cast<uint32_t>(e.test.size()));
      store_le<uint32_t>(erow + 8, static_cast<uint32_t>(e.name.size()));
      store_le<uint32_t>(erow + 12, 0);
      std::memcpy(erow + 16, e.value_hash.data(), 32);
      erow += kIndexEntryRowSize;
      offset += static_cast<uint32_t>(e.test.size() + e.name.size());
    }
    first += static_cast<uint32_t>(f.entries.size());
  }
  body += pool;
  std::string header(kIndexHeaderSize, '\0');
  std::memcpy(header.data(), kIndexMagic, 4);
  store_le<uint16_t>(header.data() + 4, kIndexVersion);
  store_le<uint16_t>(header.data() + 6, static_cast<uint16_t>(kIndexHeaderSize));
  store_le<uint32_t>(header.data() + 8, static_cast<uint32_t>(index.files.size()));
  store_le<uint32_t>(header.data() + 12, static_cast<uint32_t>(entries));
  store_le<uint64_t>(header.data() + 16, root_hash);
  store_le<uint64_t>(header.data() + 24, body.size());
  Hash256 sum = header_body_checksum(header, 32, body);
  std::memcpy(header.data() + 32, sum.data(), 32);
  return header + body;
}

Expected<Index> decode_index(std::string_view bytes, uint64_t root_hash) {
  if (bytes.size() < kIndexHeaderSize) return make_error(Errc::kTruncated, "snapshot index: shorter than its header");
  const char* h = bytes.data();
  if (std::memcmp(h, kIndexMagic, 4) != 0) return make_error(Errc::kCorrupt, "snapshot index: bad magic");
  if (load_le<uint16_t>(h + 4) != kIndexVersion) return make_error(Errc::kVersion, "snapshot index: other version");
  if (load_le<uint16_t>(h + 6) != kIndexHeaderSize) return make_error(Errc::kCorrupt, "snapshot index: header size");
  if (load_le<uint64_t>(h + 16) != root_hash) return make_error(Errc::kCorrupt, "snapshot index: another rootdir's");
  uint64_t body_size = load_le<uint64_t>(h + 24);
  if (bytes.size() - kIndexHeaderSize != body_size) return make_error(Errc::kTruncated, "snapshot index: body size");
  std::string_view body = bytes.substr(kIndexHeaderSize);
  Hash256 sum = header_body_checksum(bytes.substr(0, kIndexHeaderSize), 32, body);
  if (std::memcmp(sum.data(), h + 32, 32) != 0) return make_error(Errc::kCorrupt, "snapshot index: checksum");
  uint64_t files = load_le<uint32_t>(h + 8);
  uint64_t entries = load_le<uint32_t>(h + 12);
  uint64_t tables = files * kIndexFileRowSize + entries * kIndexEntryRowSize;
  if (tables > body.size()) return make_error(Errc::kCorrupt, "snapshot index: tables past the end");
  std::string_view pool = body.substr(tables);
  auto corrupt = [](const char* why) { return make_error(Errc::kCorrupt, std::string("snapshot index: ") + why); };
  Index index;
  index.files.reserve(files);
  uint64_t next_entry = 0;
  for (uint64_t i = 0; i < files; ++i) {
    const char* r = body.data() + i * kIndexFileRowSize;
    IndexedFile f;
    f.size = load_le<uint64_t>(r);
    f.mtime_ns = load_le<int64_t>(r + 8);
    std::memcpy(f.content_hash.data(), r + 16, 32);
    uint64_t off = load_le<uint32_t>(r + 48), len = load_le<uint32_t>(r + 52);
    uint64_t first = load_le<uint32_t>(r + 56), count = load_le<uint32_t>(r + 60);
    if (off + len > pool.size()) return corrupt("path past the pool");
    if (first != next_entry || first + count > entries) return corrupt("entry grouping");
    next_entry = first + count;
    f.path.assign(pool.substr(off, len));
    if (!snap_path_is_safe(f.path)) return corrupt("a path that is absolute or leaves the rootdir");
    if (!index.files.empty() && !(index.files.back().path < f.path)) return corrupt("paths out of order");
    f.entries.reserve(count);
    for (uint64_t k = first; k < first + count; ++k) {
      const char* e = body.data() + files * kIndexFileRowSize + k * kIndexEntryRowSize;
      uint64_t koff = load_le<uint32_t>(e), tlen = load_le<uint32_t>(e + 4), nlen = load_le<uint32_t>(e + 8);
      if (koff + tlen + nlen > pool.size()) return corrupt("key past the pool");
      IndexedEntry ie;
      ie.test.assign(pool.substr(koff, tlen));
      ie.name.assign(pool.substr(koff + tlen, nlen));
      std::memcpy(ie.value_hash.data(), e + 16, 32);
      if (!f.entries.empty() && !entry_less(f.entries.back(), ie)) return corrupt("entries out of order");
      f.entries.push_back(std::move(ie));
    }
    index.files.push_back(std::move(f));
  }
  if (next_entry != entries) return corrupt("entries not owned by a file");
  return index;
}

}  // namespace dxpy::snapshot
