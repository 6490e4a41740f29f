import pytest

def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker('slow'):
            item.add_marker(pytest.mark.skip(reason='slow'))
