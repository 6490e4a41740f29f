# A keyword argument named items; len, not, a non-mutating method.
def pytest_collection_modifyitems(session, config, items):
    config.hook.pytest_deselected(items=[])
    n = len(items)
    if not items:
        return
    print(items.index(n) if n else 0)
