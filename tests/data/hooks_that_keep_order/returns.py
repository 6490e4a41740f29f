async def other(): pass

def pytest_collection_modifyitems(items):
    return items  # items.sort()
