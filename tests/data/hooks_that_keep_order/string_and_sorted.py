def pytest_collection_modifyitems(items):
    s = '''items[:] = []'''
    for i in sorted(items):
        pass
