"""Extracting function and layer zips as Lambda's read-only /var/task and /opt, safely."""

from __future__ import annotations

import os
import stat
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from lpack.core.errors import LpackError
from lpack.invoke import extract
from lpack.invoke.extract import extract_layers, extract_package

# (name, data, unix mode); a mode with S_IFLNK makes a symlink entry whose data is the target.
Entry = tuple[str, bytes, int]
FILE, EXEC, DIR, LINK = 0o100644, 0o100755, 0o040755, 0o120777


def make_zip(path: Path, entries: Sequence[Entry]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            info.create_system = 3  # Unix
            archive.writestr(info, data)
    return path


APP = [
    ("app.py", b"def handler(event, context):\n    return 1\n", FILE),
    ("bin/", b"", DIR),
    ("bin/tool", b"#!/bin/sh\necho hi\n", EXEC),
    ("pkg/sub/mod.py", b"X = 1\n", FILE),
    ("pkg/link.py", b"sub/mod.py", LINK),
]


def test_extracts_files_contents_links_and_read_only_modes(tmp_path: Path) -> None:
    tree = extract_package(make_zip(tmp_path / "app.zip", APP), tmp_path / "cache")
    assert tree.parent == tmp_path / "cache" / "invoke" / "task"
    assert (tree / "app.py").read_bytes() == APP[0][1]
    assert (tree / "pkg" / "sub" / "mod.py").read_text() == "X = 1\n"
    assert os.readlink(tree / "pkg" / "link.py") == "sub/mod.py"
    assert (tree / "pkg" / "link.py").read_text() == "X = 1\n"
    assert stat.S_IMODE((tree / "app.py").stat().st_mode) == 0o444
    assert stat.S_IMODE((tree / "bin" / "tool").stat().st_mode) == 0o555
    for folder in (tree, tree / "bin", tree / "pkg", tree / "pkg" / "sub"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o555
    assert [p.name for p in tree.parent.iterdir()] == [tree.name]  # no temporary folder left


def test_folder_is_named_by_the_zips_sha256(tmp_path: Path) -> None:
    import hashlib

    zip_path = make_zip(tmp_path / "app.zip", APP)
    tree = extract_package(zip_path, tmp_path / "cache")
    assert tree.name == hashlib.sha256(zip_path.read_bytes()).hexdigest()


def test_second_call_reuses_the_tree_without_extracting(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "app.zip", APP)
    tree = extract_package(zip_path, tmp_path / "cache")
    os.chmod(tree, 0o755)
    (tree / "marker").write_text("still here")
    os.chmod(tree, 0o555)
    inode = tree.stat().st_ino
    copy = make_zip(tmp_path / "copy.zip", APP)  # same bytes, another name

    again = extract_package(copy, tmp_path / "cache")

    assert again == tree
    assert again.stat().st_ino == inode
    assert (again / "marker").read_text() == "still here"


def test_prefix_selects_a_folder_of_the_zip(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "layer.zip", [("python/mod.py", b"Y = 2\n", FILE),
                                                  ("README", b"", FILE)])
    whole = extract_package(zip_path, tmp_path / "cache")
    inner = extract_package(zip_path, tmp_path / "cache", prefix="python/")
    assert inner != whole
    assert sorted(p.name for p in inner.iterdir()) == ["mod.py"]


def test_layers_overlay_in_order(tmp_path: Path) -> None:
    first = make_zip(tmp_path / "one.zip", [("python/common.py", b"ONE", FILE),
                                             ("python/only_one.py", b"1", FILE),
                                             ("bin/run", b"old", EXEC)])
    second = make_zip(tmp_path / "two.zip", [("python/common.py", b"TWO", FILE),
                                              ("bin/run", b"new", FILE)])

    opt = extract_layers([first, second], tmp_path / "cache")

    assert opt.parent == tmp_path / "cache" / "invoke" / "opt"
    assert (opt / "python" / "common.py").read_bytes() == b"TWO"
    assert (opt / "python" / "only_one.py").read_bytes() == b"1"
    assert (opt / "bin" / "run").read_bytes() == b"new"
    assert stat.S_IMODE((opt / "bin" / "run").stat().st_mode) == 0o444  # the later entry's mode
    reversed_opt = extract_layers([second, first], tmp_path / "cache")
    assert reversed_opt != opt
    assert (reversed_opt / "python" / "common.py").read_bytes() == b"ONE"
    assert extract_layers([first, second], tmp_path / "cache") == opt


def test_no_layers_give_an_empty_tree(tmp_path: Path) -> None:
    opt = extract_layers([], tmp_path / "cache")
    assert opt.is_dir()
    assert list(opt.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "data", "mode"),
    [
        pytest.param("../evil.py", b"x", FILE, id="dot-dot"),
        pytest.param("pkg/../../evil.py", b"x", FILE, id="nested-dot-dot"),
        pytest.param("/abs/evil.py", b"x", FILE, id="absolute"),
        pytest.param("C:\\evil.py", b"x", FILE, id="drive-letter"),
        pytest.param("C:/evil.py", b"x", FILE, id="drive-letter-slash"),
        pytest.param("pkg\\..\\..\\evil.py", b"x", FILE, id="backslash-dot-dot"),
        pytest.param("\\evil.py", b"x", FILE, id="backslash-absolute"),
        pytest.param("escape", b"../outside", LINK, id="link-dot-dot"),
        pytest.param("escape", b"/etc/passwd", LINK, id="link-absolute"),
        pytest.param("pkg/escape", b"../../outside", LINK, id="nested-link-dot-dot"),
    ],
)
def test_entries_that_escape_are_refused(tmp_path: Path, name: str, data: bytes, mode: int) -> None:
    zip_path = make_zip(tmp_path / "bad.zip", [("ok.py", b"", FILE), (name, data, mode)])
    with pytest.raises(LpackError) as caught:
        extract_package(zip_path, tmp_path / "cache")
    message = str(caught.value)
    assert message.startswith(f"{zip_path}: entry {name!r} ")
    assert "outside the package" in message
    assert "\n" not in message
    _assert_nothing_left(tmp_path / "cache" / "invoke" / "task")
    assert not (tmp_path / "evil.py").exists()
    assert not (tmp_path / "cache" / "invoke" / "evil.py").exists()


def test_a_link_that_escapes_through_another_link_is_refused(tmp_path: Path) -> None:
    # "d/up" points at the tree root, which is inside; "sneaky" -> "d/up/../x" reads as "d/x"
    # but really leaves the tree.
    zip_path = make_zip(tmp_path / "bad.zip", [("d/", b"", DIR), ("d/up", b"..", LINK),
                                               ("sneaky", b"d/up/../x", LINK)])
    with pytest.raises(LpackError, match="entry 'sneaky' is a symlink that points outside"):
        extract_package(zip_path, tmp_path / "cache")
    _assert_nothing_left(tmp_path / "cache" / "invoke" / "task")


def test_a_later_layer_writes_through_an_earlier_layers_link_inside_the_tree(tmp_path: Path) -> None:
    first = make_zip(tmp_path / "one.zip", [("python/", b"", DIR), ("lib", b"python", LINK)])
    second = make_zip(tmp_path / "two.zip", [("lib/mod.py", b"M", FILE)])
    opt = extract_layers([first, second], tmp_path / "cache")
    assert (opt / "python" / "mod.py").read_bytes() == b"M"  # through a link that stays inside


def test_a_file_where_a_folder_must_be_is_an_lpack_error(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "bad.zip", [("pkg", b"", FILE), ("pkg/mod.py", b"", FILE)])
    with pytest.raises(LpackError, match=r"bad.zip: entry 'pkg/mod.py' cannot be extracted \("):
        extract_package(zip_path, tmp_path / "cache")
    _assert_nothing_left(tmp_path / "cache" / "invoke" / "task")


def test_an_unwritable_cache_is_an_lpack_error(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file, not a folder")
    with pytest.raises(LpackError, match="cannot write the invoke cache"):
        extract_package(make_zip(tmp_path / "app.zip", APP), tmp_path / "cache")


def test_a_corrupt_zip_names_its_path(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(LpackError) as caught:
        extract_package(broken, tmp_path / "cache")
    assert str(caught.value).startswith(f"{broken}: not a readable zip file (")
    assert str(caught.value).endswith("rebuild it with `lpack build`")
    _assert_nothing_left(tmp_path / "cache" / "invoke" / "task")


def test_a_damaged_member_is_reported_and_leaves_nothing(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "app.zip", [("big.py", b"A" * 10_000, FILE)])
    data = bytearray(zip_path.read_bytes())
    start = data.index(b"big.py") + len("big.py")  # the local header's name, then the data
    data[start + 10 : start + 20] = b"\xff" * 10
    zip_path.write_bytes(bytes(data))
    with pytest.raises(LpackError, match="not a readable zip file"):
        extract_package(zip_path, tmp_path / "cache")
    _assert_nothing_left(tmp_path / "cache" / "invoke" / "task")


def test_a_missing_zip_is_an_lpack_error(tmp_path: Path) -> None:
    with pytest.raises(LpackError, match="missing.zip: not a readable zip file"):
        extract_package(tmp_path / "missing.zip", tmp_path / "cache")


def test_a_zip_bomb_is_refused_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "MAX_UNZIPPED_BYTES", 1000)
    zip_path = make_zip(tmp_path / "bomb.zip", [("zeros", bytes(1001), FILE)])
    with pytest.raises(LpackError, match=r"bomb.zip: its entries unzip to 1,001 bytes"):
        extract_package(zip_path, tmp_path / "cache")
    _assert_nothing_left(tmp_path / "cache" / "invoke" / "task")


def test_keeps_the_eight_most_recently_used(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    def build(i: int) -> Path:
        return extract_package(make_zip(tmp_path / f"app{i}.zip", [("app.py", b"%d" % i, FILE)]), cache)

    trees = [build(i) for i in range(8)]
    for i, tree in enumerate(trees):
        _age(tree, 100 - i)  # trees[0] is the oldest
    assert len(list((cache / "invoke" / "task").iterdir())) == 8
    inode = trees[0].stat().st_ino
    assert build(0) == trees[0]  # reusing the oldest makes it the newest

    build(8)
    build(9)

    kept = {p.name for p in (cache / "invoke" / "task").iterdir()}
    assert len(kept) == 8
    assert trees[0].name in kept and trees[0].stat().st_ino == inode
    assert trees[1].name not in kept and trees[2].name not in kept


def test_a_stale_temporary_folder_is_removed(tmp_path: Path) -> None:
    base = tmp_path / "cache" / "invoke" / "task"
    stale = base / ".tmp-killed"
    (stale / "pkg").mkdir(parents=True)
    (stale / "pkg" / "half.py").write_text("")
    os.chmod(stale / "pkg", 0o555)
    _age(stale, 2 * extract.STALE_TEMP_S)
    fresh = base / ".tmp-running"  # another process is extracting now: leave it
    fresh.mkdir()

    tree = extract_package(make_zip(tmp_path / "app.zip", APP), tmp_path / "cache")

    assert not stale.exists()
    assert fresh.exists()
    assert sorted(p.name for p in base.iterdir()) == [".tmp-running", tree.name]


def test_concurrent_extractions_agree_on_one_tree(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "app.zip", [(f"m{i}.py", b"x" * 1000, FILE) for i in range(200)])
    results: list[Path] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(extract_package(zip_path, tmp_path / "cache"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    base = tmp_path / "cache" / "invoke" / "task"
    assert [p.name for p in base.iterdir()] == [results[0].name]
    assert len(list(results[0].iterdir())) == 200


def test_remove_tree_copes_with_read_only_folders(tmp_path: Path) -> None:
    tree = extract_package(make_zip(tmp_path / "app.zip", APP), tmp_path / "cache")
    extract.remove_tree(tree)
    assert not tree.exists()


def _age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


def _assert_nothing_left(base: Path) -> None:
    assert not base.exists() or list(base.iterdir()) == []
