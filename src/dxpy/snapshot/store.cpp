#include "dxpy/snapshot/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>

#include "dxpy/util/bytes.h"
#include "dxpy/util/fs.h"

namespace dxpy::snapshot {

namespace {

/// An exclusive flock on the lock file (created if missing), held until destruction. The
/// index component's FileLock is on the same level of the layering, hence this small one.
class ExclusiveLock {
 public:
  static Expected<ExclusiveLock> acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return make_error(Errc::kIo, "cannot open " + path + ": " + std::strerror(errno));
    int rc;
    do rc = ::flock(fd, LOCK_EX);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      int err = errno;
      ::close(fd);
      return make_error(Errc::kIo, "cannot lock " + path + ": " + std::strerror(err));
    }
    return ExclusiveLock(fd);
  }
  ExclusiveLock(ExclusiveLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ExclusiveLock& operator=(ExclusiveLock&&) = delete;
  ~ExclusiveLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the last fd of the description drops the flock
  }

 private:
  explicit ExclusiveLock(int fd) : fd_(fd) {}
  int fd_;
};

Expected<void> make_dirs(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return {};
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return {};
  DXPY_TRY_VOID(make_dirs(std::string(dirname(dir))));
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    return make_error(Errc::kIo, "cannot create " + dir + ": " + std::strerror(errno));
  return {};
}

std::vector<IndexedEntry> hash_entries(const std::vector<Entry>& entries) {
  std::vector<IndexedEntry> out;
  out.reserve(entries.size());
  std::vector<std::string_view> values;
  values.reserve(entries.size());
  for (const auto& e : entries) {
    out.push_back({e.test, e.name, {}});
    values.emplace_back(e.value);
  }
  std::vector<Hash256> hashes(values.size());
  if (!values.empty()) blake3_many(values.data(), values.size(), hashes.data());
  for (size_t i = 0; i < out.size(); ++i) out[i].value_hash = hashes[i];
  return out;
}

/// realpath(3) of `path`, or of its deepest existing ancestor (a .snap file and its
/// __snapshots__ folder may not exist yet); empty when nothing resolves.
std::string resolve_existing(std::string path, std::string_view stop) {
  char buf[PATH_MAX];
  while (true) {
    if (::realpath(path.c_str(), buf) != nullptr) return buf;
    if (errno != ENOENT && errno != ENOTDIR) return {};
    if (path.size() <= stop.size()) return {};
    path = std::string(dirname(path));
  }
}

}  // namespace

std::string snap_path_for(std::string_view test_path, std::string_view snapshot_dir) {
  std::string_view base = basename(test_path);
  if (base.size() > 3 && base.substr(base.size() - 3) == ".py") base.remove_suffix(3);
  std::string folder = snapshot_dir.empty() ? join_path(dirname(test_path), "__snapshots__")
                                            : join_path(snapshot_dir, dirname(test_path));
  return join_path(folder, std::string(base) + ".snap");
}

Store::Store(std::string rootdir, std::string cache_dir)
    : rootdir_(std::move(rootdir)),
      cache_dir_(cache_dir.empty() ? join_path(rootdir_, ".dx-py") : std::move(cache_dir)),
      root_hash_(blake3_u64(rootdir_)) {}

std::string Store::index_path() const { return join_path(cache_dir_, "snapshots.idx"); }
std::string Store::lock_path() const { return join_path(cache_dir_, "snapshots.lock"); }

Expected<void> Store::check_inside(const std::string& snap) const {
  if (!snap_path_is_safe(snap))
    return make_error(Errc::kUsage, "refused snapshot path " + snap + ": it is absolute or leaves the rootdir");
  std::string root = resolve_existing(rootdir_, "");
  std::string real = resolve_existing(join_path(rootdir_, snap), rootdir_);
  if (root.empty() || real.empty() ||
      !(real == root || (real.size() > root.size() && real.compare(0, root.size(), root) == 0 &&
                         (root.back() == '/' || real[root.size()] == '/'))))
    return make_error(Errc::kUsage, "refused snapshot path " + snap + ": it resolves to " +
                                        (real.empty() ? std::string("nothing") : real) + ", outside the rootdir " +
                                        rootdir_ + " (a symlink?)");
  return {};
}

