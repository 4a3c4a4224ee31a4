"""Models by name: list, fetch, verify, convert and build any released
UniFormer / UniFormerV2 in one line.

>>> import uniformer_mm
>>> uniformer_mm.list_models('uniformerv2*k400*')       # names (configs)
>>> model = uniformer_mm.get_model('uniformerv2_k400', pretrained=True)

Names are the rows of the model index (:mod:`.model_index`): one per config
(the config file name without ``.py``), plus short aliases (``Alias Of``).
A row lists the checkpoints released for its config (``Weight Files``: an
mmaction2-hosted copy, the official release). ``NAME@SOURCE`` (e.g.
``uniformer-small_8xb128_in1k@official``) or ``source=`` picks one; by
default they are tried in the order listed.

``pretrained=True`` (:func:`fetch_checkpoint`):

1. the converted checkpoint in the cache is used when it is there and was
   made from the file the index names;
2. else the published file in the cache (verified again) is converted;
3. else the file is downloaded (progress on stderr, resumed after an
   interruption, mirrors from ``mirrors=`` or ``$UNIFORMER_MM_MIRRORS``),
   verified against the index's hash, and converted with
   :func:`uniformer_mm.apis.convert.convert_file` against the row's
   config (any supported format, strict fit, the config's head_dim, class
   names from the config's label map stored as
   ``meta['dataset_meta']['classes']``).

Cache (``torch.hub.get_dir()`` is ``$TORCH_HOME/hub``; ``TORCH_HOME``
defaults to ``~/.cache/torch``):

* ``$TORCH_HOME/hub/checkpoints/<File>``: the published file, verified;
* ``$TORCH_HOME/hub/checkpoints/uniformer_mm/<NAME>.<SOURCE>.pth``: it
  converted to our layout;
* ``$TORCH_HOME/hub/uniformer_mm_partial/<File>.part``: an unfinished
  download.

``<File>`` is the published file name (where torch.hub and mmengine put
downloads too, so a file either of them fetched is reused); files without a
known name (Google Drive links) are ``<NAME>.<SOURCE>.pth``. ``<NAME>`` is
the row an alias points to; for the published file of a test-setting row
(``Test Setting Of``: a dense ``-w32`` / ``-h32`` row) the row it tests, so
that both share one download. Nothing reaches ``checkpoints/`` before it is
complete and verified.

Every failure is one line (:class:`HubError` and its subclasses) naming the
URL, the cause (HTTP status, connection, expected / actual sha256) and where
to place a file downloaded by hand.
"""
import copy
import difflib
import fnmatch
import logging
import os
import os.path as osp
from typing import List, Optional, Union

import torch

from ..checkpoint.download import (DownloadError, check_hash,
                                   checkpoint_dir, download_file,
                                   expected_text, hub_dir, partial_dir,
                                   sha256_of)
from ..checkpoint.io import CheckpointError
from .model_index import (TASK_ALIASES, ModelIndexError, ModelInfo,
                          WeightFile, load_model_index)

__all__ = [
    'HubError', 'list_models', 'model_info', 'get_model',
    'fetch_checkpoint', 'is_model_name', 'hub_dir', 'checkpoint_dir',
    'converted_path'
]


class HubError(CheckpointError):
    """A model-hub failure with a one-line message."""


# ------------------------------------------------------------------ names
def _index():
    try:
        return load_model_index()
    except ModelIndexError as e:
        raise HubError(str(e)) from None


def _split_source(name: str):
    base, sep, source = name.partition('@')
    return (base, source) if sep and source else (name, None)


def is_model_name(text) -> bool:
    """Whether ``text`` (``NAME`` or ``NAME@SOURCE``) names a model of the
    index (False when there is no index)."""
    if not isinstance(text, str) or not text or osp.sep in text:
        return False
    try:
        index = load_model_index()
    except ModelIndexError:
        return False
    return _split_source(text)[0] in index


