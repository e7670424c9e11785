"""The store: engine creation and schema migrations, for SQLite and PostgreSQL alike.

Every command and flow opens the store through :func:`open_store`, which brings a fresh or
older database to the newest migration before anything else touches it, so a user never
has to remember ``ledgerflow db upgrade`` (it exists for operators who want it explicit).
"""

from __future__ import annotations

import atexit
import datetime as dt
import gc
import itertools
import json
import operator
import os
import re
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from pydantic import BaseModel

from models.types import BIGINT_MAX, BIGINT_MIN

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: sa.Engine | None = None) -> Config:
    """Alembic configuration pointing at our migrations; with an engine, migrations run on it."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Let the driver leave transactions to us: pysqlite's own BEGIN is DEFERRED, which lets two
    # writers read the same audit-chain head; BEGIN IMMEDIATE (in _sqlite_begin) takes the write
    # lock up front so the chain cannot fork.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# The SQLite engines this process made, checkpointed and closed when it exits (see _close_sqlite_stores).
_SQLITE_ENGINES: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
EXIT_BUSY_TIMEOUT_MS = 2000  # how long the exit's checkpoint waits for another process's reader


def checkpoint(engine: sa.Engine) -> None:
    """Move everything in a SQLite store's write-ahead log into the database file and empty the log,
    then close the engine's pooled connections (outside any transaction: a checkpoint cannot run in one).

    A store in WAL mode keeps new pages in ``<db>-wal`` until a checkpoint copies them over; SQLite
    does that by itself when the last connection closes, but connections still in a pool when the
    interpreter ends are never closed (a bulk load left a 60 MB log beside the database). After this,
    copying the ``.db`` file copies everything, and the log is gone or, while another process still
    has the store open, empty. A store another process keeps busy is left to that process.
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={EXIT_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
    engine.dispose()


@atexit.register
def _close_sqlite_stores() -> None:
    for engine in list(_SQLITE_ENGINES):
        pool = engine.pool
        # Only stores this process still holds connections to (a pool without any has nothing to hand
        # over), and never one whose file is gone: connecting would create an empty database.
        if not isinstance(pool, sa.pool.QueuePool) or not pool.checkedin() or not Path(engine.url.database).exists():
            continue
        try:
            checkpoint(engine)
        except Exception:  # noqa: BLE001 - the process is ending: a store that cannot be reached keeps its log
            pass


def serialises_writers(engine: sa.Engine) -> bool:
    """Whether a transaction on `engine` can rely on no other writer running beside it until it ends:
    always on PostgreSQL (with its own locks), on SQLite only through :func:`create_engine`'s BEGIN IMMEDIATE."""
    return engine.dialect.name != "sqlite" or sa.event.contains(engine, "begin", _sqlite_begin)


def create_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite files get their folder created and safe locking, and are
    checkpointed when the process ends (see `checkpoint`)."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(sa_url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        if sa_url.database and sa_url.database != ":memory:":
            _SQLITE_ENGINES.add(engine)
        return engine
    # No server-side prepared statements: psycopg prepares a statement after its fifth run, and
    # from then on PostgreSQL may use a generic plan, blind to the values bound. For the id
    # lookups of a large load (= ANY(:ids), 20,000 ids) a generic plan cannot hash the array;
    # where the planner also misjudges how many rows the other conditions leave, it compares
    # every one of them with every id (we saw one lookup take 200 s instead of 0.2 s).
    return sa.create_engine(sa_url, pool_pre_ping=True, connect_args={"prepare_threshold": None})


# The newest migration's revision. Every command opens the store and checks its revision first;
# asking alembic (importing it and reading every migration script) cost 0.4 s of each command's
# start, reading this and the version table costs nothing. tests/test_store.py holds it to alembic's head.
SCHEMA_REVISION = "0008"


def current_revision(engine: sa.Engine) -> str | None:
    """The store's schema revision (alembic's version table), None for an empty store."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str | None:
    """The newest revision as alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: sa.Engine) -> None:
    """Run every pending migration."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


@cache
def open_store(url: str) -> sa.Engine:
    """The engine for `url`, migrated to the newest schema (once per process and URL)."""
    engine = create_engine(url)
    if current_revision(engine) != SCHEMA_REVISION:
        upgrade(engine)
    return engine


def is_postgres(connection: sa.Connection | sa.Engine) -> bool:
    return connection.dialect.name == "postgresql"


# One encoder for the whole process: json.dumps with these options builds an identical encoder on
# every call, which costs as much as the encoding of a small record.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value that checksums are taken over."""
    return _CANONICAL.encode(value)


