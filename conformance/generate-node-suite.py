"""Generates the ONNX backend node-test cases with Debian's python3-onnx into the folder given as argv[1].

onnx 1.12's generators still use the np.float / np.int / np.bool / np.object aliases that numpy 1.24
removed, so they are restored before the generators are imported.
"""
import sys
import warnings

import numpy as np

# Probing the aliases warns on numpy versions that still have them; the generators' own warnings are noise too.
warnings.simplefilter("ignore")
for alias, value in (("float", float), ("int", int), ("bool", bool), ("object", object)):
    if not hasattr(np, alias):
        setattr(np, alias, value)

from onnx.backend.test.cmd_tools import main  # noqa: E402

sys.argv = ["generate-data", "generate-data", "-o", sys.argv[1]]
main()
