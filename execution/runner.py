"""Completing a plan for one request: each selection runs for a whole batch of parent objects
at once, a column (one field for every parent) at a time, and builds the batch's response
objects in one pass.

A field's column is read from the parents (attributes, computed fields), taken from what a
loader already knows, or left for the next wave (execution/waits.py): those keep their place
in each object with a null, and are written when their wave brings them. Values are
completed as graphql-core completes them (leaves: execution/leaves.py; objects: their
selection, for the batch; lists: flattened into one batch and split back). A field error is
recorded where it happened (`FieldError`) and the value written as null; which part of the
response an error nulls, and which errors are reported, is settled once the request is done
(execution/settle.py), so no field is skipped because another failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import chain, repeat
from typing import Any

from graphql import GraphQLError, get_argument_values
from graphql.execution.values import VariableValues
from graphql.pyutils import inspect

from db.errors import DatabaseUnavailable, StatementTimeout
from execution.leaves import (
    INT_MAX,
    INT_MIN,
    LeafMode,
    as_is,
    in_range,
    kept_as_is,
    one_by_one,
)
from execution.plan import Field, Selection
from execution.sources import Kind
from execution.waits import KeyedWait, LoadWait, Waiting, called
from loaders import Loaders

Fail = Callable[[int, Exception], None]
"""Reports the error of the value at an index of a batch."""
INT = LeafMode.INT


class FieldError:
    """A field error where it happened: the field of the object `outs[index]`, and the list
    item when an item failed. (`outs` may still be filling when it is recorded.)"""

    __slots__ = ("error", "field", "index", "item", "outs")

    def __init__(
        self,
        field: Field,
        outs: Sequence[dict[str, Any]],
        index: int,
        item: int | None,
        error: Exception,
    ) -> None:
        self.field = field
        self.outs = outs
        self.index = index
        self.item = item
        self.error = error


class Runner:
    """One request's completion of a plan."""

    def __init__(
        self, loaders: Loaders, variables: VariableValues, conditions: Mapping[str, bool]
    ) -> None:
        self.loaders = loaders
        self.variables = variables
        self.conditions = conditions
        self.waiting: list[Waiting] = []
        """The loads to complete after the next wave."""
        self.errors: list[FieldError] = []
        self.faulted = False
        """A database fault was met: the answer is a 503, no further wave runs."""
        self.built = 0
        """Response objects built so far (the root's included)."""
        self.typed: dict[int, Selection] = {}
        """The selection of each object built for an abstract field, by the id of its dict."""
        self._chosen: dict[int, tuple[tuple[Field, ...], tuple[str, ...]]] = {}
        self._arguments: dict[int, Mapping[str, Any]] = {}

    def fail(
        self,
        field: Field,
        outs: Sequence[dict[str, Any]],
        index: int,
        item: int | None,
        error: Exception,
    ) -> None:
        """Records a field error (the value is written as null by the caller)."""
        self.errors.append(FieldError(field, outs, index, item, error))
        if isinstance(error, DatabaseUnavailable | StatementTimeout):
            self.faulted = True

    def chosen(self, selection: Selection) -> tuple[tuple[Field, ...], tuple[str, ...]]:
        """The selection's fields and their keys under the request's conditions."""
        if not selection.order:
            return selection.fields, selection.keys
        found = self._chosen.get(id(selection))
        if found is None:
            found = self._chosen[id(selection)] = selection.chosen(self.conditions)
        return found

    def objects(self, selection: Selection, parents: list[Any]) -> list[dict[str, Any]]:
        """The response objects of a batch of parents of the selection's type."""
        if len(parents) == 1:
            return [self.object(selection, parents[0])]
        self.built += len(parents)
        fields, keys = self.chosen(selection)
        if not fields:
            return [{} for _ in parents]
        outs: list[dict[str, Any]] = []  # filled below; errors recorded meanwhile refer to it
        columns: list[list[Any]] = []
        add = columns.append
        for field in fields:
            kept = field.as_is
            if kept is not None and field.read is not None:  # a leaf read from the parent:
                try:  # kept as it is when every value is what it serializes to (the usual)
                    values = list(map(field.read, parents))
                except Exception:  # noqa: S110 (`column` reads it again and reports it)
                    pass
                else:
                    if set(map(type, values)) <= kept and (
                        field.leaf_mode != INT or in_range(values)
                    ):
                        add(values)
                        continue
            add(self.column(field, parents, outs))
        outs.extend(map(dict, map(zip, repeat(keys), zip(*columns, strict=True))))
        return outs

    def object(self, selection: Selection, parent: Any) -> dict[str, Any]:
        """`objects` for a batch of one (a root field's object, a page's pageInfo...), with
        what a batch of one does not need (the column calls) left out."""
        self.built += 1
        fields, keys = self.chosen(selection)
        outs: list[dict[str, Any]] = []  # (holds the object once built: see `objects`)
        values: list[Any] = []
        add = values.append
        parents = [parent]
        for field in fields:
            kept = field.as_is
            if kept is not None and field.read is not None:
                try:
                    value = field.read(parent)
                except Exception:  # noqa: S110 (`column` reads it again and reports it)
                    pass
                else:
                    if type(value) in kept and (
                        field.leaf_mode != INT or value is None or INT_MIN <= value <= INT_MAX
                    ):
                        add(value)
                        continue
            add(self.column(field, parents, outs)[0])
        out = dict(zip(keys, values, strict=True))
        outs.append(out)
        return out

    def column(self, field: Field, parents: list[Any], outs: list[dict[str, Any]]) -> list[Any]:
        """The field's completed value for each parent, or null where it comes later."""
        kind = field.kind
        if kind is Kind.ATTRIBUTE or kind is Kind.COMPUTED:
            read = field.read
            assert read is not None
            try:
                values = list(map(read, parents))
            except Exception:  # some parent's read fails: its field error, the others go on
                values, at = self.each(field, parents, outs, read)
                return _placed(len(parents), at, self.complete(field, values, outs, at))
            return self.complete(field, values, outs, None)
        if kind is Kind.KEYED:
            return self.keyed(field, parents, outs)
        if kind is Kind.LOADED:
            return self.loaded(field, parents, outs)
        return [field.type_name] * len(parents)

    def each(
        self,
        field: Field,
        parents: list[Any],
        outs: list[dict[str, Any]],
        read: Callable[[Any], Any],
    ) -> tuple[list[Any], list[int]]:
        """`read` of each parent it does not fail on, and their indexes; a failure is that
        parent's field error."""
        values: list[Any] = []
        at: list[int] = []
        for index, parent in enumerate(parents):
            try:
                values.append(read(parent))
            except Exception as error:
                self.fail(field, outs, index, None, error)
                continue
            at.append(index)
        return values, at

    def keyed(self, field: Field, parents: list[Any], outs: list[dict[str, Any]]) -> list[Any]:
        """A keyed field: its loader asked for every parent's key at once."""
        declaration = field.source.keyed
        assert declaration is not None
        loader = declaration.loader(self.loaders)
        at: list[int] | None = None
        try:
            keys = list(map(declaration.key_of, parents))
        except Exception:  # some parent lacks the key: its field error, the others go on
            keys, at = self.each(field, parents, outs, declaration.key_of)
        asked = keys if None not in keys else [key for key in keys if key is not None]
        if not loader.ask(asked):
            self.waiting.append(KeyedWait(field, loader, keys, outs, at))
            return [None] * len(parents)
        known = loader.known
        if asked is keys:
            values = list(map(known.__getitem__, keys))
        else:
            values = [None if key is None else known[key] for key in keys]
        return _placed(len(parents), at, self.complete(field, values, outs, at))

    def loaded(self, field: Field, parents: list[Any], outs: list[dict[str, Any]]) -> list[Any]:
        """A loaded field: its plain function called for every parent; the values at hand
        completed now, the others when their wave ran."""
        try:
            arguments = self.arguments_of(field)
        except GraphQLError as error:  # graphql-core reports it for each parent
            for index in range(len(parents)):
                self.fail(field, outs, index, None, error)
            return [None] * len(parents)
        load = field.source.load
        assert load is not None
        wait = LoadWait(field, outs)
        values, at = [], []
        for index, parent in enumerate(parents):
            outcome = called(load, self.loaders, parent, arguments)
            if outcome.waits:
                wait.add(index, outcome)
            elif outcome.error is not None:
                self.fail(field, outs, index, None, outcome.error)
            else:
                values.append(outcome.value)
                at.append(index)
        if wait.at:
            self.waiting.append(wait)
        return _placed(len(parents), at, self.complete(field, values, outs, at) if values else [])

    def arguments_of(self, field: Field) -> Mapping[str, Any]:
        """The field's arguments for this request (raises graphql-core's GraphQLError)."""
        if field.arguments is not None:
            return field.arguments
        found = self._arguments.get(id(field))
        if found is None:
            quick = field.quick
            found = quick.values(self.variables.coerced) if quick is not None else None
            if found is None:
                assert field.definition is not None
                node = field.occurrences[0].node
                found = get_argument_values(field.definition, node, self.variables)
            self._arguments[id(field)] = found
        return found

    def complete(
        self,
        field: Field,
        values: list[Any],
        outs: Sequence[dict[str, Any]],
        at: Sequence[int] | None,
    ) -> list[Any]:
        """The values completed as graphql-core completes them; `outs[at[j]]` (`outs[j]`
        when `at` is None) is the object holding value j."""
        if field.is_list:
            return self.lists(field, values, self.failing(field, outs, at), outs, at)
        leaf = field.leaf
        if leaf is not None:
            done = as_is(field.leaf_mode, field.as_is, leaf, values)
            if done is not None:
                return done
            fail = self.failing(field, outs, at)
            return one_by_one(leaf, field.non_null, field.null_message, values, fail)
        return self.values(field, values, field.non_null, lambda: self.failing(field, outs, at))

    def failing(
        self, field: Field, outs: Sequence[dict[str, Any]], at: Sequence[int] | None
    ) -> Fail:
        """What reports the error of value j of a column of `field` (`outs[at[j]]`'s)."""

        def fail(j: int, error: Exception) -> None:
            self.fail(field, outs, j if at is None else at[j], None, error)

        return fail

    def lists(
        self,
        field: Field,
        values: list[Any],
        fail: Fail,
        outs: Sequence[dict[str, Any]],
        at: Sequence[int] | None,
    ) -> list[Any]:
        """List values: their items completed as one batch, then split back."""
        column: list[Any] = [None] * len(values)
        lists: list[Any] = []
        where: list[int] = []
        for j, value in enumerate(values):
            if value is None:
                if field.non_null:
                    fail(j, TypeError(field.null_message))
            elif type(value) is list or type(value) is tuple:
                lists.append(value)
                where.append(j)
            else:
                named = f"'{field.parent_type}.{field.name}'"
                fail(j, GraphQLError(f"Expected Iterable, but did not find one for field {named}."))
        items = list(lists[0]) if len(lists) == 1 else list(chain.from_iterable(lists))
        starts = [0]
        for value in lists:
            starts.append(starts[-1] + len(value))

        def fail_item(k: int, error: Exception) -> None:
            n = next(n for n in range(len(lists)) if starts[n + 1] > k)
            j = where[n]
            self.fail(field, outs, j if at is None else at[j], k - starts[n], error)

        leaf = field.leaf
        if leaf is None:
            done = self.values(field, items, field.item_non_null, lambda: fail_item)
        else:
            kept = kept_as_is(field.leaf_mode, field.item_non_null)
            found = as_is(field.leaf_mode, kept, leaf, items)
            done = found or one_by_one(
                leaf, field.item_non_null, field.null_message, items, fail_item
            )
        for n, j in enumerate(where):
            column[j] = done[starts[n] : starts[n + 1]]
        return column

    def values(
        self, field: Field, values: list[Any], non_null: bool, failing: Callable[[], Fail]
    ) -> list[Any]:
        """Object values (of one field, or one list's items): their response objects, null
        where the value is null (an error where `non_null`; `failing` makes what reports
        errors, when there is one)."""
        if None not in values:
            return self.of_type(field, values, failing)
        fail = failing()
        present, where = [], []
        for j, value in enumerate(values):
            if value is None:
                if non_null:
                    fail(j, TypeError(field.null_message))
            else:
                present.append(value)
                where.append(j)
        built = self.of_type(field, present, lambda: _through(where, fail))
        return _placed(len(values), where, built)

    def of_type(self, field: Field, values: list[Any], failing: Callable[[], Fail]) -> list[Any]:
        """The response objects of non-null values, each of the field's type (an object
        type's, or a runtime type of an interface); null where one is not."""
        if field.selection is not None:
            is_type_of = field.is_type_of
            if is_type_of is None or _all_of_type(is_type_of, values):
                return self.objects(field.selection, values)
            return self.by_type(
                field, values, failing(), lambda value: "" if is_type_of(value, None) else None
            )
        runtime_types = field.runtime_types
        return self.by_type(
            field,
            values,
            failing(),
            lambda value: next(
                (n for n, is_type_of in runtime_types if is_type_of(value, None)), None
            ),
        )

    def by_type(
        self, field: Field, values: list[Any], fail: Fail, type_of: Callable[[Any], str | None]
    ) -> list[Any]:
        """Values sorted by runtime type (`type_of`: its name, "" for the field's own type,
        None when none fits: an error, as graphql-core reports it), each type's built as one
        batch."""
        column: list[Any] = [None] * len(values)
        groups: dict[str, tuple[list[Any], list[int]]] = {}
        for j, value in enumerate(values):
            name = type_of(value)
            if name is None:
                fail(j, _type_error(field, value))
                continue
            group = groups.setdefault(name, ([], []))
            group[0].append(value)
            group[1].append(j)
        for name, (members, where) in groups.items():
            selection = field.selection if name == "" else (field.selections or {})[name]
            assert selection is not None
            built = self.objects(selection, members)
            if name:
                self.typed.update(dict.fromkeys(map(id, built), selection))
            for j, out in zip(where, built, strict=True):
                column[j] = out
        return column


