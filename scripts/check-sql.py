#!/usr/bin/env python3
"""Checks that SQL lives in the storage layer (Sources/PleatStorage) only.

A statement is recognised by its opening keyword at the start of a string literal ("SELECT …",
"INSERT INTO …", a multi-line literal whose first line is one). Files outside PleatStorage that still
hold SQL are listed in scripts/sql-outside-storage.txt, the debt to pay off: a file with SQL that is not
listed fails, and so does a listed file that no longer has any (so the list only shrinks). Exits 1 on
either, printing every case.
"""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
keywords = r"(SELECT|INSERT INTO|UPDATE|DELETE FROM|COPY|CREATE|ALTER|DROP|TRUNCATE|WITH|SHOW|SAVEPOINT|ROLLBACK TO|PRAGMA|BEGIN|LOCK|SET TRANSACTION)\b"
statement = re.compile(r'"(?:""\s*\n\s*)?' + keywords)
allowed = {line.split("#")[0].strip() for line in (root / "scripts/sql-outside-storage.txt").read_text().splitlines()} - {""}

found = set()
for path in sorted((root / "Sources").rglob("*.swift")):
    relative = path.relative_to(root).as_posix()
    # PleatTestSupport serves the tests only, which read the database with SQL to check what a stage did.
    if relative.startswith(("Sources/PleatStorage/", "Sources/PleatTestSupport/")):
        continue
    if statement.search(path.read_text()):
        found.add(relative)

problems = [f"{f}: SQL outside Sources/PleatStorage (move it into a table type there)" for f in sorted(found - allowed)]
problems += [f"{f}: listed in scripts/sql-outside-storage.txt but holds no SQL any more: remove the line" for f in sorted(allowed - found)]
for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"SQL outside PleatStorage: {len(found)} files, all listed as known debt")
