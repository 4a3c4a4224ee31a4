"""Loading foreign checkpoints from configs (mmengine integration).

Three entry points, all installed by ``import uniformer_mm`` (which a config
gets through ``custom_imports``):

``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` on our V1 backbones
    :func:`load_pretrained_backbone`: any supported format (official
    image/video/light/token-labeling, mmaction2, ours); the backbone keys are
    taken (``prefix``, default ``'backbone.'`` of our layout), 2D image
    weights are inflated for a video backbone (official V1 rule: repeat over
    time / T), the head_dim is checked, and what was not loaded is logged.

``load_from=PATH`` (and any other plain-path load through mmengine)
    mmengine's local-file loader is replaced (``CheckpointLoader`` scheme
    ``''``) by :func:`load_from_local_uniformer`: it reads with
    ``weights_only=True`` like mmengine (one-line error for a legacy pickle)
    and converts, on the fly, files in an *official* UniFormer layout
    (:data:`~uniformer_mm.checkpoint.formats.OFFICIAL_FORMATS`) to ours.
    Everything else -- mmengine checkpoints, other models' files -- is
    returned exactly as mmengine would.

``load_from='uniformer://PATH'``
    Explicit: converts any supported format (CLIP too), and fails with a
    one-line error on an unknown one.

``load_from='uniformer://NAME'``
    A model of the model index (``uniformer_mm.list_models()``;
    ``NAME@SOURCE`` picks the source): its released checkpoint, downloaded,
    verified, converted and cached by :func:`uniformer_mm.apis.hub.
    fetch_checkpoint` (a file of that name in the working directory wins).

``load_from='https://...'`` (and ``http://``, for any of the above)
    mmengine's URL loader ends in ``torch.hub.load_state_dict_from_url``,
    which unpickles with ``weights_only=False``: a downloaded file could run
    code. :func:`load_from_url` downloads into the same cache
    (``$TORCH_HOME/hub/checkpoints``, rank 0 first) with the model hub's
    downloader (:func:`~uniformer_mm.checkpoint.download.download_file`:
    resumed after an interruption, one-line errors) and reads the file with
    :func:`~uniformer_mm.checkpoint.io.load_checkpoint_file` like a local
    one.

Head layout of converted official V1 files follows their kind: image files
get mmpretrain's (``head.fc``), video files mmaction2's (``cls_head.fc_cls``).
``load_from`` loads non-strictly (mmengine): check its log for missing keys.
Image weights for a *video* model go through the backbone ``init_cfg`` (the
loader of ``load_from`` does not see the model and cannot inflate).
"""
import logging
import os.path as osp
from collections import OrderedDict

from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from .arch import (arch_meta, check_head_dim, checkpoint_head_dim,
                   describe_state_dict, head_dim_check_enabled)
from .coverage import check_load_coverage
from .download import checkpoint_dir, download_file, partial_dir
from .formats import OFFICIAL_FORMATS, convert_checkpoint, detect_format
from .inflate import inflate_v1, inflate_v2
from .io import CheckpointError, load_checkpoint_file

SCHEME = 'uniformer://'

#: The model hub that resolves ``uniformer://NAME``: ``is_model_name`` and
#: ``fetch_checkpoint`` of :mod:`uniformer_mm.apis.hub`, which installs them
#: with :func:`register_model_hub` when it is imported (``import
#: uniformer_mm`` does). The checkpoint layer sits below the hub, so it asks
#: through this slot instead of importing it.
_MODEL_HUB = {}


def register_model_hub(is_model_name, fetch_checkpoint):
    """Install the functions that test and fetch ``uniformer://NAME``."""
    _MODEL_HUB.update(is_model_name=is_model_name,
                      fetch_checkpoint=fetch_checkpoint)


def is_hub_model(text) -> bool:
    """Whether ``text`` names a model of the installed model hub's index
    (False when no hub is installed)."""
    test = _MODEL_HUB.get('is_model_name')
    return bool(test and test(text))


def resolve_scheme_path(path: str) -> str:
    """The local file of ``uniformer://PATH`` / ``uniformer://NAME``
    (fetched from the model hub for a NAME); other paths unchanged.

    Raises:
        CheckpointError: neither an existing file nor a model name (one
            line).
    """
    if not path.startswith(SCHEME):
        return path
    rest = osp.expanduser(path[len(SCHEME):])
    if osp.isfile(rest) or '://' in rest:
        return rest
    if is_hub_model(rest):
        return _MODEL_HUB['fetch_checkpoint'](rest)
    if osp.sep in rest or osp.splitext(rest)[1] in ('.pth', '.pt', '.pyth',
                                                    '.ckpt', '.bin'):
        raise FileNotFoundError(f'{rest} can not be found.')
    raise CheckpointError(
        f'{path}: no file {rest!r} and no model of that name in the model '
        'index', 'Give an existing checkpoint file or a name that '
        'uniformer_mm.list_models() lists')


