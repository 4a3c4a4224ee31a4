"""One line for the mistakes users make, in one place.

Two halves:

* **Before anything is built** -- :func:`find_type`,
  :func:`type_error_line` and :func:`argument_error_line` answer "is this
  ``type`` registered?" and "does this class take that keyword?" with a
  *did you mean* from the registries the config's scope uses (mmaction2,
  mmpretrain, mmdet, ..., and mmengine's root) or from the constructor's
  signature.
  :mod:`~uniformer_mm.engine.config_checks` walks the config with them.
* **When something fails anyway** -- :func:`explain` turns the exceptions
  of a run into one line (``None`` for anything it does not know, which
  keeps its traceback: that is a bug to report). It knows our own errors
  (checkpoints, config checks, annotation lists, bad data,
  non-finite losses), mmengine's "not in the registry" ``KeyError`` and the
  "unexpected keyword argument" ``TypeError`` of a constructor, also when
  mmengine's builder or a data loader worker wrapped them. :func:`cli_errors`
  is the context manager the tools run in: it prints
  ``<tool>: error: <line>`` on stderr and exits non-zero (2: a mistake in
  the input -- config, checkpoint, annotation list; 1: the run failed on
  its data). ``--debug`` or ``UNIFORMER_MM_DEBUG=1`` keeps the traceback.
"""
import contextlib
import difflib
import inspect
import os
import re
import sys
from typing import Optional, Tuple

__all__ = [
    'DEBUG_ENV', 'REGISTRY_KINDS', 'scope_registries', 'registry_of',
    'find_type', 'close_matches', 'registered_anywhere', 'type_error_line',
    'argument_names', 'argument_error_line', 'explain', 'add_debug_argument',
    'debug_requested', 'cli_errors'
]

#: Environment variable that keeps tracebacks (like ``--debug``).
DEBUG_ENV = 'UNIFORMER_MM_DEBUG'

#: Registry kinds: what we call them -> attribute of ``<scope>.registry``.
REGISTRY_KINDS = {
    'model': 'MODELS', 'dataset': 'DATASETS', 'transform': 'TRANSFORMS',
    'data sampler': 'DATA_SAMPLERS', 'hook': 'HOOKS', 'metric': 'METRICS',
    'evaluator': ('EVALUATOR', 'EVALUATORS'), 'loop': 'LOOPS',
    'optimizer wrapper': 'OPTIM_WRAPPERS', 'optimizer': 'OPTIMIZERS',
    'parameter scheduler': 'PARAM_SCHEDULERS',
    'visualizer': 'VISUALIZERS', 'visualization backend': 'VISBACKENDS',
    'log processor': 'LOG_PROCESSORS', 'weight initializer':
    'WEIGHT_INITIALIZERS', 'batch augment': 'BATCH_AUGMENTS',
    'function': ('FUNCTION', 'FUNCTIONS'), 'runner': 'RUNNERS',
}


# ---------------------------------------------------------------------------
# registries
# ---------------------------------------------------------------------------
def scope_registries(scope: Optional[str] = None):
    """The ``<scope>.registry`` module of an OpenMMLab scope (``mmaction``,
    ``mmpretrain``, ``mmdet``, ...; None: mmengine's root), or None if that
    package is not installed."""
    import importlib
    try:
        return importlib.import_module(f'{scope or "mmengine"}.registry')
    except ImportError:
        return None


def registry_of(kind: str, scope: Optional[str] = None):
    """The registry of ``kind`` (a key of :data:`REGISTRY_KINDS`) in
    ``scope`` (``'mmaction'``, ``'mmpretrain'``, ...; None or not installed:
    mmengine's root), or None if that scope has none."""
    names = REGISTRY_KINDS[kind]
    names = (names, ) if isinstance(names, str) else names
    module = scope_registries(scope) or scope_registries(None)
    for name in names:
        registry = getattr(module, name, None)
        if registry is not None:
            return registry
    if module.__name__ != 'mmengine.registry':
        return registry_of(kind, None)
    return None


def _registered_names(registry):
    """Names of ``registry`` and its parents (lazy locations imported)."""
    names = set()
    while registry is not None:
        try:
            registry.import_from_location()
        except Exception:  # noqa: BLE001 - an optional location
            pass
        names.update(registry.module_dict)
        registry = registry.parent
    return names


def find_type(name: str, kind: str, scope: Optional[str] = None):
    """The class (or function) registered as ``name`` for ``kind`` in
    ``scope`` (``'mmpretrain.X'`` names are looked up in their scope), or
    None."""
    registry = registry_of(kind, scope)
    if registry is None:
        return None
    try:
        return registry.get(name)
    except Exception:  # noqa: BLE001 - unknown scope prefix and the like
        return None


