# lit configuration for the h3pc IR tests (run through `make test`, or `lit -v tests/filecheck`).
import os
import sys

import lit.formats

config.name = "h3pc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["lit.cfg.py"]
bin_dir = os.path.dirname(sys.executable)
config.environment["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
# the dev models that ship verbatim with the repository (tests/models/README.md)
config.substitutions.append(("%models", os.path.join(os.path.dirname(os.path.dirname(__file__)), "models")))
config.substitutions.append(("%h3pc_roundtrip", "h3pc-opt %s --print-op-generic | h3pc-opt | filecheck %s"))
