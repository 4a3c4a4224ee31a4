"""Class names and Kinetics-710 channel maps shipped inside the package, and
the one reader that every label map / channel map goes through.

A label map is the list of class names of a data set in label order (row
``i`` of a classifier scores class ``i``); a channel map is a JSON list that
gives, for each class of a target data set, its row in a source classifier
(``k710_channel_map_k400.json``: entry ``i`` is the Kinetics-710 row of
Kinetics-400 class ``i``). Both are facts of the models, so the package ships
them (``uniformer_mm/label_maps/*.txt|json``, provenance in the README next
to them) and the configs use them by default.

**Paths.** Everywhere a label map or channel map is accepted (configs: a
``UniFormerV2Head``'s ``channel_map``, ``LabelMapVideoDataset``'s
``channel_map``, a config's ``label_map``; the inference API; the tools'
``--label-map`` / ``--channel-map`` options) a path may be

* ``'uniformer_mm::label_maps/kinetics400.txt'``: a file inside the
  installed ``uniformer_mm`` package (``uniformer_mm::`` + a path relative to
  the package folder). It works the same from a clone, an editable install
  and a wheel, like mmengine's ``'mmaction::'`` config paths;
* any other string: a local file, or a URL / storage path that
  ``mmengine.fileio`` reads.

:func:`resolve_path` turns the first form into a local path; the readers
:func:`read_label_map` and :func:`read_channel_map` accept both forms.
"""
import json
import os
import os.path as osp
from pathlib import Path
from typing import List, Optional, Sequence, Union

__all__ = [
    'SCHEME', 'LabelMapError', 'resolve_path', 'is_package_path',
    'shipped_files', 'read_label_map', 'read_channel_map'
]

#: prefix of a path inside the installed package
SCHEME = 'uniformer_mm::'

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent

PathLike = Union[str, 'os.PathLike[str]']


class LabelMapError(ValueError):
    """A label map or channel map that cannot be used (one-line message that
    names the file and the fix)."""


def is_package_path(path) -> bool:
    """Whether ``path`` is a ``'uniformer_mm::...'`` path."""
    return isinstance(path, str) and path.startswith(SCHEME)


def shipped_files() -> List[str]:
    """The shipped maps as ``'uniformer_mm::label_maps/NAME'`` paths."""
    return sorted(f'{SCHEME}label_maps/{p.name}' for p in _HERE.iterdir()
                  if p.suffix in ('.txt', '.json'))


def resolve_path(path: PathLike) -> str:
    """A readable path for ``path``.

    ``'uniformer_mm::REL'`` becomes the absolute path of ``REL`` inside the
    installed package (``FileNotFoundError`` naming the shipped maps when
    there is no such file); any other path is returned unchanged (as a
    string).
    """
    path = os.fspath(path)
    if not is_package_path(path):
        return path
    rel = path[len(SCHEME):].lstrip('/')
    target = (_PACKAGE_ROOT / rel).resolve()
    if _PACKAGE_ROOT not in target.parents or not target.is_file():
        names = ', '.join(p.rsplit('/', 1)[1] for p in shipped_files())
        raise FileNotFoundError(
            f'{path!r} names no file of the installed uniformer_mm '
            f'(looked for {target}); the shipped maps are '
            f'{SCHEME}label_maps/NAME with NAME one of: {names}')
    return str(target)


def _read_text(path: PathLike, what: str) -> str:
    local = resolve_path(path)
    if '://' not in local:
        if not osp.isfile(local):
            raise FileNotFoundError(
                f'{what} {os.fspath(path)!r} does not exist (a file, or one '
                f'of the shipped maps: "{SCHEME}label_maps/NAME", see '
                f'{SCHEME}label_maps/README.md)')
        with open(local, encoding='utf-8') as f:
            return f.read()
    from mmengine.fileio import get_text
    return get_text(local)


def _load_json(text: str, what: str, where: str):
    try:
        return json.loads(text)
    except ValueError as e:
        raise LabelMapError(f'{what} {where} is not valid JSON ({e})')


