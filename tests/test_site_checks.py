"""The site's link checker finds what it is for: missing pages, missing anchors, missing images;
and lists external links without fetching them."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_links.py"


def write_site(root: Path, link: str) -> None:
    (root / "book").mkdir(parents=True)
    (root / "book" / "a.html").write_text(
        f'<html><body><h1 id="top">A</h1><a href="{link}">b</a>'
        '<a href="https://example.org/paper">paper</a><img src="../img.png" alt="x"></body></html>'
    )
    (root / "book" / "b.html").write_text('<html><body><section id="results">B</section></body></html>')
    (root / "img.png").write_bytes(b"\x89PNG")


def run(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(root), "--report", str(root / "ext.txt")],
                          capture_output=True, text=True)  # fmt: skip


def test_a_site_whose_links_resolve_passes_and_lists_external_links(tmp_path):
    write_site(tmp_path, "b.html#results")
    result = run(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "2 pages, 1 internal links, 1 anchors, 1 images; 0 broken" in result.stdout
    assert "https://example.org/paper\tbook/a.html" in (tmp_path / "ext.txt").read_text()


def test_a_missing_anchor_or_page_fails(tmp_path):
    write_site(tmp_path / "anchor", "b.html#discussion")
    result = run(tmp_path / "anchor")
    assert result.returncode == 1 and "no anchor #discussion" in result.stdout
    write_site(tmp_path / "page", "c.html")
    result = run(tmp_path / "page")
    assert result.returncode == 1 and "c.html -> missing file" in result.stdout
