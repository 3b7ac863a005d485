"""``lpack build --report size.html``: a self-contained HTML treemap of the built zips.

Artifact -> package (the zip's top-level name, a layer's under ``python/``) -> folder -> file,
sized unzipped or zipped, with what ``--slim`` would leave out of each (``lpack.bundle.slim``'s
own decision, on the files a ``*.dist-info/RECORD`` owns: slim touches dependencies only).
No network: the page's CSS and JavaScript are inline, and it carries its data as JSON in a
``<script type="application/json" id="lpack-size-data">`` tag, which tools can read too.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lpack.analysis.package import Entry, read_package
from lpack.core import limits

_SITE = re.compile(r"^python/(?:lib/python3\.\d+/site-packages/)?")


def _relative(name: str, kind: str) -> str:
    """An entry's name as its import root sees it (a layer's ``python/...`` prefix dropped)."""
    return _SITE.sub("", name) if kind == "layer" else name


def _dependency_files(path: Path, kind: str) -> set[str]:
    """The files the zip's ``*.dist-info/RECORD``s list (relative to the import root)."""
    import zipfile

    from lpack.bundle.slim import record_paths

    owned: set[str] = set()
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            rel = _relative(name, kind)
            if rel.endswith(".dist-info/RECORD") and rel.count("/") == 1:
                owned.update(record_paths(zf.read(name)))
    return owned


def _node(name: str) -> dict[str, Any]:
    return {"name": name, "size": 0, "zipped": 0, "slim": 0, "children": {}}


def _tree(entries: Iterable[Entry], kind: str, path: Path) -> dict[str, Any]:
    from lpack.bundle.slim import removable

    files = [e for e in entries if not e.is_dir]
    owned = _dependency_files(path, kind)
    rel = {e.name: _relative(e.name, kind) for e in files}
    slimmed = removable([r for r in rel.values() if r in owned])
    root = _node(path.name)
    for entry in files:
        saving = entry.size if rel[entry.name] in slimmed else 0
        node = root
        for part in rel[entry.name].split("/"):
            node["size"] += entry.size
            node["zipped"] += entry.compressed_size
            node["slim"] += saving
            node = node["children"].setdefault(part, _node(part))
        node["size"] += entry.size
        node["zipped"] += entry.compressed_size
        node["slim"] += saving
    return _listed(root)


def _listed(node: dict[str, Any]) -> dict[str, Any]:
    """Children as a list, largest first (the same order every time: ties by name)."""
    children = sorted(node["children"].values(), key=lambda n: (-n["size"], n["name"]))
    out = {k: v for k, v in node.items() if k != "children"}
    if children:
        out["children"] = [_listed(c) for c in children]
    return out


def size_data(artifacts: Sequence[Any]) -> dict[str, Any]:
    """What the page shows, as data: per artifact its sizes, the limits that apply and its tree."""
    shown = []
    for a in artifacts:
        index = read_package(a.path)
        tree = _tree(index.entries, a.kind, a.path)
        shown.append({
            "name": a.name, "kind": a.kind, "path": str(a.path), "size_zipped": index.size_zipped,
            "size_unzipped": index.size_unzipped, "slim_saving": tree["slim"],
            "limit_zipped": None if getattr(a, "upload", "direct") == "s3" else limits.ZIPPED_SIZE.value,
            "limit_unzipped": limits.UNZIPPED_SIZE.value, "tree": tree,
        })
    return {"version": 1, "artifacts": shown}


def render(data: dict[str, Any]) -> str:
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")
    title = "lpack size map: " + ", ".join(a["name"] for a in data["artifacts"])
    return _PAGE.replace("@TITLE@", html.escape(title)).replace("@DATA@", payload)


class Shown(NamedTuple):
    """A zip to map, as ``lpack check`` names it (a build's Artifact has the same fields)."""

    name: str
    kind: str
    path: Path
    upload: str = "direct"


def of_zips(paths: Sequence[Path], kind: str) -> list[Shown]:
    """The .zip files among ``paths`` (``lpack check --report``); a UsageError when there are none."""
    from lpack.core.errors import UsageError

    zips = [Shown(p.stem, kind, p) for p in paths if p.suffix == ".zip" and p.is_file()]
    if not zips:
        raise UsageError("--report maps .zip packages, and no .zip file was given",
                         tip="lpack check dist/NAME.zip --report size.html, or lpack build --report size.html")
    return zips


