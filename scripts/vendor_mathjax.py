"""Put MathJax into the site, so that its equations render with no network access.

Sphinx loads MathJax from a content-delivery network by default: a reader who clones the
repository and opens the built book offline would see raw TeX. This script fetches MathJax 3
once with npm (the ordinary client of the npm registry), checks the tarball against the
integrity hash the registry publishes for this version, and unpacks the parts the book uses into
book/_static/mathjax/, which the build copies into the site (_config.yml: mathjax_path).

Usage: python scripts/vendor_mathjax.py [BOOK_ROOT]   (default: this repository; does nothing if
this version is already there)
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.2.2"
#: The registry's `dist.integrity` of mathjax@3.2.2 (`npm view mathjax@3.2.2 dist.integrity`).
INTEGRITY = "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
#: What the book needs from the package's es5/ folder: the combined TeX/MathML-to-HTML bundle,
#: its web fonts, and the components it loads on demand (TeX extensions, the context menu and
#: its accessibility tools).
KEEP = ("tex-mml-chtml.js", "input/", "output/chtml/", "ui/", "a11y/", "sre/", "adaptors/")
REPOSITORY = Path(__file__).resolve().parent.parent


def integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def main() -> int:
    book = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPOSITORY
    target = book / "book" / "_static" / "mathjax"
    stamp = target / "VERSION"
    if stamp.is_file() and stamp.read_text().strip() == VERSION:
        print(f"MathJax {VERSION} is already in {target}")
        return 0
    if shutil.which("npm") is None:
        print("error: fetching MathJax needs npm (Node.js); install it, then rerun", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"mathjax@{VERSION}", "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        tarball = Path(tmp) / f"mathjax-{VERSION}.tgz"
        found = integrity_of(tarball)
        if found != INTEGRITY:
            print(
                f"error: mathjax-{VERSION}.tgz has integrity {found}, expected {INTEGRITY}", file=sys.stderr
            )
            return 1
        prefix = "package/es5/"
        shutil.rmtree(target, ignore_errors=True)
        with tarfile.open(tarball) as tar:
            members = [
                m for m in tar.getmembers()
                if m.isfile() and m.name.startswith(prefix) and m.name.removeprefix(prefix).startswith(KEEP)
            ]  # fmt: skip
            for member in members:
                member.name = member.name[len(prefix) :]
            tar.extractall(target, members=members, filter="data")
    stamp.write_text(VERSION + "\n")
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) / 2**20
    print(f"MathJax {VERSION} checked and unpacked into {target} ({len(members)} files, {size:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
