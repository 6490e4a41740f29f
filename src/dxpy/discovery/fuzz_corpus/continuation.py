def test_c(a=(1,
  2), *args, b: int = 3, **kw) -> None:
    x = [
1, 2\
]
    lambda: (yield)