def model_info(name: str) -> ModelInfo:
    """The index row of ``name`` (``NAME@SOURCE`` accepted).

    Raises:
        HubError: no such name (with the closest names).
    """
    index = _index()
    base = _split_source(name)[0]
    if base in index:
        return index[base]
    close = difflib.get_close_matches(base, index.names(), n=3, cutoff=0.6)
    hint = f'did you mean {", ".join(close)}? ' if close else ''
    raise HubError(
        f'unknown model {base!r} ({len(index.names())} models in '
        f'{index.path})',
        f'{hint}uniformer_mm.list_models() lists the names')


def _task_matches(info: ModelInfo, task: str) -> bool:
    want = TASK_ALIASES.get(task.lower().strip(), task).lower()
    return any(t.lower() == want for t in info.tasks)


def list_models(pattern: Optional[str] = None, task: Optional[str] = None,
                pretrained: bool = False) -> List[str]:
    """Names of the model index, sorted.

    Args:
        pattern: shell-style wildcard (``fnmatch``, case-insensitive), e.g.
            ``'uniformerv2*k400*'``; a pattern without wildcards matches
            names containing it.
        task: a ``Task`` of the rows' results (``'Action Recognition'``,
            ``'Image Classification'``, ``'Object Detection'``, ``'Instance
            Segmentation'``, ``'Semantic Segmentation'``, ``'Body 2D
            Keypoint'``) or a short name of :data:`TASK_ALIASES`
            (``'video'``, ``'image'``, ``'detection'``, ``'segmentation'``,
            ``'pose'``, ...); a row without results is told by its input
            (``TxHxW``: video, ``HxW``: image).
        pretrained: only the names with released checkpoints.
    """
    index = _index()
    names = []
    for name, info in index.models.items():
        if pattern:
            pat = pattern.lower()
            if not any(c in pat for c in '*?['):
                pat = f'*{pat}*'
            if not fnmatch.fnmatchcase(name.lower(), pat):
                continue
        if task and not _task_matches(info, task):
            continue
        if pretrained and not _released(info):
            continue
        names.append(name)
    return sorted(names)


# ------------------------------------------------------------------ cache
def _raw_name(info: ModelInfo, wf: WeightFile) -> str:
    if wf.file:
        return osp.basename(wf.file)
    return f'{info.weights_of}.{wf.source}.pth'


def converted_path(info: ModelInfo, wf: WeightFile) -> str:
    """Where the converted checkpoint of ``wf`` is cached."""
    return osp.join(checkpoint_dir(), 'uniformer_mm',
                    f'{info.canonical}.{wf.source}.pth')


def _released(info: ModelInfo) -> list:
    """The row's weight files; an alias without its own, its model's."""
    if info.weight_files or not info.alias_of:
        return info.weight_files
    return _index()[info.alias_of].weight_files


def _weight_files(info: ModelInfo, source: Optional[str]):
    files = _released(info)
    if source:
        files = [w for w in files if w.source == source]
        if not files:
            raise HubError(
                f'{info.name} has no checkpoint from {source!r} (its '
                f'sources: {", ".join(w.source for w in _released(info))})',
                'Pick one of its sources or leave the source out')
    if not files:
        raise HubError(
            f'{info.name} has no released checkpoint',
            'Train it (tools/train.py), or pass pretrained=PATH with a '
            'checkpoint of your own')
    return files


def _record_of(path: str) -> Optional[dict]:
    """The ``uniformer_hub`` record of a converted checkpoint, or None when
    it cannot be read."""
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True,
                          mmap=True)
    except Exception:  # noqa: BLE001 - unreadable: made again
        return None
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    record = (meta or {}).get('uniformer_hub')
    return record if isinstance(record, dict) else None


def _cached_converted(info, wf, path) -> bool:
    if not osp.isfile(path):
        return False
    record = _record_of(path)
    if record is None or record.get('file') != _raw_name(info, wf) or \
            record.get('label_map') != wf.label_map:
        return False
    return check_hash(str(record.get('sha256') or ''), wf.sha256,
                      wf.sha256_prefix)


def _manual(raw_path, wf) -> str:
    digest = expected_text(wf.sha256, wf.sha256_prefix)
    check = f' (sha256 {digest})' if digest != 'unknown' else ''
    return (f'Download it by hand and place it at {raw_path}{check}, or set '
            'UNIFORMER_MM_MIRRORS to a mirror')


