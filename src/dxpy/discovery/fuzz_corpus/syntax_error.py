def test_x(:
    pass
	class
