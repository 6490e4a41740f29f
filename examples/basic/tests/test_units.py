import unittest

from shapes import Square


class SquareCase(unittest.TestCase):
    def setUp(self):
        self.square = Square(4)

    def test_area(self):
        self.assertEqual(self.square.area(), 16)

    @unittest.skip("an example of a unittest skip")
    def test_skipped(self):
        self.fail("never runs")
