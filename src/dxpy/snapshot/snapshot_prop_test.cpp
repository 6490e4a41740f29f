// Properties 15 (snapshot hash correctness) and 17 (update consistency) for the .snap
// format, the hash index and the store; Property 16 (the diff) is Python's
// (tests/python/test_snapshot_format.py).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <filesystem>
#include <algorithm>
#include <map>

#include "dxpy/snapshot/index.h"
#include "dxpy/snapshot/snap_file.h"
#include "dxpy/snapshot/store.h"
#include "dxpy/snapshot/test_support.h"
#include "dxpy/util/fs.h"

namespace dxpy::snapshot {
namespace {

// Text that stresses the format: header look-alikes, escapes, bars, blank and CR lines.
rc::Gen<std::string> tricky_text() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(rc::gen::element<std::string>(
          "a", "==", "== ", " | ", "|", "\\", "\\n", "\n", "\r", "  ", "#", "x y", "\xc3\xa9", "\t", "")),
      [](const std::vector<std::string>& parts) {
        std::string s;
        for (const auto& p : parts) s += p;
        return s;
      });
}

rc::Gen<Entry> any_entry() {
  return rc::gen::build<Entry>(rc::gen::set(&Entry::test, tricky_text()), rc::gen::set(&Entry::name, tricky_text()),
                               rc::gen::set(&Entry::value, rc::gen::oneOf(tricky_text(), rc::gen::arbitrary<std::string>())));
}

RC_GTEST_PROP(SnapFileProp, RenderThenParseGivesTheEntriesBack, ()) {
  auto entries = *rc::gen::container<std::vector<Entry>>(any_entry());
  normalize(entries);
  std::string text = render(entries);
  auto back = parse(text);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == entries);
  RC_ASSERT(render(*back) == text);  // deterministic bytes
}

RC_GTEST_PROP(SnapFileProp, ParseNeverCrashesOnAnyText, ()) {
  auto text = *rc::gen::oneOf(tricky_text(), rc::gen::arbitrary<std::string>());
  auto r = parse(text);
  if (r) RC_ASSERT(parse(render(*r)).has_value());
}

rc::Gen<IndexedFile> any_row() {
  return rc::gen::build<IndexedFile>(
      // Any bytes in the file name; the folders make it rootdir-relative (snap_path_is_safe).
      rc::gen::set(&IndexedFile::path, rc::gen::map(rc::gen::arbitrary<std::string>(),
                                                    [](std::string s) {
                                                      std::replace(s.begin(), s.end(), '/', '_');
                                                      std::replace(s.begin(), s.end(), '\0', '_');
                                                      return "t/__snapshots__/x" + s;
                                                    })),
      rc::gen::set(&IndexedFile::size, rc::gen::arbitrary<uint64_t>()),
      rc::gen::set(&IndexedFile::mtime_ns, rc::gen::arbitrary<int64_t>()),
      rc::gen::set(&IndexedFile::content_hash, rc::gen::map(rc::gen::arbitrary<std::string>(),
                                                            [](const std::string& s) { return blake3(s); })),
      rc::gen::set(&IndexedFile::entries,
                   rc::gen::map(rc::gen::container<std::vector<Entry>>(any_entry()), [](std::vector<Entry> es) {
                     normalize(es);
                     std::vector<IndexedEntry> out;
                     for (const auto& e : es) out.push_back({e.test, e.name, blake3(e.value)});
                     return out;
                   })));
}

// Property 15: the index stores exactly the hash of each value, and reads back whole; any
// single flipped byte is caught by the checksum or the structure checks.
RC_GTEST_PROP(SnapshotIndexProp, RoundTripsAndDetectsAnyFlippedByte, ()) {
  Index index;
  // Small tables: the property is about the layout, and each case hashes every value.
  for (auto& row : *rc::gen::resize(12, rc::gen::container<std::vector<IndexedFile>>(any_row())))
    index.put(std::move(row));
  uint64_t root = *rc::gen::arbitrary<uint64_t>();
  std::string bytes = encode_index(index, root);
  auto back = decode_index(bytes, root);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == index);
  size_t at = *rc::gen::inRange<size_t>(0, bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ (1 + *rc::gen::inRange(0, 255)));
  RC_ASSERT(!decode_index(bytes, root).has_value());
}

