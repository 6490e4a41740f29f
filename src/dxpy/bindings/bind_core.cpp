#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include "dxpy/bindings/bind.h"
#include "dxpy/core/codec.h"

namespace nb = nanobind;

namespace dxpy::bindings {

namespace {

template <class T>
T decode_or_raise(nb::bytes data) {
  auto r = decode<T>(std::string_view(data.c_str(), data.size()));
  if (!r) throw nb::value_error(r.error().message.c_str());
  return std::move(*r);
}

template <class T>
nb::bytes encode_bytes(const T& v) {
  std::string s = encode(v);
  return nb::bytes(s.data(), s.size());
}

}  // namespace

void bind_core(nb::module_& m) {
  nb::enum_<TestStatus>(m, "TestStatus")
      .value("passed", TestStatus::kPassed)
      .value("failed", TestStatus::kFailed)
      .value("error", TestStatus::kError)
      .value("skipped", TestStatus::kSkipped)
      .value("xfailed", TestStatus::kXFailed)
      .value("xpassed", TestStatus::kXPassed)
      .value("crashed", TestStatus::kCrashed)
      .value("timeout", TestStatus::kTimeout);

  nb::enum_<TestKind>(m, "TestKind")
      .value("function", TestKind::kFunction)
      .value("method", TestKind::kMethod)
      .value("unittest", TestKind::kUnittest);

  nb::class_<TestId>(m, "TestId")
      .def(nb::init<>())
      .def_rw("path", &TestId::path)
      .def_rw("classes", &TestId::classes)
      .def_rw("name", &TestId::name)
      // None: not parametrized; "": pytest's test_x[]. nanobind refuses None for an argument
      // unless told to, the setter's too.
      .def_rw("param", &TestId::param, nb::for_setter(nb::arg("value").none()))
      .def_prop_ro("node_id", &TestId::node_id)
      .def_static("parse", &TestId::parse)
      .def("__eq__", [](const TestId& a, const TestId& b) { return a == b; })
      .def("__repr__", [](const TestId& id) { return "<TestId " + id.node_id() + ">"; });

  nb::class_<Marker>(m, "Marker")
      .def(nb::init<>())
      .def_rw("name", &Marker::name)
      .def_rw("args", &Marker::args)
      .def_rw("kwargs", &Marker::kwargs);

  nb::class_<FixtureId>(m, "FixtureId")
      .def(nb::init<>())
      .def_rw("name", &FixtureId::name)
      .def_rw("path", &FixtureId::path)
      .def_rw("line", &FixtureId::line);

  nb::class_<TestCase>(m, "TestCase")
      .def(nb::init<>())
      .def_rw("id", &TestCase::id)
      .def_rw("file", &TestCase::file)
      .def_rw("line", &TestCase::line)
      .def_rw("kind", &TestCase::kind)
      .def_rw("is_async", &TestCase::is_async)
      .def_rw("expand_at_runtime", &TestCase::expand_at_runtime)
      .def_rw("markers", &TestCase::markers)
      .def_rw("fixtures", &TestCase::fixtures);

  nb::class_<AssertionStats>(m, "AssertionStats")
      .def(nb::init<>())
      .def_rw("passed", &AssertionStats::passed)
      .def_rw("failed", &AssertionStats::failed);

  nb::class_<TestResult>(m, "TestResult")
      .def(nb::init<>())
      .def_rw("id", &TestResult::id)
      .def_rw("status", &TestResult::status)
      .def_rw("duration_ns", &TestResult::duration_ns)
      .def_rw("message", &TestResult::message)
      .def_rw("traceback", &TestResult::traceback)
      .def_rw("stdout", &TestResult::stdout_text)
      .def_rw("stderr", &TestResult::stderr_text)
      .def_rw("assertions", &TestResult::assertions)
      .def_rw("properties", &TestResult::properties)
      .def_rw("suite_properties", &TestResult::suite_properties)
      .def_rw("worker_warnings", &TestResult::worker_warnings);

  m.def("encode", &encode_bytes<TestId>);
  m.def("encode", &encode_bytes<TestCase>);
  m.def("encode", &encode_bytes<TestResult>);
  m.def("decode_test_id", &decode_or_raise<TestId>);
  m.def("decode_test_case", &decode_or_raise<TestCase>);
  m.def("decode_test_result", &decode_or_raise<TestResult>);
}

}  // namespace dxpy::bindings
