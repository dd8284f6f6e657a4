"""DisjointSets against components computed by a breadth-first search over the same links."""

import random

from ddkit.disjoint import DisjointSets


def _components(links, nodes):
    adj = {n: set() for n in nodes}
    for a, b in links:
        adj[a].add(b)
        adj[b].add(a)
    seen, out = set(), []
    for n in sorted(nodes):
        if n in seen:
            continue
        comp, todo = set(), [n]
        while todo:
            x = todo.pop()
            if x not in comp:
                comp.add(x)
                todo.extend(adj[x] - comp)
        seen |= comp
        out.append(frozenset(comp))
    return set(out)


def test_components_and_smallest_root_match_a_graph_search():
    rng = random.Random(7)
    for _ in range(200):
        nodes = [f"n{i}" for i in range(rng.randint(1, 30))]
        links = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(rng.randint(0, 40))]
        sets = DisjointSets()
        for n in nodes:
            sets.find(n)
        for a, b in links:
            sets.union(a, b)
        got: dict[str, set[str]] = {}
        for n in nodes:
            got.setdefault(sets.find(n), set()).add(n)
        assert {frozenset(v) for v in got.values()} == _components(links, nodes)
        assert all(root == min(members) for root, members in got.items())   # order-independent names
