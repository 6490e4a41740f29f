"""A tiny library for the example: areas and perimeters of shapes."""
import math


def circle_area(r):
    if r < 0:
        raise ValueError("radius must be non-negative")
    return math.pi * r * r


def rectangle_area(w, h):
    return w * h


class Square:
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side * self.side

    def perimeter(self):
        return 4 * self.side
