"""The limits the domain checks compare files against.

The defaults live in ``limits.yaml`` beside this module (each number documented there). A user file
may override any subset of keys; it is merged over the defaults and must keep their types.
nwbinspector calls a check with only the object to check, so the limits in force are module state:
:func:`get_limits` returns them, :func:`use_limits` switches them for a block, and the environment
variable ``GLYMPH_VALIDATION_LIMITS`` points plain ``nwbinspector --modules ...`` runs at a file.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from ndx_glymphatic.errors import InputFileError

__all__ = ["DEFAULT_LIMITS_PATH", "LIMITS_ENVIRONMENT_VARIABLE", "get_limits", "load_limits", "use_limits"]

DEFAULT_LIMITS_PATH = Path(str(files("ndx_glymphatic.validators") / "limits.yaml"))
LIMITS_ENVIRONMENT_VARIABLE = "GLYMPH_VALIDATION_LIMITS"

_active_limits: dict[str, Any] | None = None


def _read_yaml(*, path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputFileError(
            path=path, field="limits file", expected="a readable YAML file", found=error.strerror or str(error)
        ) from error
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputFileError(path=path, field="limits file", expected="valid YAML", found=str(error)) from error
    if not isinstance(content, dict):
        raise InputFileError(
            path=path, field="limits file", expected="a mapping of sections", found=type(content).__name__
        )
    return content


def _is_range(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(item, float) for item in value)


def _checked_value(*, default: Any, value: Any, path: Path, field: str) -> Any:
    """``value`` converted to the type of ``default``, or an InputFileError naming ``field``."""
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise InputFileError(path=path, field=field, expected="a mapping", found=repr(value))
        if field.endswith(("routes", "max_dose")):  # open mappings: new routes / units may be added
            return {**default, **value}
        return _merge(defaults=default, overrides=value, path=path, prefix=f"{field}.")
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputFileError(path=path, field=field, expected="a number", found=repr(value))
        return type(default)(value)
    if _is_range(default):
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in value)
            or value[0] > value[1]
        ):
            raise InputFileError(path=path, field=field, expected="[low, high] with low <= high", found=repr(value))
        return [float(item) for item in value]
    if isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InputFileError(path=path, field=field, expected="a list of words", found=repr(value))
        return list(value)
    raise InputFileError(path=path, field=field, expected=type(default).__name__, found=repr(value))


def _merge(*, defaults: dict[str, Any], overrides: dict[str, Any], path: Path, prefix: str) -> dict[str, Any]:
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        field = f"{prefix}{key}"
        if key not in defaults:
            raise InputFileError(
                path=path,
                field=field,
                expected=f"one of {sorted(defaults)}",
                found=f"unknown key {key!r}",
                hint="see the documented defaults in ndx_glymphatic/validators/limits.yaml",
            )
        merged[key] = _checked_value(default=defaults[key], value=value, path=path, field=field)
    return merged


def load_limits(*, path: str | Path | None = None) -> dict[str, Any]:
    """Read the default limits, with the keys of ``path`` (if given) merged over them.

    Parameters
    ----------
    path : str or Path, optional
        A YAML file with a subset of the sections and keys of ``limits.yaml``.

    Returns
    -------
    dict
        The full nested mapping of limits.

    Raises
    ------
    InputFileError
        When the file cannot be read, is not YAML, names an unknown key or has a value of the wrong type.
    """
    defaults = _read_yaml(path=DEFAULT_LIMITS_PATH)
    if path is None:
        return defaults
    path = Path(path)
    return _merge(defaults=defaults, overrides=_read_yaml(path=path), path=path, prefix="")


def get_limits() -> dict[str, Any]:
    """The limits in force: those of :func:`use_limits`, else of ``$GLYMPH_VALIDATION_LIMITS``, else defaults."""
    global _active_limits
    if _active_limits is None:
        _active_limits = load_limits(path=os.environ.get(LIMITS_ENVIRONMENT_VARIABLE) or None)
    return _active_limits


@contextlib.contextmanager
def use_limits(*, path: str | Path | None) -> Iterator[dict[str, Any]]:
    """Use the limits of ``path`` (merged over the defaults) inside the block; ``None`` keeps the current ones.

    Parameters
    ----------
    path : str or Path or None
        The limits file.

    Yields
    ------
    dict
        The limits in force inside the block.
    """
    global _active_limits
    if path is None:
        yield get_limits()
        return
    previous = _active_limits
    _active_limits = load_limits(path=path)
    try:
        yield _active_limits
    finally:
        _active_limits = previous
