"""``python -m generator`` is the ``iamgen`` command."""

from generator.cli import main

raise SystemExit(main())
