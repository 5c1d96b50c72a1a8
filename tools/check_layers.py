#!/usr/bin/env python3
"""Checks the source tree against the layer table of docs/ARCHITECTURE.md.

Every folder of src/ with a CMakeLists.txt is a row of the table and every row
a folder; each layer's target links only the blotter targets its row allows;
each source's #include of a blotter header (public or private) is of its own
layer or one it may use; third-party headers only where the row lists them;
each public header belongs to exactly one row; and the README's layout
section names every folder of src/ and tests/. Prints one line per fault and
exits 1, or prints "layers: ok". Usage: check_layers.py [SOURCE_DIR]
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
faults = []

# Third-party include prefixes, by the name the table uses.
THIRD_PARTY = {
    "fmt": ("fmt/",),
    "date": ("date/",),
    "nettle": ("nettle/",),
    "nlohmann": ("nlohmann/",),
    "sqlite": ("sqlite3.h", "SQLiteCpp/"),
    "cli11": ("CLI/",),
    "benchmark": ("benchmark/",),
    "doctest": ("doctest/",),
}


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def names(cell):
    return [n.strip("` ") for n in cell.split(",") if n.strip("` ")]


doc = (root / "docs/ARCHITECTURE.md").read_text()
layers = {}  # folder name -> {target, headers, uses, third}
for line in doc.splitlines():
    m = re.match(r"\|\s*`src/([a-z_]+)/`\s*\|", line)
    if not m:
        continue
    c = cells(line)
    if len(c) != 5:
        faults.append(f"docs/ARCHITECTURE.md: the row of src/{m.group(1)}/ has {len(c)} columns, not 5")
        continue
    layers[m.group(1)] = {
        "target": c[1].strip("`"),
        "headers": set(names(c[2])),
        "uses": set(names(c[3])),
        "third": set(names(c[4])),
    }
if not layers:
    print("docs/ARCHITECTURE.md: no layer table found")
    sys.exit(1)

for name, layer in layers.items():
    for used in layer["uses"]:
        if used not in layers:
            faults.append(f"docs/ARCHITECTURE.md: {name} may use {used}, which is not a layer")
    for lib in layer["third"]:
        if lib not in THIRD_PARTY:
            faults.append(f"docs/ARCHITECTURE.md: {name} lists unknown third-party library {lib}")

# Folders and the table agree.
folders = {p.parent.name for p in (root / "src").glob("*/CMakeLists.txt")}
for f in sorted(folders - layers.keys()):
    faults.append(f"src/{f}/: a folder with a CMakeLists.txt but no row in docs/ARCHITECTURE.md")
for f in sorted(layers.keys() - folders):
    faults.append(f"docs/ARCHITECTURE.md: the row of src/{f}/ names no folder with a CMakeLists.txt")

# Public headers: each in one row, every row's header present.
header_layer = {}
for name, layer in layers.items():
    for h in layer["headers"]:
        if h in header_layer:
            faults.append(f"docs/ARCHITECTURE.md: {h} is in the rows of {header_layer[h]} and {name}")
        header_layer[h] = name
public = {p.name for p in (root / "include/blotter").glob("*.h")}
for h in sorted(public - header_layer.keys()):
    faults.append(f"include/blotter/{h}: in no row of docs/ARCHITECTURE.md")
for h in sorted(header_layer.keys() - public):
    faults.append(f"docs/ARCHITECTURE.md: {h} is not in include/blotter/")

# Targets link what their row allows.
target_layer = {layer["target"]: name for name, layer in layers.items()}
for name in sorted(layers.keys() & folders):
    text = (root / "src" / name / "CMakeLists.txt").read_text()
    if not re.search(r"blotter_layer\(\s*" + re.escape(name) + r"\b", text) and \
            layers[name]["target"] not in text:
        faults.append(f"src/{name}/CMakeLists.txt: does not define {layers[name]['target']}")
    for block in re.findall(r"target_link_libraries\(([^)]*)\)", text):
        for dep in re.findall(r"\bblotter_[a-z_]+\b", block.split(None, 1)[1] if " " in block else ""):
            if dep == layers[name]["target"]:
                continue
            used = target_layer.get(dep)
            if used is None:
                faults.append(f"src/{name}/CMakeLists.txt: links {dep}, which is no layer's target")
            elif used not in layers[name]["uses"]:
                faults.append(f"src/{name}/CMakeLists.txt: links {dep}, but {name} may not use {used}")
        if "blotter::blotter" in block and name != "cli":
            faults.append(f"src/{name}/CMakeLists.txt: links blotter::blotter, which holds every layer")

# Includes follow the layers.
include_re = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)


def check_includes(path, layer_name):
    layer = layers[layer_name]
    rel = path.relative_to(root)
    for kind, inc in include_re.findall(path.read_text()):
        if kind == '"' and inc.startswith("blotter/"):
            owner = header_layer.get(inc[len("blotter/"):])
        elif kind == '"' and "/" in inc:
            owner = inc.split("/", 1)[0]
            if owner not in layers:
                faults.append(f"{rel}: includes {inc}, which is in no layer's folder")
                continue
        elif kind == '"':
            faults.append(f"{rel}: includes \"{inc}\" without its folder (write \"<folder>/{inc}\")")
            continue
        else:
            for lib, prefixes in THIRD_PARTY.items():
                if inc.startswith(prefixes) and lib not in layer["third"]:
                    faults.append(f"{rel}: includes <{inc}> ({lib}), not among {layer_name}'s libraries")
            continue
        if owner is None or owner == layer_name:
            continue
        if owner not in layer["uses"]:
            faults.append(f"{rel}: includes {inc} of layer {owner}, which {layer_name} may not use")


for name in sorted(layers.keys() & folders):
    for path in sorted((root / "src" / name).rglob("*")):
        if path.suffix in (".cpp", ".h"):
            check_includes(path, name)
for path in sorted((root / "include/blotter").glob("*.h")):
    if path.name in header_layer:
        check_includes(path, header_layer[path.name])

# The README's layout section names every folder of src/ and tests/.
readme = (root / "README.md").read_text()
layout = readme[readme.find("### Layout"):] if "### Layout" in readme else ""
layout = layout[:layout.find("\n#", 1)] if "\n#" in layout[1:] else layout
if not layout:
    faults.append("README.md: no \"### Layout\" section")
else:
    for top in ("src", "tests"):
        for d in sorted(p.name for p in (root / top).iterdir() if p.is_dir()):
            if f"`{top}/{d}/`" not in layout:
                faults.append(f"README.md: the layout section does not name `{top}/{d}/`")

for f in faults:
    print(f)
print("layers: ok" if not faults else f"layers: {len(faults)} faults")
sys.exit(1 if faults else 0)
