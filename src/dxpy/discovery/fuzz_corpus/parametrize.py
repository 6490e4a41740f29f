import pytest

@pytest.mark.parametrize('a,b', [(1, 2), pytest.param(3, 4, id='x', marks=pytest.mark.skip)])
def test_p(a, b):
    pass

@pytest.mark.parametrize(('x',), [[1], [2]], ids=['one', 'two'])
def test_q(x): pass
