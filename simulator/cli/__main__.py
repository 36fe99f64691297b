"""``python -m simulator.cli``: the same as the ``auction-sim`` command."""
from .main import main

raise SystemExit(main())
