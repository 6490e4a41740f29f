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

Expected<void> Checker::load(const std::string& snap) {
  Hashes h;
  if (auto row = store_.fresh_row(snap)) {
    h.view = std::move(row->view);
    h.file = row->file;
  } else {
    DXPY_TRY(h.owned, store_.hashes(snap));
  }
  files_.insert_or_assign(snap, std::move(h));
  return {};
}

Expected<Checker::Outcome> Checker::check(std::string_view snap, std::string_view test, std::string_view name,
                                          std::string_view value) {
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
