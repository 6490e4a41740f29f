import unittest

class T(unittest.TestCase):
    def setUp(self): pass
    def test_u(self):
        self.assertEqual(1, 1)

__test__ = False
pytestmark = [pytest.mark.slow]
