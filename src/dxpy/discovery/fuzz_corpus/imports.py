from __future__ import annotations
import os, sys as s
from . import a
from ..b.c import (d, e as f,
    g)
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import h
import importlib
importlib.import_module('m.n')