const Index& Store::load_index() {
  std::string path = index_path();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    cached_ = {};
    cached_mtime_ = -1;
    return cached_;
  }
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (cached_mtime_ == mtime && cached_size_ == static_cast<uint64_t>(st.st_size) &&
      cached_ino_ == static_cast<uint64_t>(st.st_ino))
    return cached_;
  auto bytes = read_file(path);
  Index index;
  if (bytes) {
    auto decoded = decode_index(*bytes, root_hash_);
    if (decoded) index = std::move(*decoded);  // else: no index; rows are rebuilt as needed
  }
  cached_ = std::move(index);
  cached_size_ = static_cast<uint64_t>(st.st_size);
  cached_mtime_ = mtime;
  cached_ino_ = static_cast<uint64_t>(st.st_ino);
  return cached_;
}

std::shared_ptr<const IndexView> Store::load_view() {
  std::string path = index_path();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    view_.reset();
    view_mtime_ = -1;
    return nullptr;
  }
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (view_mtime_ == mtime && view_size_ == static_cast<uint64_t>(st.st_size) &&
      view_ino_ == static_cast<uint64_t>(st.st_ino))
    return view_;
  view_.reset();
  if (auto bytes = read_file(path)) {
    auto parsed = IndexView::parse(std::move(*bytes), root_hash_);
    if (parsed) view_ = std::move(*parsed);  // else: no index; rows are rebuilt as needed
  }
  view_size_ = static_cast<uint64_t>(st.st_size);
  view_mtime_ = mtime;
  view_ino_ = static_cast<uint64_t>(st.st_ino);
  return view_;
}

std::optional<Store::Row> Store::fresh_row(const std::string& snap) {
  std::shared_ptr<const IndexView> view = load_view();
  if (!view) return std::nullopt;
  IndexView::File file;
  if (!view->find(snap, file)) return std::nullopt;
  auto st = stat_path(join_path(rootdir_, snap));
  if (!st || st->size != file.size || st->mtime_ns != file.mtime_ns) return std::nullopt;
  return Row{std::move(view), file};
}

Expected<IndexedFile> Store::row_from_file(const std::string& snap, bool& missing) {
  std::string text;
  FileStat st;
  auto r = read_file_into(join_path(rootdir_, snap), text, &st);
  missing = false;
  if (!r) {
    if (!stat_path(join_path(rootdir_, snap))) {
      missing = true;
      return IndexedFile{snap, 0, 0, {}, {}};
    }
    return make_error(r.error().code, r.error().message);
  }
  auto entries = parse(text);
  if (!entries) return make_error(Errc::kParse, join_path(rootdir_, snap) + ": " + entries.error().message);
  IndexedFile row{snap, st.size, st.mtime_ns, blake3(text), hash_entries(*entries)};
  return row;
}

void Store::save_row(const std::string& snap, const IndexedFile* row) {
  // Best effort (see the header): a failure leaves a stale row that the next reader rebuilds.
  if (!make_dirs(cache_dir_)) return;
  auto lock = ExclusiveLock::acquire(lock_path());
  if (!lock) return;
  cached_mtime_ = -1;  // read again under the lock: another process may have written it
  Index index = load_index();
  if (row)
    index.put(*row);
  else
    index.erase(snap);
  (void)write_file_atomic(index_path(), encode_index(index, root_hash_), Durability::kCache);
  cached_mtime_ = -1;
}

Expected<std::vector<IndexedEntry>> Store::hashes(const std::string& snap) {
  last_read_file_ = false;
  DXPY_TRY_VOID(check_inside(snap));
  if (auto fresh = fresh_row(snap)) {  // the common case: only this file's row is copied
    std::vector<IndexedEntry> out;
    out.reserve(fresh->file.count);
    for (uint32_t k = fresh->file.first; k < fresh->file.first + fresh->file.count; ++k) {
      IndexView::Key key = fresh->view->key(k);
      IndexedEntry& e = out.emplace_back(IndexedEntry{std::string(key.test), std::string(key.name), {}});
      std::memcpy(e.value_hash.data(), fresh->view->value_hash(k), 32);
    }
    return out;
  }
  const IndexedFile* row = load_index().find(snap);
  auto st = stat_path(join_path(rootdir_, snap));
  if (!st) {
    if (row) save_row(snap, nullptr);
    return std::vector<IndexedEntry>{};
  }
  if (row && row->size == st->size && row->mtime_ns == st->mtime_ns) return row->entries;
  last_read_file_ = true;
  std::optional<IndexedFile> old;
  if (row) old = *row;  // save_row reloads the cache that `row` points into
  bool missing = false;
  DXPY_TRY(IndexedFile fresh, row_from_file(snap, missing));
  if (missing) return std::vector<IndexedEntry>{};
  // Same bytes with a new mtime (a checkout, a touch): only the stat changes.
  if (old && old->content_hash == fresh.content_hash && old->entries == fresh.entries) {
    IndexedFile touched = std::move(*old);
    touched.size = fresh.size;
    touched.mtime_ns = fresh.mtime_ns;
    save_row(snap, &touched);
    return touched.entries;
  }
  save_row(snap, &fresh);
  return fresh.entries;
}

