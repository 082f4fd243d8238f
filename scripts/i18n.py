"""The Chinese edition's translation catalogues: extract, check, build.

The English notebooks and pages are the source. Sphinx's gettext builder cuts them into messages
(paragraphs, headings, list items, table cells); ``sphinx-intl`` keeps one catalogue per page in
``book/locales/zh_CN/LC_MESSAGES/book/<page>.po``; a build with ``language = zh_CN`` puts each
translation in place of its English message.

    python scripts/i18n.py extract   # after editing the English: new messages appear empty,
                                     # changed ones are kept but marked fuzzy (stale)
    python scripts/i18n.py check     # per page: translated, stale (fuzzy) and untranslated
                                     # messages, and markup a translation lost; exit 1 unless
                                     # every message is translated, current and intact
    python scripts/i18n.py check --page 01_background   # one page
    python scripts/i18n.py build     # the Chinese edition into _build/html/zh_CN, reusing the
                                     # English build's executed notebooks

A translation keeps the message's markup as it is: inline code, math, glue keys, role targets
(``{term}`支持集 <support set>``` keeps the English term it points at) and link addresses.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = "zh_CN"
LOCALES = ROOT / "book" / "locales"
CATALOGUES = LOCALES / LOCALE / "LC_MESSAGES" / "book"
GETTEXT_OUT = ROOT / "_build" / "i18n"
EDITION_OUT = ROOT / "_build" / f"edition_{LOCALE}"

# Markup a translation must keep: inline code, display and inline math, a role's target, a
# link's address.
LITERAL = re.compile(r"``.+?``")
CODE = re.compile(r"`[^`]+`")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def book_config() -> dict:
    """The book's ``_config.yml``, with its local extensions' folders made absolute (they are
    resolved from the folder of the configuration file, and ours are written elsewhere)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config.setdefault("sphinx", {})
    for name, path in sphinx.get("local_extensions", {}).items():
        sphinx["local_extensions"][name] = str(ROOT / path)
    sphinx.setdefault("config", {})
    return config


def write_config(config: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def gettext_config() -> Path:
    """The book's configuration for the gettext builder: notebooks are read, not executed
    (outputs are not translated: they are the code's), one catalogue per page, no source
    locations (they would mark every message stale whenever a line moves)."""
    config = book_config()
    config["execute"]["execute_notebooks"] = "off"
    config["sphinx"]["config"].update(
        {"gettext_compact": False, "gettext_uuid": False, "gettext_location": False,
         "nb_remove_code_outputs": True}
    )  # fmt: skip
    return write_config(config, GETTEXT_OUT / "_config.gettext.yml")


def extract() -> None:
    """Cut the English book into messages and merge them into the catalogues."""
    subprocess.run(
        ["jupyter-book", "build", str(ROOT), "--config", str(gettext_config()), "--path-output",
         str(GETTEXT_OUT), "--builder", "custom", "--custom-builder", "gettext"],
        check=True,
    )  # fmt: skip
    templates = GETTEXT_OUT / "_build" / "gettext"
    subprocess.run(
        ["sphinx-intl", "update", "-p", str(templates), "-l", LOCALE, "-d", str(LOCALES), "-w", "0"],
        check=True,
    )
    for path in sorted(CATALOGUES.glob("*.po")):
        drop_format_flags(path)


def drop_format_flags(path: Path) -> None:
    """Remove the ``python-format`` flags babel guesses from a ``%`` in the English ("95% of"):
    Sphinx never formats these messages, and the flag makes ``msgfmt -c`` reject a correct
    translation ("95% 的")."""
    with path.open("rb") as file:
        catalogue = read_po(file)
    flagged = [m for m in catalogue if m.id and "python-format" in m.flags]
    if flagged:
        for message in flagged:
            message.flags.discard("python-format")
        with path.open("wb") as file:
            write_po(file, catalogue, width=0)


def edition_config(cache: Path) -> Path:
    """The book's configuration for the Chinese edition: the same book with ``language =
    zh_CN`` and the catalogues, and the English build's executed notebooks (jupyter-cache in
    ``cache``), so nothing runs a second time."""
    config = book_config()
    config["execute"]["cache"] = str(cache)
    settings = {"language": LOCALE, "locale_dirs": [str(LOCALES)], "gettext_compact": False}
    config["sphinx"]["config"].update(settings)
    return write_config(config, EDITION_OUT / f"_config.{LOCALE}.yml")


def build(cache: Path) -> None:
    """Build the Chinese edition into ``_build/html/zh_CN``, beside the English site."""
    subprocess.run(
        ["jupyter-book", "build", str(ROOT), "--config", str(edition_config(cache)), "--path-output",
         str(EDITION_OUT), "--all"],
        check=True,
    )  # fmt: skip
    target = ROOT / "_build" / "html" / LOCALE
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(EDITION_OUT / "_build" / "html", target)
    print(f"Chinese edition in {target}")


def markup(text: str) -> Counter:
    """The pieces of ``text`` a translation must keep unchanged."""
    pieces: Counter = Counter()
    literals = LITERAL.findall(text)  # first: a literal may hold a role's syntax, quoted
    pieces.update(("code", m) for m in literals)
    rest = LITERAL.sub(" ", text)
    pieces.update(("code", m) for m in CODE.findall(ROLE.sub(" ", rest)))
    pieces.update(("math", m) for m in MATH.findall(rest))
    for role, body in ROLE.findall(rest):
        target = re.search(r"<([^<>]+)>\s*$", body)
        pieces[("role", role, (target.group(1) if target else body).strip())] += 1
    pieces.update(("link", m) for m in LINK.findall(rest))
    return pieces


def check(pages: list[str] | None = None, catalogues: Path = CATALOGUES) -> int:
    """Print each page's counts and every lost piece of markup; the number of problems."""
    problems = 0
    files = sorted(catalogues.glob("*.po"))
    if pages:
        files = [f for f in files if f.stem in pages]
    if not files:
        print(f"no catalogues in {catalogues}: run python scripts/i18n.py extract", file=sys.stderr)
        return 1
    totals = Counter()
    for path in files:
        with path.open("rb") as file:
            catalogue = read_po(file)
        counts = Counter()
        for message in catalogue:
            if not message.id:
                continue
            if message.fuzzy:
                counts["stale"] += 1
            elif not message.string:
                counts["untranslated"] += 1
            else:
                counts["translated"] += 1
                lost = markup(message.id) - markup(message.string)
                if lost:
                    counts["broken"] += 1
                    print(f"{path.stem}: markup lost {sorted(lost)} in: {message.string[:80]!r}")
        totals.update(counts)
        problems += counts["stale"] + counts["untranslated"] + counts["broken"]
        print(f"{path.stem:24} translated {counts['translated']:5}  stale {counts['stale']:4}  "
              f"untranslated {counts['untranslated']:5}  markup lost {counts['broken']:3}")  # fmt: skip
    print(f"{'all pages':24} translated {totals['translated']:5}  stale {totals['stale']:4}  "
          f"untranslated {totals['untranslated']:5}  markup lost {totals['broken']:3}")  # fmt: skip
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("extract", "check", "build"))
    parser.add_argument("--page", action="append", help="check only this page (repeatable)")
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / ".jupyter_cache",
                        help="the English build's executed notebooks (jupyter-cache)")  # fmt: skip
    args = parser.parse_args()
    if args.command == "extract":
        extract()
    elif args.command == "build":
        build(args.cache.resolve())
    else:
        sys.exit(1 if check(args.page) else 0)


if __name__ == "__main__":
    main()
