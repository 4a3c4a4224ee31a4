"""Config knobs: settings a child config (or ``--cfg-options``) changes once,
and every pipeline, loader and model field built from them follows.

mmengine evaluates a base config before its child, so a base that writes
``dict(type='UniformSample', clip_len=clip_len)`` freezes the value its own
``clip_len`` had. The family bases of ``configs/`` therefore write a
*reference* instead of the value::

    clip_len = 8
    train_pipeline = [..., dict(type='UniformSample', clip_len='${clip_len}'),
                      ...]

and :func:`resolve_knobs` replaces every reference by the value of the
top-level variable it names, after the child configs and ``--cfg-options``
are merged. A child config of two lines therefore trains with 16 frames::

    _base_ = ['./uniformerv2-base-p16-res224_clip_u8_kinetics400-rgb.py']
    clip_len = 16

The reference syntax (strings only):

* ``'${name}'`` (the whole string) is replaced by the value of the
  top-level variable ``name``, of any type (number, list, dict);
  ``'${name.key.0}'`` walks into dicts (keys) and lists (indices);
* a reference inside a longer string is replaced by the value's text
  (``'data/${dataset}/videos'``);
* references nest, innermost first: ``'${${model_family}_model}'`` is the
  variable ``uniformer_model`` when ``model_family = 'uniformer'``;
* a referenced value that holds references is resolved first; a reference
  to a missing variable, or a cycle, is a :class:`KnobError` of one line;
* ``parsed_knobs = dict(name=value)``: settings a file used while it was
  read (:func:`check_parsed_knobs`); changing them later is refused.

Who calls it: ``tools/train.py``, ``tools/test.py`` and the tools built on
their config loading, :func:`uniformer_mm.apis.load_config` (hence
``init_model``, ``tools/infer.py``, the hub and the web UI), and
:func:`load_config` here for scripts. The resolved config is what the
runner gets and what it dumps into the work directory: plain values, no
references, so the dump runs again as it is.

:func:`uniformer_mm.datasets.config_utils.update_transforms` (the legacy way
to change a built pipeline) stays for old configs.
"""
import copy
import difflib
import re
from typing import Any, Iterable, Optional

#: the innermost reference: ``${...}`` with no ``$``, ``{`` or ``}`` inside
_INNER = re.compile(r'\$\{([^${}]*)\}')


class KnobError(ValueError):
    """A reference that cannot be resolved (one line: where, what, fix)."""


def _close(word: str, candidates: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(candidates), n=1,
                                      cutoff=0.7)
    return f" (did you mean '{match[0]}'?)" if match else ''


def has_references(node: Any) -> bool:
    """Whether ``node`` (any config value) holds a ``${...}`` reference."""
    if isinstance(node, str):
        return _INNER.search(node) is not None
    if isinstance(node, dict):
        return any(has_references(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(has_references(v) for v in node)
    return False


def resolve_knobs(cfg: Any) -> Any:
    """Replace every ``${...}`` reference of ``cfg`` in place (see the
    module docstring) and return ``cfg``.

    Args:
        cfg: an mmengine ``Config`` or a (nested) dict of a whole config.

    Raises:
        KnobError: a reference to a variable the config does not have, a
            path that does not exist, or a cycle.
    """
    top = cfg._cfg_dict if hasattr(cfg, '_cfg_dict') else cfg
    done = {}  # top-level name -> resolved value
    active = []  # top-level names being resolved (cycle detection)

    def walk(value, name, keys, path, where):
        for i, key in enumerate(keys):
            here = '.'.join([name] + keys[:i])
            if isinstance(value, dict) and key in value:
                value = value[key]
            elif isinstance(value, (list, tuple)) and key.isdigit() and \
                    int(key) < len(value):
                value = value[int(key)]
            else:
                raise KnobError(
                    f'config: {where} refers to ${{{path}}}, but {here} has '
                    f'no {key!r}')
        return value

    def lookup(path, where):
        name, *keys = path.strip().split('.')
        if name not in top:
            names = [k for k in top if isinstance(k, str)]
            raise KnobError(
                f'config: {where} refers to ${{{path}}}, but the config has '
                f'no top-level variable {name!r}{_close(name, names)}')
        if name not in done and name in active:
            # a reference into the variable being resolved (e.g. the head's
            # checkpoint = the backbone's): resolve just that part
            if not keys or path in active:
                cycle = ' -> '.join(active[active.index(name):] + [path])
                raise KnobError(f'config: the references form a cycle: '
                                f'{cycle}')
            active.append(path)
            value = visit(walk(top[name], name, keys, path, where), path)
            active.pop()
            return value
        if name not in done:
            active.append(name)
            done[name] = visit(top[name], name)
            active.pop()
            top[name] = done[name]
        return walk(done[name], name, keys, path, where)

    def text(value, where):
        match = _INNER.search(value)
        while match is not None:
            resolved = lookup(match.group(1), where)
            if match.span() == (0, len(value)):
                # a copy: the variable and its users stay independent
                return copy.deepcopy(resolved)
            value = (value[:match.start()] + str(resolved) +
                     value[match.end():])
            match = _INNER.search(value)
        return value

    def visit(node, where):
        if isinstance(node, str):
            return text(node, where)
        if isinstance(node, dict):
            for key in list(node.keys()):
                node[key] = visit(node[key], f'{where}.{key}')
            return node
        if isinstance(node, list):
            for i, item in enumerate(node):
                node[i] = visit(item, f'{where}.{i}')
            return node
        if isinstance(node, tuple):
            return type(node)(visit(item, f'{where}.{i}')
                              for i, item in enumerate(node))
        return node

    check_parsed_knobs(top)
    for name in list(top.keys()):
        if name not in done:
            lookup(name, name)
    return cfg


def check_parsed_knobs(top: dict) -> None:
    """A config may record in ``parsed_knobs = dict(name=value)`` the
    values it used while its file was read (e.g. the demo chooses ``model``
    by ``model_family``); a final value that differs (set by a child config
    or ``--cfg-options``, which come too late) is a :class:`KnobError`."""
    for name, value in (top.get('parsed_knobs') or {}).items():
        if top.get(name) != value:
            raise KnobError(
                f'config: {name} = {top.get(name)!r} comes too late: the '
                f'config chose its settings by {name} = {value!r} when its '
                f'file was read; change that line in the file itself')


def load_config(path: str, cfg_options: Optional[dict] = None):
    """``Config.fromfile(path)``, ``cfg_options`` merged, references
    resolved: the config as the tools see it."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(path))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return resolve_knobs(cfg)
