"""MkDocs hook: the pages generated from the code, and the repository files the docs link to.

* ``<!-- settings-reference -->`` in a page becomes the configuration reference, made from
  ``qa.settings.Settings``: every field with its ``QA_*`` variable, type, default, constraints
  and description. A field whose type is a settings model (a group) gets a section of its own.
* ``<!-- openapi-reference -->`` becomes the HTTP API reference, made from the OpenAPI document
  the service serves (``api.openapi``), built over the API routers alone: no index, no model.
* ``bench/`` (its README, ``results/``, ``studies/``) and ``deploy/`` are copied into the site
  under their repository paths, so that pages link to them as ``bench/results/SUMMARY.md`` and
  ``mkdocs build --strict`` checks those links too.

The renderers are plain functions (``settings_reference``, ``openapi_reference``) so that
``tests/test_docs.py`` checks them without building the site.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_MARKER = "<!-- settings-reference -->"
OPENAPI_MARKER = "<!-- openapi-reference -->"
# Repository files the site carries, as (folder, glob) under ROOT.
REPOSITORY_FILES = (
    ("bench", "README.md"), ("bench", "*.py"), ("bench/results", "*.md"), ("bench/results", "*.json"),
    ("bench/studies", "*.md"), ("bench/studies", "*.py"), ("bench/studies/results", "*.md"),
    ("bench/studies/results", "*.json"), ("deploy", "*"),
)


# --- the configuration reference -------------------------------------------------------------

def _group_model(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field's type is, when it is one (a group), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _type_name(annotation: Any) -> str:
    """A reader's name for a field's type: ``'a' | 'b'`` for a Literal, ``int | None``, ``Path``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True, validated_data={})
    if value is None:
        return "unset"
    if isinstance(value, Path):
        home = str(Path.home())
        text = str(value)
        return "~" + text[len(home):] if text.startswith(home + "/") else text
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "empty"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and value == "":
        return "empty"
    return str(value)


def _constraints(field: FieldInfo) -> str:
    signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "length ≥", "max_length": "length ≤"}
    parts = []
    for item in field.metadata:
        for attribute, sign in signs.items():
            value = getattr(item, attribute, None)
            if value is not None:
                parts.append(f"{sign} {value}")
    return ", ".join(parts)


def _env_name(model: type[BaseModel], name: str, field: FieldInfo, parent_env: str) -> str:
    """The environment variable that sets a field, as pydantic-settings reads it."""
    alias = field.validation_alias or field.alias
    if isinstance(alias, str):
        return alias.upper()
    choices = getattr(alias, "choices", None)
    if choices and isinstance(choices[0], str):
        return choices[0].upper()
    config = model.model_config
    if "env_prefix" in config:  # a BaseSettings: its own prefix, so a group keeps the QA_ names
        return f"{config.get('env_prefix', '')}{name}".upper()
    return f"{parent_env}{name}".upper()  # a plain model nested in settings


def iter_settings(model: type[BaseModel], parent_env: str = "", path: tuple[str, ...] = ()
                  ) -> Iterator[tuple[tuple[str, ...], str, str, FieldInfo]]:
    """Every leaf field of ``model`` and its groups: (group path, field name, env name, field)."""
    delimiter = model.model_config.get("env_nested_delimiter") or ""
    for name, field in model.model_fields.items():
        group = _group_model(field.annotation)
        if group is not None:
            env = _env_name(model, name, field, parent_env)
            yield from iter_settings(group, env + delimiter if delimiter else parent_env, (*path, name))
        else:
            yield path, name, _env_name(model, name, field, parent_env), field


def _prose(text: str) -> str:
    """``text`` for Markdown: ``<`` and ``>`` outside code spans escaped (``Bearer <token>``
    is not an HTML tag)."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _cell(text: str) -> str:
    return _prose(" ".join(text.split())).replace("|", "\\|")


def settings_reference(model: type[BaseModel]) -> str:
    """Markdown: a table of the settings of ``model``, then one section per group."""
    sections: dict[tuple[str, ...], list[str]] = {}
    for path, _name, env, field in iter_settings(model):
        limits = _constraints(field)
        sections.setdefault(path, []).append(
            f"| `{env}` | `{_cell(_type_name(field.annotation))}` | `{_cell(_default(field))}` | "
            f"{_cell(field.description or '')}{' (' + limits + ')' if limits else ''} |")
    header = ["| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
    out: list[str] = []
    for path, rows in sections.items():
        if path:
            group = model
            for part in path:
                group = _group_model(group.model_fields[part].annotation)  # type: ignore[assignment]
            out += [f"### {'.'.join(path)}", ""]
            doc = (group.__doc__ or "").strip()
            if doc and doc != (BaseModel.__doc__ or "").strip():
                out += [" ".join(doc.split("\n\n")[0].split()), ""]
        out += [*header, *rows, ""]
    return "\n".join(out)


# --- the HTTP API reference ------------------------------------------------------------------

def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the service with default settings, made from the routers alone.

    ``api.app.create_app`` needs a search engine (an index and a model); the document does not,
    so the routers are mounted on a bare FastAPI app and ``api.openapi`` completes it as for
    the running service. The routes listed are ``api.app``'s.
    """
    from fastapi import FastAPI

    from api.openapi import install_openapi
    from api.routers import docs, document_writes, documents, examples, health, page, search
    from qa import __version__
    from qa.settings import Settings

    app = FastAPI(title="Svensk QA", version=__version__)
    modules = (health, search, documents, document_writes, examples, page, docs)
    for module in modules:
        app.include_router(module.router)
    settings = Settings()
    install_openapi(app, [r for m in modules for r in m.router.routes], settings.server,
                    settings.limits)
    return app.openapi()


