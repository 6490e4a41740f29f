#include "dxpy/session/collect.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "dxpy/discovery/collector.h"
#include "dxpy/discovery/inherit.h"
#include "dxpy/discovery/outline_codec.h"
#include "dxpy/index/dxti.h"
#include "dxpy/index/lock.h"
#include "dxpy/report/collect_only.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/hash.h"
#include "dxpy/util/thread.h"

namespace dxpy::session {

namespace {

std::optional<index::IndexReader> open_index(const CollectOptions& opts, std::vector<std::string>& notes) {
  if (opts.index_path.empty()) return std::nullopt;
  auto idx = index::IndexReader::open(opts.index_path, opts.rootdir);
  if (idx) return std::move(*idx);
  if (idx.error().code != Errc::kNotFound)
    notes.push_back("index " + opts.index_path + " ignored (" + idx.error().message + "); rebuilding it");
  return std::nullopt;
}

// Classes whose bases live in other modules are collected again with a resolver that reads
// those modules' outlines: from this run's records, else from the index ("support" records
// of modules that hold no tests), else by parsing the module. A record keeps the modules it
// consulted (depends_on), so a later run redoes the work only when one of them changed.
class Inheritance {
 public:
  Inheritance(const CollectOptions& opts, const std::optional<index::IndexReader>& idx, std::vector<FileRecord>& records,
              const std::vector<char>& fresh, std::vector<char>& ids_only, const std::vector<char>& foreign,
              std::vector<char>& modified)
      : opts_(opts), idx_(idx), records_(records), fresh_(fresh), ids_only_(ids_only), foreign_(foreign),
        modified_(modified),
        resolver_([this](const std::string& rel) { return load(rel); },
                  [this](const std::string& dir) {
                    return ::access(join_path(join_path(opts_.rootdir, dir), "__init__.py").c_str(), F_OK) == 0;
                  }) {}

  void run() {
    discovery::BaseResolver base = resolver_.as_base_resolver();
    for (size_t i = 0; i < records_.size(); ++i) {
      FileRecord& rec = records_[i];
      if (!rec.error.empty()) continue;
      if (!fresh_[i]) {
        if (rec.depends_on.empty()) continue;  // resolved when it was parsed; nothing to follow
        bool stale = false;
        for (const auto& dep : rec.depends_on) stale |= changed(dep);
        if (!stale) continue;
        if (!complete(i)) continue;
      } else if (!foreign_[i]) {
        continue;  // parsed now: every base class is in the file itself
      }
      if (rec.outline.empty()) continue;
      const discovery::Outline* o = load(rec.path);
      if (!o || !discovery::has_foreign_bases(*o)) continue;
      resolver_.take_consulted();
      std::string outline = std::move(rec.outline);
      discovery::apply_rules(*o, opts_.rules, rec, &base);
      rec.outline = std::move(outline);
      rec.depends_on = resolver_.take_consulted();
      modified_[i] = 1;
    }
  }

  /// Makes record i whole again if it holds only test ids; false if the index fails us.
  bool complete(size_t i) {
    if (!ids_only_[i]) return true;
    auto row = idx_ ? idx_->find(records_[i].path) : std::nullopt;
    if (!row) return false;
    auto r = idx_->record(*row);
    if (!r) return false;
    records_[i] = std::move(*r);
    ids_only_[i] = false;
    return true;
  }

  /// Records of the modules without tests that were consulted, for the index.
  std::vector<FileRecord> support_records() {
    std::vector<FileRecord> out;
    for (auto& [path, rec] : support_)
      if (rec) out.push_back(std::move(*rec));
    return out;
  }
  bool any_support_changed() const { return support_changed_; }

 private:
  // This run's records by path, made on first use: most runs never need it.
  const std::map<std::string, size_t>& by_path() {
    if (by_path_.empty())
      for (size_t i = 0; i < records_.size(); ++i) by_path_.emplace(records_[i].path, i);
    return by_path_;
  }