# orjson spells everything a canonical document holds as json.dumps above does (sorted keys, no
# blanks, non-ASCII as is, the same escapes, decimals through default=str), and three times
# faster, but for floats: it writes 1.5e-05 as 0.000015. Dates and datetimes go through
# default=str as above instead of orjson's own ISO spelling.
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def document_json(model: type[BaseModel], document: dict[str, Any]) -> str:
    """:func:`canonical_json` of a `model` record's JSON document (``model_dump(mode="json")``),
    spelled by orjson when no field of the model can hold a float (:func:`holds_no_floats`)."""
    if holds_no_floats(model):
        try:
            return orjson.dumps(document, default=str, option=_ORJSON_OPTIONS).decode()
        except TypeError:  # orjson refuses what json.dumps takes: an int beyond 64 bits, a key that is no text
            pass
    return _CANONICAL.encode(document)


def holds_no_floats(model: type[BaseModel]) -> bool:
    """Whether no JSON document of `model` can hold a float: its serialisation schema has no
    number and no open part (``Any``, ``dict[str, Any]``) anywhere. Errs on the safe side."""
    return not {"number", "open"} & _schema_holds(model)


@cache
def _schema_holds(model: type[BaseModel]) -> frozenset[str]:
    """Which of number, integer (one not kept within 64 bits) and open (``Any``, ``dict[str, Any]``:
    anything) appear anywhere in `model`'s serialisation schema."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node == {} or node.get("additionalProperties") is True:
                found.add("open")
            if node.get("type") == "number" or node.get("type") == "integer" and not _bounded(node):
                found.add(node["type"])
            for value in node.values():
                walk(value)

    walk(model.model_json_schema(mode="serialization"))
    return frozenset(found)


def _bounded(node: dict[str, Any]) -> bool:
    """Whether an integer's schema keeps it within 64 bits, which orjson reads exactly."""
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    return low is not None and high is not None and low >= BIGINT_MIN and high <= BIGINT_MAX


# orjson reads back exactly what either spelling writes, but for an integer beyond 64 bits, which
# it turns into a float; a run of 19 digits (inside a string too) sends a text to json instead.
_LONG_NUMBER = re.compile(r"\d{19}")


def read_document(model: type[BaseModel], text: str) -> dict[str, Any]:
    """The JSON document of a `model` record that :func:`document_json` spelled, read at orjson's
    speed. Only a model that can hold an integer or anything at all needs its texts searched for
    integers orjson would misread (which costs twice the reading)."""
    if not {"integer", "open"} & _schema_holds(model) or _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # json writes NaN and Infinity, which orjson does not read
            pass
    return json.loads(text)


