"""Checkpoint file conversion: what ``tools/convert_checkpoint.py`` does, as
a library (:func:`convert_file`; the model hub converts its downloads with
it).

It sits above the models (it builds a config's model to check the fit), so
it lives with the APIs, not in :mod:`uniformer_mm.checkpoint`, whose
converters (:mod:`uniformer_mm.checkpoint.formats`) it drives.

Reads a checkpoint of any supported format, converts it to
our layout, optionally re-orders / selects / slices / drops the classifier
rows, inflates 2D weights, checks a strict fit against a config's model (built
on the ``meta`` device), and writes either our mmengine checkpoint
(``{'state_dict', 'meta': {'uniformer_arch', 'uniformer_convert',
'dataset_meta'}}``), mmaction2's layout, or the official layout and container
of the model's family
(:func:`~uniformer_mm.checkpoint.formats.to_official`). The output is
written atomically; every failure is a one-line
:class:`~uniformer_mm.checkpoint.io.CheckpointError`.
"""
import os.path as osp
import warnings
from types import SimpleNamespace

#: Config scopes of the dense-prediction frameworks (built through
#: mmengine's root registry, which switches to the scope's registry).
DENSE_SCOPES = ('mmdet', 'mmseg', 'mmpose')

#: Options of :func:`convert_file` (the command line's, with ``-`` -> ``_``)
#: and their defaults.
OPTIONS = dict(src_format=None, config=None, label_map_from=None,
               label_map_to=None, channel_map=None, num_classes=None,
               drop_head=False, to='ours', container=None,
               inflate_frames=None, head_dim=None, class_names=None,
               ema=False, allow_unsafe_pickle=False, extra_meta=None)


def convert_file(src, dst, log=None, **options):
    """Convert the checkpoint file ``src`` and write ``dst`` (atomically).

    Args:
        src (str): source checkpoint (any supported format).
        dst (str): output file.
        log (callable, optional): receives one line per step (default:
            nothing).
        **options: the options of ``tools/convert_checkpoint.py``
            (:data:`OPTIONS`): ``config``, ``label_map_from`` /
            ``label_map_to``, ``channel_map``, ``num_classes``,
            ``drop_head``, ``to`` (``'ours'``, ``'mmaction'``,
            ``'official'``), ``container``, ``inflate_frames``,
            ``head_dim`` (an int, or ``'config'``: the head_dim of the
            config's model, which the caller vouches for), ``class_names``,
            ``ema``, ``allow_unsafe_pickle``, ``src_format``;
            ``extra_meta`` (dict): merged into the output's ``meta``.

    Raises:
        CheckpointError: one line naming the problem and the fix.
    """
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(f'unknown options {sorted(unknown)}')
    args = SimpleNamespace(src=str(src), dst=str(dst),
                           **dict(OPTIONS, **options))
    with warnings.catch_warnings():
        # the strict check loads into a model on the meta device (no-op
        # copies, by design)
        warnings.filterwarnings('ignore', message='.*non-meta parameter')
        return convert(args, log or (lambda msg: None))