  // Whether the module at `rel` differs from what the index knew.
  bool changed(const std::string& rel) {
    if (auto it = by_path().find(rel); it != by_path().end()) return fresh_[it->second];
    const FileRecord* rec = support(rel);
    return !rec || changed_support_.count(rel) > 0;
  }

  const FileRecord* support(const std::string& rel) {
    auto [it, fresh] = support_.try_emplace(rel);
    if (!fresh) return it->second ? &*it->second : nullptr;
    std::string abs = join_path(opts_.rootdir, rel);
    auto st = stat_path(abs);
    if (!st || !st->is_file) return nullptr;
    std::optional<size_t> row;
    if (idx_) row = idx_->find(rel);
    if (row && idx_->file_size(*row) == st->size && idx_->file_mtime_ns(*row) == st->mtime_ns) {
      if (auto r = idx_->record(*row)) {
        it->second = std::move(*r);
        return &*it->second;
      }
    }
    auto src = read_file(abs);
    if (!src) return nullptr;
    FileRecord rec;
    rec.path = rel;
    rec.size = src->size();
    rec.mtime_ns = st->mtime_ns;
    rec.content_hash = blake3(*src);
    support_changed_ = true;
    if (row && idx_->file_hash(*row) == rec.content_hash) {
      if (auto r = idx_->record(*row)) {
        r->size = rec.size;
        r->mtime_ns = rec.mtime_ns;
        it->second = std::move(*r);
        return &*it->second;
      }
    }
    rec.outline = discovery::encode_outline(discovery::parse_outline(*src));
    changed_support_.insert(rel);
    it->second = std::move(rec);
    return &*it->second;
  }

  const discovery::Outline* load(const std::string& rel) {
    auto [it, fresh] = outlines_.try_emplace(rel);
    if (!fresh) return it->second.get();
    const std::string* bytes = nullptr;
    if (auto r = by_path().find(rel); r != by_path().end()) {
      if (!complete(r->second)) return nullptr;
      bytes = &records_[r->second].outline;
    }
    else if (const FileRecord* rec = support(rel)) bytes = &rec->outline;
    if (bytes)
      if (auto o = discovery::decode_outline(*bytes)) it->second = std::make_unique<discovery::Outline>(std::move(*o));
    return it->second.get();
  }

  const CollectOptions& opts_;
  const std::optional<index::IndexReader>& idx_;
  std::vector<FileRecord>& records_;
  const std::vector<char>& fresh_;
  std::vector<char>& ids_only_;
  const std::vector<char>& foreign_;
  std::vector<char>& modified_;
  std::map<std::string, size_t> by_path_;
  std::map<std::string, std::optional<FileRecord>> support_;
  std::set<std::string> changed_support_;
  bool support_changed_ = false;
  std::map<std::string, std::unique_ptr<discovery::Outline>> outlines_;
  discovery::CrossFileResolver resolver_;
};

// Reads files through a descriptor of their folder, kept from one file to the next: most
// files share their folder with the one before, and then only their name is looked up.
class FolderCursor {
 public:
  FolderCursor() = default;
  FolderCursor(const FolderCursor&) = delete;
  FolderCursor& operator=(const FolderCursor&) = delete;
  ~FolderCursor() {
    if (fd_ >= 0) ::close(fd_);
  }

  Expected<void> read(const std::string& path, std::string& out, FileStat& st) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return read_file_into(path, out, &st);
    std::string_view dir(path.data(), slash);
    if (dir != dir_) {
      if (fd_ >= 0) ::close(fd_);
      dir_.assign(dir);
      fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd_ < 0) return read_file_into(path, out, &st);
    return read_file_at(fd_, path.c_str() + slash + 1, path, out, &st);
  }

