"""Hot one-row lookups compiled once per process: the ORM's SQL, run with new values.

Building and compiling `Model.objects.filter(...).get()` costs more than running it: the
JWT user lookup ran at two thirds of the speed of a trivial endpoint because of it
(docs/benchmarks.md, round 2), and the order and payment locks were a fifth of a process
request (round 7). A Lookup compiles its queryset once per database with stand-in values,
keeps the SQL, the columns and the converters, and then only executes: the row is read
fresh every time, exactly as the ORM reads it (Model.from_db).

It leans on two of Django's internals, the compiler's `klass_info` and
`django.db.models.query.get_related_populators` (what ModelIterable uses); an upgrade of the
pinned Django that changes them fails tests/test_compiled_lookup.py.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, models, router
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

# Stand-in values: integers no id takes, so each one's position among the parameters is
# known; a compiled statement whose parameters are anything else is refused.
_STAND_INS = (-7_700_001, -7_700_002, -7_700_003)


@dataclass(frozen=True)
class _Compiled:
    model: type[models.Model]
    sql: str
    positions: list[int]  # which value each parameter is
    first: int  # the model's own columns are row[first:last]
    last: int
    columns: list[str]
    populators: list  # the select_related() rows' (django.db.models.query.RelatedPopulator)
    converters: list
    locks: bool


class Lookup:
    """A queryset of at most one row (select_related allowed), built by build(*int_values)."""

    def __init__(self, build: Callable[..., models.QuerySet], arity: int = 1):
        if not 1 <= arity <= len(_STAND_INS):
            raise ValueError(f"a Lookup takes 1 to {len(_STAND_INS)} values")
        self.build, self.arity = build, arity
        self._compiled: dict[str, _Compiled] = {}
        self._routing: tuple | None = None  # (model, whether it locks), known once built

    def _alias(self) -> str:
        if self._routing is None:
            queryset = self.build(*_STAND_INS[: self.arity])
            self._routing = (queryset.model, bool(queryset.query.select_for_update))
        model, locks = self._routing
        # As the ORM routes it: a locking read goes where the writes go.
        return router.db_for_write(model) if locks else router.db_for_read(model)

    def _compile(self, alias: str) -> _Compiled:
        stand_ins = _STAND_INS[: self.arity]
        queryset = self.build(*stand_ins).using(alias)
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        if len(params) != len(stand_ins) or any(param not in stand_ins for param in params):
            raise RuntimeError(f"unexpected parameters in a compiled lookup: {params!r}")
        positions = [stand_ins.index(param) for param in params]
        selected = [column for column, _sql, _alias in compiler.select]
        if compiler.annotation_col_map or any(
            getattr(column, "target", None) is None for column in selected
        ):
            raise RuntimeError("a compiled lookup reads model columns only, no annotations")
        # What ModelIterable does per queryset, done once: the model's slice of the row, and
        # the populators of the select_related() rows.
        klass_info = compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        columns = [column.target.attname for column in selected[first:last]]
        populators = get_related_populators(klass_info, compiler.select, alias)
        converters = list(compiler.get_converters(selected).items())
        locks = bool(queryset.query.select_for_update)
        compiled = _Compiled(
            klass_info["model"], sql, positions, first, last, columns, populators, converters, locks
        )
        self._compiled[alias] = compiled
        return compiled

    def get(self, *values: int):
        """Return the one row for these values, read now, or None."""
        if len(values) != self.arity:
            raise TypeError(f"this lookup takes {self.arity} values")
        alias = self._alias()
        compiled = self._compiled.get(alias) or self._compile(alias)
        connection = connections[alias]
        if (
            compiled.locks
            and connection.features.has_select_for_update
            and connection.get_autocommit()
        ):
            # The ORM refuses a FOR UPDATE outside a transaction; so does its compiled copy.
            raise TransactionManagementError("a locking lookup needs a transaction")
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [int(values[i]) for i in compiled.positions])
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:  # the backend's (SQLite's decimals, ...) and fields' (JSON)
            row = list(row)
            for position, (functions, expression) in compiled.converters:
                for convert in functions:
                    row[position] = convert(row[position], expression, connection)
        found = compiled.model.from_db(alias, compiled.columns, row[compiled.first : compiled.last])
        for populator in compiled.populators:
            populator.populate(row, found)
        return found
