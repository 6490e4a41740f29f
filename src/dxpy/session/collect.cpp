#include "dxpy/session/collect.h"

#include <algorithm>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <memory>
#include <cstring>
#include <optional>
#include <thread>

#include "dxpy/discovery/collector.h"
#include "dxpy/discovery/inherit.h"
#include "dxpy/discovery/outline_codec.h"
#include "dxpy/index/dxti.h"
#include "dxpy/index/lock.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/hash.h"

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
              const std::vector<bool>& fresh, std::vector<bool>& ids_only, const std::vector<char>& foreign)
      : opts_(opts), idx_(idx), records_(records), fresh_(fresh), ids_only_(ids_only), foreign_(foreign),
        resolver_([this](const std::string& rel) { return load(rel); },
                  [this](const std::string& dir) {
                    return ::access(join_path(join_path(opts_.rootdir, dir), "__init__.py").c_str(), F_OK) == 0;
                  }) {
    for (size_t i = 0; i < records_.size(); ++i) by_path_[records_[i].path] = i;
  }

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
  // Whether the module at `rel` differs from what the index knew.
  bool changed(const std::string& rel) {
    if (auto it = by_path_.find(rel); it != by_path_.end()) return fresh_[it->second];
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
    if (auto r = by_path_.find(rel); r != by_path_.end()) {
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
  const std::vector<bool>& fresh_;
  std::vector<bool>& ids_only_;
  const std::vector<char>& foreign_;
  std::map<std::string, size_t> by_path_;
  std::map<std::string, std::optional<FileRecord>> support_;
  std::set<std::string> changed_support_;
  bool support_changed_ = false;
  std::map<std::string, std::unique_ptr<discovery::Outline>> outlines_;
  discovery::CrossFileResolver resolver_;
};

// The new index: this run's records, plus the old index's records of files this run did not
// look at (a run on part of the tree must not forget the rest) that still exist.
Expected<void> write_all(const CollectOptions& opts, const std::optional<index::IndexReader>& idx,
                         std::vector<FileRecord>& tests, std::vector<FileRecord>& support) {
  std::vector<FileRecord> kept;
  if (idx) {
    std::set<std::string_view> seen;
    for (const auto& r : tests) seen.insert(r.path);
    for (const auto& r : support) seen.insert(r.path);
    for (size_t i = 0; i < idx->file_count(); ++i) {
      std::string_view path = idx->file_path(i);
      if (seen.count(path) || !stat_path(join_path(opts.rootdir, path))) continue;
      if (auto r = idx->record(i)) kept.push_back(std::move(*r));
    }
  }
  if (support.empty() && kept.empty()) return index::write_index(opts.index_path, opts.rootdir, tests);
  // The records are moved into one list for the writer and back, not copied.
  size_t n = tests.size(), m = support.size();
  std::vector<FileRecord> all;
  all.reserve(n + m + kept.size());
  for (auto& r : tests) all.push_back(std::move(r));
  for (auto& r : support) all.push_back(std::move(r));
  for (auto& r : kept) all.push_back(std::move(r));
  auto written = index::write_index(opts.index_path, opts.rootdir, all);
  for (size_t i = 0; i < n; ++i) tests[i] = std::move(all[i]);
  return written;
}

}  // namespace