def close_matches(word: str, candidates, n: int = 1, cutoff: float = 0.6):
    """``difflib`` matches of ``word``, case-insensitive, original case."""
    by_lower = {}
    for c in candidates:
        by_lower.setdefault(str(c).lower(), str(c))
    found = difflib.get_close_matches(str(word).lower(), list(by_lower),
                                      n=n, cutoff=cutoff)
    return [by_lower[f] for f in found]


def registered_anywhere(name: str, scope: Optional[str] = None) -> bool:
    """Whether any registry of ``scope`` (or its parents) knows ``name``:
    config dicts that are not built from the registry of their place
    (``norm_cfg``, box coders, keypoint codecs, ...) use those."""
    from mmengine.registry import Registry
    for module in {scope_registries(scope), scope_registries(None)}:
        for registry in vars(module).values() if module else ():
            if not isinstance(registry, Registry):
                continue
            try:
                if registry.get(name) is not None:
                    return True
            except Exception:  # noqa: BLE001 - an unknown scope prefix
                continue
    return False


def type_error_line(key: str, name: str, kind: str,
                    scope: Optional[str] = None) -> Optional[str]:
    """``None`` if ``name`` is a registered ``kind``; else the line that
    says so, with the closest registered names."""
    if find_type(name, kind, scope) is not None:
        return None
    short = name.split('.')[-1]
    registry = registry_of(kind, scope)
    where = (f'the {registry.scope}::{registry.name} registry'
             if registry is not None else f'any {kind} registry')
    match = close_matches(short, _registered_names(registry))
    if not match:  # perhaps registered under another kind
        pool = set()
        for other in REGISTRY_KINDS:
            reg = registry_of(other, scope)
            if reg is not None:
                pool.update(_registered_names(reg))
        match = close_matches(short, pool)
    hint = (f"; did you mean '{match[0]}'?"
            if match else
            "; check the name, or import the module that registers it "
            "(custom_imports = dict(imports=['...']))")
    return f"{key}: unknown type '{name}' (not in {where}){hint}"


# ---------------------------------------------------------------------------
# constructor arguments
# ---------------------------------------------------------------------------
def argument_names(obj) -> Tuple[set, bool]:
    """``(names, closed)``: the keyword arguments a class (through the
    ``**kwargs`` its ``__init__`` passes to its bases) or function takes;
    ``closed`` is False when some ``**kwargs`` may take anything."""
    names = set()
    targets = ([c for c in inspect.getmro(obj) if '__init__' in vars(c)]
               if inspect.isclass(obj) else [obj])
    for target in targets:
        fn = target.__init__ if inspect.isclass(target) else target
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):  # a builtin
            return names, False
        more = False
        for p in params:
            if p.kind == p.VAR_KEYWORD:
                more = True
            elif p.kind != p.VAR_POSITIONAL and p.name != 'self':
                names.add(p.name)
        if not more:
            return names, target is not object
    return names, False


def argument_error_line(key: str, obj, arg: str,
                        closed: Optional[bool] = None,
                        names: Optional[set] = None) -> Optional[str]:
    """The line for an argument ``arg`` that ``obj`` does not take (with
    the closest one it takes), or None if it may take it."""
    if names is None or closed is None:
        names, closed = argument_names(obj)
    if arg in names:
        return None
    match = close_matches(arg, names, n=1, cutoff=0.75)
    if not closed and not match:
        return None  # **kwargs may take it
    label = getattr(obj, '__name__', str(obj))
    hint = (f"; did you mean '{match[0]}'?" if match else
            f"; it takes {', '.join(sorted(names))}")
    return f"{key}: {label} has no argument '{arg}'{hint}"


# ---------------------------------------------------------------------------
# exceptions of a run -> one line
# ---------------------------------------------------------------------------
#: Our error classes (by name, so that re-raised copies match too) ->
#: exit status.
_OURS = {
    'CheckpointError': 2, 'ConfigCheckError': 2, 'AnnotationError': 2,
    'LabelMapError': 2,
    'TooManyBadSamplesError': 1, 'NonFiniteLossError': 1,
}
_FIXES = {
    'TooManyBadSamplesError':
    'Fix or remove the listed videos (python -m '
    'uniformer_mm.datasets.validate LIST --data-prefix DIR), or raise '
    'max_bad_fraction / max_consecutive_bad of the data set',
}
_BUILDER_PREFIX = re.compile(r'^(class `\w+` in [^:]*: )+')
_WORKER = re.compile(r'Caught (\w+) in DataLoader worker process \d+\.')


def _one_line(text) -> str:
    return ' '.join(str(text).split())


def _message(exc) -> str:
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return str(exc.args[0])
    return str(exc)


