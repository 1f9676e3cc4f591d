"""Size limits a session file must meet before it is parsed into objects.

A session file is a few kilobytes of YAML or JSON. Limits well above any real one stop hostile or
damaged files (a 50 MB list, structures nested thousands deep, a YAML "alias bomb" whose anchors
expand to billions of nodes) in well under a second, before any Python object is built:

* the file's size is read from the file system (:data:`MAX_SESSION_FILE_BYTES`);
* YAML is walked as a stream of parser events, counting nesting depth and the nodes every alias
  expands to (an alias counts as the whole node it repeats);
* JSON is scanned character by character for nesting depth outside strings.
"""

from __future__ import annotations

import yaml

__all__ = ["MAX_SESSION_FILE_BYTES", "MAX_SESSION_NESTING", "MAX_SESSION_NODES", "session_text_problems"]

#: Largest session file read (1 MB; real ones are a few kB).
MAX_SESSION_FILE_BYTES = 1_000_000
#: Deepest nesting of mappings and lists.
MAX_SESSION_NESTING = 50
#: Most nodes (scalars, mappings, lists) after expanding YAML aliases.
MAX_SESSION_NODES = 100_000

_EventLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _too_deep(depth: int) -> str:
    return (f"(session file): expected mappings and lists nested at most {MAX_SESSION_NESTING} deep, "
            f"got deeper than {depth - 1}")


def _too_many(count: int) -> str:
    return (f"(session file): expected at most {MAX_SESSION_NODES} values (YAML aliases counted as what they "
            f"repeat), got more than {count - 1}")


def _yaml_problems(*, content: str) -> list[str]:
    sizes: dict[str, int] = {}
    stack: list[tuple[str | None, int]] = []  # (anchor, nodes so far) of every open mapping or list
    total = 0
    try:
        for event in yaml.parse(content, Loader=_EventLoader):
            if isinstance(event, yaml.AliasEvent):
                added = sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                added = 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append((event.anchor, 1))
                if len(stack) > MAX_SESSION_NESTING:
                    return [_too_deep(len(stack))]
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                anchor, added = stack.pop()
                if anchor is not None:
                    sizes[anchor] = added
            else:
                continue
            total += added
            if total > MAX_SESSION_NODES:
                return [_too_many(total)]
            if stack:
                stack[-1] = (stack[-1][0], stack[-1][1] + added)
    except RecursionError:
        return [_too_deep(MAX_SESSION_NESTING + 1)]
    except yaml.YAMLError as error:
        if "nesting depth" in str(error):  # libyaml's own limit, lower than Python's recursion limit
            return [_too_deep(MAX_SESSION_NESTING + 1)]
        return []  # the parser proper reports syntax errors with their line and column
    return []


def _json_problems(*, content: str) -> list[str]:
    depth = 0
    in_string = escaped = False
    for character in content:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            if depth > MAX_SESSION_NESTING:
                return [_too_deep(depth)]
        elif character in "]}":
            depth -= 1
    return []


def session_text_problems(*, content: str, is_json: bool) -> list[str]:
    """Why a session file's text must not be parsed into objects (empty when it may).

    Parameters
    ----------
    content : str
        The file's text (at most :data:`MAX_SESSION_FILE_BYTES`).
    is_json : bool
        JSON (else YAML).

    Returns
    -------
    list of str
        One message per limit exceeded, in the session file's message style.
    """
    return _json_problems(content=content) if is_json else _yaml_problems(content=content)
