"""Screenshot parts of an otel-lambda-init HTML view with headless Chromium driven by Playwright.

Uses the system's Chromium (Debian's /usr/bin/chromium, `apt-get install chromium`) through
Playwright's executable_path: no browser download. Parts are CSS selectors, e.g. the sandbox
timeline (`svg >> nth=0`) or one trace (`section.trace >> nth=3`).

Usage: python scripts/screenshot_view.py VIEW.html OUT.png [SELECTOR] [--width 1400]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("html", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("selector", nargs="?", default=None, help="element to capture (default: page)")
    p.add_argument("--width", type=int, default=1400)
    args = p.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium found (apt-get install -y chromium)", file=sys.stderr)
        return 3
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        page.goto(args.html.resolve().as_uri())
        if args.selector:
            page.locator(args.selector).first.screenshot(path=str(args.out))
        else:
            page.screenshot(path=str(args.out), full_page=True)
        browser.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