def read_checkpoint(path: str, allow_unsafe=None, map_location='cpu'):
    """A local file with :func:`load_checkpoint_file`; URLs and other
    schemes through mmengine's loaders; ``uniformer://NAME`` through the
    model hub."""
    path = resolve_scheme_path(path)
    if '://' in path and not osp.isfile(path):
        return CheckpointLoader.load_checkpoint(path, map_location)
    return load_checkpoint_file(path, allow_unsafe=allow_unsafe,
                                map_location=map_location)


def _with_arch_metadata(state_dict, head_dim, how, fmt, source):
    """Carry the checkpoint's head_dim to the backbone's load hook."""
    md = getattr(state_dict, '_metadata', None)
    md = OrderedDict() if md is None else OrderedDict(md)
    entry = dict(md.get('backbone', {}))
    info = dict(entry.get('uniformer_arch') or {})
    info.setdefault('head_dim', head_dim)
    info.setdefault('head_dim_source', how)
    info.setdefault('source', osp.basename(str(source)))
    info.setdefault('source_format', fmt)
    entry['uniformer_arch'] = info
    md['backbone'] = entry
    state_dict._metadata = md
    return state_dict


def convert_for_loading(ckpt, filename, explicit: bool):
    """The loaded object, converted to our layout when it is an official
    UniFormer file (or any supported file when ``explicit``)."""
    try:
        fmt = detect_format(ckpt)
    except CheckpointError:
        if explicit:
            raise
        return ckpt
    if not explicit and fmt not in OFFICIAL_FORMATS:
        return ckpt
    kwargs = {}
    if fmt == 'clip':
        kwargs['conv1_time_dim'] = 1  # Kinetics models (no temporal down.)
    result = convert_checkpoint(ckpt, src_format=fmt, **kwargs)
    hd, how = checkpoint_head_dim(result.meta, result.state_dict, fmt,
                                  filename)
    sd = result.state_dict
    if fmt.startswith('v1_') or fmt == 'ours':
        sd = _with_arch_metadata(sd, hd, how, fmt, filename)
    if fmt != 'ours':
        print_log(
            f'uniformer_mm: converted {filename} ({fmt}) to the uniformer_mm '
            f'layout ({len(sd)} tensors)'
            + (' with conv1 inflated to 1 frame' if fmt == 'clip' else ''),
            logger='current')
    meta = dict(result.meta)
    meta.setdefault('uniformer_source_format', fmt)
    return {'state_dict': sd, 'meta': meta}


def load_from_local_uniformer(filename, map_location):
    """mmengine's local loader + on-the-fly conversion of official files."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    ckpt = load_checkpoint_file(filename, map_location=map_location)
    return convert_for_loading(ckpt, filename, explicit=False)


def load_from_uniformer_scheme(filename, map_location):
    """``uniformer://PATH``: convert any supported format;
    ``uniformer://NAME``: the released checkpoint of a model of the index.
    """
    path = resolve_scheme_path(filename)
    ckpt = read_checkpoint(path, map_location=map_location)
    return convert_for_loading(ckpt, path, explicit=True)


def load_from_url(filename, map_location):
    """``http(s)://`` checkpoints: downloaded into torch's hub cache (rank 0
    first, as mmengine does) by :func:`.download.download_file`, then read
    safely like a local file.

    Raises:
        DownloadError: the download failed (one line: URL, cause, where to
            place the file by hand).
    """
    from urllib.parse import urlparse

    import torch
    from mmengine.dist import get_dist_info
    name = osp.basename(urlparse(filename).path) or 'checkpoint.pth'
    cached = osp.join(checkpoint_dir(), name)
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(cached):
        print_log(f'uniformer_mm: downloading {filename} to {cached}',
                  logger='current')
        download_file(filename, cached, part_dir=partial_dir(),
                      progress=False)
    if world_size > 1:
        torch.distributed.barrier()
    ckpt = load_checkpoint_file(cached, map_location=map_location)
    return convert_for_loading(ckpt, cached, explicit=False)


def register_loaders():
    """Install the loaders in mmengine's ``CheckpointLoader`` (idempotent)."""
    schemes = CheckpointLoader._schemes
    if schemes.get('') is not load_from_local_uniformer:
        CheckpointLoader.register_scheme('', load_from_local_uniformer,
                                         force=True)
    if schemes.get(SCHEME) is not load_from_uniformer_scheme:
        CheckpointLoader.register_scheme(SCHEME, load_from_uniformer_scheme,
                                         force=True)
    for prefix in ('http://', 'https://'):
        if schemes.get(prefix) is not load_from_url:
            CheckpointLoader.register_scheme(prefix, load_from_url,
                                             force=True)


# ---------------------------------------------------------------------------
# backbone-level pretrained init
# ---------------------------------------------------------------------------
def backbone_state_dict(state_dict, prefix='backbone.'):
    if not prefix:
        return OrderedDict(state_dict)
    if not prefix.endswith('.'):
        prefix += '.'
    return OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                       if k.startswith(prefix))