def _log(msg, level=logging.INFO):
    from mmengine.logging import print_log
    print_log(msg, logger='current', level=level)


def _fetch_one(info, wf, mirrors, progress, retries, timeout):
    from .convert import convert_file
    from ..checkpoint.download import apply_mirrors, direct_url
    out = converted_path(info, wf)
    if _cached_converted(info, wf, out):
        return out
    raw = osp.join(checkpoint_dir(), _raw_name(info, wf))
    manual = _manual(raw, wf)
    if osp.isfile(raw):
        actual = sha256_of(raw)
        if not check_hash(actual, wf.sha256, wf.sha256_prefix):
            raise HubError(
                f'{raw} (for {info.name}) is not the published file: sha256 '
                f'expected {expected_text(wf.sha256, wf.sha256_prefix)}, got '
                f'{actual}',
                f'Delete it to download {wf.url} again, or replace it with '
                'the right file')
    else:
        url = direct_url(
            apply_mirrors(wf.url, _raw_name(info, wf), mirrors))
        actual = download_file(
            url, raw, part_dir=partial_dir(), sha256=wf.sha256,
            sha256_prefix=wf.sha256_prefix, progress=progress,
            retries=retries, timeout=timeout, manual=manual)
        if not (wf.sha256 or wf.sha256_prefix):
            _log(f'uniformer_mm: {url} has no published hash; the file was '
                 'checked by converting it against its config (sha256 '
                 f'{actual})', logging.WARNING)
    record = dict(name=info.canonical, source=wf.source, url=wf.url,
                  file=_raw_name(info, wf), sha256=actual, label_map=None,
                  config=osp.relpath(info.config, osp.dirname(
                      load_model_index().path)))
    options = {}
    if wf.label_map:  # rows in another class order than the config's
        from .inference import load_config
        target = load_config(info.config).get('label_map')
        if not target:
            raise HubError(
                f'the index gives the class order of {wf.url} ({wf.label_map}'
                f') but the config of {info.name} names no label_map to '
                'order the rows by', 'Set label_map in the config')
        options = dict(label_map_from=wf.label_map, label_map_to=target)
        record['label_map'] = wf.label_map
    try:
        convert_file(raw, out, config=info.config, head_dim='config',
                     extra_meta=dict(uniformer_hub=record),
                     log=lambda m: _log(m, logging.DEBUG), **options)
    except CheckpointError as e:
        raise HubError(
            f'{raw} (from {wf.url}) does not convert to {info.name}: {e}',
            'Report the index row; or convert the file yourself with '
            'tools/convert_checkpoint.py and pass pretrained=PATH') from None
    _log(f'uniformer_mm: {info.name}: {wf.source} checkpoint converted to '
         f'{out}')
    return out


def fetch_checkpoint(name: str, source: Optional[str] = None,
                     mirrors=None, progress: bool = True, retries: int = 3,
                     timeout: float = 30.) -> str:
    """The local path of ``name``'s released checkpoint in our layout
    (downloaded, verified and converted as needed; see the module doc).

    Args:
        name: a model name (``NAME@SOURCE`` picks the source).
        source: ``'mmaction2'``, ``'official'``, ... (default: the sources
            of the row in order; the next one is tried when one fails).
        mirrors: mirror rules (``'OLD=NEW,...'``, a dict or a list);
            default ``$UNIFORMER_MM_MIRRORS``.
        progress: download progress on stderr.
        retries: resumptions of a broken-off download within this call.
        timeout: seconds without data before a connection counts as broken.

    Raises:
        HubError: one line (all sources failed: each one's reason).
    """
    from ..checkpoint.download import MIRRORS_ENV, parse_mirrors
    parse_mirrors(mirrors if mirrors is not None else  # fail early
                  os.environ.get(MIRRORS_ENV))
    base, tagged = _split_source(name)
    info = model_info(base)
    errors = []
    files = _weight_files(info, source or tagged)
    for i, wf in enumerate(files):
        try:
            return _fetch_one(info, wf, mirrors, progress, retries, timeout)
        except (HubError, DownloadError) as e:
            errors.append(e)
            if i + 1 < len(files):
                _log(f'uniformer_mm: {wf.source} checkpoint of {info.name} '
                     f'failed ({e}); trying {files[i + 1].source}',
                     logging.WARNING)
    if len(errors) == 1:
        raise errors[0]
    raise HubError('; '.join(f'{w.source}: {e.problem}'
                             for w, e in zip(files, errors)),
                   ' / '.join(e.fix for e in errors if e.fix))


