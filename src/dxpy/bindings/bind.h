#pragma once
#include <nanobind/nanobind.h>

namespace dxpy::bindings {
void bind_core(nanobind::module_& m);
void bind_protocol(nanobind::module_& m);
void bind_fixture(nanobind::module_& m);
void bind_api(nanobind::module_& m);
void bind_snapshot(nanobind::module_& m);
}  // namespace dxpy::bindings
