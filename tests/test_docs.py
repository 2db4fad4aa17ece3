"""The documentation: the MkDocs site builds strictly, and the README is a front page whose links all resolve.

``mkdocs build --strict`` turns every warning into a failure: a link to a page or an anchor that does not exist,
a page left out of the nav, a nav entry without a page. The campaign file reference is generated during the build
from the campaign JSON Schema (``docs/hooks/campaign_reference.py``), so the build also shows it names every key.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from campaigns.file.definition import campaign_schema

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as ``mkdocs build --strict`` writes it, into a temporary folder."""
    missing = [name for name in ("mkdocs", "material") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (the test extras install it: pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's banner about MkDocs 2.0; the hook finds the code
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_the_site_builds_strictly_with_every_page(site: Path) -> None:
    pages = {p.relative_to(DOCS).with_suffix("").as_posix() for p in DOCS.rglob("*.md")}
    built = {p.parent.relative_to(site).as_posix() for p in site.rglob("index.html")} | {"index"}
    assert pages <= built, pages - built
    assert (site / "dashboard.png").is_file()


def test_the_campaign_reference_names_every_key_of_the_schema(site: Path) -> None:
    page = (site / "campaigns" / "reference" / "index.html").read_text(encoding="utf-8")
    schema = campaign_schema()
    for owner in [schema, *schema["$defs"].values()]:
        for key in owner.get("properties", {}):
            assert f"<code>{key}</code>" in page, key
    for name in schema["$defs"]:
        assert f'id="{name.lower()}"' in page, name


def test_the_readme_is_a_front_page_whose_links_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200, "the README is the front page: the rest belongs in docs/"
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert targets
    for target in targets:
        if "://" in target:
            continue
        path = (ROOT / target.split("#", 1)[0]).resolve()
        assert path.exists() and path.is_relative_to(ROOT), f"README.md links to {target}, not a file of the repository"


def test_no_page_points_outside_the_repository() -> None:
    for path in [README, ROOT / "mkdocs.yml", *sorted(DOCS.rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for outside in ("../shared", "/work/", "ARCHITECTURE.md", "STYLE.md"):
            assert outside not in text, f"{path.relative_to(ROOT)} points at {outside}, outside the repository"


def _shown_commands() -> list[tuple[str, list[str]]]:
    """Every ``chatcast`` command in the ```bash blocks of the README and the docs: (page, words)."""
    found = []
    for path in [README, *sorted(DOCS.rglob("*.md"))]:
        for block in re.findall(r"^```bash\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                while words:
                    cut = words.index("&&") if "&&" in words else len(words)
                    if words[0] == "chatcast":
                        found.append((path.relative_to(ROOT).as_posix(), words[1:cut]))
                    words = words[cut + 1 :]
    return found


def test_every_command_the_pages_show_exists_with_its_options() -> None:
    from chatcast.cli import app

    root = typer.main.get_command(app)
    shown = _shown_commands()
    assert len(shown) >= 10
    for page, words in shown:
        command: Any = root
        rest = list(words)
        while hasattr(command, "get_command") and rest and not rest[0].startswith("-"):
            sub = command.get_command(command.make_context("chatcast", [], resilient_parsing=True), rest[0])
            assert sub is not None, f"{page}: chatcast {shlex.join(words)}: no command {rest[0]!r}"
            command, rest = sub, rest[1:]
        assert not hasattr(command, "get_command"), f"{page}: chatcast {shlex.join(words)} names no command"
        options = {name for param in command.params for name in [*param.opts, *param.secondary_opts]}
        for word in rest:
            if word.startswith("--"):
                assert word.split("=", 1)[0] in options, f"{page}: chatcast {shlex.join(words)}: no option {word}"
