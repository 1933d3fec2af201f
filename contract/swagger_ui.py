"""Gate 4 of the contract checks: headless Chromium loads the Swagger UI of a running
server; the selector offers the four specs and each renders all of its operations.
A screenshot of the first is saved as a CI artifact."""

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--virtual-time-budget=15000"]
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def dom(url: str) -> str:
    return subprocess.run(CHROMIUM + ["--dump-dom", url], capture_output=True, text=True,
                          timeout=120, check=True).stdout


def main() -> int:
    base, shot = sys.argv[1], Path(sys.argv[2])
    page = dom(f"{base}/swagger-ui/")
    offered = re.findall(r'<option value="(/[\w/-]+/openapi\.json)">([\w-]+)</option>', page)
    names = [name for _, name in offered]
    print(f"swagger-ui: specs offered: {', '.join(names)}")
    failures = 0 if names == ["merchant", "bank", "bank-integration", "donau"] else 1
    for path, name in offered:
        spec = json.load(urllib.request.urlopen(f"{base}{path}"))
        declared = sum(1 for item in spec["paths"].values() for m in item if m in METHODS)
        rendered = len(re.findall(r'class="opblock opblock-', dom(f"{base}/swagger-ui/?urls.primaryName={name}")))
        print(f"swagger-ui: {name}: {rendered} of {declared} operations rendered")
        failures += rendered != declared
    shot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(CHROMIUM + ["--window-size=1400,1800", f"--screenshot={shot}", f"{base}/swagger-ui/"],
                   capture_output=True, timeout=120, check=True)
    print(f"swagger-ui: screenshot {shot} ({shot.stat().st_size} bytes)")
    return 1 if failures or not shot.stat().st_size else 0


if __name__ == "__main__":
    sys.exit(main())