def _strip_indices(names: List[str]) -> List[str]:
    """``'0 abseiling'``, ``'1 air drumming'``, ... -> the names, when every
    line starts with its own index (label maps written with indices)."""
    heads = [n.partition(' ') for n in names]
    if names and all(h.isdigit() and t.strip() and int(h) == i
                     for i, (h, _, t) in enumerate(heads)):
        return [t.strip() for _, _, t in heads]
    return names


def read_label_map(source: Union[PathLike, Sequence[str]],
                   num_classes: Optional[int] = None) -> List[str]:
    """Class names in label order.

    Args:
        source: a path (see the module docstring) to a text file with one
            class name per line (mmaction2's label maps; a leading index on
            every line is dropped), a JSON list of names, or a JSON object
            ``{name: index}`` (SlowFast's ``classids.json``); or a list of
            names.
        num_classes: when given, the number of names the map must have.

    Raises:
        FileNotFoundError: no such file.
        LabelMapError: a malformed map, or not ``num_classes`` names.
    """
    if isinstance(source, (list, tuple)):
        names = [str(n) for n in source]
        where = 'the label map'
    else:
        where = repr(os.fspath(source))
        text = _read_text(source, 'label map')
        names = _parse_label_map(text, where)
    if num_classes is not None and len(names) != int(num_classes):
        raise LabelMapError(
            f'label map {where} has {len(names)} classes, the model '
            f'{num_classes}: use the label map of the data set the model '
            'was trained on')
    return names


def _parse_label_map(text: str, where: str) -> List[str]:
    stripped = text.lstrip()
    if stripped.startswith(('{', '[')):
        data = _load_json(text, 'label map', where)
        if isinstance(data, dict):
            try:
                pairs = sorted((int(v), str(k)) for k, v in data.items())
            except (TypeError, ValueError):
                raise LabelMapError(
                    f'label map {where}: a JSON object must map names to '
                    'integer indices')
            if [i for i, _ in pairs] != list(range(len(pairs))):
                raise LabelMapError(
                    f'label map {where}: the indices are not '
                    f'0..{len(pairs) - 1}')
            return [k for _, k in pairs]
        if isinstance(data, list) and all(isinstance(x, str) for x in data):
            return list(data)
        raise LabelMapError(
            f'label map {where}: a JSON label map is a list of names or an '
            'object {name: index}')
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise LabelMapError(f'label map {where} is empty')
    if any(not n for n in names):
        raise LabelMapError(
            f'label map {where} has an empty line at line '
            f'{names.index("") + 1}: use one class name per line (an empty '
            'line would shift every following label)')
    names = _strip_indices(names)
    seen = set()
    for n in names:
        if n in seen:
            raise LabelMapError(f'label map {where} lists {n!r} twice')
        seen.add(n)
    return names


def read_channel_map(source: Union[PathLike, Sequence[int]],
                     num_classes: Optional[int] = None) -> List[int]:
    """A channel map: for each target class, its row in the source
    classifier.

    Args:
        source: a path (see the module docstring) to a JSON list of ints
            (mmaction2's ``k710_channel_map_k{400,600,700}.json``) or a JSON
            object ``{target_index: source_index}``; or a list of ints.
        num_classes: when given, the number of entries the map must have.

    Raises:
        FileNotFoundError: no such file.
        LabelMapError: a malformed map, or not ``num_classes`` entries.
    """
    if isinstance(source, (list, tuple)):
        data, where = list(source), 'the channel map'
    else:
        where = repr(os.fspath(source))
        data = _load_json(_read_text(source, 'channel map'), 'channel map',
                          where)
    if isinstance(data, dict):
        try:
            data = [data[k] for k in sorted(data, key=int)]
        except (TypeError, ValueError):
            raise LabelMapError(
                f'channel map {where}: a JSON object must have integer keys')
    if not isinstance(data, list) or not data or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0
            for i in data):
        raise LabelMapError(
            f'channel map {where}: a channel map is a JSON list of '
            'non-negative ints (entry i = source row of target class i)')
    if num_classes is not None and len(data) != int(num_classes):
        raise LabelMapError(
            f'channel map {where} has {len(data)} entries for '
            f'{num_classes} classes: use the map of the target data set')
    return data
