from typing import Any
def build_coverage_view(catalog: Any) -> dict[str, Any]:
    return {"intro": "", "columns": [], "rows": [], "footnotes": []}
