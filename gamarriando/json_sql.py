"""SQL that writes the contract's JSON values in PostgreSQL, equal to the Python renderings.

A list page spent most of its time turning rows into model objects, decimals and datetimes and
those back into text (docs/benchmarks.md, round 4); the order and ledger pages have
PostgreSQL write each row's JSON instead (orders/representation_sql.py,
transactions/representation_sql.py), with these pieces. Tests hold each page's two
renderings equal byte for byte.
"""

from django.db.models.expressions import RawSQL

from gamarriando.money import CURRENCY_EXPONENTS


def _exponent_cases() -> str:
    for code in CURRENCY_EXPONENTS:
        if not (code.isascii() and code.isalpha() and code.isupper()):  # quoted as-is below
            raise ValueError(f"not an ISO 4217 code: {code!r}")
    return " ".join(f"WHEN '{code}' THEN {places}" for code, places in CURRENCY_EXPONENTS.items())


_EXPONENTS = _exponent_cases()


def amount_text(column: str, currency: str) -> str:
    """Return SQL writing an amount as money.format_amount does (round() is half up too)."""
    # A currency we do not sell fails the statement, as format_amount's KeyError fails the
    # request: a silent null would be an amount-less answer. The cast is of the column, so
    # PostgreSQL cannot fold it into an error at planning time.
    return f"round({column}, CASE {currency} {_EXPONENTS} ELSE ({currency} || '?')::int END)::text"


def time_text(column: str) -> str:
    """Return SQL writing a time as fields.datetime_data does: UTC, "Z", microseconds if any."""
    utc = f"{column} AT TIME ZONE 'UTC'"
    return (
        f"CASE WHEN date_trunc('second', {column}) = {column} "
        f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') """
        f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    )


def rendered_json(row) -> str | None:
    """Return the JSON text PostgreSQL wrote for a row (a model or a values() dict), if any."""
    return row["rendered"] if isinstance(row, dict) else getattr(row, "rendered", None)


class RowJSON(RawSQL):
    """A fixed SQL expression of ours whose {row} is the alias the query gives its table."""

    # Not the table's name: in a subquery or a self-join Django renames the table, and an
    # expression naming the wrong alias would render another row. Nothing from the request
    # reaches the SQL.
    def as_sql(self, compiler, connection):
        alias = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"({self.sql.format(row=alias)})", self.params
