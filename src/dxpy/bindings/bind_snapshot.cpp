// The snapshot store (src/dxpy/snapshot) for the worker's dx.snapshot(): value hashes from
// the index, the parsed entries on a mismatch, and locked updates; SnapshotChecker, the
// worker's per-snapshot check in one call (snapshot/checker.h). File access and lock
// waits run without the GIL. Errors: SnapshotError (a ValueError) for a .snap file that
// does not parse, OSError for I/O.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "dxpy/bindings/bind.h"
#include "dxpy/snapshot/checker.h"
#include "dxpy/snapshot/store.h"

namespace nb = nanobind;

namespace dxpy::bindings {

namespace {

struct SnapshotError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void raise(const Error& e) {
  if (e.code == Errc::kParse) throw SnapshotError(e.message);
  PyErr_SetString(PyExc_OSError, e.message.c_str());
  throw nb::python_error();
}

template <class T>
T value_or_raise(Expected<T>&& r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

/// A str's UTF-8 bytes in place (CPython caches them; for ASCII they are the str's own).
/// False, the error cleared, when it has none (lone surrogates); TypeError for a non-str.
bool utf8(nb::handle h, std::string_view& out) {
  if (!PyUnicode_Check(h.ptr())) throw nb::type_error("dx.snapshot: expected a str");
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
  if (p == nullptr) {
    PyErr_Clear();
    return false;
  }
  out = std::string_view(p, static_cast<size_t>(n));
  return true;
}

/// Appends `data` in one write (O_APPEND), for the run records.
bool append_file(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  bool ok = true;
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ok = false;
      break;
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  ::close(fd);
  return ok;
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

  nb::class_<snapshot::Checker>(m, "SnapshotChecker")
      .def(nb::init<std::string, std::string>(), nb::arg("rootdir"), nb::arg("cache_dir") = "")
      .def_prop_ro(
          "store", [](snapshot::Checker& c) -> snapshot::Store& { return c.store(); }, nb::rv_policy::reference_internal)
      .def(
          "check",
          [](snapshot::Checker& c, nb::handle snap, nb::handle test, nb::handle name, nb::handle value) -> int {
            std::string_view s, t, n, v;
            if (!utf8(snap, s) || !utf8(test, t) || !utf8(name, n) || !utf8(value, v)) return -1;
            if (!c.loaded(s)) {
              std::string path(s);
              Expected<void> r;
              {
                nb::gil_scoped_release unlocked;
                r = c.load(path);
              }
              if (!r) raise(r.error());
            }
            return static_cast<int>(value_or_raise(c.check(s, t, n, v)));
          },
          nb::arg("snap"), nb::arg("test"), nb::arg("name"), nb::arg("value"),
          "0 when the value (str) matches the stored hash of (test, name) in snap (recorded as used), 1 when "
          "there is no entry, 2 when it differs; -1 when a str has no UTF-8 form (lone surrogates)")
      .def(
          "write",
          [](snapshot::Checker& c, const std::string& snap, std::string test, std::string name, std::string value,
             bool updated) {
            Expected<void> r;
            {
              nb::gil_scoped_release unlocked;
              r = c.write(snap, std::move(test), std::move(name), std::move(value),
                          updated ? snapshot::Use::kUpdated : snapshot::Use::kWritten);
            }
            if (!r) raise(r.error());
          },
          nb::arg("snap"), nb::arg("test"), nb::arg("name"), nb::arg("value"), nb::arg("updated") = false,
          "sets the entry (locked, file then index) and records it as written or updated")
      .def(
          "record_used",
          [](snapshot::Checker& c, const std::string& snap, const std::string& test, const std::string& name) {
            c.record(snapshot::Use::kMatched, snap, test, name);
          },
          "records a use without a match (a mismatch)")
      .def("forget", [](snapshot::Checker& c, const std::string& snap) { c.forget(snap); })
      .def("set_deferred", &snapshot::Checker::set_deferred, nb::arg("deferred"),
           "hold written entries until flush() (or a check of another .snap file)")
      .def_prop_ro("pending", &snapshot::Checker::pending)
      .def(
          "flush",
          [](snapshot::Checker& c) {
            Expected<void> r;
            {
              nb::gil_scoped_release unlocked;
              r = c.flush();
            }
            if (!r) raise(r.error());
          },
          "writes the held entries (locked, file then index)")
      .def(
          "stored_value",
          [](snapshot::Checker& c, const std::string& snap, const std::string& test,
             const std::string& name) -> std::optional<std::string> {
            Expected<std::optional<std::string>> r = std::optional<std::string>();
            {
              nb::gil_scoped_release unlocked;
              r = c.stored_value(snap, test, name);
            }
            return value_or_raise(std::move(r));
          },
          nb::arg("snap"), nb::arg("test"), nb::arg("name"), "the stored (or held) value of (test, name), or None")
      .def(
          "write_records",
          [](snapshot::Checker& c, const std::string& path) {
            if (c.records().empty()) return;
            {
              nb::gil_scoped_release unlocked;
              (void)append_file(path, c.records().bytes());  // the run's folder gone: nobody reads it
            }
            c.clear_records();
          },
          nb::arg("path"), "appends the binary use records to path (the run's folder) and clears them")
      .def_prop_ro("records", [](const snapshot::Checker& c) {
        return nb::bytes(c.records().bytes().data(), c.records().bytes().size());
      });
}

}  // namespace dxpy::bindings
