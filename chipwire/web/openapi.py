"""Write the web app's OpenAPI document to docs/openapi.json (`make openapi`);
tests/test_web_api.py fails when the committed file and the app drift apart."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chipwire.settings import Settings
from chipwire.web import create_web_app

DOCUMENT = Path("docs/openapi.json")


def document() -> dict[str, Any]:
    return create_web_app(Settings(api_token="")).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCUMENT
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
