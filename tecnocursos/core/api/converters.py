"""`<id:name>` in URL patterns: a row id, as the database can hold it.

Django's `<int:...>` takes any number of digits, and a 25-digit id reaches the database
as an overflow (a 500 on SQLite and PostgreSQL). Ids here are 1 to 18 digits, so every
bigint primary key fits and anything longer is simply no route (404). The schema says
the same through SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"].
"""

from __future__ import annotations

MAX_ID = 10**18 - 1


class IdConverter:
    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