def _worker_original(exc) -> Optional[Tuple[str, str]]:
    """``(class name, message)`` of the exception a data loader worker
    raised (torch re-raises it with the worker's traceback as text)."""
    text = _message(exc)
    if not _WORKER.search(text):
        return None
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else ''
    m = re.match(r'^([\w.]+?)(?::\s*(.*))?$', last)
    if not m:
        return None
    return m.group(1).rsplit('.', 1)[-1], m.group(2) or ''


def _ours(exc) -> Optional[Tuple[str, int]]:
    names = [c.__name__ for c in type(exc).__mro__]
    for name, code in _OURS.items():
        if name in names:
            return name, code
    return None


def _with_fix(name, text):
    fix = _FIXES.get(name)
    if not fix or fix in text:
        return text
    return f'{text} {fix}' if text.endswith(('.', '?', '!')) else \
        f'{text}. {fix}'



def _registry_key_error(text: str) -> Optional[str]:
    m = re.search(r"'?([\w.]+) is not in the (?:(\w+)::)?([\w ]+) registry",
                  text)
    if not m:
        return None
    name, scope, reg_name = m.groups()
    kind = 'model'
    for candidate in REGISTRY_KINDS:
        registry = registry_of(candidate, scope)
        if registry is not None and registry.name == reg_name:
            kind = candidate
            break
    line = type_error_line('type', name, kind, scope)
    return line or f"unknown type '{name}' in the {reg_name} registry"


def _class_by_name(name: str):
    """A registered class named ``name``, or a base class of one (the
    ``__init__`` that raised may be inherited, e.g. ``BaseRecognizer``)."""
    for kind in ('model', 'dataset', 'transform', 'hook', 'metric'):
        for scope in ('mmaction', 'mmpretrain'):
            registry = registry_of(kind, scope)
            if registry is None:
                continue
            _registered_names(registry)  # imports the lazy locations
            while registry is not None:
                for obj in list(registry.module_dict.values()):
                    for base in getattr(obj, '__mro__', ()):
                        if base.__name__ == name:
                            return base
                registry = registry.parent
    return None


def _keyword_type_error(text: str) -> Optional[str]:
    m = re.search(r"(?:class `(\w+)` in [^:]*: )*(?:(\w+)\.)?__init__\(\) "
                  r"got an unexpected keyword argument '(\w+)'", text)
    if not m:
        return None
    owner = m.group(2) or m.group(1)
    arg = m.group(3)
    cls = _class_by_name(owner) if owner else None
    if cls is not None:
        line = argument_error_line(f'{owner}', cls, arg, closed=True)
        if line:
            return line.replace(f'{owner}: {owner} has', f'{owner} has', 1)
    return f"{owner or 'a constructor'} has no argument '{arg}'"


def explain(exc: BaseException) -> Optional[Tuple[str, int]]:
    """``(one line, exit status)`` for a known mistake, else None."""
    inner = _worker_original(exc)
    if inner is not None:
        name, text = inner
        if name in _OURS:
            return _with_fix(name, _one_line(text)), _OURS[name]
    ours = _ours(exc)
    if ours is not None:
        name, code = ours
        text = _one_line(_BUILDER_PREFIX.sub('', _message(exc)))
        if name == 'ConfigCheckError':  # one line per problem
            text = str(exc).replace('\n', '\n  ')
        return _with_fix(name, text), code
    text = _one_line(_message(exc))
    if isinstance(exc, KeyError):
        line = _registry_key_error(text)
        if line:
            return line, 2
    if isinstance(exc, TypeError):
        line = _keyword_type_error(text)
        if line:
            return line, 2
    if isinstance(exc, FileNotFoundError):
        path = exc.filename or text
        return f'no such file: {path}', 2
    return None


def add_debug_argument(parser):
    """The ``--debug`` option of the tools."""
    parser.add_argument(
        '--debug', action='store_true',
        help='show the traceback of errors that are otherwise reported in '
        f'one line (also: {DEBUG_ENV}=1)')


def debug_requested(argv=None) -> bool:
    """``--debug`` on the command line or ``UNIFORMER_MM_DEBUG=1``."""
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ.get(DEBUG_ENV, '').strip().lower()
    return '--debug' in argv or env in ('1', 'true', 'yes', 'on')


@contextlib.contextmanager
def cli_errors(prog: str, debug: bool = False):
    """Run a tool's body; a known mistake (:func:`explain`) ends it with
    ``<prog>: error: <one line>`` on stderr and its exit status, without a
    traceback (unless ``debug`` or ``$UNIFORMER_MM_DEBUG``)."""
    try:
        yield
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised unless explained
        if debug or debug_requested([]):
            raise
        explained = explain(exc)
        if explained is None:
            raise
        line, code = explained
        sys.stdout.flush()
        print(f'{os.path.basename(prog)}: error: {line}', file=sys.stderr,
              flush=True)
        sys.exit(code)