class JsonText(str):
    """A value already spelled by :func:`canonical_json`.

    A record's JSON is needed three times on a load (its row hash, its audit checksum and the
    audit row itself); carrying the text lets it be serialised once. :func:`insert_rows`
    writes it to a JSON column as is.
    """


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one bulk step (reading, mapping or loading a
    batch); a context manager, or a decorator of the step's function.

    Such a step allocates millions of objects that live until it ends. Every 700 allocations the
    collector walks the young objects, and every few hundred thousand it walks every object in
    the process (some 340,000 once Prefect, GX and pandas are imported), finding nothing to free:
    a batch holds no reference cycles. For 100,000 time reports that was about a fifth of the run.
    Reference counting frees memory as usual meanwhile; only cyclic garbage waits for the end.
    """
    if not gc.isenabled():  # paused already (by an enclosing step) or switched off by the application
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# Translation tables that set the version (7) and variant (RFC 9562) bits of a random UUID.
_VERSION_7 = bytes(0x70 | (b & 0x0F) for b in range(256))
_VARIANT_RFC_9562 = bytes(0x80 | (b & 0x3F) for b in range(256))


def new_ids(count: int) -> list[str]:
    """`count` new UUIDs, version 7 (RFC 9562), spelled as ``str(uuid.UUID)`` does, in ascending order.

    A version 7 UUID starts with the Unix time in milliseconds and is random after it (74 bits),
    so ids made later sort after those made earlier. Every id index then takes new rows at its
    right-hand edge instead of on random pages all over a table that grows by 100,000 time
    reports a day. Measured with psql, 100,000 rows in ten sorted chunks beside the unique key,
    against random ids: 0-28 % less time into an empty table, 13-45 % less into one of 100,000
    rows and 23 % less into one of 1,000,000. Drawing all the randomness in one call is three
    times faster than one ``uuid`` call per id; within the call the ids share their millisecond
    and are sorted on the random part. The order holds to the millisecond (two calls within one
    interleave) and as long as the clock does not step back; nothing relies on more.

    Ids made within about a minute share their first 8 characters, so the tables whose ids
    people type by an 8-character prefix (dead letters, quarantine) keep random version 4 ids.
    """
    milliseconds = time.time_ns() // 1_000_000
    raw = bytearray(os.urandom(16 * count))
    for position, byte in enumerate(milliseconds.to_bytes(6, "big")):
        raw[position::16] = bytes((byte,)) * count
    raw[6::16] = raw[6::16].translate(_VERSION_7)
    raw[8::16] = raw[8::16].translate(_VARIANT_RFC_9562)
    digits = raw.hex()
    uuids = (digits[i : i + 32] for i in range(0, len(digits), 32))
    return sorted(f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:]}" for d in uuids)


def tenants_in(connection: sa.Connection, tables: Iterable[sa.Table]) -> list[str]:
    """Every tenant with a row in any of `tables`, sorted."""
    # Each select distinct too: SQLAlchemy sends a "union" of one select as that select alone.
    union = sa.union(*(sa.select(table.c.tenant_id).distinct() for table in sorted(tables, key=lambda t: t.name)))
    return sorted(connection.execute(union).scalars())


UNIT_SEPARATOR = "\x1f"  # JSON escapes it; ids, names, dates and CSV cells practically never hold it


def joined(values: Sequence[str]) -> str | None:
    """`values` as one text joined by the unit separator, which splits back into exactly them;
    None when there are none or one holds the separator itself. Many short texts travel far
    cheaper as one (a database parameter, a pickle) than one by one."""
    text = UNIT_SEPARATOR.join(values)
    return text if values and text.count(UNIT_SEPARATOR) == len(values) - 1 else None


# PostgreSQL's COPY text format: a field's backslashes and the control characters that would end
# a field or a line are escaped, as psycopg escapes them; \N is NULL.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r\b\f\v]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f",
                               "\v": "\\v"})


def copy_fields(values: Iterable[Any]) -> str:
    """Values as they appear in a JSON document (text, numbers, booleans, None, nested JSON), as
    consecutive fields of a line of PostgreSQL's COPY text format, spelled as :func:`insert_rows`
    would send them."""
    fields = []
    for value in values:
        if type(value) is not str:
            if value is None:
                fields.append("\\N")
                continue
            value = (("t" if value else "f") if isinstance(value, bool)
                     else canonical_json(value) if isinstance(value, (dict, list)) else str(value))
        fields.append(copy_text(value))
    return "\t".join(fields)


def copy_text(value: str) -> str:
    """A text as a field of PostgreSQL's COPY text format."""
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def copy_texts(values: list[str]) -> list[str]:
    """:func:`copy_text` of each; one search over them all finds that, as usual, none needs escaping."""
    if not _COPY_SPECIAL.search("".join(values)):  # what COPY escapes are single characters
        return values
    return [copy_text(value) for value in values]


