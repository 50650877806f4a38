"""``iamgen``: argument parsing only; calls the pipeline and maps errors to exit codes.

Exit codes: 0 success, 1 findings (drift, denied, lint warnings) where a command says so,
2 bad input (spec errors, malformed policies, usage errors).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from generator.errors import OutputError, SpecInvalid

# Modules that add subcommands: each has register(commands, with_spec) and sets a handler.
COMMAND_MODULES = (
    "generator.commands",
    "generator.vendoring",
    "generator.upstream",
    "generator.spec_diff",
    "generator.annotate",
)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser(
    command_modules: Sequence[str] = COMMAND_MODULES,
) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="iamgen",
        description="Generate outputs from the aws-external-anthropic IAM spec, and answer "
        "what policies really allow. Exit codes: 0 ok, 1 findings, 2 bad input.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    def with_spec(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--spec",
            type=Path,
            default=Path("spec/aws-external-anthropic.yaml"),
            help="spec file (default: %(default)s)",
        )

    generate = commands.add_parser("generate", help="write generated/ from the spec")
    with_spec(generate)
    generate.add_argument(
        "--out", type=Path, default=Path("generated"), help="output folder"
    )

    check = commands.add_parser(
        "check",
        help="exit 1 with a diff when the output folder is not what the spec produces",
    )
    with_spec(check)
    check.add_argument(
        "--out", type=Path, default=Path("generated"), help="output folder"
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="run the full pipeline even when .iamgen-cache/ holds a rendering of the same inputs",
    )

    validate = commands.add_parser(
        "validate", help="check the spec; report every error"
    )
    with_spec(validate)

    for module_name in command_modules:
        importlib.import_module(module_name).register(commands, with_spec)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # check needs none of the other commands, whose modules import the pipeline (jinja2,
    # ruamel.yaml, black): a check answered from the cache must not pay for them.
    parser = build_parser(() if argv[:1] == ["check"] else COMMAND_MODULES)
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args) if hasattr(args, "handler") else _run(args)
        return result
    except SpecInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        count = len(exc.errors)
        print(f"{count} error{'s' if count != 1 else ''} in the spec", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as exc:
        print(f"iamgen: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    from generator import cache, output

    raw = output.read_spec_bytes(args.spec)
    key = cache.cache_key(raw)
    outputs = None
    if args.command == "check" and not args.no_cache:
        # Same inputs, same outputs: compare with the stored rendering (generator/cache.py).
        outputs = cache.load_outputs(key)
    if outputs is None:
        from generator import pipeline

        model = pipeline.load_model(raw, _display_path(args.spec))
        if args.command == "validate":
            print(
                f"{_display_path(args.spec)}: ok ({len(model.spec.actions)} actions, "
                f"{len(model.catalog.routes)} routes)"
            )
            return EXIT_OK
        outputs = pipeline.render_outputs(model)
        cache.store_outputs(key, outputs)
    if args.command == "generate":
        removed = output.write_outputs(args.out, outputs)
        print(f"wrote {len(outputs)} files to {args.out}")
        for rel in removed:
            print(f"removed stale {args.out / rel}")
        return EXIT_OK
    report = output.check_outputs(args.out, outputs)
    if report.clean:
        print(f"{args.out} is up to date ({len(outputs)} files)")
        return EXIT_OK
    for diff in report.changed.values():
        sys.stdout.write(diff if diff.endswith("\n") else diff + "\n")
    for rel in report.missing:
        print(f"missing: {args.out / rel}")
    for rel in report.stale:
        print(f"stale: {args.out / rel} (owned by iamgen, no longer produced)")
    print(
        f"{args.out} is out of date: {len(report.changed)} changed, {len(report.missing)} "
        f"missing, {len(report.stale)} stale. Run `make generate` (iamgen generate) and commit.",
        file=sys.stderr,
    )
    return EXIT_FINDINGS


def _display_path(path: Path) -> str:
    """The spec path as given, relative when possible: it starts every error message."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
