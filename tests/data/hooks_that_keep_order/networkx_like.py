# networkx's: a plugin's function of another name gets the list.
def pytest_collection_modifyitems(config, items):
    if config.backend:
        backend = load()
        if hasattr(backend, 'on_start_tests'):
            getattr(backend, 'on_start_tests')(items)
    if config.getoption('--runslow'):
        return
    skip_slow = pytest.mark.skip(reason='need --runslow option to run')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip_slow)
