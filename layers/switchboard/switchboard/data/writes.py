"""All-or-nothing writes, and which of their conditions failed when DynamoDB refuses them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from .table import Item, connection

Key = tuple[str, str]


@dataclass(frozen=True)
class Write:
    """One write of a transaction, given by the module that owns the item: a put, or an update's actions."""

    item: Item
    actions: Sequence[Action] | None = None
    condition: Condition | None = None


class Writes:
    """A TransactWrite that remembers each write's key, so a refusal can be traced to its condition."""

    def __init__(self, transaction: TransactWrite) -> None:
        self._transaction = transaction
        # DynamoDB answers in request order; PynamoDB sends checks, deletes, puts, then updates.
        self._keys: dict[str, list[Key]] = {"check": [], "delete": [], "put": [], "update": []}

    def check(self, model: type[Item], pk: str, sk: str, condition: Condition) -> None:
        self._transaction.condition_check(model, pk, sk, condition=condition)
        self._keys["check"].append((pk, sk))

    def put(self, item: Item, condition: Condition | None = None, return_values: str | None = None) -> None:
        self._transaction.save(item, condition=condition, return_values=return_values)
        self._keys["put"].append((item.pk, item.sk))

    def update(self, item: Item, actions: Sequence[Action], condition: Condition | None = None) -> None:
        self._transaction.update(item, list(actions), condition=condition)
        self._keys["update"].append((item.pk, item.sk))

    def delete(self, item: Item, condition: Condition | None = None) -> None:
        self._transaction.delete(item, condition=condition)
        self._keys["delete"].append((item.pk, item.sk))

    def apply(self, write: Write) -> None:
        if write.actions is None:
            self.put(write.item, write.condition)
        else:
            self.update(write.item, write.actions, write.condition)

    def refusals(self, error: TransactWriteError) -> dict[Key, Any]:
        """Each write whose condition failed, with the stored item DynamoDB returned (if asked for)."""
        order = [*self._keys["check"], *self._keys["delete"], *self._keys["put"], *self._keys["update"]]
        reasons: list[Any] = list(error.cancellation_reasons or [])
        return {key: reason.raw_item for key, reason in zip(order, reasons, strict=False)
                if reason is not None and reason.code == "ConditionalCheckFailed"}

    def failed(self, error: TransactWriteError) -> set[Key]:
        return set(self.refusals(error))


@contextmanager
def transaction() -> Iterator[Writes]:
    with TransactWrite(connection=connection()) as pending:
        yield Writes(pending)


def update_if(item: Item, actions: Sequence[Action], condition: Condition) -> bool:
    """One conditional update; False when its condition did not hold (nothing was written)."""
    try:
        item.update(actions=list(actions), condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def count_actions(counters: dict[str, int]) -> list[Action]:
    """ADD each amount to its counter: one update, no read, safe under concurrency."""
    return [Path([name]).add(amount) for name, amount in counters.items()]