@contextmanager
def copy_writer(connection: sa.Connection, table: sa.Table, columns: Sequence[str]
                ) -> Iterator[Callable[[Iterable[str]], None]]:
    """One COPY into `table`'s `columns` that takes lines of PostgreSQL's COPY text format
    (:func:`copy_fields`, one line feed each) through as many calls of the function it gives as
    the caller has batches, a thousand lines per write. A thread of psycopg's sends what is
    written, so the database stores the lines while the caller makes the next ones."""
    names = ", ".join(f'"{name}"' for name in columns)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    from psycopg.copy import QueuedLibpqWriter  # PostgreSQL's COPY only: SQLite stores never import psycopg

    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN', writer=QueuedLibpqWriter(cursor)) as copy:

        def write(lines: Iterable[str]) -> None:
            lines = iter(lines)
            while block := "".join(itertools.islice(lines, 1000)):
                copy.write(block)

        yield write


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert many rows fast: COPY on PostgreSQL, the driver's executemany on SQLite.

    Both bypass SQLAlchemy's per-row statement handling (most of the time of a large insert) but
    store exactly what it would: on PostgreSQL each value is spelled as psycopg spells it, on
    SQLite it goes through the column type's own bind processor. The columns are those of the
    first row; a :class:`JsonText` value is written to its JSON column as is. A value may also
    come as its record's JSON document spells it (:func:`read_document`: a date, a time or a
    decimal as text), which PostgreSQL reads as it would the value. `rows` may be a generator:
    COPY sends each row as it comes.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    columns = [c for c in table.columns if c.name in first]
    names = ", ".join(f'"{c.name}"' for c in columns)
    if is_postgres(connection):
        converters = [_copy_converter(c) for c in columns]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for values in _values(itertools.chain([first], rows), columns, converters):
                copy.write_row(values)
        return
    converters = [_bind_converter(c, connection.dialect) for c in columns]
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})',
                               list(_values(itertools.chain([first], rows), columns, converters)))


Converter = Callable[[Any], Any]


def _values(
    rows: Iterable[dict[str, Any]], columns: list[sa.Column[Any]], converters: list[Converter | None]
) -> Iterator[tuple[Any, ...]]:
    """Each row's values in column order, converted where the column needs it."""
    keys = [c.name for c in columns]
    # itemgetter of several keys returns a tuple (fast, in C); of one key, the bare value.
    pick = operator.itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
    convert = [(i, f) for i, f in enumerate(converters) if f is not None]
    for row in rows:
        values = pick(row)
        if convert:
            converted = list(values)
            for i, f in convert:
                converted[i] = f(converted[i])
            values = tuple(converted)
        yield values


def _once_per_value(spell: Converter) -> Converter:
    """`spell`, computed once per distinct value: a load writes its one timestamp into several
    columns of every row, and spelling a datetime costs microseconds."""
    spelled: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        if value is None:
            return None
        if value not in spelled:
            spelled[value] = spell(value)
        return spelled[value]

    return cached


_ISO_PARSERS: list[tuple[type[sa.types.TypeEngine[Any]], Callable[[str], Any]]] = [
    (sa.Date, dt.date.fromisoformat), (sa.DateTime, dt.datetime.fromisoformat), (sa.Time, dt.time.fromisoformat),
]


def _copy_converter(column: sa.Column[Any]) -> Converter | None:
    if isinstance(column.type, sa.JSON):
        return lambda value: value if value is None or isinstance(value, JsonText) else canonical_json(value)
    if isinstance(column.type, sa.DateTime):
        return _once_per_value(str)  # what psycopg's datetime dumper sends, without its per-value dispatch
    return None


def _bind_converter(column: sa.Column[Any], dialect: sa.Dialect) -> Converter | None:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    parse = next((parse for kind, parse in _ISO_PARSERS if isinstance(column.type, kind)), None)
    if parse is not None:  # SQLite's date types take Python values only; a JSON document holds ISO text
        to_python = process
        process = lambda value: to_python(parse(value) if isinstance(value, str) else value)  # noqa: E731
    if isinstance(column.type, sa.JSON):
        null = process(None)  # JSON columns store None as the JSON text null; most audit states are None
        return lambda value: null if value is None else value if isinstance(value, JsonText) else process(value)
    if isinstance(column.type, sa.DateTime):
        return _once_per_value(process)
    return process
