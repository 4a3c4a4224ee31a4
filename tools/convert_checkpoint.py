"""Convert UniFormer V1 / V2 checkpoints (official, mmaction2, CLIP, ours) to
an mmengine checkpoint of uniformer_mm models, or ours to mmaction2.

    python tools/convert_checkpoint.py SRC DST [--src-format F]
        [--config CFG] [--label-map-from A --label-map-to B]
        [--channel-map MAP.json] [--num-classes N | --drop-head]
        [--to mmaction] [--inflate-frames T] [--head-dim N] [--ema]
        [--allow-unsafe-pickle]

The source format is detected (``--src-format`` overrides it); see
``docs/checkpoints.md``. With ``--config`` the config's model is built (on
the ``meta`` device: no memory, no initialisation) and the converted state
dict must load into it strictly; what was dropped or left to be
re-initialised is reported. The output is ``{'state_dict': ..., 'meta':
{'uniformer_arch': ..., 'uniformer_convert': ...}}``, written atomically.

Every failure ends with one line ``error: <problem>. <fix>`` on stderr,
exit status 2, and no DST file.
"""
import argparse
import os.path as osp
import sys
import warnings

SRC_FORMATS = ('ours', 'v1_image', 'v1_tl', 'v1_video', 'v1_light',
               'v1_mmaction', 'v2_official', 'v2_mmaction', 'clip', 'v1_det',
               'v1_seg', 'v1_pose')
#: Config scopes of the dense-prediction frameworks (built through
#: mmengine's root registry, which switches to the scope's registry).
DENSE_SCOPES = ('mmdet', 'mmseg', 'mmpose')


class _Parser(argparse.ArgumentParser):

    def error(self, message):  # one line, status 2
        self.exit(2, f'error: {message}. See --help\n')


def parse_args(argv=None):
    p = _Parser(description=__doc__.split('\n\n')[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='source checkpoint')
    p.add_argument('dst', help='output checkpoint (written atomically)')
    p.add_argument('--src-format', choices=SRC_FORMATS,
                   help='skip format detection')
    p.add_argument('--config', help='config whose model must load the '
                   'result strictly')
    p.add_argument('--label-map-from', metavar='A',
                   help='label map the checkpoint was trained with')
    p.add_argument('--label-map-to', metavar='B',
                   help='label map of the output (rows re-ordered by name)')
    p.add_argument('--channel-map', metavar='JSON',
                   help='JSON list: source row of every output class (e.g. '
                   'k710_channel_map_k400.json)')
    group = p.add_mutually_exclusive_group()
    group.add_argument('--num-classes', type=int, metavar='N',
                       help='keep the first N rows (official K710 -> K400 '
                       'rule), or check the count after a mapping')
    group.add_argument('--drop-head', action='store_true',
                       help='remove the classifier (re-initialised)')
    p.add_argument('--to', choices=('ours', 'mmaction'), default='ours',
                   help='output layout (mmaction: mmaction2 UniFormer / '
                   'UniFormerV2 recognizers)')
    p.add_argument('--inflate-frames', type=int, metavar='T',
                   help='inflate 2D weights to a video model: CLIP conv1 '
                   'gets temporal kernel T (centre frame); V1 image weights '
                   'are inflated to the UniFormerVideo layout (repeat / T '
                   'with the architecture\'s kernel sizes; T only enables '
                   'it). Automatic with --config')
    p.add_argument('--head-dim', type=int, metavar='N',
                   help='head_dim the V1 checkpoint was trained with (when '
                   'neither its meta nor its file name tells)')
    p.add_argument('--ema', action='store_true',
                   help='take the EMA weights (model_ema / state_dict_ema)')
    p.add_argument('--allow-unsafe-pickle', action='store_true',
                   help='load legacy pickles that need more than tensors '
                   '(can run code: only for trusted files)')
    return p.parse_args(argv)


# ---------------------------------------------------------------------------
def _build_model(config):
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmaction.registry import MODELS as ACTION
    from mmpretrain.registry import MODELS as PRETRAIN

    from uniformer_mm.checkpoint import CheckpointError
    if not osp.isfile(config):
        raise CheckpointError(f'config {config} not found',
                              'Check the --config path')
    cfg = Config.fromfile(config)
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
        model = _build_model(args.config)
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
    if args.head_dim:
        if hd and hd != args.head_dim:
            log(f'note: --head-dim {args.head_dim} overrides head_dim={hd} '
                f'({how})')
        hd, how = args.head_dim, 'given by --head-dim'

    # classes
    dropped, reinit = [], []
    if args.label_map_from:
        sd = headlib.remap_by_label_maps(sd, args.label_map_from,
                                         args.label_map_to)
        log(f'classes: re-ordered from {args.label_map_from} to '
            f'{args.label_map_to} ({headlib.num_classes(sd)} classes)')
    elif args.channel_map:
        sd = headlib.select_rows(sd, headlib.read_channel_map(
            args.channel_map))
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
            log(f'classes: kept the first {args.num_classes} of {rows} rows')
    if args.drop_head:
        keys = headlib.classifier_keys(sd)
        if not keys:
            raise CheckpointError('the checkpoint has no classifier to drop',
                                  'Drop --drop-head')
        sd = headlib.drop_head(sd)
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

    # strict check against the config's model
    if model is not None:
        indices, cmap = _channel_map_of(model)
        head_key = next((k for k in headlib.classifier_keys(target)
                         if k.endswith('.weight')), None)
        rows = headlib.num_classes(sd)
        model_rows = target[head_key][0] if head_key else None
        if indices and rows is not None and rows != model_rows:
            sd = headlib.select_rows(sd, indices)
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
    meta = dict(
        uniformer_convert=dict(
            source=osp.basename(args.src), source_format=fmt,
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
    if args.to == 'mmaction':
        out_sd._metadata = type(sd)()  # plain mmaction2 state dict
    save_checkpoint_atomic({'state_dict': out_sd, 'meta': meta}, args.dst)
    log(f'wrote {args.dst} ({len(out_sd)} tensors)')
    return 0


def main(argv=None):
    args = parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        import logging

        from mmengine.logging import MMLogger
        MMLogger.get_instance('mmengine', log_level='WARNING')
        logging.getLogger('uniformer_mm.compat').setLevel(logging.WARNING)
        import uniformer_mm  # noqa: F401 - registers models, compat fixes
        from uniformer_mm.checkpoint import CheckpointError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return convert(args, log)
    except CheckpointError as e:
        msg = str(e)
    except FileNotFoundError as e:
        msg = f'{e}. Check the path'
    except Exception as e:  # noqa: BLE001 - one line, never a traceback
        text = ' '.join(str(e).split())[:300]
        msg = (f'{type(e).__name__}: {text}. Check the inputs; if they are '
               'right, report this with the command line')
    print(f'error: {msg}', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
