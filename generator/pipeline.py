"""The pipeline: load -> validate -> views -> render -> format. Pure: returns {path: text}.

``generate`` and ``check`` (in ``output``) differ only in what they do with the result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from generator.catalog import Catalog
from generator.errors import SpecInvalid
from generator.load import load_spec_text
from generator.model import Spec, build_spec
from generator.render import format_python, normalize_text, render_template
from generator.validate import validate_spec
from generator.views.cloudtrail import SELECTORS_PATH, build_cloudtrail_view
from generator.views.docs import build_docs_view
from generator.views.manifest import MANIFEST_PATH, build_manifest_view
from generator.views.openapi import build_openapi_view
from generator.views.policies import build_policy_views
from generator.views.python_package import PACKAGE_DIR, build_python_package_view
from generator.views.schema import build_schema_view
from generator.views.service_reference import (
    SERVICES_INDEX_PATH,
    build_service_reference_view,
    build_services_index_view,
    service_reference_path,
)

DEFAULT_SPEC = Path("spec/aws-external-anthropic.yaml")
SPEC_DISPLAY_NAME = "spec/aws-external-anthropic.yaml"


@dataclass(frozen=True)
class LoadedModel:
    spec: Spec
    catalog: Catalog
    spec_sha256: str


def load_model(raw: bytes, display_path: str) -> LoadedModel:
    """Parse and validate spec bytes; raises SpecInvalid with every error found."""
    loaded, errors = load_spec_text(raw, display_path)
    if loaded is None:
        raise SpecInvalid(errors)
    spec, errors = build_spec(loaded.data, loaded.locator)
    if spec is None:
        raise SpecInvalid(errors)
    errors = validate_spec(spec, loaded.locator)
    if errors:
        raise SpecInvalid(errors)
    from generator.claims import check_claims  # needs the IAM engine; valid model only

    errors = check_claims(spec, loaded.locator)
    if errors:
        raise SpecInvalid(errors)
    return LoadedModel(spec, Catalog(spec), hashlib.sha256(raw).hexdigest())


def render_outputs(model: LoadedModel) -> dict[str, str]:
    """Every generated file, keyed by its path relative to the output folder."""
    catalog = model.catalog
    outputs: dict[str, str] = {}

    package = build_python_package_view(catalog)
    outputs[f"{PACKAGE_DIR}/__init__.py"] = format_python(
        render_template("python/__init__.py.jinja", **package)
    )
    outputs[f"{PACKAGE_DIR}/py.typed"] = render_template("python/py.typed.jinja")

    for path, view in build_policy_views(model.spec).items():
        outputs[path] = render_template("policies/policy.json.jinja", **view)

    outputs["docs/iam-actions.md"] = render_template(
        "docs/iam-actions.md.jinja", **build_docs_view(catalog)
    )
    outputs["openapi/openapi.json"] = render_template(
        "openapi/openapi.json.jinja", **build_openapi_view(catalog)
    )
    outputs["schema/spec.schema.json"] = render_template(
        "schema/spec.schema.json.jinja", **build_schema_view()
    )
    outputs[SELECTORS_PATH] = render_template(
        "cloudtrail/data-event-selectors.json.jinja", **build_cloudtrail_view(catalog)
    )
    outputs[service_reference_path(catalog.prefix)] = render_template(
        "service_reference/service.json.jinja", **build_service_reference_view(catalog)
    )
    outputs[SERVICES_INDEX_PATH] = render_template(
        "service_reference/services-index.json.jinja",
        **build_services_index_view(catalog),
    )

    outputs = {
        path: (normalize_text(text) if text else text) for path, text in outputs.items()
    }
    outputs[MANIFEST_PATH] = normalize_text(
        render_template(
            "manifest/MANIFEST.json.jinja",
            **build_manifest_view(outputs, model.spec_sha256, SPEC_DISPLAY_NAME),
        )
    )
    return dict(sorted(outputs.items()))
