#include "dxpy/snapshot/checker.h"

#include <algorithm>
#include <cstring>

#include "dxpy/util/hash.h"

namespace dxpy::snapshot {

const uint8_t* Checker::Hashes::find(std::string_view test, std::string_view name) const {
  if (view) return view->find_entry(file, test, name);
  auto it = std::lower_bound(owned.begin(), owned.end(), std::pair{test, name},
                             [](const IndexedEntry& e, const std::pair<std::string_view, std::string_view>& k) {
                               int c = std::string_view(e.test).compare(k.first);
                               return c < 0 || (c == 0 && std::string_view(e.name) < k.second);
                             });
  if (it == owned.end() || it->test != test || it->name != name) return nullptr;
  return it->value_hash.data();
}

void Checker::Hashes::set(std::string_view test, std::string_view name, const Hash256& hash) {
  if (view) {
    owned.clear();
    owned.reserve(file.count + 1);
    for (uint32_t k = file.first; k < file.first + file.count; ++k) {
      IndexView::Key key = view->key(k);
      IndexedEntry& e = owned.emplace_back(IndexedEntry{std::string(key.test), std::string(key.name), {}});
      std::memcpy(e.value_hash.data(), view->value_hash(k), 32);
    }
    view.reset();
  }
  auto it = std::lower_bound(owned.begin(), owned.end(), std::pair{test, name},
                             [](const IndexedEntry& e, const std::pair<std::string_view, std::string_view>& k) {
                               int c = std::string_view(e.test).compare(k.first);
                               return c < 0 || (c == 0 && std::string_view(e.name) < k.second);
                             });
  if (it != owned.end() && it->test == test && it->name == name)
    it->value_hash = hash;
  else
    owned.insert(it, IndexedEntry{std::string(test), std::string(name), hash});
}

Expected<void> Checker::load(const std::string& snap) {
  DXPY_TRY_VOID(store_.check_inside(snap));  // once per file and worker, before any stat of it
  Hashes h;
  if (auto row = store_.fresh_row(snap)) {
    h.view = std::move(row->view);
    h.file = row->file;
  } else {
    DXPY_TRY(h.owned, store_.hashes(snap));
  }
  if (snap == pending_snap_)
    for (const auto& e : pending_) h.set(e.test, e.name, blake3(e.value));
  files_.insert_or_assign(snap, std::move(h));
  return {};
}

Expected<void> Checker::flush() {
  if (pending_.empty()) return {};
  std::vector<Entry> entries = std::move(pending_);
  std::vector<Use> uses = std::move(pending_uses_);
  std::string snap = std::move(pending_snap_);
  pending_.clear();
  pending_uses_.clear();
  pending_snap_.clear();
  std::vector<std::pair<std::string, std::string>> keys;
  keys.reserve(entries.size());
  for (const auto& e : entries) keys.emplace_back(e.test, e.name);
  auto after = store_.update(snap, std::move(entries));
  if (!after) {
    forget(snap);  // the held hashes were never written
    return make_error(after.error().code, after.error().message);
  }
  for (size_t i = 0; i < keys.size(); ++i) records_.add(uses[i], snap, keys[i].first, keys[i].second);
  Hashes h;
  h.owned = std::move(*after);
  files_.insert_or_assign(snap, std::move(h));
  return {};
}

Expected<std::optional<std::string>> Checker::stored_value(const std::string& snap, std::string_view test,
                                                           std::string_view name) {
  if (snap == pending_snap_) {
    for (auto it = pending_.rbegin(); it != pending_.rend(); ++it)
      if (it->test == test && it->name == name) return std::optional<std::string>(it->value);
  }
  DXPY_TRY(std::vector<Entry> entries, store_.read(snap));
  for (auto& e : entries)
    if (e.test == test && e.name == name) return std::optional<std::string>(std::move(e.value));
  return std::optional<std::string>();
}

Expected<Checker::Outcome> Checker::check(std::string_view snap, std::string_view test, std::string_view name,
                                          std::string_view value) {
  if (!pending_.empty() && snap != pending_snap_) DXPY_TRY_VOID(flush());  // the module changed
  auto it = files_.find(snap);
  if (it == files_.end()) {
    DXPY_TRY_VOID(load(std::string(snap)));
    it = files_.find(snap);
  }
  const uint8_t* stored = it->second.find(test, name);
  if (stored == nullptr) return Outcome::kMissing;
  Hash256 h = blake3(value);
  if (std::memcmp(h.data(), stored, h.size()) != 0) return Outcome::kDiffers;
  records_.add(Use::kMatched, snap, test, name);
  return Outcome::kMatched;
}

Expected<void> Checker::write(const std::string& snap, std::string test, std::string name, std::string value,
                              Use use) {
  if (deferred_) {
    if (!pending_.empty() && snap != pending_snap_) DXPY_TRY_VOID(flush());
    if (!loaded(snap)) DXPY_TRY_VOID(load(snap));
    files_.find(snap)->second.set(test, name, blake3(value));
    pending_snap_ = snap;
    pending_.push_back(Entry{std::move(test), std::move(name), std::move(value)});
    pending_uses_.push_back(use);
    return {};
  }
  std::string t = test, n = name;
  DXPY_TRY(std::vector<IndexedEntry> after,
           store_.update(snap, {Entry{std::move(test), std::move(name), std::move(value)}}));
  Hashes h;
  h.owned = std::move(after);
  files_.insert_or_assign(snap, std::move(h));
  records_.add(use, snap, t, n);
  return {};
}

}  // namespace dxpy::snapshot
