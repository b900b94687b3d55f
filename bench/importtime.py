"""Reading `python -X importtime` output as a tree: who imports what, and what each costs."""

from __future__ import annotations

from dataclasses import dataclass, field

# Packages big enough that their sub-packages are worth telling apart.
_SPLIT_DEEPER = ("aws_lambda_powertools", "botocore", "twilio", "pydantic", "phonenumbers")


@dataclass
class Node:
    name: str
    self_us: int
    cumulative_us: int
    depth: int
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)

    @property
    def self_ms(self) -> float:
        return self.self_us / 1000

    @property
    def cumulative_ms(self) -> float:
        return self.cumulative_us / 1000

    def chain(self) -> list[str]:
        names: list[str] = []
        node: Node | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return names[::-1]


@dataclass
class Group:
    name: str
    self_ms: float
    modules: int
    chain: str


def group_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] in _SPLIT_DEEPER and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


@dataclass
class ImportTree:
    nodes: list[Node]
    roots: list[Node]

    @property
    def total_ms(self) -> float:
        return sum(root.cumulative_us for root in self.roots) / 1000

    @property
    def names(self) -> set[str]:
        return {node.name for node in self.nodes}

    def find(self, name: str) -> Node | None:
        return next((node for node in self.nodes if node.name == name), None)

    def packages_not_in(self, known_modules: set[str]) -> list[Group]:
        """Modules absent from `known_modules`, grouped by package, heaviest first, with the chain that
        first brings each package in (the entry module with the largest cumulative time)."""
        fresh = [node for node in self.nodes if node.name not in known_modules]
        groups: dict[str, list[Node]] = {}
        for node in fresh:
            groups.setdefault(group_of(node.name), []).append(node)
        found: list[Group] = []
        for name, members in groups.items():
            entries = [n for n in members if n.parent is None or group_of(n.parent.name) != name]
            entry = max(entries or members, key=lambda n: n.cumulative_us)
            steps = entry.chain()
            if len(steps) > 7:  # the first importers and the last hops say who is to blame
                steps = [*steps[:4], "…", *steps[-2:]]
            chain = " → ".join(step if step == "…" else f"`{step}`" for step in steps)
            found.append(Group(name, sum(n.self_us for n in members) / 1000, len(members), chain))
        return sorted(found, key=lambda g: -g.self_ms)

    def heaviest_self(self, prefixes: tuple[str, ...], limit: int) -> list[Node]:
        own = [n for n in self.nodes if n.name.split(".")[0] in prefixes]
        return sorted(own, key=lambda n: -n.self_us)[:limit]


def parse_importtime(stderr: str) -> ImportTree:
    """`import time: self [us] | cumulative | <indent>name` lines, children listed before their parent."""
    nodes: list[Node] = []
    pending: list[Node] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            head, cumulative_part, name_part = line.split("|", 2)
            self_part = head.split(":", 1)[1]
        except ValueError:
            continue
        raw_name = name_part[1:] if name_part.startswith(" ") else name_part
        depth = (len(raw_name) - len(raw_name.lstrip(" "))) // 2
        node = Node(raw_name.strip(), int(self_part.strip()), int(cumulative_part.strip()), depth)
        while pending and pending[-1].depth > depth:
            child = pending.pop()
            child.parent = node
            node.children.insert(0, child)
        pending.append(node)
        nodes.append(node)
    return ImportTree(nodes, [n for n in pending if n.parent is None])
