#!/usr/bin/env python3
"""Checks that Package.swift declares exactly what each target imports.

For every target, the modules its sources import (`import X`, `@testable import X`) must be the target
dependencies Package.swift lists for it, no more and no fewer; the toolchain's own modules (Foundation,
XCTest, Glibc, ...) are left out. Prints every difference and exits 1 when there is one.
"""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
package = (root / "Package.swift").read_text()
toolchain = {"Foundation", "FoundationNetworking", "FoundationEssentials", "Dispatch", "Glibc", "XCTest", "Darwin", "Swift", "_Concurrency",
             "Synchronization"}

def call_body(text, start):
    """The text inside the parentheses that open at text[start]."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i]
    raise SystemExit("Package.swift: unbalanced parentheses")

# Each target declaration: kind, name, its dependencies, and its folder.
targets = {}
for match in re.finditer(r'\.(target|executableTarget|testTarget|systemLibrary)\(', package):
    kind = match.group(1)
    body = call_body(package, match.end() - 1)
    name = re.match(r'\s*name:\s*"([^"]+)"', body).group(1)
    deps = set()
    block = re.search(r'dependencies:\s*\[', body)
    if block:
        depth, i = 1, block.end()
        while depth:
            depth += {"[": 1, "]": -1}.get(body[i], 0)
            i += 1
        text = body[block.end():i - 1]
        deps |= set(re.findall(r'\.product\(name:\s*"([^"]+)"', text))
        deps |= set(re.findall(r'"([A-Za-z0-9_-]+)"', re.sub(r'\.product\([^)]*\)', '', text)))
    path = re.search(r'path:\s*"([^"]+)"', body)
    folder = path.group(1) if path else ("Tests/" if kind == "testTarget" else "Sources/") + name
    targets[name] = (kind, deps, root / folder)

problems = []
for name, (kind, declared, folder) in sorted(targets.items()):
    if kind == "systemLibrary" or not folder.exists():
        continue
    imported = set()
    for source in folder.rglob("*.swift"):
        for line in source.read_text().splitlines():
            found = re.match(r'(?:@testable\s+|@_exported\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z0-9_]+)', line)
            if found:
                imported.add(found.group(1))
    imported -= toolchain
    imported.discard(name.replace("-", "_"))
    declared_modules = {d.replace("-", "_") for d in declared}
    for module in sorted(imported - declared_modules):
        problems.append(f"{name} imports {module}, which Package.swift does not list among its dependencies")
    for module in sorted(declared_modules - imported):
        # A C target may be listed only to be linked (its symbols used from C or by a constructor).
        if targets.get(module, ("",))[0] == "target" and any((root / "Sources" / module).rglob("*.c")):
            continue
        problems.append(f"{name} lists {module} but never imports it")

if problems:
    print("Package.swift and the imports disagree:")
    for problem in problems:
        print("  - " + problem)
    sys.exit(1)
print(f"Package.swift lists exactly what each of {len([t for t in targets.values() if t[0] != 'systemLibrary'])} targets imports")
