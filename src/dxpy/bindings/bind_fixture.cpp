// The fixture cache's C++ half for python/dx_py_test_runner/fixture_cache.py: the entry
// key (BLAKE3), writing an entry (pickle stream + out-of-band buffers, atomically) and
// validating one (the Python side maps it), and the advisory lock that makes one worker
// compute a value while the others wait. Hashing, writing, reading and waiting release the
// GIL. Errors: FixtureEntryError (a ValueError) for an entry that is not valid for the
// key, FixtureCacheIOError (an OSError) for I/O.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/bindings/bind.h"
#include "dxpy/fixture/entry.h"
#include "dxpy/index/lock.h"

namespace nb = nanobind;

namespace dxpy::bindings {

namespace {

struct FixtureEntryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct FixtureIoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A contiguous buffer of a Python object (bytes, memoryview, PickleBuffer.raw()), held
/// until destroyed so that the GIL can be released while it is read.
class HeldBuffer {
 public:
  explicit HeldBuffer(nb::handle obj) {
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) != 0) throw nb::python_error();
    held_ = true;
  }
  HeldBuffer(HeldBuffer&& o) noexcept : view_(o.view_), held_(o.held_) { o.held_ = false; }
  HeldBuffer(const HeldBuffer&) = delete;
  HeldBuffer& operator=(const HeldBuffer&) = delete;
  HeldBuffer& operator=(HeldBuffer&&) = delete;
  ~HeldBuffer() {
    if (held_) PyBuffer_Release(&view_);
  }
  std::string_view bytes() const { return {static_cast<const char*>(view_.buf), static_cast<size_t>(view_.len)}; }

 private:
  Py_buffer view_{};
  bool held_ = false;
};

Hash256 key_from(nb::bytes key) {
  if (key.size() != sizeof(Hash256)) throw nb::value_error("a fixture cache key is 32 bytes");
  Hash256 h;
  std::memcpy(h.data(), key.c_str(), h.size());
  return h;
}

nb::bytes fixture_key(const nb::list& parts) {
  std::vector<HeldBuffer> held;
  held.reserve(parts.size());
  for (nb::handle p : parts) held.emplace_back(p);
  std::vector<std::string_view> views;
  for (const auto& h : held) views.push_back(h.bytes());
  Hash256 key;
  {
    nb::gil_scoped_release unlocked;
    key = fixture::entry_key(views);
  }
  return nb::bytes(reinterpret_cast<const char*>(key.data()), key.size());
}

void write_fixture_entry(const std::string& path, nb::bytes key, nb::handle pickle, const nb::list& buffers) {
  Hash256 k = key_from(key);
  HeldBuffer stream(pickle);
  std::vector<HeldBuffer> held;
  held.reserve(buffers.size());
  for (nb::handle b : buffers) held.emplace_back(b);
  std::vector<std::string_view> views;
  for (const auto& h : held) views.push_back(h.bytes());
  Expected<void> written = make_error(Errc::kInternal, "");
  {
    nb::gil_scoped_release unlocked;
    written = fixture::write_entry(path, k, stream.bytes(), views);
  }
  if (!written) throw FixtureIoError(written.error().message);
}

nb::tuple read_fixture_entry(int fd, nb::bytes key) {
  Hash256 k = key_from(key);
  Expected<fixture::EntryLayout> layout = make_error(Errc::kInternal, "");
  {
    nb::gil_scoped_release unlocked;
    layout = fixture::read_entry(fd, k);
  }
  if (!layout) {
    if (layout.error().code == Errc::kIo)
      throw FixtureIoError(layout.error().message);
    throw FixtureEntryError(layout.error().message);
  }
  nb::list buffers;
  for (const auto& s : layout->buffers) buffers.append(nb::make_tuple(s.offset, s.size));
  return nb::make_tuple(nb::make_tuple(layout->pickle.offset, layout->pickle.size), buffers, layout->file_size);
}

/// index::FileLock for Python: `with _core.FileLock(path): ...` (exclusive, waits with the
/// GIL released).
class PyFileLock {
 public:
  PyFileLock(std::string path, bool exclusive) : path_(std::move(path)), exclusive_(exclusive) {}

  PyFileLock& enter() {
    Expected<index::FileLock> got = make_error(Errc::kInternal, "");
    auto mode = exclusive_ ? index::FileLock::Mode::kExclusive : index::FileLock::Mode::kShared;
    {
      nb::gil_scoped_release unlocked;
      got = index::FileLock::acquire(path_, mode);
    }
    if (!got) throw FixtureIoError(got.error().message);
    lock_.emplace(std::move(*got));
    return *this;
  }
  void exit(nb::args) { lock_.reset(); }
  bool held() const { return lock_ && lock_->held(); }

 private:
  std::string path_;
  bool exclusive_;
  std::optional<index::FileLock> lock_;
};

}  // namespace

void bind_fixture(nb::module_& m) {
  nb::exception<FixtureEntryError>(m, "FixtureEntryError", PyExc_ValueError);
  nb::exception<FixtureIoError>(m, "FixtureCacheIOError", PyExc_OSError);
  m.attr("FIXTURE_ENTRY_VERSION") = fixture::kVersion;
  m.def("fixture_key", &fixture_key, nb::arg("parts"),
        "BLAKE3 (32 bytes) over the parts (bytes-like), each preceded by its length.");
  m.def("write_fixture_entry", &write_fixture_entry, nb::arg("path"), nb::arg("key"), nb::arg("pickle"),
        nb::arg("buffers"),
        "Writes a .dxfc entry atomically: the pickle stream and its out-of-band buffers (bytes-like, "
        "contiguous), each buffer 64-byte aligned.");
  m.def("read_fixture_entry", &read_fixture_entry, nb::arg("fd"), nb::arg("key"),
        "((pickle_offset, pickle_size), [(offset, size), ...], file_size) of the valid entry open as fd; "
        "FixtureEntryError when it is not one for key.");
  nb::class_<PyFileLock>(m, "FileLock")
      .def(nb::init<std::string, bool>(), nb::arg("path"), nb::arg("exclusive") = true)
      .def("__enter__", &PyFileLock::enter, nb::rv_policy::reference)
      .def("__exit__", &PyFileLock::exit)
      .def_prop_ro("held", &PyFileLock::held);
}

}  // namespace dxpy::bindings
