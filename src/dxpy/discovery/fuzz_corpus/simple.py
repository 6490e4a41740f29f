import pytest

@pytest.fixture
def f():
    return 1

def test_a(f):
    assert f

class TestX:
    def test_m(self):
        pass