# ---------------------------------------------------------------- models
def _resolve_config(model, pretrained):
    """``(info or None, config path or Config)`` of a get_model argument."""
    from mmengine.config import Config
    if isinstance(model, Config):
        return None, model
    text = str(model)
    if osp.isfile(text):
        real = osp.realpath(text)
        info = None
        if pretrained is True:
            info = next((i for i in _index().models.values()
                         if osp.realpath(i.config) == real), None)
        return info, text
    if text.endswith('.py'):
        raise HubError(f'config {text} does not exist',
                       'Check the path, or pass a model name '
                       '(uniformer_mm.list_models())')
    info = model_info(text)
    if not osp.isfile(info.config):
        raise HubError(
            f'the config of {info.name}, {info.config}, is missing',
            'Reinstall uniformer_mm (a non-editable install copies the '
            'configs to uniformer_mm/.mim/configs)')
    return info, info.config


def _build_on_meta(config):
    from mmengine.config import Config
    from .inference import build_model, get_task, load_config
    cfg = load_config(config) if not isinstance(config, Config) else \
        copy.deepcopy(config)
    task = get_task(cfg, dense=True)  # dense: mmdet / mmseg / mmpose
    with torch.device('meta'):
        model = build_model(cfg, task)
    model.cfg, model.task = cfg, task
    return model.eval()


def get_model(model, pretrained: Union[bool, str] = False,
              device: Union[str, torch.device, None] = None,
              source: Optional[str] = None, mirrors=None,
              cfg_options: Optional[dict] = None,
              progress: bool = True) -> torch.nn.Module:
    """Build a model by name (or config) and load its weights.

    Args:
        model: a model name (``list_models()``; ``NAME@SOURCE`` picks the
            checkpoint source), a config file or an mmengine ``Config``.
        pretrained: ``False``: no weights (random initialisation);
            ``True``: the released checkpoint of the name
            (:func:`fetch_checkpoint`); a path or URL (any supported
            format, ``uniformer://NAME`` too).
        device: ``'cpu'`` (default), ``'cuda:0'``, ... ; ``'meta'`` builds
            without memory and without weights (to inspect a model).
        source / mirrors / progress: see :func:`fetch_checkpoint`.
        cfg_options: dotted-key overrides of the config.

    Returns:
        The model in eval mode with ``model.cfg``, ``model.task`` and, when
        the checkpoint names them, ``model.dataset_meta['classes']``.
    """
    from .inference import init_model, load_config
    info, config = _resolve_config(model, pretrained)
    if str(device) == 'meta':
        if pretrained:
            raise HubError('a model on the meta device holds no weights',
                           "Pass pretrained=False with device='meta'")
        if cfg_options:
            config = load_config(config, cfg_options)
        return _build_on_meta(config)
    checkpoint = None
    if pretrained is True:
        if info is None:
            raise HubError(
                f'pretrained=True needs a model name; {model} is no model of '
                'the index', 'Pass pretrained=PATH (a checkpoint file)')
        name = str(model) if is_model_name(str(model)) else info.name
        checkpoint = fetch_checkpoint(name, source=source, mirrors=mirrors,
                                      progress=progress)
    elif pretrained:
        checkpoint = os.fspath(pretrained)
        if osp.isfile(checkpoint):  # any supported format, or one line
            from ..checkpoint.loader import SCHEME
            checkpoint = SCHEME + osp.abspath(checkpoint)
    return init_model(config, checkpoint, device=device or 'cpu',
                      cfg_options=cfg_options)


def _install():
    """Let the checkpoint layer resolve ``uniformer://NAME`` through this
    hub (it cannot import the hub: the hub sits above it)."""
    from ..checkpoint.loader import register_model_hub
    register_model_hub(is_model_name, fetch_checkpoint)


_install()