Collected collect_files(const CollectOptions& opts) {
  Collected out;
  auto idx = open_index(opts, out.notes);
  const size_t n = opts.files.size();
  out.records.resize(n);
  std::vector<std::string> sources(n);
  std::vector<bool> need_parse(n, false);
  std::vector<bool> ids_only(n, false);  // records holding only test ids (opts.ids_only)
  std::vector<char> foreign(n, 0);       // parsed now, with a base class from another module
  bool changed = !idx.has_value();

  for (size_t i = 0; i < n; ++i) {
    FileRecord& rec = out.records[i];
    rec.path = relative_to(opts.files[i], opts.rootdir);
    auto st = stat_path(opts.files[i]);
    std::optional<size_t> row;
    if (idx) row = idx->find(rec.path);
    if (st && row && idx->file_size(*row) == st->size && idx->file_mtime_ns(*row) == st->mtime_ns) {
      if (opts.ids_only) {
        if (auto h = idx->record_head(*row)) {
          rec.size = h->size;
          rec.mtime_ns = h->mtime_ns;
          rec.content_hash = h->content_hash;
          rec.error = std::move(h->error);
          rec.error_line = h->error_line;
          rec.depends_on = std::move(h->depends_on);
          ids_only[i] = true;
          ++out.stats.reused;
          continue;
        }
      } else if (auto r = idx->record(*row)) {
        rec = std::move(*r);
        ++out.stats.reused;
        continue;
      }
    }
    changed = true;
    auto source = read_file(opts.files[i]);
    if (!source) {
      rec.error = source.error().message;
      continue;
    }
    rec.size = source->size();
    rec.mtime_ns = st ? st->mtime_ns : 0;
    // The hash decides reuse only when the index knows the file; otherwise the parsing
    // threads compute it alongside the parse.
    if (row) rec.content_hash = blake3(*source);
    if (row && idx->file_hash(*row) == rec.content_hash) {
      if (auto r = idx->record(*row)) {
        uint64_t size = rec.size;
        int64_t mtime = rec.mtime_ns;
        rec = std::move(*r);
        rec.size = size;
        rec.mtime_ns = mtime;
        ++out.stats.rehashed;
        continue;
      }
    }
    sources[i] = std::move(*source);
    need_parse[i] = true;
  }

  // Parse what changed on every core.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;)
      if (need_parse[i]) {
        if (!idx || !idx->find(out.records[i].path)) out.records[i].content_hash = blake3(sources[i]);
        foreign[i] = discovery::describe_source(sources[i], opts.rules, out.records[i]);
      }
  };
  unsigned threads = opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  size_t to_parse = static_cast<size_t>(std::count(need_parse.begin(), need_parse.end(), true));
  out.stats.parsed = to_parse;
  if (to_parse < 8 || threads == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }

  Inheritance inheritance(opts, idx, out.records, need_parse, ids_only, foreign);
  inheritance.run();
  std::vector<FileRecord> support = inheritance.support_records();
  changed |= inheritance.any_support_changed();

  if (changed && !opts.index_path.empty()) {
    // The index must get whole records: decode the ones that were only listed.
    for (size_t i = 0; i < n; ++i)
      if (ids_only[i] && idx)
        if (auto row = idx->find(out.records[i].path))
          if (auto r = idx->record(*row)) {
            out.records[i] = std::move(*r);
            ids_only[i] = false;
          }
    bool whole = std::none_of(ids_only.begin(), ids_only.end(), [](bool b) { return b; });

    // One writer at a time; a run that finds the lock taken leaves the writing to the other.
    auto lock = index::FileLock::try_acquire(opts.index_path + ".lock", index::FileLock::Mode::kExclusive);
    if (!whole) {
      out.notes.push_back("index not written: some records could not be read back whole");
    } else if (!lock) {
      out.notes.push_back("index not written: " + lock.error().message);
    } else if (!lock->has_value()) {
      out.notes.push_back("index not written: another run is writing it");
    } else if (auto w = write_all(opts, idx, out.records, support); !w) {
      out.notes.push_back("index not written: " + w.error().message);
    } else {
      out.stats.index_written = true;
    }
  }
  if (opts.ids_only && idx) {
    out.index_rows.resize(n);
    for (size_t i = 0; i < n; ++i)
      if (ids_only[i]) out.index_rows[i] = idx->find(out.records[i].path);
    out.index = std::make_shared<const index::IndexReader>(std::move(*idx));
  }
  return out;
}

}  // namespace dxpy::session