def _placed(length: int, at: list[int] | None, values: list[Any]) -> list[Any]:
    """A column of `length` nulls with `values[j]` at `at[j]` (`at` None: the values are
    the column)."""
    if at is None:
        return values
    column: list[Any] = [None] * length
    for index, value in zip(at, values, strict=True):
        column[index] = value
    return column


def _all_of_type(is_type_of: Callable[[Any, Any], bool], values: list[Any]) -> bool:
    """Whether every value is of the field's object type. Strawberry's is_type_of checks the
    row's class: one value of each class will do (the classes are found in C)."""
    if len(values) == 1:
        return bool(is_type_of(values[0], None))
    classes = set(map(type, values))
    return all(is_type_of(next(v for v in values if type(v) is cls), None) for cls in classes)


def _through(where: list[int], fail: Fail) -> Fail:
    """`fail` for a batch taken at `where` of a larger one."""
    return lambda j, error: fail(where[j], error)


def _type_error(field: Field, value: Any) -> GraphQLError:
    """graphql-core's error for a value not of the field's type."""
    named = field.return_type
    if field.selection is not None:
        return GraphQLError(f"Expected value of type '{named.name}' but got: {inspect(value)}.")
    return GraphQLError(
        f"Abstract type '{named.name}' must resolve to an Object type at runtime for field"
        f" '{field.parent_type}.{field.name}'. Either the '{named.name}' type should provide"
        " a 'resolve_type' function or each possible type should provide an 'is_type_of'"
        " function."
    )
