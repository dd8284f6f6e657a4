"""Disjoint sets of strings (union-find): identities linked by a shared address or name, advisories linked by
a shared alias. Roots are the smallest member joined so far, so a component's root does not depend on the
order in which links were made."""

from __future__ import annotations


class DisjointSets:
    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        """The root of *x*'s set (a new singleton when *x* is unseen), halving the path on the way."""
        parent = self._parent
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)