def _schema_type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(_schema_type(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _schema_type(schema["allOf"][0])
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v, ensure_ascii=False)}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'], ensure_ascii=False)}`"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_schema_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_schema_type(schema['additionalProperties'])}"
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind) + (f" ({schema['format']})" if "format" in schema else "")


def _schema_limits(schema: dict[str, Any]) -> str:
    keys = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<",
            "minLength": "length ≥", "maxLength": "length ≤", "minItems": "items ≥",
            "maxItems": "items ≤", "pattern": "pattern", "default": "default"}
    return ", ".join(f"{sign} `{schema[key]}`" for key, sign in keys.items() if key in schema)


def _media(content: dict[str, Any]) -> list[str]:
    return [f"`{media}`: {_schema_type(body.get('schema', {}))}" for media, body in content.items()]


def openapi_reference(doc: dict[str, Any]) -> str:
    """Markdown: each operation (parameters, body, responses, whether it needs a token), then
    each schema with its properties."""
    out: list[str] = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "delete", "patch", "head"}:
                continue
            out += [f"### `{method.upper()} {path}`", ""]
            if op.get("summary"):
                out += [f"**{op['summary']}**", ""]
            if op.get("description"):
                out += [_prose(op["description"].strip()), ""]
            if op.get("security"):
                out += ["Needs a bearer token (`Authorization: Bearer …`).", ""]
            params = op.get("parameters", [])
            if params:
                out += ["| parameter | in | type | required | meaning |", "| --- | --- | --- | --- | --- |"]
                for p in params:
                    schema = p.get("schema", {})
                    limits = _schema_limits(schema)
                    out.append(f"| `{p['name']}` | {p['in']} | {_schema_type(schema)} | "
                               f"{'yes' if p.get('required') else 'no'} | "
                               f"{_cell(p.get('description', ''))}{' (' + limits + ')' if limits else ''} |")
                out.append("")
            body = op.get("requestBody")
            if body:
                out += ["Request body: " + "; ".join(_media(body.get("content", {}))) + ".", ""]
            out += ["| status | meaning | body |", "| --- | --- | --- |"]
            for status, response in op.get("responses", {}).items():
                media = "; ".join(_media(response.get("content", {})))
                out.append(f"| {status} | {_cell(response.get('description', ''))} | {media} |")
            out.append("")
    schemas = doc.get("components", {}).get("schemas", {})
    if schemas:
        out += ["## Schemas", ""]
    for name, schema in sorted(schemas.items()):
        out += [f"### {name}", ""]
        if schema.get("description"):
            out += [_prose(" ".join(schema["description"].split())), ""]
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        if props:
            out += ["| field | type | required | meaning |", "| --- | --- | --- | --- |"]
            for prop, sub in props.items():
                limits = _schema_limits(sub)
                out.append(f"| `{prop}` | {_schema_type(sub)} | {'yes' if prop in required else 'no'} | "
                           f"{_cell(sub.get('description', ''))}{' (' + limits + ')' if limits else ''} |")
            out.append("")
        elif schema.get("enum") or schema.get("type"):
            out += [f"Type: {_schema_type(schema)}.", ""]
    return "\n".join(out)


# --- MkDocs events ---------------------------------------------------------------------------

def on_config(config: Any) -> Any:
    """Document this checkout's code: its root first on the import path (an installed copy of
    the package may be another checkout's)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the repository files the pages link to (``REPOSITORY_FILES``) under their own paths."""
    from mkdocs.structure.files import File

    for folder, pattern in REPOSITORY_FILES:
        for path in sorted((ROOT / folder).glob(pattern)):
            if path.is_file():
                uri = path.relative_to(ROOT).as_posix()
                if files.get_file_from_path(uri) is None:
                    files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if SETTINGS_MARKER in markdown:
        from qa.settings import Settings

        markdown = markdown.replace(SETTINGS_MARKER, settings_reference(Settings))
    if OPENAPI_MARKER in markdown:
        markdown = markdown.replace(OPENAPI_MARKER, openapi_reference(openapi_document()))
    return markdown