def write_size_report(path: Path, artifacts: Sequence[Any]) -> Path:
    """Write the size map of ``artifacts``' zips to ``path`` (atomically); returns ``path``."""
    from lpack.core.files import atomic_write_text

    atomic_write_text(path, render(size_data(artifacts)))
    return path


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{padding:10px 16px;background:#1d2330;color:#fff}
header h1{font-size:16px;margin:0 0 4px}
#bar{padding:8px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
#crumbs a{color:#2457c5;cursor:pointer;text-decoration:underline}
#map{position:relative;margin:0 16px 16px;height:calc(100vh - 150px);min-height:320px;background:#fff;
border:1px solid #ccd}
.cell{position:absolute;box-sizing:border-box;border:1px solid #fff;overflow:hidden;cursor:pointer;
font-size:12px;padding:2px 4px;color:#111;white-space:nowrap}
.cell:hover{outline:2px solid #1d2330;z-index:2}
.cell .slim{position:absolute;left:0;bottom:0;height:5px;background:#c0392b}
table{border-collapse:collapse;margin:0 16px 16px}td,th{padding:2px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}
</style></head><body>
<header><h1>@TITLE@</h1><div id="summary"></div></header>
<div id="bar"><span id="crumbs"></span>
<label>size <select id="measure"><option value="size">unzipped</option><option value="zipped">zipped</option>
</select></label><span>red bar: what --slim would leave out</span></div>
<div id="map"></div>
<table id="packages"><thead><tr><th>package</th><th>unzipped</th><th>zipped</th><th>--slim would save</th>
</tr></thead><tbody></tbody></table>
<script type="application/json" id="lpack-size-data">@DATA@</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("lpack-size-data").textContent);
const map = document.getElementById("map");
let measure = "size";
let path = [];
function human(n) {
  const units = ["B", "KB", "MB", "GB"]; let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}
function hue(name) {
  let h = 0; for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 360; return h;
}
function root() {
  return {name: "all", size: 0, zipped: 0, slim: 0, children: DATA.artifacts.map(a => Object.assign({}, a.tree,
    {name: a.name, artifact: a}))};
}
function current() {
  let node = root();
  for (const name of path) node = node.children.find(c => c.name === name) || node;
  return node;
}
function worst(row, side) {
  const s = row.reduce((t, c) => t + c.area, 0); if (!s) return Infinity;
  const max = Math.max(...row.map(c => c.area)), min = Math.min(...row.map(c => c.area));
  return Math.max(side * side * max / (s * s), s * s / (side * side * min));
}
function squarify(items, x, y, w, h, out) {
  items = items.slice();
  while (items.length) {
    const side = Math.min(w, h); let row = [items.shift()];
    while (items.length && worst(row.concat([items[0]]), side) <= worst(row, side)) row.push(items.shift());
    const s = row.reduce((t, c) => t + c.area, 0); let offset = 0;
    if (w >= h) {
      const cw = s / h;
      for (const c of row) { const ch = c.area / cw; out.push([c.node, x, y + offset, cw, ch]); offset += ch; }
      x += cw; w -= cw;
    } else {
      const rh = s / w;
      for (const c of row) { const rw = c.area / rh; out.push([c.node, x + offset, y, rw, rh]); offset += rw; }
      y += rh; h -= rh;
    }
  }
  return out;
}
function draw() {
  const node = current();
  const kids = (node.children || []).filter(c => c[measure] > 0);
  const total = kids.reduce((t, c) => t + c[measure], 0);
  const W = map.clientWidth, H = map.clientHeight;
  map.textContent = "";
  const items = kids.map(c => ({node: c, area: total ? c[measure] * W * H / total : 0}));
  const top = path.length <= 1 ? null : path[1];
  for (const [c, x, y, w, h] of squarify(items, 0, 0, W, H, [])) {
    const cell = document.createElement("div");
    cell.className = "cell";
    cell.dataset.name = c.name; cell.dataset.size = c.size; cell.dataset.zipped = c.zipped; cell.dataset.slim = c.slim;
    cell.style.cssText = `left:${x}px;top:${y}px;width:${w}px;height:${h}px;` +
      `background:hsl(${hue(top || c.name)},60%,${c.children ? 72 : 82}%)`;
    cell.title = `${c.name}\\nunzipped ${human(c.size)}\\nzipped ${human(c.zipped)}\\n--slim would save ${human(c.slim)}`;
    if (w > 40 && h > 14) cell.textContent = `${c.name} ${human(c[measure])}`;
    if (c.slim && c.size) {
      const bar = document.createElement("div"); bar.className = "slim";
      bar.style.width = (100 * c.slim / c.size) + "%"; cell.appendChild(bar);
    }
    if (c.children) cell.onclick = () => { path.push(c.name); draw(); };
    map.appendChild(cell);
  }
  crumbs(); table(node);
}
function crumbs() {
  const el = document.getElementById("crumbs"); el.textContent = "";
  ["all"].concat(path).forEach((name, i) => {
    const a = document.createElement("a"); a.textContent = name;
    a.onclick = () => { path = path.slice(0, i); draw(); };
    el.appendChild(a); if (i < path.length) el.appendChild(document.createTextNode(" / "));
  });
}
function table(node) {
  const body = document.querySelector("#packages tbody"); body.textContent = "";
  for (const c of node.children || []) {
    const tr = document.createElement("tr");
    for (const v of [c.name, human(c.size), human(c.zipped), human(c.slim)]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}
function summary() {
  const parts = DATA.artifacts.map(a => {
    const zipped = a.limit_zipped ? `${human(a.size_zipped)} zipped (${Math.round(100 * a.size_zipped / a.limit_zipped)}%` +
      ` of ${human(a.limit_zipped)})` : `${human(a.size_zipped)} zipped (S3 upload: no zipped limit)`;
    return `${a.name}: ${zipped}, ${human(a.size_unzipped)} unzipped (${Math.round(100 * a.size_unzipped /
      a.limit_unzipped)}% of ${human(a.limit_unzipped)}); --slim would save ${human(a.slim_saving)}`;
  });
  document.getElementById("summary").textContent = parts.join(" \\u00b7 ");
}
document.getElementById("measure").onchange = e => { measure = e.target.value; draw(); };
window.onresize = draw;
if (DATA.artifacts.length === 1) path = [DATA.artifacts[0].name];
summary(); draw();
document.body.dataset.ready = "1";
</script></body></html>
"""
