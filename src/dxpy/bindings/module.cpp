// dx_py_test_runner._core: glue only. Users import dx_py_test_runner, never this module.
#include "dxpy/bindings/bind.h"

NB_MODULE(_core, m) {
  m.attr("__version__") = DXPY_VERSION;
  dxpy::bindings::bind_core(m);
  dxpy::bindings::bind_protocol(m);
  dxpy::bindings::bind_fixture(m);
  dxpy::bindings::bind_snapshot(m);
}