 private:
  std::string dir_;
  int fd_ = -1;
};

// Where each file's record comes from.
enum class Source : uint8_t {
  kRead,    // read now: then parsed, re-hashed, or a read error
  kReused,  // unchanged: the index's record, decoded
  kListed,  // unchanged, listing only: its head decoded, its node ids left in the index
};

// The new index: this run's records, plus the old index's records of files this run did not
// look at (a run on part of the tree must not forget the rest) that still exist. Records
// taken unchanged from the old index are copied as they are stored, without decoding.
// The records and their prepared entries are given by their first element: the vectors
// that hold them may be moved meanwhile (an index written on its own thread), which leaves
// their elements in place.
struct WriteInput {
  std::string index_path, rootdir;
  const index::IndexReader* idx = nullptr;  // the old index, if any
  const FileRecord* records = nullptr;
  const index::PreparedRecord* prepared = nullptr;
  size_t n = 0;
  std::vector<Source> source;
  std::vector<std::optional<size_t>> rows;
  std::vector<char> prepared_ok, modified;
  std::vector<FileRecord> support;
};

Expected<void> write_all(const WriteInput& in) {
  const index::IndexReader* idx = in.idx;
  const std::vector<FileRecord>& support = in.support;
  index::RecordArena arena;
  std::deque<index::PreparedRecord> extra;  // entries made here; a deque keeps them in place
  std::vector<const index::PreparedRecord*> entries;
  entries.reserve(in.n + support.size());
  for (size_t i = 0; i < in.n; ++i) {
    if (in.prepared_ok[i]) {
      entries.push_back(&in.prepared[i]);
    } else if (in.source[i] != Source::kRead && !in.modified[i]) {
      entries.push_back(&extra.emplace_back(idx->prepared(*in.rows[i], arena)));
    } else {
      DXPY_TRY(auto p, index::prepare_record(in.records[i], arena));
      entries.push_back(&extra.emplace_back(std::move(p)));
    }
  }
  for (const auto& r : support) {
    DXPY_TRY(auto p, index::prepare_record(r, arena));
    entries.push_back(&extra.emplace_back(std::move(p)));
  }
  if (idx) {
    std::vector<char> seen(idx->file_count(), 0);
    for (const auto& row : in.rows)
      if (row) seen[*row] = 1;
    for (const auto& r : support)
      if (auto row = idx->find(r.path)) seen[*row] = 1;
    for (size_t i = 0; i < idx->file_count(); ++i) {
      if (seen[i] || !stat_path(join_path(in.rootdir, idx->file_path(i)))) continue;
      entries.push_back(&extra.emplace_back(idx->prepared(i, arena)));
    }
  }
  return index::write_prepared_index(in.index_path, in.rootdir, entries);
}

// Writes the index under its lock: one writer at a time; a run that finds the lock taken
// leaves the writing to the other. Returns the note for -v, if any.
std::optional<std::string> write_locked(const WriteInput& in) {
  auto lock = index::FileLock::try_acquire(in.index_path + ".lock", index::FileLock::Mode::kExclusive);
  if (!lock) return "index not written: " + lock.error().message;
  if (!lock->has_value()) return "index not written: another run is writing it";
  if (auto w = write_all(in); !w) return "index not written: " + w.error().message;
  return std::nullopt;
}

// Listing: each record's node ids, from the index where the record was not decoded, from
// its prepared entry where it was parsed now, else from its tests.
void gather_node_ids(Collected& out, const index::IndexReader* idx) {
  const size_t n = out.records.size();
  out.listed.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (idx && i < out.index_rows.size() && out.index_rows[i]) {
      if (ListedFile f = idx->listed(*out.index_rows[i]); f.count) out.listed.push_back(f);
    } else if (i < out.ids_in_prepared.size() && out.ids_in_prepared[i]) {
      if (ListedFile f = out.prepared[i].listed(); f.count) out.listed.push_back(f);
    } else {
      report::list_tests(out.records[i].tests, out.listed, out.owned_tails, out.owned_ends);
    }
  }
}

}  // namespace

