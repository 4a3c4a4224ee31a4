"""The model index: every config and released checkpoint, by name.

``model-index.yml`` imports one metafile per family in the OpenMMLab schema
(``Collections`` / ``Models`` with ``Name``, ``Config``, ``In Collection``,
``Alias Of``, ``Test Setting Of``, ``Metadata``, ``Results``, ``Weights``,
``Weight Files``); see ``docs/model_index.md``. It is looked up, first found wins, at

1. ``$UNIFORMER_MM_MODEL_INDEX`` (a file: a private zoo, or the tests'),
2. ``uniformer_mm/.mim/model-index.yml`` (an installed, non-editable
   package: ``setup.py`` copies the index and the configs there),
3. ``model-index.yml`` at the root of the clone the package is imported
   from (a checkout, an editable install).

``Import`` paths and every ``Config`` are relative to the folder of
``model-index.yml`` (the repository root, or ``.mim/``).

Each released file of a row is a :class:`WeightFile`: its ``Source``
(``mmaction2``, ``official``, ...), ``URL``, ``File`` name and ``Hash``.
A ``Hash`` is ``sha256:<64 hex digits>`` (the full digest), ``sha256:<8+ hex
digits>`` (a prefix: OpenMMLab writes the first 8 digits of a file's sha256
into its name, ``..._20221219-82c01015.pth``; text after the digits, such as
``... (prefix in the file name)``, is ignored) or ``unknown``. Without a
``Hash`` the OpenMMLab file-name convention is applied to files on
``download.openmmlab.com``. An optional ``Label Map`` names the class order
of the file's classifier rows when it is not the config's ``label_map``
(e.g. an official Kinetics release in the SlowFast order): a label-map path,
``uniformer_mm::label_maps/...`` or relative to the index's folder.
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional

__all__ = [
    'INDEX_ENV', 'ModelIndexError', 'WeightFile', 'ModelInfo', 'ModelIndex',
    'find_model_index', 'load_model_index', 'parse_hash', 'TASK_ALIASES'
]

#: Environment variable naming a model index file to use instead of the
#: package's.
INDEX_ENV = 'UNIFORMER_MM_MODEL_INDEX'

#: Short task names accepted by ``list_models(task=...)`` (lower case) and
#: the ``Task`` of the index they stand for (OpenMMLab's names). A detection
#: row has two tasks (``Object Detection`` and ``Instance Segmentation``,
#: box and mask AP).
TASK_ALIASES = {
    'video': 'Action Recognition',
    'action recognition': 'Action Recognition',
    'recognition': 'Action Recognition',
    'image': 'Image Classification',
    'image classification': 'Image Classification',
    'classification': 'Image Classification',
    'detection': 'Object Detection',
    'object detection': 'Object Detection',
    'instance segmentation': 'Instance Segmentation',
    'segmentation': 'Semantic Segmentation',
    'semantic segmentation': 'Semantic Segmentation',
    'pose': 'Body 2D Keypoint',
    'pose estimation': 'Body 2D Keypoint',
    'keypoint': 'Body 2D Keypoint',
    'body 2d keypoint': 'Body 2D Keypoint',
}

_PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
_HASH = re.compile(r'^\s*sha256\s*:\s*([0-9a-fA-F]+)')
_OPENMMLAB_NAME = re.compile(r'-([0-9a-f]{8,64})\.[A-Za-z]+$')


class ModelIndexError(ValueError):
    """A missing or malformed model index, or an unknown model name (one
    line)."""


def parse_hash(text, file_name: Optional[str] = None,
               url: str = '') -> 'tuple[Optional[str], Optional[str]]':
    """``(full sha256, sha256 prefix)`` of an index ``Hash`` entry.

    At most one of the two is set; both are None when the hash is unknown.
    ``file_name`` / ``url``: for the OpenMMLab file-name convention when
    ``text`` gives none.
    """
    match = _HASH.match(str(text or ''))
    if match:
        digits = match.group(1).lower()
        if len(digits) == 64:
            return digits, None
        if len(digits) >= 8:
            return None, digits
    if 'download.openmmlab.com' in (url or '') and file_name:
        match = _OPENMMLAB_NAME.search(file_name)
        if match:
            return None, match.group(1)
    return None, None


@dataclass
class WeightFile:
    """One released checkpoint of an index row."""
    source: str
    url: str
    file: Optional[str] = None  # None: not known (Google Drive links)
    sha256: Optional[str] = None  # full hex digest
    sha256_prefix: Optional[str] = None  # leading hex digits
    note: str = ''
    label_map: Optional[str] = None  # class order of the rows, if not the
    # config's label_map

    @property
    def hash_text(self) -> str:
        """``sha256:<digits>`` (``...`` after a prefix), or ``unknown``."""
        if self.sha256:
            return f'sha256:{self.sha256}'
        if self.sha256_prefix:
            return f'sha256:{self.sha256_prefix}...'
        return 'unknown'


@dataclass
class ModelInfo:
    """One row of the model index."""
    name: str
    config: str  # absolute path
    collection: str = ''
    alias_of: Optional[str] = None
    test_setting_of: Optional[str] = None  # the row whose weights it tests
    task: Optional[str] = None
    metadata: dict = field(default_factory=dict)
    results: list = field(default_factory=list)
    weight_files: List[WeightFile] = field(default_factory=list)
    raw: dict = field(default_factory=dict)  # the entry as written

    @property
    def canonical(self) -> str:
        """The name this one is an alias of, or its own."""
        return self.alias_of or self.name

    @property
    def weights_of(self) -> str:
        """The row whose released files these are: the one this row is a
        test setting of (a dense ``-w32`` / ``-h32`` row), else
        :attr:`canonical`."""
        return self.test_setting_of or self.canonical

    @property
    def tasks(self) -> List[str]:
        """Every ``Task`` of ``Results`` (in order; ``[task]`` for a row
        without results whose task its input tells, else ``[]``)."""
        tasks = [str(r['Task']) for r in self.results
                 if isinstance(r, dict) and r.get('Task')]
        return list(dict.fromkeys(tasks)) or ([self.task] if self.task
                                               else [])

    def metric(self, name: str) -> Optional[float]:
        """The first value of metric ``name`` (e.g. ``'box AP'``,
        ``'mIoU'``) among ``Results``, or None."""
        for result in self.results:
            metrics = (result.get('Metrics') or {}) if isinstance(
                result, dict) else {}
            if name in metrics:
                return metrics[name]
        return None

    @property
    def top1(self) -> Optional[float]:
        """The first ``Top 1 Accuracy`` of ``Results`` (the paper's)."""
        for result in self.results:
            metrics = result.get('Metrics') or {}
            for key, value in metrics.items():
                if key.lower().replace('-', ' ') == 'top 1 accuracy':
                    return value
        return None

    @property
    def sources(self) -> List[str]:
        return [w.source for w in self.weight_files]


def _task_of(entry: dict) -> Optional[str]:
    for result in entry.get('Results') or []:
        if isinstance(result, dict) and result.get('Task'):
            return str(result['Task'])
    shape = str((entry.get('Metadata') or {}).get('Input') or '')
    dims = [d for d in re.split(r'\s*x\s*', shape.strip()) if d.isdigit()]
    if len(dims) == 3:
        return 'Action Recognition'
    if len(dims) == 2:
        return 'Image Classification'
    return None


def _label_map(value, root):
    if not value:
        return None
    value = str(value)
    if '::' in value or '://' in value or osp.isabs(value):
        return value
    return osp.normpath(osp.join(root, value))


def _weight_files(entry: dict, where: str, root: str) -> List[WeightFile]:
    files = []
    listed = entry.get('Weight Files')
    if listed is None and entry.get('Weights'):
        listed = [dict(Source='unknown', URL=entry['Weights'])]
    for item in listed or []:
        if not isinstance(item, dict) or not item.get('URL'):
            raise ModelIndexError(
                f'{where}: a Weight Files entry without URL ({item!r}); every '
                'entry needs Source and URL')
        url = str(item['URL']).strip()
        name = str(item.get('File') or '').strip()
        if not name or name.lower().startswith('unknown'):
            name = None
        full, prefix = parse_hash(item.get('Hash'), name, url)
        files.append(WeightFile(source=str(item.get('Source') or 'unknown'),
                                url=url, file=name, sha256=full,
                                sha256_prefix=prefix,
                                note=str(item.get('Note') or ''),
                                label_map=_label_map(item.get('Label Map'),
                                                     root)))
    return files


class ModelIndex:
    """The rows of a model index file (and the metafiles it imports), by
    name.

    Args:
        path (str): ``model-index.yml`` (or a single metafile).
    """

    def __init__(self, path: str):
        self.path = osp.abspath(path)
        self.models: 'OrderedDict[str, ModelInfo]' = OrderedDict()
        self.files: List[str] = []
        self._load(self.path, set())
        for info in self.models.values():
            for field, target in (('Alias Of', info.alias_of),
                                  ('Test Setting Of', info.test_setting_of)):
                if target and target not in self.models:
                    raise ModelIndexError(
                        f'{info.name}: {field} {target!r} names no model '
                        f'of the index {self.path}')

    def _load(self, path: str, seen: set):
        import yaml
        if path in seen:
            return
        seen.add(path)
        if not osp.isfile(path):
            raise ModelIndexError(f'model index file {path} does not exist '
                                  '(named by an Import of the index)')
        try:
            with open(path, encoding='utf-8') as f:
                data = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            raise ModelIndexError(
                f'model index file {path} is not valid YAML: '
                f'{" ".join(str(e).split())}')
        if not isinstance(data, dict):
            raise ModelIndexError(f'model index file {path}: expected a '
                                  'mapping with Import / Models')
        self.files.append(path)
        for rel in data.get('Import') or []:
            self._load(osp.normpath(osp.join(osp.dirname(self.path),
                                             str(rel))), seen)
        for entry in data.get('Models') or []:
            self._add(entry, path, osp.dirname(self.path))

    def _add(self, entry, path, root):
        if not isinstance(entry, dict) or not entry.get('Name'):
            raise ModelIndexError(f'{path}: a Models entry without Name')
        name = str(entry['Name'])
        where = f'{path} ({name})'
        if name in self.models:
            raise ModelIndexError(f'{where}: the name is listed twice')
        if not entry.get('Config'):
            raise ModelIndexError(f'{where}: no Config')
        config = osp.normpath(osp.join(root, str(entry['Config'])))
        self.models[name] = ModelInfo(
            name=name, config=config,
            collection=str(entry.get('In Collection') or ''),
            alias_of=entry.get('Alias Of') or None,
            test_setting_of=entry.get('Test Setting Of') or None,
            task=_task_of(entry), metadata=dict(entry.get('Metadata') or {}),
            results=list(entry.get('Results') or []),
            weight_files=_weight_files(entry, where, root), raw=dict(entry))

    def __contains__(self, name) -> bool:
        return name in self.models

    def __getitem__(self, name) -> ModelInfo:
        return self.models[name]

    def names(self) -> List[str]:
        return list(self.models)


def candidate_paths() -> List[str]:
    """Where the index is looked for, in order (see the module doc)."""
    paths = []
    env = os.environ.get(INDEX_ENV)
    if env:
        paths.append(osp.abspath(osp.expanduser(env)))
    paths.append(osp.join(_PACKAGE_DIR, '.mim', 'model-index.yml'))
    paths.append(osp.join(osp.dirname(_PACKAGE_DIR), 'model-index.yml'))
    return paths


def find_model_index() -> Optional[str]:
    """The model index file in use, or None when there is none."""
    paths = candidate_paths()
    if os.environ.get(INDEX_ENV):
        return paths[0]  # named explicitly: never fall back silently
    for path in paths:
        if osp.isfile(path):
            return path
    return None


_CACHE: Dict[str, tuple] = {}


def load_model_index(path: Optional[str] = None) -> ModelIndex:
    """The :class:`ModelIndex` of ``path`` (default: :func:`find_model_index`),
    cached until one of its files changes.

    Raises:
        ModelIndexError: no index, or a malformed one (one line).
    """
    path = path or find_model_index()
    if path is None:
        raise ModelIndexError(
            'no model index found (looked for ' +
            ', '.join(candidate_paths()) + '); install uniformer_mm from a '
            f'clone that has model-index.yml, or set {INDEX_ENV}=FILE')
    path = osp.abspath(path)
    if not osp.isfile(path):
        env = os.environ.get(INDEX_ENV)
        named = env and osp.abspath(osp.expanduser(env)) == path
        raise ModelIndexError(f'model index {path} does not exist' + (
            f' (named by {INDEX_ENV})' if named else ''))
    cached = _CACHE.get(path)
    if cached is not None:
        index, stamps = cached
        if all(osp.isfile(f) and os.stat(f).st_mtime_ns == t
               for f, t in stamps.items()):
            return index
    index = ModelIndex(path)
    _CACHE[path] = (index, {f: os.stat(f).st_mtime_ns for f in index.files})
    return index
