#!/usr/bin/env python3
"""Checks that SQL lives in the storage layer (Sources/PleatStorage) only.

A statement is recognised by its opening keyword at the start of a string literal ("SELECT …",
"INSERT INTO …", or a multi-line literal whose first line is one). PleatTestSupport is exempt: it serves
the tests, which read the database with SQL to check what a stage did. Prints every file outside
PleatStorage that holds one and exits 1 if there is any.
"""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
keywords = (r"(SELECT|INSERT INTO|UPDATE|DELETE FROM|COPY|CREATE|ALTER|DROP|TRUNCATE|WITH|SHOW|SAVEPOINT|ROLLBACK TO|PRAGMA|BEGIN"
            r"|LOCK|SET TRANSACTION)\b")
statement = re.compile(r'"(?:""\s*\n\s*)?' + keywords)

found = []
for path in sorted((root / "Sources").rglob("*.swift")):
    relative = path.relative_to(root).as_posix()
    if relative.startswith(("Sources/PleatStorage/", "Sources/PleatTestSupport/")):
        continue
    if statement.search(path.read_text()):
        found.append(relative)
for f in found:
    print(f"{f}: SQL outside Sources/PleatStorage (give it a table type there)")
if found:
    sys.exit(1)
print("SQL only in Sources/PleatStorage")