// Property 15 in place: the view of an encoded index finds every entry's hash by (path,
// test, name) with binary search, and finds no key the index lacks.
RC_GTEST_PROP(SnapshotIndexProp, TheViewFindsExactlyTheIndexedHashes, ()) {
  Index index;
  for (auto& row : *rc::gen::resize(12, rc::gen::container<std::vector<IndexedFile>>(any_row())))
    index.put(std::move(row));
  uint64_t root = *rc::gen::arbitrary<uint64_t>();
  auto view = IndexView::parse(encode_index(index, root), root);
  RC_ASSERT(view.has_value());
  RC_ASSERT((*view)->file_count() == index.files.size());
  for (const auto& f : index.files) {
    IndexView::File vf;
    RC_ASSERT((*view)->find(f.path, vf) != nullptr);
    RC_ASSERT(vf.path == f.path && vf.size == f.size && vf.mtime_ns == f.mtime_ns && vf.count == f.entries.size());
    for (const auto& e : f.entries) {
      const uint8_t* h = (*view)->find_entry(vf, e.test, e.name);
      RC_ASSERT(h != nullptr);
      RC_ASSERT(std::equal(e.value_hash.begin(), e.value_hash.end(), h));
    }
    std::string test = *tricky_text(), name = *tricky_text();
    bool present = std::any_of(f.entries.begin(), f.entries.end(),
                               [&](const IndexedEntry& e) { return e.test == test && e.name == name; });
    RC_ASSERT(((*view)->find_entry(vf, test, name) != nullptr) == present);
  }
  std::string other = *rc::gen::arbitrary<std::string>();
  IndexView::File vf;
  RC_ASSERT(((*view)->find(other, vf) != nullptr) == (index.find(other) != nullptr));
}

class PropDir : public ::testing::Environment {
 public:
  void SetUp() override { dir_ = testing::make_temp_dir("dxpy_snapshot_prop_"); }
  void TearDown() override {
    if (!::testing::UnitTest::GetInstance()->Failed()) std::filesystem::remove_all(dir_);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};
PropDir* const g_dir = static_cast<PropDir*>(::testing::AddGlobalTestEnvironment(new PropDir));

// Property 17 (and 15 through the store): after any sequence of writes and removals the
// .snap file holds exactly the model's entries, the index's hashes are BLAKE3 of those
// values, and they are served from the index without reading the file.
RC_GTEST_PROP(SnapshotStoreProp, UpdatesKeepFileAndIndexConsistent, ()) {
  static int run = 0;
  std::string root = g_dir->dir() + "/r" + std::to_string(run++);
  std::filesystem::create_directories(root);
  const std::string snap = "pkg/__snapshots__/test_m.snap";
  std::map<Key, std::string> model;
  Store store(root);
  auto steps = *rc::gen::inRange(1, 4);  // each step writes (and fsyncs) the .snap file
  for (int s = 0; s < steps; ++s) {
    auto put = *rc::gen::resize(8, rc::gen::container<std::vector<Entry>>(rc::gen::build<Entry>(
        rc::gen::set(&Entry::test, rc::gen::element<std::string>("t.py::a", "t.py::b[x | y]", "t.py::c\n")),
        rc::gen::set(&Entry::name, rc::gen::element<std::string>("1", "2", "== a | 1")),
        rc::gen::set(&Entry::value, tricky_text()))));
    std::vector<Key> remove;
    for (const auto& [k, v] : model)
      if (*rc::gen::inRange(0, 4) == 0) remove.push_back(k);
    for (const auto& k : remove) model.erase(k);
    for (const auto& e : put) model[{e.test, e.name}] = e.value;
    auto after = store.update(snap, put, remove);
    RC_ASSERT(after.has_value());
  }
  auto entries = Store(root).read(snap);
  RC_ASSERT(entries.has_value());
  RC_ASSERT(entries->size() == model.size());
  for (const auto& e : *entries) RC_ASSERT(model.at({e.test, e.name}) == e.value);
  Store reader(root);
  auto hashes = reader.hashes(snap);
  RC_ASSERT(hashes.has_value());
  RC_ASSERT(!reader.last_read_file() || model.empty());
  RC_ASSERT(hashes->size() == model.size());
  for (const auto& h : *hashes) RC_ASSERT(h.value_hash == blake3(model.at({h.test, h.name})));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace dxpy::snapshot