Expected<std::vector<Entry>> Store::read(const std::string& snap) {
  DXPY_TRY_VOID(check_inside(snap));
  std::string path = join_path(rootdir_, snap);
  auto text = read_file(path);
  if (!text) {
    if (!stat_path(path)) return std::vector<Entry>{};
    return make_error(text.error().code, text.error().message);
  }
  auto entries = parse(*text);
  if (!entries) return make_error(Errc::kParse, path + ": " + entries.error().message);
  return entries;
}

Expected<std::vector<IndexedEntry>> Store::update(const std::string& snap, std::vector<Entry> put,
                                                  const std::vector<Key>& remove) {
  DXPY_TRY_VOID(check_inside(snap));
  DXPY_TRY_VOID(make_dirs(cache_dir_));
  DXPY_TRY(ExclusiveLock lock, ExclusiveLock::acquire(lock_path()));
  DXPY_TRY(std::vector<Entry> entries, read(snap));
  if (!remove.empty()) {
    std::set<Key> gone(remove.begin(), remove.end());
    std::erase_if(entries, [&](const Entry& e) { return gone.count({e.test, e.name}) > 0; });
  }
  entries.insert(entries.end(), std::make_move_iterator(put.begin()), std::make_move_iterator(put.end()));
  normalize(entries);
  std::string path = join_path(rootdir_, snap);
  cached_mtime_ = -1;
  Index index = load_index();
  if (entries.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return make_error(Errc::kIo, "cannot delete " + path + ": " + std::strerror(errno));
    ::rmdir(std::string(dirname(path)).c_str());  // only if empty: the __snapshots__ folder
    index.erase(snap);
  } else {
    DXPY_TRY_VOID(make_dirs(std::string(dirname(path))));
    std::string text = render(entries);
    DXPY_TRY_VOID(write_file_atomic(path, text, Durability::kDurable));
    DXPY_TRY(FileStat st, stat_path(path));
    index.put(IndexedFile{snap, st.size, st.mtime_ns, blake3(text), hash_entries(entries)});
  }
  (void)write_file_atomic(index_path(), encode_index(index, root_hash_), Durability::kCache);
  cached_mtime_ = -1;
  const IndexedFile* row = index.find(snap);
  return row ? row->entries : std::vector<IndexedEntry>{};
}

void RecordWriter::add(Use use, std::string_view snap, std::string_view test, std::string_view name) {
  char n[8];
  if (!has_snap_ || snap != snap_) {
    out_ += 'S';
    store_le<uint32_t>(n, static_cast<uint32_t>(snap.size()));
    out_.append(n, 4);
    out_ += snap;
    snap_.assign(snap);
    has_snap_ = true;
  }
  out_ += static_cast<char>(use);
  store_le<uint32_t>(n, static_cast<uint32_t>(test.size()));
  store_le<uint32_t>(n + 4, static_cast<uint32_t>(name.size()));
  out_.append(n, 8);
  out_ += test;
  out_ += name;
}

std::vector<UseRecord> parse_records(std::string_view bytes) {
  std::vector<UseRecord> out;
  std::string_view snap;
  bool has_snap = false;
  size_t pos = 0;
  while (pos < bytes.size()) {
    char kind = bytes[pos];
    if (kind == 'S') {
      if (bytes.size() - pos < 5) break;
      uint64_t len = load_le<uint32_t>(bytes.data() + pos + 1);
      if (bytes.size() - pos - 5 < len) break;
      snap = bytes.substr(pos + 5, len);
      has_snap = true;
      pos += 5 + len;
      continue;
    }
    if ((kind != 'U' && kind != 'W' && kind != 'C') || !has_snap || bytes.size() - pos < 9) break;
    uint64_t tlen = load_le<uint32_t>(bytes.data() + pos + 1), nlen = load_le<uint32_t>(bytes.data() + pos + 5);
    if (bytes.size() - pos - 9 < tlen + nlen) break;
    out.push_back({static_cast<Use>(kind), snap, bytes.substr(pos + 9, tlen), bytes.substr(pos + 9 + tlen, nlen)});
    pos += 9 + tlen + nlen;
  }
  return out;
}

}  // namespace dxpy::snapshot
