"""Insert new rows of several models in one statement (PostgreSQL): one round trip, not one each.

An order create wrote four rows with four ORM inserts, each a round trip and most of the
request's CPU (docs/benchmarks.md, round 7). Here each model's rows become one
`INSERT ... RETURNING` inside a single statement's `WITH`; the values are prepared by the
fields' own `pre_save` and `get_db_prep_save`, as Django's inserts prepare them, so a row is
the same either way. Foreign keys between the rows work because Django creates them
`DEFERRABLE INITIALLY DEFERRED`: a row may name one inserted beside it.
"""

from collections.abc import Sequence

from django.db import connection, models


def _insert(model: type[models.Model], rows: Sequence[models.Model], params: list) -> str:
    """Return one INSERT ... RETURNING of the rows, appending their values to params."""
    quote = connection.ops.quote_name
    pk = model._meta.pk
    # A row without its key gets it from the column's default, as Django's insert does.
    fields = [
        field
        for field in model._meta.local_concrete_fields
        if not (field is pk and getattr(rows[0], field.attname) is None)
    ]
    if any((getattr(row, pk.attname) is None) != (pk not in fields) for row in rows):
        raise ValueError(f"{model.__name__}: either every row has its key or none has")
    values = []
    for row in rows:
        params.extend(
            field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields
        )
        values.append(f"({', '.join(['%s'] * len(fields))})")
    columns = ", ".join(quote(field.column) for field in fields)
    table, key = quote(model._meta.db_table), quote(pk.column)
    # S608: names come from the models' _meta, values are bound.
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join(values)} RETURNING {key}"  # noqa: S608


def _key_column(group: Sequence[models.Model]) -> str:
    return connection.ops.quote_name(type(group[0])._meta.pk.column)


def insert_together(*groups: Sequence[models.Model]) -> None:
    """Insert unsaved instances, one group per model, in one statement; set their keys.

    PostgreSQL only. Each group's keys come back in the order its rows were given (a
    multi-row VALUES takes its defaults row by row; Django's bulk_create counts on the same);
    the instances are then saved ones.
    """
    if connection.vendor != "postgresql":
        raise NotImplementedError("one-statement inserts need PostgreSQL; use insert_rows")
    groups = [group for group in groups if group]
    if any(type(group[0])._meta.parents for group in groups):
        raise ValueError("a model with parent tables needs the ORM's inserts")
    params: list = []
    parts = [
        f"w{n} AS ({_insert(type(group[0]), group, params)})" for n, group in enumerate(groups)
    ]
    keys = " UNION ALL ".join(
        f"SELECT {n}, ARRAY(SELECT {_key_column(group)}::text FROM w{n})"  # noqa: S608 - as above
        for n, group in enumerate(groups)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} {keys}", params)
        returned = dict(cursor.fetchall())
    for n, group in enumerate(groups):
        pk = type(group[0])._meta.pk
        for row, key in zip(group, returned[n], strict=True):
            if getattr(row, pk.attname) is None:
                setattr(row, pk.attname, pk.to_python(key))
            row._state.adding = False
            row._state.db = connection.alias


def insert_rows(*groups: Sequence[models.Model]) -> None:
    """Insert unsaved instances: in one statement on PostgreSQL, a bulk insert per group elsewhere.

    In one statement a row cannot take a key assigned beside it: a row that names another
    new row needs that row's key drawn first (next_id_sql), else use bulk_insert.
    """
    if connection.vendor == "postgresql":
        insert_together(*groups)
    else:
        bulk_insert(*groups)


def bulk_insert(*groups: Sequence[models.Model]) -> None:
    """Insert the groups one after the other with the ORM, each row naming the saved ones before."""
    for group in groups:
        if group:
            type(group[0]).objects.bulk_create(group)


def next_id_sql(model: type[models.Model]) -> str:
    """Return PostgreSQL's expression drawing the model's next id, to draw it in another read."""
    # A caller that knows a new row's id before inserting it can write the rows that name it
    # (and events carrying it) in the same statement as the row itself.
    table, column = model._meta.db_table, model._meta.pk.column
    if not (table.replace("_", "").isalnum() and column.replace("_", "").isalnum()):
        raise ValueError(f"unexpected table or column name: {table}.{column}")
    return f"nextval(pg_get_serial_sequence('{table}', '{column}'))"
