import os

if os.environ.get("DXPY_TEMPLATE"):  # the template process (template.py), not a worker
    from dx_py_test_runner.worker.template import serve

    raise SystemExit(serve(int(os.environ["DXPY_TEMPLATE"])))

from dx_py_test_runner.worker.main import main

raise SystemExit(main())
