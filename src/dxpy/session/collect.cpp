#include "dxpy/session/collect.h"

#include <algorithm>
#include <unistd.h>

#include <atomic>
#include <map>
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

// Classes whose bases live in other modules: collect them again with a resolver that reads
// those modules' outlines (from this run's records, else by parsing the module).
void resolve_inheritance(const CollectOptions& opts, std::vector<FileRecord>& records) {
  std::map<std::string, size_t> by_path;
  for (size_t i = 0; i < records.size(); ++i) by_path[records[i].path] = i;
  std::map<std::string, std::unique_ptr<discovery::Outline>> cache;
  auto load = [&](const std::string& rel) -> const discovery::Outline* {
    auto [it, fresh] = cache.try_emplace(rel);
    if (!fresh) return it->second.get();
    if (auto rec = by_path.find(rel); rec != by_path.end()) {
      if (auto o = discovery::decode_outline(records[rec->second].outline))
        it->second = std::make_unique<discovery::Outline>(std::move(*o));
      return it->second.get();
    }
    if (auto src = read_file(join_path(opts.rootdir, rel)))
      it->second = std::make_unique<discovery::Outline>(discovery::parse_outline(*src));
    return it->second.get();
  };
  auto has_init = [&](const std::string& dir) {
    return ::access(join_path(join_path(opts.rootdir, dir), "__init__.py").c_str(), F_OK) == 0;
  };
  discovery::CrossFileResolver resolver(load, has_init);
  discovery::BaseResolver base_resolver = resolver.as_base_resolver();
  for (size_t i = 0; i < records.size(); ++i) {
    FileRecord& rec = records[i];
    if (rec.outline.empty() || !rec.error.empty()) continue;
    const discovery::Outline* o = load(rec.path);
    if (!o || !discovery::has_foreign_bases(*o)) continue;
    std::string outline = std::move(rec.outline);
    discovery::apply_rules(*o, opts.files[i], opts.rules, rec, &base_resolver);
    rec.outline = std::move(outline);
  }
}

}  // namespace

Collected collect_files(const CollectOptions& opts) {
  Collected out;
  auto idx = open_index(opts, out.notes);
  const size_t n = opts.files.size();
  out.records.resize(n);
  std::vector<std::string> sources(n);
  std::vector<bool> need_parse(n, false);
  bool changed = !idx.has_value() || idx->file_count() != n;

  for (size_t i = 0; i < n; ++i) {
    FileRecord& rec = out.records[i];
    rec.path = relative_to(opts.files[i], opts.rootdir);
    auto st = stat_path(opts.files[i]);
    std::optional<size_t> row = idx ? idx->find(rec.path) : std::nullopt;
    if (st && row && idx->file_size(*row) == st->size && idx->file_mtime_ns(*row) == st->mtime_ns) {
      if (auto r = idx->record(*row)) {
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
    rec.content_hash = blake3(*source);
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
      if (need_parse[i]) discovery::describe_source(sources[i], opts.files[i], opts.rules, out.records[i]);
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

  resolve_inheritance(opts, out.records);

  if (changed && !opts.index_path.empty()) {
    // One writer at a time; a run that finds the lock taken leaves the writing to the other.
    auto lock = index::FileLock::try_acquire(opts.index_path + ".lock", index::FileLock::Mode::kExclusive);
    if (!lock) {
      out.notes.push_back("index not written: " + lock.error().message);
    } else if (!lock->has_value()) {
      out.notes.push_back("index not written: another run is writing it");
    } else if (auto w = index::write_index(opts.index_path, opts.rootdir, out.records); !w) {
      out.notes.push_back("index not written: " + w.error().message);
    } else {
      out.stats.index_written = true;
    }
  }
  return out;
}

}  // namespace dxpy::session
