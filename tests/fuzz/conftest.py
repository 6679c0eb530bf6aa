"""Make fuzzkit importable from the fuzz tests and from bench/fuzz_inputs.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