def load_pretrained_backbone(backbone, checkpoint, prefix=None,
                             map_location='cpu', logger='current',
                             min_fraction=None):
    """Initialise a UniFormer (V1 or V2) backbone from a checkpoint of any
    supported format.

    Args:
        backbone: the backbone module.
        checkpoint (str | dict): path (or ``uniformer://path``, URL) or an
            already loaded checkpoint.
        prefix (str, optional): prefix of the backbone keys in our layout
            (default ``'backbone.'``).
        min_fraction (float, optional): the checkpoint must fill at least
            this fraction of the backbone's parameters, else
            :class:`~uniformer_mm.checkpoint.coverage.PartialLoadError`
            (default: :func:`~uniformer_mm.checkpoint.coverage.min_loaded_fraction`;
            0 switches the check off). A CLIP file is measured against the
            ViT part of a UniFormerV2 backbone.

    Returns:
        ``torch.nn.modules.module._IncompatibleKeys`` of the load.
    """
    source = checkpoint if isinstance(checkpoint, str) else 'a state dict'
    ckpt = read_checkpoint(checkpoint, map_location=map_location) \
        if isinstance(checkpoint, str) else checkpoint
    kwargs = {}
    fmt = detect_format(ckpt)
    if fmt == 'clip':
        conv1 = getattr(backbone, 'conv1', None)
        kwargs['conv1_time_dim'] = conv1.weight.shape[2] if conv1 is not \
            None and conv1.weight.dim() == 5 else None
    result = convert_checkpoint(ckpt, src_format=fmt, **kwargs)
    sd = backbone_state_dict(result.state_dict, prefix or 'backbone.')
    if not sd:
        raise CheckpointError(
            f'{source} has no {prefix or "backbone."!r} weights '
            f'(format {fmt})', 'Check init_cfg.prefix')
    hd, how = checkpoint_head_dim(result.meta, result.state_dict, fmt,
                                  source if isinstance(checkpoint, str)
                                  else None)
    check_head_dim(backbone, hd, how, source, logger=logger)
    target = backbone.state_dict()
    v2 = hasattr(backbone, 'class_embedding')
    sd, report = (inflate_v2 if v2 else inflate_v1)(sd, target)
    # CLIP provides the ViT part of a UniFormerV2 backbone only
    expected = backbone.vit_state_keys() if fmt == 'clip' and hasattr(
        backbone, 'vit_state_keys') else None
    check_load_coverage(
        target, sd, source, f'the {type(backbone).__name__} backbone',
        expected=expected, min_fraction=min_fraction, logger=logger,
        checkpoint_desc=describe_state_dict(result.state_dict),
        target_desc=describe_state_dict(target))
    incompatible = backbone.load_state_dict(sd, strict=False)
    missing = [k for k in incompatible.missing_keys
               if not k.endswith('num_batches_tracked')]
    lines = [f'uniformer_mm: initialised {type(backbone).__name__} from '
             f'{source} ({fmt}, {len(sd)} tensors)'] + report.lines()
    if missing:
        lines.append('not in the checkpoint (left as initialised): ' +
                     ', '.join(missing))
    level = logging.WARNING if (missing or report.dropped
                                or report.skipped) else logging.INFO
    print_log('\n'.join(lines), logger=logger, level=level)
    return incompatible


# ---------------------------------------------------------------------------
# state-dict metadata hooks of our V1 backbones
# ---------------------------------------------------------------------------
def record_arch_hook(module, state_dict, prefix, local_metadata):
    """``state_dict`` post hook: record the backbone's arch (incl.
    head_dim) in the state-dict metadata."""
    meta = arch_meta(module)
    if meta is not None:
        local_metadata['uniformer_arch'] = meta


def check_arch_metadata(module, local_metadata, prefix, state_dict):
    """Called from the backbone's ``_load_from_state_dict``: raise on a
    head_dim recorded in the metadata that differs from the model's; warn
    when a converted official file's head_dim is unknown."""
    info = local_metadata.get('uniformer_arch') if local_metadata else None
    if not isinstance(info, dict) or not head_dim_check_enabled():
        return
    if not any(k.startswith(prefix) for k in state_dict):
        return
    family = info.get('family', 'uniformer')
    if family != 'uniformer':
        return
    source = info.get('source') or 'the checkpoint'
    how = info.get('head_dim_source') or 'recorded in its state-dict metadata'
    check_head_dim(module, info.get('head_dim'), how, source)


__all__ = ['SCHEME', 'resolve_scheme_path', 'read_checkpoint',
           'convert_for_loading', 'load_from_local_uniformer',
           'load_from_uniformer_scheme', 'load_from_url', 'register_loaders',
           'load_pretrained_backbone',
           'backbone_state_dict', 'record_arch_hook', 'check_arch_metadata']
