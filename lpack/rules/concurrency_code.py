"""Handler code on Lambda Managed Instances (LP240-LP249): one execution environment serves several
requests at once, in several Python processes that share /tmp."""

from __future__ import annotations
