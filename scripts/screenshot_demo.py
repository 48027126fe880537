"""Screenshot an otel-lambda-init HTML view with headless Chromium (Debian's /usr/bin/chromium).

Usage: python scripts/screenshot_demo.py [--html FILE] [--out PNG]
Without --html it runs `otel-lambda-init demo` into a temporary directory first. Exits 3 when
no Chromium is installed (`apt-get install -y chromium`), so callers can skip.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html: Path, out: Path, chromium: str, size: str = "1100,1400") -> Path:
    """Render html to out (PNG); every argument keeps it headless, offline and bounded."""
    with tempfile.TemporaryDirectory(prefix="otel-lambda-chromium-") as profile:
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            f"--screenshot={out.resolve()}",
            html.resolve().as_uri(),
        ]
        subprocess.run(cmd, check=True, timeout=60, capture_output=True)
    if not out.exists():
        raise RuntimeError(f"chromium did not write {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--html", type=Path)
    p.add_argument("--out", type=Path, default=Path("demo-screenshot.png"))
    args = p.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("no chromium found (apt-get install -y chromium)", file=sys.stderr)
        return 3
    html = args.html
    if html is None:
        out_dir = Path(tempfile.mkdtemp(prefix="otel-lambda-demo-"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "otel_lambda_init.cli",
                "demo",
                "--quiet",
                "--out",
                str(out_dir),
            ],
            check=True,
            timeout=120,
        )
        html = out_dir / "demo.html"
    print(screenshot(html, args.out, chromium))
    return 0


if __name__ == "__main__":
    sys.exit(main())
