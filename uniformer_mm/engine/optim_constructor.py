"""``UniFormerOptimWrapperConstructor``: layer-wise lr decay, lr multipliers
for new parameters and the official no-weight-decay rule, for UniFormer (V1,
image and video) and UniFormerV2.

Config (mmaction2 or mmpretrain; the constructor is registered in mmengine's
root ``OPTIM_WRAPPER_CONSTRUCTORS``, which both scopes fall back to)::

    optim_wrapper = dict(
        type='OptimWrapper',            # or AmpOptimWrapper
        constructor='UniFormerOptimWrapperConstructor',
        optimizer=dict(type='AdamW', lr=1e-5, weight_decay=0.05,
                       betas=(0.9, 0.999), fused=True),
        paramwise_cfg=dict(
            layer_decay_rate=0.75,      # 1.0 (default): no layer decay
            new_param_lr_mult=10.,      # lr x10 for the new parameters
            new_param_keys='auto',      # which ones are new, see below
            no_weight_decay=True,       # the official rule, see below
            # any DefaultOptimWrapperConstructor option still applies and is
            # combined multiplicatively, e.g.
            custom_keys={'backbone.transformer.balance': dict(lr_mult=2.)}),
        clip_grad=dict(max_norm=20.))

Layer ids (``layer_decay_rate`` ``r``: a parameter of layer ``i`` out of
``0..L`` gets ``lr * r ** (L - i)``):

* UniFormer V1 (``UniFormer``/``UniFormerVideo`` backbones): ``patch_embed1``
  is layer 0; the blocks of all four stages are layers ``1..sum(depths)`` in
  order; ``patch_embed{k}`` (k = 2..4) shares the layer of the first block of
  stage ``k``, and so do ``cls_token`` (stage 3) and ``cls_upsample`` (stage
  4) of the light models; the final ``norm``, the neck and the head are the
  last layer ``L = sum(depths) + 1``.
* UniFormerV2 (``UniFormerV2Video``): ``conv1``, ``class_embedding``,
  ``positional_embedding`` and ``ln_pre`` are layer 0; ``transformer.
  resblocks.{i}`` (with its LMHRA) is layer ``i + 1``; the global branch
  (``transformer.dpe/dec/temporal_cls_token/balance/norm``) and the head are
  the last layer ``L = layers + 1``.

New parameters (``new_param_lr_mult``; ``new_param_keys='auto'``): those not
initialised from the pretrained weights the recipes start from: the head
(``cls_head.``/``head.``) for V1; for V2 the head, the global branch and the
LMHRA modules (CLIP has none of them). ``new_param_keys`` may instead be a
list of substrings of the full parameter names.

No weight decay (``no_weight_decay=True``, the official rule of both code
bases): every parameter with one dimension (all norms, BN included, biases,
``balance``, ``class_embedding``), every ``*.bias``, and the parameters named
``cls_token``, ``class_embedding``, ``positional_embedding``, ``pos_embed``,
``temporal_cls_token`` or ``balance`` (plus ``no_weight_decay_keys``).

Fused optimizers: ``optimizer=dict(type='AdamW', fused=True)`` is passed to
torch (fused AdamW runs on CPU and CUDA in torch 2.13, checked). If torch
rejects it (an older torch, a device or optimizer without fused kernels)
the optimizer is built without ``fused`` and a log line says so; set
``fused_fallback=False`` in ``paramwise_cfg`` to make that an error
instead.

FSDP (``FSDPStrategy``, ``use_orig_params=True``): names are taken without
FSDP's wrapper prefixes and the no-weight-decay rule looks at the unsharded
shapes (FSDP shows every parameter as a flat 1-D shard). mmengine's own
``flat_decay_mult`` looks at the sharded shape and so is wrong under FSDP;
``no_weight_decay=True`` covers it.

Parameters with the same layer, lr, weight decay and new/old status share a
parameter group (mmengine's default makes one group per tensor). Groups are
ordered so that the first one has the base lr and weight decay where such a
group exists (mmengine logs the lr of the first group).
"""
import inspect
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                               OPTIMIZERS)

