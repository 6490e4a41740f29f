// The snapshot store (src/dxpy/snapshot) for the worker's dx.snapshot(): value hashes from
// the index, the parsed entries on a mismatch, and locked updates. File access and lock
// waits run without the GIL. Errors: SnapshotError (a ValueError) for a .snap file that
// does not parse, OSError for I/O.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "dxpy/bindings/bind.h"
#include "dxpy/snapshot/store.h"

namespace nb = nanobind;

namespace dxpy::bindings {

namespace {

struct SnapshotError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
T value_or_raise(Expected<T>&& r) {
  if (r) return std::move(*r);
  if (r.error().code == Errc::kParse) throw SnapshotError(r.error().message);
  PyErr_SetString(PyExc_OSError, r.error().message.c_str());
  throw nb::python_error();
}

nb::bytes hash_bytes(const Hash256& h) { return nb::bytes(reinterpret_cast<const char*>(h.data()), h.size()); }

nb::dict hash_dict(const std::vector<snapshot::IndexedEntry>& entries) {
  nb::dict d;
  for (const auto& e : entries) d[nb::make_tuple(e.test, e.name)] = hash_bytes(e.value_hash);
  return d;
}

std::vector<snapshot::Entry> to_entries(const std::vector<std::tuple<std::string, std::string, std::string>>& items) {
  std::vector<snapshot::Entry> out;
  out.reserve(items.size());
  for (const auto& [t, n, v] : items) out.push_back({t, n, v});
  return out;
}

}  // namespace

void bind_snapshot(nb::module_& m) {
  nb::exception<SnapshotError>(m, "SnapshotError", PyExc_ValueError);

  nb::class_<snapshot::Store>(m, "SnapshotStore")
      .def(nb::init<std::string, std::string>(), nb::arg("rootdir"), nb::arg("cache_dir") = "")
      .def_prop_ro("index_path", &snapshot::Store::index_path)
      .def_prop_ro("last_read_file", &snapshot::Store::last_read_file)
      .def(
          "hashes",
          [](snapshot::Store& s, const std::string& snap) {
            Expected<std::vector<snapshot::IndexedEntry>> r = std::vector<snapshot::IndexedEntry>{};
            {
              nb::gil_scoped_release unlocked;
              r = s.hashes(snap);
            }
            return hash_dict(value_or_raise(std::move(r)));
          },
          nb::arg("snap"), "{(test, name): BLAKE3 of the value} of a .snap file (rootdir-relative)")
      .def(
          "read",
          [](snapshot::Store& s, const std::string& snap) {
            Expected<std::vector<snapshot::Entry>> r = std::vector<snapshot::Entry>{};
            {
              nb::gil_scoped_release unlocked;
              r = s.read(snap);
            }
            nb::dict d;
            for (const auto& e : value_or_raise(std::move(r))) d[nb::make_tuple(e.test, e.name)] = e.value;
            return d;
          },
          nb::arg("snap"), "{(test, name): value} parsed from a .snap file")
      .def(
          "update",
          [](snapshot::Store& s, const std::string& snap,
             const std::vector<std::tuple<std::string, std::string, std::string>>& put,
             const std::vector<std::pair<std::string, std::string>>& remove) {
            Expected<std::vector<snapshot::IndexedEntry>> r = std::vector<snapshot::IndexedEntry>{};
            {
              nb::gil_scoped_release unlocked;
              r = s.update(snap, to_entries(put), remove);
            }
            return hash_dict(value_or_raise(std::move(r)));
          },
          nb::arg("snap"), nb::arg("put"), nb::arg("remove") = std::vector<std::pair<std::string, std::string>>{},
          "sets and removes entries under the lock, file and index; returns the hashes after");

  m.def("blake3", [](nb::bytes data) { return hash_bytes(blake3(std::string_view(data.c_str(), data.size()))); });
  m.def("snapshot_path_for", &snapshot::snap_path_for, nb::arg("test_path"), nb::arg("snapshot_dir") = "");
  m.def(
      "render_snapshot_file",
      [](const std::vector<std::tuple<std::string, std::string, std::string>>& items) {
        auto entries = to_entries(items);
        snapshot::normalize(entries);
        return snapshot::render(entries);
      },
      "the .snap text of (test, name, value) entries");
  m.def(
      "parse_snapshot_file",
      [](std::string_view text) {
        std::vector<std::tuple<std::string, std::string, std::string>> out;
        for (auto& e : value_or_raise(snapshot::parse(text))) out.emplace_back(e.test, e.name, e.value);
        return out;
      },
      "(test, name, value) entries of .snap text, sorted");
  m.def(
      "render_snapshot_records",
      [](const std::vector<std::tuple<std::string, std::string, std::string, std::string>>& items) {
        std::vector<snapshot::UseRecord> records;
        records.reserve(items.size());
        for (const auto& [k, snap, test, name] : items)
          records.push_back({k.empty() ? snapshot::Use::kMatched : static_cast<snapshot::Use>(k[0]), snap, test, name});
        return snapshot::render_records(records);
      },
      "a worker's run record: (kind 'U'|'W'|'C', snap, test, name) lines for the orchestrator");
}

}  // namespace dxpy::bindings