def build_model_on_meta(config):
    """The model of ``config`` (a file), built on the ``meta`` device when
    it can be (no memory, no initialisation), with ``model.cfg`` set."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmaction.registry import MODELS as ACTION
    from mmpretrain.registry import MODELS as PRETRAIN

    from uniformer_mm.checkpoint import CheckpointError
    if not osp.isfile(config):
        raise CheckpointError(f'config {config} not found',
                              'Check the --config path')
    from ..engine.config_knobs import resolve_knobs
    cfg = resolve_knobs(Config.fromfile(config))
    if 'model' not in cfg:
        raise CheckpointError(f'{config} has no model', 'Pass a model config')
    model_cfg = cfg.model
    scope = cfg.get('default_scope')
    if scope is None:
        scope = ('mmaction' if model_cfg['type'] in ACTION.module_dict else
                 'mmpretrain')
    registry = ACTION if scope == 'mmaction' else PRETRAIN
    if scope in DENSE_SCOPES:
        import importlib
        from mmengine.registry import MODELS
        importlib.import_module(f'{scope}.models')
        registry = MODELS
    with DefaultScope.overwrite_default_scope(scope):
        try:
            with torch.device('meta'):
                model = registry.build(model_cfg)
        except Exception:  # noqa: BLE001 - a module may not build on meta
            model = registry.build(model_cfg)
    model.cfg = cfg
    return model


def _fmt_keys(keys, n=3):
    keys = list(keys)
    more = f' and {len(keys) - n} more' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def _channel_map_of(model):
    head = getattr(model, 'cls_head', None)
    indices = getattr(head, '_channel_indices', None)
    return (indices, getattr(head, 'channel_map', None)) if indices else (
        None, None)


def _infer_video_target(sd, head_dim):
    """Backbone shapes of the UniFormerVideo matching a V1 image state dict.
    """
    import torch
    from uniformer_mm.checkpoint.arch import v1_arch_from_keys
    from uniformer_mm.models.backbones.uniformer import UniFormerVideo
    s = v1_arch_from_keys(sd)
    if s is None:
        return None
    hd = head_dim or s['embed_dims'][2]
    arch = dict(depths=s['depths'], embed_dims=s['embed_dims'], head_dim=hd,
                conv_stem=s['conv_stem'], layer_scale=s['layer_scale'],
                light=s['light'], mlp_ratio=s['mlp_ratio'] or 4.)
    with torch.device('meta'):
        video = UniFormerVideo(arch)
    return {'backbone.' + k: tuple(v.shape)
            for k, v in video.state_dict().items()}


def convert(args, log):
    from uniformer_mm.checkpoint import (CheckpointError, convert_checkpoint,
                                         detect_format, load_checkpoint_file,
                                         save_checkpoint_atomic, to_mmaction)
    from uniformer_mm.checkpoint.formats import official_family, to_official
    from uniformer_mm.checkpoint import head as headlib
    from uniformer_mm.checkpoint.arch import (arch_meta, check_head_dim,
                                              checkpoint_head_dim,
                                              describe_checkpoint,
                                              v1_arch_from_keys,
                                              v2_arch_from_keys)
    from uniformer_mm.checkpoint.inflate import (inflate_state_dict,
                                                 inflate_v1, inflate_v2)

    if bool(args.label_map_from) != bool(args.label_map_to):
        raise CheckpointError(
            '--label-map-from and --label-map-to go together',
            'Pass both label maps (or neither)')
    if args.label_map_from and args.channel_map:
        raise CheckpointError('--channel-map and --label-map-* both re-order '
                              'the classes', 'Pass only one of them')
    if args.container and args.to != 'official':
        raise CheckpointError('--container is for --to official',
                              'Add --to official or drop --container')
    if args.drop_head and (args.label_map_from or args.channel_map):
        raise CheckpointError('--drop-head removes the classifier that '
                              'the class mapping re-orders',
                              'Pass only one of them')
    if not osp.isfile(args.src):
        raise CheckpointError(f'{args.src} not found',
                              'Check the source path')

    ckpt = load_checkpoint_file(args.src,
                                allow_unsafe=args.allow_unsafe_pickle)
    fmt = args.src_format or detect_format(ckpt, use_ema=args.ema)
    log(f'source: {args.src} (format {fmt})')

    model = backbone = target = None
    if args.config:
        model = build_model_on_meta(args.config)
        backbone = getattr(model, 'backbone', None)
        target = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    target_video = target is not None and any(
        k.startswith('cls_head.') for k in target)

    kwargs = {}
    if fmt in ('v1_image', 'v1_tl', 'v1_light'):
        if target is not None:
            kwargs['layout'] = 'mmaction' if target_video else 'mmpretrain'
        elif args.inflate_frames:
            kwargs['layout'] = 'mmaction'
    if fmt == 'clip':
        conv1 = target.get('backbone.conv1.weight') if target else None
        kwargs['conv1_time_dim'] = (conv1[2] if conv1 and len(conv1) == 5
                                    else args.inflate_frames or 1)
        pos = target.get('backbone.positional_embedding') if target else None
        if pos:
            side = int(round((pos[0] - 1)**0.5))
            kwargs['pos_grid'] = side
        if not (conv1 or args.inflate_frames):
            log('note: CLIP conv1 inflated to 1 frame (Kinetics models); '
                'use --inflate-frames 3 for temporal_downsample models')
    result = convert_checkpoint(ckpt, src_format=fmt, use_ema=args.ema,
                                **kwargs)
    sd = result.state_dict
    for note in result.notes:
        log(f'note: {note}')

    # head_dim of the checkpoint (V1 only; not visible in the weights)
    hd, how = checkpoint_head_dim(result.meta, sd, fmt, args.src)
    given, given_how = args.head_dim, 'given by --head-dim'
    if given == 'config':  # the caller vouches for the config (model index)
        settings = getattr(backbone, 'arch_settings', None) or {}
        given = settings.get('head_dim')
        given_how = f'declared by the model index for {args.config}'
    if given:
        if hd and hd != given:
            log(f'note: head_dim={given} ({given_how}) overrides '
                f'head_dim={hd} ({how})')
        hd, how = int(given), given_how

    # classes (and their names: the source's, mapped along with the rows)
    dropped, reinit = [], []
    classes = (result.meta.get('dataset_meta') or {}).get('classes')
    classes = list(classes) if classes else None
    if args.label_map_from:
        sd = headlib.remap_by_label_maps(sd, args.label_map_from,
                                         args.label_map_to)
        classes = headlib.read_label_map(args.label_map_to)
        log(f'classes: re-ordered from {args.label_map_from} to '
            f'{args.label_map_to} ({headlib.num_classes(sd)} classes)')
    elif args.channel_map:
        indices = headlib.read_channel_map(args.channel_map)
        sd = headlib.select_rows(sd, indices)
        classes = [classes[i] for i in indices] if classes and max(
            indices) < len(classes) else None
        log(f'classes: rows selected by {args.channel_map} '
            f'({headlib.num_classes(sd)} classes)')
    if args.num_classes is not None:
        rows = headlib.num_classes(sd)
        if args.label_map_from or args.channel_map:
            if rows != args.num_classes:
                raise CheckpointError(
                    f'the class mapping gives {rows} classes, not '
                    f'--num-classes {args.num_classes}',
                    'Fix the mapping or --num-classes')
        elif rows != args.num_classes:
            sd = headlib.slice_rows(sd, args.num_classes)
            classes = classes[:args.num_classes] if classes else None
            log(f'classes: kept the first {args.num_classes} of {rows} rows')
    if args.drop_head:
        keys = headlib.classifier_keys(sd)
        if not keys:
            raise CheckpointError('the checkpoint has no classifier to drop',
                                  'Drop --drop-head')
        sd = headlib.drop_head(sd)
        classes = None
        reinit += keys
        log(f'classes: dropped the classifier ({_fmt_keys(keys, 4)})')

    # inflation / structural adaptation of the backbone
    bkeys = [k for k in sd if k.startswith('backbone.')]
    is_v2 = 'backbone.class_embedding' in sd
    bshapes = None
    if target is not None:
        bshapes = {k: v for k, v in target.items()
                   if k.startswith('backbone.')}
    elif args.inflate_frames and not is_v2 and fmt != 'clip':
        bshapes = _infer_video_target(sd, hd)
        if bshapes is None:
            raise CheckpointError('--inflate-frames needs a V1 image or a '
                                  'CLIP checkpoint', 'Drop --inflate-frames')
        log('note: V1 temporal kernel sizes are fixed by the architecture '
            '(patch_embed1 3, pos_embed 3, attn 5, others 1); weights are '
            'repeated over them and divided by them')
    if bshapes is not None:
        src_b = {k: sd[k] for k in bkeys}
        rule = inflate_v2 if is_v2 else inflate_v1
        if target is None:
            new_b, report = inflate_state_dict(src_b, bshapes,
                                               mode='average')
            lost = report.skipped + [k for k, *_ in report.dropped]
            if lost:
                raise CheckpointError(
                    f'{len(lost)} tensors have no place in the UniFormerVideo '
                    f'of this architecture ({_fmt_keys(lost)})',
                    'Only architectures with a video form inflate (the S+ '
                    'conv-stem image models have none); pass --config to '
                    'choose the target')
        else:
            # keys absent in the target stay (reported by the strict check)
            new_b, report = rule(src_b, bshapes)
            for k in report.skipped:
                new_b[k] = sd[k]
            report.skipped = []
            for k, a, b in report.dropped:
                new_b[k] = sd[k]  # mismatches are errors below
            report.dropped = []
        for line in report.lines():
            log(line)
        md = getattr(sd, '_metadata', None)
        rest = [(k, v) for k, v in sd.items() if not k.startswith(
            'backbone.')]
        sd = type(sd)(list(new_b.items()) + rest)
        if md is not None:
            sd._metadata = md

    # V2: official non-frozen weights into a frozen model
    if target is not None and 'backbone.transformer.balance' in sd and \
            'backbone.transformer.balance' not in target and \
            'backbone.transformer.norm.weight' in target:
        sd.pop('backbone.transformer.balance')
        dropped.append('backbone.transformer.balance')
        log('dropped: backbone.transformer.balance (the model is frozen: '
            'its output uses the global query alone)')

    if args.to == 'mmaction':
        sd = to_mmaction(sd)
        log('layout: mmaction2')
    elif args.to == 'official':
        # validate now: a model without an official layout fails before the
        # strict check and the save
        official_family(sd)

    # strict check against the config's model
    if model is not None:
        indices, cmap = _channel_map_of(model)
        head_key = next((k for k in headlib.classifier_keys(target)
                         if k.endswith('.weight')), None)
        rows = headlib.num_classes(sd)
        model_rows = target[head_key][0] if head_key else None
        if indices and rows is not None and rows != model_rows:
            sd = headlib.select_rows(sd, indices)
            classes = None  # named by the config's label map below
            log(f'classes: rows selected by the model\'s channel_map {cmap}')
            rows = model_rows
        if rows is not None and model_rows is not None and \
                rows != model_rows:
            raise CheckpointError(
                f'class-count mismatch: the checkpoint classifier has {rows} '
                f'classes, the model of {args.config} {model_rows}',
                f'Pass --num-classes {model_rows} (first rows), '
                '--label-map-from/--label-map-to or --channel-map to map '
                'them, or --drop-head to re-initialise the classifier')
        missing = [k for k in target if k not in sd]
        unexpected = [k for k in sd if k not in target]
        wrong = [(k, tuple(sd[k].shape), target[k]) for k in sd
                 if k in target and tuple(sd[k].shape) != target[k]]
        allowed = set(reinit)
        missing_head = [k for k in missing if k in allowed or (
            args.drop_head and k in headlib.classifier_keys(target))]
        missing = [k for k in missing if k not in missing_head]
        if missing or unexpected or wrong:
            parts = []
            if missing:
                parts.append(f'{len(missing)} missing ({_fmt_keys(missing)})')
            if unexpected:
                parts.append(f'{len(unexpected)} unexpected '
                             f'({_fmt_keys(unexpected)})')
            if wrong:
                parts.append(f'{len(wrong)} with other shapes (' + ', '.join(
                    f'{k} {list(a)} vs model {list(b)}'
                    for k, a, b in wrong[:2]) + ')')
            raise CheckpointError(
                f'the checkpoint does not fit the model of {args.config}: '
                + '; '.join(parts),
                f'The checkpoint fits {describe_checkpoint(sd, hd)}; set '
                'that in the config')
        if backbone is not None:
            check_head_dim(backbone, hd, how, osp.basename(args.src))
        load_sd = dict(sd)
        incompatible = model.load_state_dict(load_sd, strict=False)
        still = [k for k in incompatible.missing_keys if k not in
                 missing_head] + list(incompatible.unexpected_keys)
        if still:  # pragma: no cover - guarded by the checks above
            raise CheckpointError(f'strict load failed: {_fmt_keys(still)}',
                                  'Report this as a bug')
        reinit = sorted(set(reinit) | set(missing_head))
        log(f'loaded strictly into the model of {args.config}' +
            (f'; re-initialised: {_fmt_keys(reinit, 6)}' if reinit else ''))

    # meta: the architecture (head_dim included) travels with the weights
    arch = arch_meta(backbone) if backbone is not None else None
    if arch is not None and arch['family'] == 'uniformer':
        arch['head_dim_source'] = f'model config {args.config}' + (
            f'; checkpoint: {how}' if hd else
            f'; not verified against the checkpoint ({how})')
    elif arch is None:
        v1 = v1_arch_from_keys(sd)
        v2 = v2_arch_from_keys(sd)
        if v1 is not None:
            arch = dict(family='uniformer', **v1, head_dim=hd,
                        head_dim_source=how)
        elif v2 is not None:
            arch = dict(family='uniformerv2', **v2)
    rows = headlib.num_classes(sd)
    classes = _class_names(args, model, classes, rows, log)
    meta = dict(
        uniformer_convert=dict(
            source=osp.basename(args.src), source_format=fmt,
            source_container=result.container,
            layout=args.to, dropped=dropped, reinitialized=reinit,
            label_map_from=args.label_map_from,
            label_map_to=args.label_map_to, channel_map=args.channel_map,
            num_classes=headlib.num_classes(sd)))
    if arch is not None:
        meta['uniformer_arch'] = arch
        md = type(sd)()  # metadata read by our backbones on load
        md['backbone'] = dict(version=None, uniformer_arch=arch)
        out_sd = type(sd)((k, v.detach().cpu().contiguous())
                          for k, v in sd.items())
        out_sd._metadata = md
    else:
        out_sd = type(sd)((k, v.detach().cpu().contiguous())
                          for k, v in sd.items())
    if classes is not None:
        meta['dataset_meta'] = dict(classes=classes)
    meta.update(args.extra_meta or {})
    if args.to == 'official':
        out_sd._metadata = type(sd)()  # the official codes' plain dicts
        container = _official_container(args, fmt, result)
        out, family = to_official(out_sd, container)
        save_checkpoint_atomic(out, args.dst)
        log(f'wrote {args.dst} ({len(out_sd)} tensors, official {family} '
            'layout, ' + (f"container {{'{container}': state_dict}})"
                          if container else 'raw state dict)'))
        if family.startswith('v1_'):
            hd = (arch or {}).get('head_dim')
            log(f'note: the official layout cannot record head_dim ({hd}); '
                'the official code reads it from its model name')
        return 0
    if args.to == 'mmaction':
        out_sd._metadata = type(sd)()  # plain mmaction2 state dict
    save_checkpoint_atomic({'state_dict': out_sd, 'meta': meta}, args.dst)
    log(f'wrote {args.dst} ({len(out_sd)} tensors)')
    return 0


def _class_names(args, model, classes, rows, log):
    """Names of the output's classifier rows: ``--class-names``, else the
    config's label map (``--config``), else the source's names (mapped
    with the rows); None when unknown or when their count is not ``rows``.
    """
    from uniformer_mm.checkpoint import CheckpointError
    from uniformer_mm.checkpoint import head as headlib
    if rows is None:
        return None
    if args.class_names:
        names = headlib.read_label_map(args.class_names)
        if len(names) != rows:
            raise CheckpointError(
                f'--class-names {args.class_names} has {len(names)} names '
                f'for a classifier of {rows} classes',
                'Pass the label map of the classifier rows')
        return names
    if model is not None:
        from .inference import config_class_names
        names = config_class_names(model.cfg)
        if names is not None and len(names) == rows:
            return names
        if names is not None:
            log(f'note: the label map of {args.config} has {len(names)} '
                f'names for {rows} classes; not stored')
    if classes is not None and len(classes) != rows:
        return None
    return classes


def _official_container(args, fmt, result):
    """``--container``, else the container of the official file this one
    was converted from (kept through ours -> official), else 'auto'."""
    from uniformer_mm.checkpoint.formats import OFFICIAL_FORMATS
    if args.container:
        return None if args.container == 'raw' else args.container
    if fmt in OFFICIAL_FORMATS:
        return result.container
    record = result.meta.get('uniformer_convert') or {}
    if record.get('source_format') in OFFICIAL_FORMATS and \
            'source_container' in record:
        return record['source_container']
    return 'auto'