__all__ = [
    'UniFormerOptimWrapperConstructor', 'get_layer_id', 'num_layer_ids',
    'is_new_param', 'is_no_weight_decay', 'original_shapes'
]

#: Parameter names (last component) that never get weight decay.
NO_WEIGHT_DECAY_NAMES = ('cls_token', 'class_embedding',
                         'positional_embedding', 'pos_embed',
                         'temporal_cls_token', 'balance')
#: UniFormerV2 modules not in CLIP (after ``backbone.``).
V2_NEW_KEYS = ('transformer.dpe.', 'transformer.dec.',
               'transformer.temporal_cls_token', 'transformer.balance',
               'transformer.norm.', '.lmhra1.', '.lmhra2.')
HEAD_PREFIXES = ('cls_head.', 'head.')
#: Wrapper prefixes inserted by FSDP / activation checkpoint wrappers.
_WRAPPER_PARTS = ('_fsdp_wrapped_module.', '_checkpoint_wrapped_module.',
                  '_orig_mod.')
_OWN_KEYS = ('layer_decay_rate', 'num_layers', 'new_param_lr_mult',
             'new_param_keys', 'no_weight_decay', 'no_weight_decay_keys',
             'fused_fallback')


def clean_name(name: str) -> str:
    for part in _WRAPPER_PARTS:
        name = name.replace(part, '')
    return name


def _family(backbone: nn.Module) -> str:
    from ..models.backbones.uniformer import UniFormerNet
    from ..models.backbones.uniformerv2 import UniFormerV2Video
    if isinstance(backbone, UniFormerNet):
        return 'v1'
    if isinstance(backbone, UniFormerV2Video):
        return 'v2'
    return 'other'


def _find_backbone(model: nn.Module) -> Tuple[Optional[nn.Module], str]:
    """The backbone module and its prefix in ``model.named_parameters()``."""
    model = getattr(model, 'module', model)
    for prefix in ('backbone', ''):
        module = getattr(model, prefix, None) if prefix else model
        if module is not None and _family(module) != 'other':
            return module, prefix + '.' if prefix else ''
    # wrapped (FSDP): search by type
    for name, module in model.named_modules():
        if _family(module) != 'other':
            name = clean_name(name + '.')
            return module, '' if name == '.' else name
    return None, ''


def num_layer_ids(backbone: nn.Module) -> int:
    """Number of layer ids ``L + 1`` (ids ``0..L``) of a UniFormer backbone."""
    family = _family(backbone)
    if family == 'v1':
        return sum(backbone.arch_settings['depths']) + 2
    if family == 'v2':
        return len(backbone.transformer.resblocks) + 2
    raise TypeError(f'layer-wise lr decay knows UniFormer / UniFormerV2 '
                    f'backbones, not {type(backbone).__name__}')


def get_layer_id(name: str, backbone: nn.Module, prefix='backbone.') -> int:
    """Layer id of parameter ``name`` (full name in the recognizer /
    classifier, backbone parameters under ``prefix``); see the module doc."""
    last = num_layer_ids(backbone) - 1
    name = clean_name(name)
    if not name.startswith(prefix):
        return last  # head, neck, anything outside the backbone
    local = name[len(prefix):]
    first = local.split('.')[0]
    if _family(backbone) == 'v2':
        if first in ('conv1', 'class_embedding', 'positional_embedding',
                     'ln_pre'):
            return 0
        if local.startswith('transformer.resblocks.'):
            return int(local.split('.')[2]) + 1
        return last
    depths = backbone.arch_settings['depths']
    starts = [1 + sum(depths[:s]) for s in range(4)]  # first block per stage
    if first == 'patch_embed1':
        return 0
    if first.startswith('patch_embed'):
        return starts[int(first[len('patch_embed'):]) - 1]
    if first.startswith('blocks'):
        stage = int(first[len('blocks'):]) - 1
        return starts[stage] + int(local.split('.')[1])
    if first == 'cls_token':
        return starts[2]
    if first == 'cls_upsample':
        return starts[3]
    return last  # norm


