from dx_py_test_runner.worker.main import main

raise SystemExit(main())