Collected collect_files(const CollectOptions& opts) {
  Collected out;
  auto idx = open_index(opts, out.notes);
  const size_t n = opts.files.size();
  out.records.resize(n);
  std::vector<Source> source(n, Source::kRead);
  std::vector<std::optional<size_t>> rows(n);  // each file's row in the old index
  std::vector<char> ids_only(n, 0);            // records holding only test ids (opts.ids_only)
  bool changed = !idx.has_value();

  for (size_t i = 0; i < n; ++i) {
    FileRecord& rec = out.records[i];
    rec.path = relative_to(opts.files[i], opts.rootdir);
    if (idx) rows[i] = idx->find(rec.path);
    const std::optional<size_t>& row = rows[i];
    if (!row) {
      changed = true;
      continue;
    }
    auto st = stat_path(opts.files[i]);
    if (st && idx->file_size(*row) == st->size && idx->file_mtime_ns(*row) == st->mtime_ns) {
      if (opts.ids_only) {
        if (auto h = idx->record_head(*row)) {
          rec.size = h->size;
          rec.mtime_ns = h->mtime_ns;
          rec.content_hash = h->content_hash;
          rec.error = std::move(h->error);
          rec.error_line = h->error_line;
          rec.depends_on = std::move(h->depends_on);
          ids_only[i] = 1;
          source[i] = Source::kListed;
          ++out.stats.reused;
          continue;
        }
      } else if (auto r = idx->record(*row)) {
        rec = std::move(*r);
        source[i] = Source::kReused;
        ++out.stats.reused;
        continue;
      }
    }
    changed = true;
  }

  // Read, hash and parse what changed, on every core. A parsed file is also encoded for
  // the index there (`prepared`), while it is still in the cache; when only node ids are
  // listed, its tests are then dropped: the prepared node ids stand for them.
  const bool prepare = opts.ids_only || !opts.index_path.empty();
  out.prepared.resize(n);
  out.ids_in_prepared.assign(n, 0);
  std::vector<char> prepared_ok(n, 0), parsed(n, 0), rehashed(n, 0), foreign(n, 0);
  const size_t to_read = static_cast<size_t>(std::count(source.begin(), source.end(), Source::kRead));
  const unsigned threads =
      to_read < 8 ? 1u : opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  if (prepare)
    for (unsigned t = 0; t < threads; ++t) out.arenas.push_back(std::make_unique<index::RecordArena>());
  // Files are taken a few at a time, so that the records one thread prepares in a row lie
  // back to back in its arena, as they will in the index.
  constexpr size_t kBatch = 8;
  std::atomic<size_t> next{0};
  // One file, read and hashed: the index's record if only its mtime changed, else parsed.
  auto parse_one = [&](size_t i, std::string_view text, index::RecordArena* arena) {
    FileRecord& rec = out.records[i];
    if (rows[i] && idx->file_hash(*rows[i]) == rec.content_hash) {
      if (auto r = idx->record(*rows[i])) {  // touched, same content: the index's record
        uint64_t size = rec.size;
        int64_t mtime = rec.mtime_ns;
        rec = std::move(*r);
        rec.size = size;
        rec.mtime_ns = mtime;
        rehashed[i] = 1;
        return;
      }
    }
    parsed[i] = 1;
    foreign[i] = discovery::describe_source_compact(text, opts.rules, rec);
    if (arena)
      if (auto p = index::prepare_record(rec, *arena)) {
        out.prepared[i] = *p;
        prepared_ok[i] = 1;
      }
    if (opts.ids_only && prepared_ok[i] && !foreign[i]) {
      std::vector<TestCase>().swap(rec.tests);  // its memory too, for the next file
      out.ids_in_prepared[i] = 1;
    } else {
      for (auto& t : rec.tests) t.id.path = rec.path;
    }
  };
  // A batch at a time: read, then hashed together (small files hash several times faster
  // that way), then each parsed. `one_batch`: thread 0 reads the first batch alone and
  // counts what it read.
  size_t probe_files = 0, probe_bytes = 0;
  auto work = [&](unsigned thread, bool one_batch) {
    std::string texts[kBatch];  // this thread's file buffers, reused from batch to batch
    std::string_view views[kBatch];
    Hash256 hashes[kBatch];
    size_t which[kBatch];
    FolderCursor folder;
    index::RecordArena* arena = prepare ? out.arenas[thread].get() : nullptr;
    for (size_t b; (b = next.fetch_add(kBatch)) < n;) {
      size_t m = 0;
      for (size_t i = b; i < std::min(n, b + kBatch); ++i) {
        if (source[i] != Source::kRead) continue;
        FileRecord& rec = out.records[i];
        FileStat st;
        if (auto r = folder.read(opts.files[i], texts[m], st); !r) {
          rec.error = r.error().message;
          continue;
        }
        rec.size = texts[m].size();
        rec.mtime_ns = st.mtime_ns;
        views[m] = texts[m];
        which[m++] = i;
      }
      blake3_many(views, m, hashes);
      for (size_t k = 0; k < m; ++k) {
        out.records[which[k]].content_hash = hashes[k];
        parse_one(which[k], views[k], arena);
        if (one_batch) probe_bytes += views[k].size();
      }
      if (one_batch) {
        probe_files = m;
        break;
      }
    }
  };
  // A helper thread costs up to 0.1 ms to start and join, about what it saves by taking
  // half of 80 KB of parsing: with two threads, cold runs on 12 files (80 KB) and 32 files
  // (87 KB) were no faster, often 0.2 ms slower. So short of kManyFiles files, the first
  // batch is read alone, and helpers start only if its files promise kHelperBytes more.
  constexpr size_t kManyFiles = 64;
  constexpr size_t kHelperBytes = size_t{128} << 10;
  bool helpers = threads > 1;
  if (helpers && to_read < kManyFiles) {
    work(0, true);
    helpers = probe_files > 0 && probe_bytes / probe_files * (to_read - probe_files) >= kHelperBytes;
  }
  std::vector<std::thread> pool;
  if (helpers)
    for (unsigned t = 1; t < threads; ++t) start_elsewhere(pool.emplace_back(work, t, false), t - 1);
  work(0, false);
  for (auto& t : pool) t.join();
  out.stats.parsed = static_cast<size_t>(std::count(parsed.begin(), parsed.end(), 1));
  out.stats.rehashed = static_cast<size_t>(std::count(rehashed.begin(), rehashed.end(), 1));

  std::vector<char> modified(n, 0);
  Inheritance inheritance(opts, idx, out.records, parsed, ids_only, foreign, modified);
  inheritance.run();
  std::vector<FileRecord> support = inheritance.support_records();
  changed |= inheritance.any_support_changed();
  // Only records with foreign bases change here, and those kept their tests.
  for (size_t i = 0; i < n; ++i)
    if (modified[i]) prepared_ok[i] = 0;

  const bool write = changed && !opts.index_path.empty();
  // The listing reads the old index's test table for as long as it lives: it is shared.
  if (opts.ids_only && idx) {
    out.index = std::make_shared<const index::IndexReader>(std::move(*idx));
    idx.reset();
  }
  const index::IndexReader* old_index = idx ? &*idx : out.index.get();
  if (opts.ids_only) {
    out.index_rows.resize(n);
    for (size_t i = 0; i < n; ++i)
      if (ids_only[i]) out.index_rows[i] = rows[i];
  }
  if (write) {
    WriteInput in{opts.index_path, opts.rootdir, old_index, out.records.data(), out.prepared.data(), n,
                  std::move(source), std::move(rows), std::move(prepared_ok), std::move(modified), std::move(support)};
    if (opts.ids_only) {
      // Listing: the index is written on a thread of its own while the caller gathers and
      // prints the node ids; it is joined when `out` (or what takes its writer) is
      // destroyed. What the writer reads stays in place until then (see Collected). Its
      // note is not kept: listing is never verbose.
      out.index_writer = std::jthread([in = std::move(in)] { (void)write_locked(in); });
      start_elsewhere(out.index_writer, 0);
    } else if (auto note = write_locked(in)) {
      out.notes.push_back(std::move(*note));
    } else {
      out.stats.index_written = true;
    }
  }
  if (opts.ids_only) gather_node_ids(out, old_index);
  if (!opts.ids_only) {
    std::vector<index::PreparedRecord>().swap(out.prepared);
    std::vector<char>().swap(out.ids_in_prepared);
    out.arenas.clear();
  }
  return out;
}

}  // namespace dxpy::session
