"""The client's tests. Run them from ``clients/python`` with ``python3 -m unittest -v`` or
``python3 -m unittest discover -s tests -v``; the tests that need a server skip themselves
unless VERITYD names a verityd binary.

The modules import ``support`` as a top-level module, as they do when ``tests`` is the start
directory, so this folder goes on ``sys.path`` when they are imported as ``tests.*``.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
