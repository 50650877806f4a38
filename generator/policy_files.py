"""Read a user's policy file: the one reader ``simulate`` and ``lint`` share.

A file must be one JSON document that AWS would read the way we do; anything else is refused
with a message for people, never guessed at.
"""

from __future__ import annotations

import json

from generator.iam.policy import MAX_POLICY_CHARACTERS, policy_size, size_problem

# No IAM policy is larger than 10,240 characters (IAM quotas); a file a hundred times that is
# refused before it is decoded, a smaller one by its size without white space.
MAX_POLICY_FILE_BYTES = 1024 * 1024


class PolicyJsonError(ValueError):
    """A policy file that is not one JSON document AWS would read the same way we do."""


def read_policy_json(raw: bytes) -> object:
    """The JSON document in a policy file (``lint`` and ``simulate`` read files with this).

    Refused, with a message for people: files over ``MAX_POLICY_FILE_BYTES``, text that is not
    UTF-8 (a byte order mark is allowed), policies larger than IAM's largest quota, invalid
    JSON, NaN/Infinity, duplicate keys in one object, and nesting too deep to parse.
    """
    if len(raw) > MAX_POLICY_FILE_BYTES:
        raise PolicyJsonError(
            f"the file is {len(raw)} bytes; no IAM policy is larger than"
            f" {MAX_POLICY_CHARACTERS:,} characters"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PolicyJsonError(f"not UTF-8 text (byte {error.start + 1})") from None
    too_large = size_problem(policy_size(text))
    if too_large is not None:
        raise PolicyJsonError(too_large)
    try:
        return json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as error:
        raise PolicyJsonError(
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except _JsonValueError as error:
        raise PolicyJsonError(f"invalid JSON: {error}") from None
    except RecursionError:
        raise PolicyJsonError("invalid JSON: nested too deeply to read") from None


class _JsonValueError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Python keeps the last of duplicate keys; other parsers may not, so the document we
    # would lint is not reliably the one AWS reads.
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _JsonValueError(
                f"duplicate key {key!r} in one object; write each element once"
            )
        out[key] = value
    return out


def _reject_constant(name: str) -> object:
    raise _JsonValueError(f"{name} is not a JSON value")
