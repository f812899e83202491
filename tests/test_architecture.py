"""The dependency rule and the error tables, checked rather than hoped for."""

from __future__ import annotations

import ast
from pathlib import Path

from parley import errors
from parley.cli.errors import EXIT_CODES

SRC = Path(__file__).resolve().parent.parent / "src" / "parley"
ADAPTERS = (
    "parley.cli",
    "parley.api",
    "parley.web",
    "parley.storage",
    "parley.services",
    "parley.store",
)
FRAMEWORKS = (
    "click", "rich", "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "jinja2",
    "httpx", "psycopg", "sqlite3", "requests", "socket", "subprocess", "urllib", "asyncio",
)  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_no_adapter_and_no_framework() -> None:
    offenders = []
    for path in sorted((SRC / "core").rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith(ADAPTERS) or top in FRAMEWORKS or name == "open":
                offenders.append(f"{path.name} imports {name}")
    assert offenders == []


def test_core_does_no_file_io() -> None:
    offenders = []
    for path in sorted((SRC / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Name) and func.id in {"open", "print", "input"}:
                offenders.append(f"{path.name}:{node.lineno} calls {node.func.id}()")
    assert offenders == []


def test_every_error_has_an_exit_code() -> None:
    for cls in errors.ALL_ERRORS:
        assert cls in EXIT_CODES, f"{cls.__name__} has no exit code"


def test_every_error_class_is_listed() -> None:
    defined = {
        obj for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, errors.ParleyError)
    }  # fmt: skip
    assert defined == set(errors.ALL_ERRORS)
    for cls in defined:
        assert cls.__name__ in (errors.__doc__ or ""), (
            f"{cls.__name__} missing from the docstring tree"
        )


def test_no_grab_bag_modules() -> None:
    names = {p.stem for p in SRC.rglob("*.py")}
    assert not names & {"utils", "helpers", "common", "misc"}


def test_every_command_is_indexed_for_lazy_loading() -> None:
    import importlib

    from parley.cli.main import COMMAND_INDEX

    defined: dict[str, str] = {}
    for module_name in set(COMMAND_INDEX.values()):
        module = importlib.import_module(f"parley.cli.{module_name}")
        for command in module.COMMANDS:
            assert command.name is not None
            defined[command.name] = module_name
    assert defined == COMMAND_INDEX
