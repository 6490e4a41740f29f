class A:
    class B:
        def test_b(self): pass
    @staticmethod
    def test_s(): pass
async def test_async():
    await x
if True:
    def test_if(): pass
