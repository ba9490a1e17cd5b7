"""``python -m puente.simulators serve --port 8765 --seed 7 --customers 300 --start 2026-11-16``."""

import sys

from puente.simulators.server import main

sys.exit(main())
