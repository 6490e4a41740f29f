x = """a
''' b"""
y = f"{x!r:>{10}} {{}}"
z = rb'\x00'
def test_s():
    assert x != y  # comment "with quotes"
