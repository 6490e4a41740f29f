#include "dxpy/snapshot/index.h"

#include <algorithm>
#include <cstring>

#include "dxpy/util/bytes.h"

namespace dxpy::snapshot {

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

Expected<std::shared_ptr<const IndexView>> IndexView::parse(std::string bytes, uint64_t root_hash) {
  if (bytes.size() < kIndexHeaderSize) return make_error(Errc::kTruncated, "snapshot index: shorter than its header");
  const char* h = bytes.data();
  if (std::memcmp(h, kIndexMagic, 4) != 0) return make_error(Errc::kCorrupt, "snapshot index: bad magic");
  if (load_le<uint16_t>(h + 4) != kIndexVersion) return make_error(Errc::kVersion, "snapshot index: other version");
  if (load_le<uint16_t>(h + 6) != kIndexHeaderSize) return make_error(Errc::kCorrupt, "snapshot index: header size");
  if (load_le<uint64_t>(h + 16) != root_hash) return make_error(Errc::kCorrupt, "snapshot index: another rootdir's");
  uint64_t body_size = load_le<uint64_t>(h + 24);
  if (bytes.size() - kIndexHeaderSize != body_size) return make_error(Errc::kTruncated, "snapshot index: body size");
  std::string_view all(bytes);
  std::string_view body = all.substr(kIndexHeaderSize);
  Hash256 sum = header_body_checksum(all.substr(0, kIndexHeaderSize), 32, body);
  if (std::memcmp(sum.data(), h + 32, 32) != 0) return make_error(Errc::kCorrupt, "snapshot index: checksum");
  uint64_t files = load_le<uint32_t>(h + 8);
  uint64_t entries = load_le<uint32_t>(h + 12);
  uint64_t tables = files * kIndexFileRowSize + entries * kIndexEntryRowSize;
  if (tables > body.size()) return make_error(Errc::kCorrupt, "snapshot index: tables past the end");
  std::string_view pool = body.substr(tables);
  auto corrupt = [](const char* why) { return make_error(Errc::kCorrupt, std::string("snapshot index: ") + why); };
  // Every offset is checked once here, so that the accessors need no check.
  uint64_t next_entry = 0;
  std::string_view last_path;
  for (uint64_t i = 0; i < files; ++i) {
    const char* r = body.data() + i * kIndexFileRowSize;
    uint64_t off = load_le<uint32_t>(r + 48), len = load_le<uint32_t>(r + 52);
    uint64_t first = load_le<uint32_t>(r + 56), count = load_le<uint32_t>(r + 60);
    if (off + len > pool.size()) return corrupt("path past the pool");
    if (first != next_entry || first + count > entries) return corrupt("entry grouping");
    next_entry = first + count;
    std::string_view path = pool.substr(off, len);
    if (!snap_path_is_safe(path)) return corrupt("a path that is absolute or leaves the rootdir");
    if (i > 0 && !(last_path < path)) return corrupt("paths out of order");
    last_path = path;
    std::string_view last_test, last_name;
    for (uint64_t k = first; k < first + count; ++k) {
      const char* e = body.data() + files * kIndexFileRowSize + k * kIndexEntryRowSize;
      uint64_t koff = load_le<uint32_t>(e), tlen = load_le<uint32_t>(e + 4), nlen = load_le<uint32_t>(e + 8);
      if (koff + tlen + nlen > pool.size()) return corrupt("key past the pool");
      std::string_view test = pool.substr(koff, tlen), name = pool.substr(koff + tlen, nlen);
      if (k > first && !(last_test < test || (last_test == test && last_name < name)))
        return corrupt("entries out of order");
      last_test = test;
      last_name = name;
    }
  }
  if (next_entry != entries) return corrupt("entries not owned by a file");
  std::shared_ptr<IndexView> view(new IndexView());
  view->files_ = files;
  view->entries_ = entries;
  view->bytes_ = std::move(bytes);  // a move keeps the heap buffer: the views stay valid
  view->body_ = std::string_view(view->bytes_).substr(kIndexHeaderSize);
  view->pool_ = view->body_.substr(tables);
  return std::shared_ptr<const IndexView>(std::move(view));
}

IndexView::File IndexView::file(size_t i) const {
  const char* r = body_.data() + i * kIndexFileRowSize;
  File f;
  f.size = load_le<uint64_t>(r);
  f.mtime_ns = load_le<int64_t>(r + 8);
  f.content_hash = reinterpret_cast<const uint8_t*>(r + 16);
  f.path = pool_.substr(load_le<uint32_t>(r + 48), load_le<uint32_t>(r + 52));
  f.first = load_le<uint32_t>(r + 56);
  f.count = load_le<uint32_t>(r + 60);
  return f;
}

const IndexView::File* IndexView::find(std::string_view path, File& out) const {
  size_t lo = 0, hi = files_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    File f = file(mid);
    if (f.path < path) {
      lo = mid + 1;
    } else if (path < f.path) {
      hi = mid;
    } else {
      out = f;
      return &out;
    }
  }
  return nullptr;
}

IndexView::Key IndexView::key(uint32_t entry) const {
  const char* e = body_.data() + files_ * kIndexFileRowSize + size_t{entry} * kIndexEntryRowSize;
  uint32_t koff = load_le<uint32_t>(e), tlen = load_le<uint32_t>(e + 4), nlen = load_le<uint32_t>(e + 8);
  return {pool_.substr(koff, tlen), pool_.substr(size_t{koff} + tlen, nlen)};
}

const uint8_t* IndexView::value_hash(uint32_t entry) const {
  return reinterpret_cast<const uint8_t*>(body_.data() + files_ * kIndexFileRowSize +
                                          size_t{entry} * kIndexEntryRowSize + 16);
}

const uint8_t* IndexView::find_entry(const File& file, std::string_view test, std::string_view name) const {
  uint32_t lo = file.first, hi = file.first + file.count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    Key k = key(mid);
    int c = k.test.compare(test);
    if (c == 0) c = k.name.compare(name);
    if (c < 0) {
      lo = mid + 1;
    } else if (c > 0) {
      hi = mid;
    } else {
      return value_hash(mid);
    }
  }
  return nullptr;
}

Expected<Index> decode_index(std::string_view bytes, uint64_t root_hash) {
  DXPY_TRY(std::shared_ptr<const IndexView> view, IndexView::parse(std::string(bytes), root_hash));
  Index index;
  index.files.reserve(view->file_count());
  for (size_t i = 0; i < view->file_count(); ++i) {
    IndexView::File v = view->file(i);
    IndexedFile f;
    f.path.assign(v.path);
    f.size = v.size;
    f.mtime_ns = v.mtime_ns;
    std::memcpy(f.content_hash.data(), v.content_hash, 32);
    f.entries.reserve(v.count);
    for (uint32_t k = v.first; k < v.first + v.count; ++k) {
      IndexView::Key key = view->key(k);
      IndexedEntry e{std::string(key.test), std::string(key.name), {}};
      std::memcpy(e.value_hash.data(), view->value_hash(k), 32);
      f.entries.push_back(std::move(e));
    }
    index.files.push_back(std::move(f));
  }
  return index;
}

}  // namespace dxpy::snapshot
