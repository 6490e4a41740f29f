// dx_py_test_runner._api: discovery and the import graph for dx.discover and dx.graph. A
// module of its own, apart from _core, because it links the session (config, discovery,
// index, select, graph): every worker imports _core, and none needs these. Its TestCase
// values are _core's type (nanobind shares bound types between modules), so _core is
// imported first.
#include "dxpy/bindings/bind.h"

NB_MODULE(_api, m) {
  nanobind::module_::import_("dx_py_test_runner._core");
  dxpy::bindings::bind_api(m);
}
