"""The domain imports no web framework, no database layer and no ML library."""

import ast
from pathlib import Path

import tiyan

PACKAGE = Path(tiyan.__file__).parent
FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "alembic", "sklearn", "jinja2", "uvicorn",
             "tiyan.store", "tiyan.web", "tiyan.services")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_modules_import_nothing_from_outer_layers():
    offenders = {}
    for path in (PACKAGE / "domain").rglob("*.py"):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN
               or any(m.startswith(f) for f in FORBIDDEN)}
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_text_and_predict_do_not_import_the_web_or_database_layers():
    web_or_db = ("fastapi", "starlette", "sqlalchemy", "tiyan.web", "tiyan.store")
    offenders = {}
    for folder in ("text", "predict"):
        for path in (PACKAGE / folder).rglob("*.py"):
            bad = {m for m in imported_modules(path) if any(m.startswith(f) for f in web_or_db)}
            if bad:
                offenders[f"{folder}/{path.name}"] = sorted(bad)
    assert offenders == {}
