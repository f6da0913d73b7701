"""The runtime shim production apps import never imports the kit (a developer tool)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.characterization.harness import ROOT, clean_env

IMPORTS = """
import json, sys, warnings
warnings.simplefilter("ignore")
import compat
import compat.structlog_config
import compat.mapping
compat.install("someapp.utils.structlog_config")
import someapp.utils.structlog_config
print(json.dumps(sorted(name for name in sys.modules if name.startswith("compat"))))
"""


def test_importing_compat_and_its_shim_loads_no_part_of_the_kit() -> None:
    result = subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert {"compat", "compat.structlog_config"} <= set(loaded), "the shim was not imported: the test would test nothing"
    assert [name for name in loaded if name.startswith("compat.characterize")] == []
