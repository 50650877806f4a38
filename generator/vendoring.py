"""``iamgen verify DIR``: is a vendored copy of the outputs what its MANIFEST.json says?"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.output import verify_tree


def register(
    commands: Any, with_spec: Callable[[argparse.ArgumentParser], None]
) -> None:
    verify = commands.add_parser(
        "verify", help="check a vendored copy of outputs against its MANIFEST.json"
    )
    verify.add_argument(
        "folder", type=Path, help="folder holding MANIFEST.json and the files"
    )
    verify.add_argument(
        "--partial",
        action="store_true",
        help="a vendored subset: files listed in the manifest may be absent",
    )
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    report = verify_tree(args.folder, partial=args.partial)
    data = {
        "folder": str(args.folder),
        "clean": report.clean,
        "spec": {"path": report.spec_path, "sha256": report.spec_sha256},
        "checked": report.checked,
        "edited": report.edited,
        "missing": report.missing,
        "extra": report.extra,
    }
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(
            f"{args.folder}: generated from {report.spec_path} sha256 {report.spec_sha256}"
        )
        for rel in report.edited:
            print(f"edited: {rel} (sha256 differs from MANIFEST.json)")
        for rel in report.missing:
            print(f"missing: {rel}")
        for rel in report.extra:
            print(f"extra: {rel} (not in MANIFEST.json)")
        print(
            "ok: every file matches MANIFEST.json"
            if report.clean
            else f"{len(report.edited)} edited, {len(report.missing)} missing, "
            f"{len(report.extra)} extra"
        )
    return 0 if report.clean else 1
