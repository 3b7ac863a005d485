from __future__ import annotations

from lpack.cli import main

raise SystemExit(main())
