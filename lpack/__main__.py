from __future__ import annotations

from lpack._entry import main

raise SystemExit(main())