def is_new_param(name: str, family: str,
                 keys: Union[str, Sequence[str]] = 'auto',
                 prefix: str = 'backbone.') -> bool:
    name = clean_name(name)
    if keys != 'auto':
        return any(k in name for k in keys)
    if name.startswith(HEAD_PREFIXES) or not name.startswith(prefix):
        return True  # the head (and any neck) outside the backbone
    if family == 'v2':
        local = '.' + name[len(prefix):]
        return any(k in local for k in V2_NEW_KEYS)
    return False


def is_no_weight_decay(name: str, param, extra_keys=(), shape=None) -> bool:
    """The official rule (see the module doc). ``shape``: the parameter's
    unsharded shape where ``param`` is a shard (FSDP)."""
    name = clean_name(name)
    last = name.split('.')[-1]
    ndim = len(shape) if shape is not None else param.ndim
    return (ndim <= 1 or name.endswith('.bias')
            or last in NO_WEIGHT_DECAY_NAMES or last in extra_keys)


def original_shapes(model: nn.Module) -> Dict[str, tuple]:
    """Unsharded shapes of the parameters of FSDP-wrapped modules.

    With ``use_orig_params=True`` FSDP exposes every parameter as a 1-D view
    of this rank's shard (possibly empty), so ``param.ndim`` would put every
    weight matrix under the no-weight-decay rule (and differently on
    different ranks). The flat parameters record the original shapes.
    """
    shapes = {}
    for prefix, module in model.named_modules():
        flat = getattr(getattr(module, '_handle', None), 'flat_param', None)
        fqns = getattr(flat, '_fqns', None)
        sizes = getattr(flat, '_shapes', None)
        if fqns is None or sizes is None:
            continue
        for fqn, size in zip(fqns, sizes):
            full = f'{prefix}.{fqn}' if prefix else fqn
            shapes[clean_name(full)] = tuple(size)
    return shapes


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class UniFormerOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """See the module documentation for the ``paramwise_cfg`` options."""

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        own = {k: paramwise_cfg.pop(k) for k in _OWN_KEYS
               if k in paramwise_cfg}
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        self.layer_decay_rate = float(own.get('layer_decay_rate', 1.0))
        if not 0 < self.layer_decay_rate <= 1:
            raise ValueError('layer_decay_rate must be in (0, 1], got '
                             f'{self.layer_decay_rate}')
        self.num_layers = own.get('num_layers')
        self.new_param_lr_mult = float(own.get('new_param_lr_mult', 1.0))
        keys = own.get('new_param_keys', 'auto')
        self.new_param_keys = keys if keys == 'auto' else tuple(
            [keys] if isinstance(keys, str) else keys)
        self.no_weight_decay = bool(own.get('no_weight_decay', True))
        self.no_weight_decay_keys = tuple(own.get('no_weight_decay_keys', ()))
        self.fused_fallback = bool(own.get('fused_fallback', True))

    # ------------------------------------------------------------------
    def param_groups(self, model: nn.Module) -> List[dict]:
        """The parameter groups (with ``layer_id``, ``lr_scale``, ``new``
        and ``param_names`` entries besides the optimizer's)."""
        shapes = original_shapes(model)
        model = getattr(model, 'module', model)
        base_lr = self.base_lr
        base_wd = self.base_wd
        backbone, prefix = _find_backbone(model)
        family = _family(backbone) if backbone is not None else 'other'
        decay = self.layer_decay_rate != 1.0
        if decay and backbone is None:
            raise TypeError(
                'UniFormerOptimWrapperConstructor: layer_decay_rate needs a '
                'UniFormer (V1) or UniFormerV2 backbone; none found in '
                f'{type(model).__name__}')
        n_ids = (self.num_layers if self.num_layers is not None else
                 num_layer_ids(backbone) if backbone is not None else 1)

        # mmengine's rules first (custom_keys, *_decay_mult, ...): one group
        # per tensor; then ours on top, multiplicatively
        per_tensor: List[dict] = []
        self.add_params(per_tensor, model)
        names = {id(p): clean_name(n) for n, p in model.named_parameters()}
        merged: Dict[tuple, dict] = {}
        for group in per_tensor:
            (param, ) = group['params']
            name = names[id(param)]
            layer_id = (min(get_layer_id(name, backbone, prefix), n_ids - 1)
                        if backbone is not None else n_ids - 1)
            scale = self.layer_decay_rate**(n_ids - 1 - layer_id)
            new = (is_new_param(name, family, self.new_param_keys, prefix)
                   if self.new_param_lr_mult != 1.0 else False)
            if new:
                scale *= self.new_param_lr_mult
            options = {k: v for k, v in group.items() if k != 'params'}
            if base_lr is not None:
                options['lr'] = options.get('lr', base_lr) * scale
            if (self.no_weight_decay and base_wd is not None
                    and is_no_weight_decay(name, param,
                                           self.no_weight_decay_keys,
                                           shapes.get(name))):
                options['weight_decay'] = 0.
            key = (layer_id, new, tuple(sorted(
                (k, repr(v)) for k, v in options.items())))
            if key not in merged:
                merged[key] = dict(
                    params=[], param_names=[], layer_id=layer_id,
                    lr_scale=scale, new=new, **options)
            merged[key]['params'].append(param)
            merged[key]['param_names'].append(name)

        def order(g):  # base lr and decay first, then by layer (last first)
            base = (g.get('lr', base_lr) == base_lr
                    and g.get('weight_decay', base_wd) == base_wd)
            return (not base, -g['layer_id'], g['new'])

        groups = sorted(merged.values(), key=order)
        self._log_groups(groups, n_ids)
        return groups

    def _log_groups(self, groups, n_ids):
        lines = [f'UniFormerOptimWrapperConstructor: {len(groups)} parameter '
                 f'groups, {n_ids} layer ids, layer_decay_rate='
                 f'{self.layer_decay_rate}, new_param_lr_mult='
                 f'{self.new_param_lr_mult}, no_weight_decay='
                 f'{self.no_weight_decay}']
        for g in groups:
            n = sum(p.numel() for p in g['params'])
            lines.append(
                f'  layer {g["layer_id"]:>3} new={int(g["new"])} '
                f'lr={g.get("lr")} wd={g.get("weight_decay", self.base_wd)} '
                f'tensors={len(g["params"])} numel={n} '
                f'first={g["param_names"][0]}')
        print_log('\n'.join(lines), logger='current', level=logging.DEBUG)
        print_log(lines[0], logger='current')

    def build_optimizer(self, params):
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cls = optimizer_cfg['type']
        if isinstance(optimizer_cls, str):
            with OPTIMIZERS.switch_scope_and_registry(None) as registry:
                optimizer_cls = registry.get(optimizer_cfg['type'])
        first_arg = next(iter(inspect.signature(optimizer_cls).parameters))
        optimizer_cfg[first_arg] = params
        try:
            return OPTIMIZERS.build(optimizer_cfg)
        except (RuntimeError, TypeError, ValueError) as e:
            if not (optimizer_cfg.get('fused') and self.fused_fallback):
                raise
            optimizer_cfg.pop('fused')
            print_log(
                f'{optimizer_cfg["type"]}(fused=True) is not supported here '
                f'({type(e).__name__}: {str(e).splitlines()[0]}); using the '
                'non-fused implementation.',
                logger='current', level=logging.WARNING)
            return OPTIMIZERS.build(optimizer_cfg)

    def __call__(self, model: nn.Module) -> OptimWrapper:
        groups = self.param_groups(model)
        for g in groups:  # torch keeps extra keys; names are for humans
            g['param_names'] = tuple(g['param_names'])
        optimizer = self.build_optimizer(groups)
        optim_wrapper_cfg = self.optim_wrapper_cfg.copy()
        optim_wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(
            optim_wrapper_cfg, default_args=dict(optimizer=optimizer))
