"""The arch zoo: the named sizes of UniFormer (V1) and UniFormerV2.

A leaf module (it imports nothing of the package), so both the models (the
backbones build from it) and the checkpoint layer (which names the arch of a
state dict, :mod:`uniformer_mm.checkpoint.arch`) import it without a circle.

* :data:`ARCH_ZOO` / :func:`resolve_arch`: V1 (``UniFormer``,
  ``UniFormerVideo``, ``UniFormerDense``),
* :data:`V2_ARCH_ZOO` / :func:`resolve_v2_arch`: UniFormerV2's CLIP ViT
  (``UniFormerV2Video``).
"""
import copy
from typing import Dict, Union

_S = dict(depths=[3, 4, 8, 3], embed_dims=[64, 128, 320, 512])
_SP = dict(depths=[3, 5, 9, 3], embed_dims=[64, 128, 320, 512])
_B = dict(depths=[5, 8, 20, 7], embed_dims=[64, 128, 320, 512])
_L = dict(depths=[5, 10, 24, 7], embed_dims=[128, 192, 448, 640])
_XXS_PRUNE = [[1] + [0.5] * 7, [0.5] * 2]
_XS_PRUNE = [[1] + [0.5] * 8, [0.5] * 3]

#: Named variants. Keys of an entry:
#:   depths, embed_dims, head_dim, mlp_ratio (float or 4 floats),
#:   conv_stem (S+/light stem), layer_scale (None, 'global' = blocks 3-4
#:   only, 'all'), layer_scale_init_value, light (hourglass: class token and
#:   token pruning), prune_ratio/trade_off (stage 3 and 4 lists).
#: Names ending in ``_tl`` are the token-labeling releases (pair them with
#: ``UniFormerTokenLabelHead``); they differ from the plain ones only in
#: head_dim (``small``/``base``: 64 in the plain code, 32 in token labeling).
ARCH_ZOO: Dict[str, dict] = {
    'small': dict(**_S, head_dim=64),
    'small_plus': dict(**_SP, head_dim=32, conv_stem=True),
    'small_plus_dim64': dict(**_SP, head_dim=64, conv_stem=True),
    'base': dict(**_B, head_dim=64),
    'base_ls': dict(**_B, head_dim=64, layer_scale='global'),
    'large_ls': dict(**_L, head_dim=64, layer_scale='all'),
    'small_tl': dict(**_S, head_dim=32),
    'small_tl_dim64': dict(**_S, head_dim=64),
    'small_plus_tl': dict(**_SP, head_dim=32, conv_stem=True),
    'small_plus_tl_dim64': dict(**_SP, head_dim=64, conv_stem=True),
    'base_tl': dict(**_B, head_dim=32),
    'base_tl_dim64': dict(**_B, head_dim=64),
    'large_ls_tl': dict(**_L, head_dim=64, layer_scale='all'),
    'xxs': dict(depths=[2, 5, 8, 2], embed_dims=[56, 112, 224, 448],
                head_dim=28, mlp_ratio=3., conv_stem=True, light=True,
                prune_ratio=_XXS_PRUNE, trade_off=_XXS_PRUNE),
    'xs': dict(depths=[3, 5, 9, 3], embed_dims=[64, 128, 256, 512],
               head_dim=32, mlp_ratio=3., conv_stem=True, light=True,
               prune_ratio=_XS_PRUNE, trade_off=_XS_PRUNE),
}
_ALIASES = {'s': 'small', 'b': 'base', 'l': 'large_ls', 's+': 'small_plus'}
_ARCH_DEFAULTS = dict(mlp_ratio=4., conv_stem=False, layer_scale=None,
                      layer_scale_init_value=1e-6, light=False,
                      prune_ratio=None, trade_off=None)
_ARCH_KEYS = {'depths', 'embed_dims', 'head_dim'} | set(_ARCH_DEFAULTS)


def resolve_arch(arch: Union[str, dict]) -> dict:
    """Return the full setting dict of an arch name or a (partial) dict."""
    if isinstance(arch, str):
        key = _ALIASES.get(arch.lower(), arch.lower())
        if key not in ARCH_ZOO:
            raise KeyError(
                f'Unknown UniFormer arch {arch!r}. Choose one of '
                f'{sorted(ARCH_ZOO)} or pass a dict with depths, embed_dims '
                'and head_dim.')
        arch = ARCH_ZOO[key]
    if not isinstance(arch, dict):
        raise TypeError(f'arch must be a name or a dict, got {type(arch)}')
    unknown = set(arch) - _ARCH_KEYS
    if unknown:
        raise KeyError(f'Unknown keys in UniFormer arch dict: '
                       f'{sorted(unknown)}; allowed: {sorted(_ARCH_KEYS)}')
    missing = {'depths', 'embed_dims', 'head_dim'} - set(arch)
    if missing:
        raise KeyError(f'UniFormer arch dict needs {sorted(missing)}')
    setting = dict(_ARCH_DEFAULTS, **copy.deepcopy(arch))
    assert len(setting['depths']) == 4 and len(setting['embed_dims']) == 4, \
        'UniFormer has 4 stages: depths and embed_dims need 4 entries'
    if not isinstance(setting['mlp_ratio'], (list, tuple)):
        setting['mlp_ratio'] = [setting['mlp_ratio']] * 4
    if setting['light'] and setting['prune_ratio'] is None:
        d3, d4 = setting['depths'][2:]
        setting['prune_ratio'] = [[1] + [0.5] * (d3 - 1), [0.5] * d4]
    if setting['light'] and setting['trade_off'] is None:
        setting['trade_off'] = copy.deepcopy(setting['prune_ratio'])
    return setting


#: UniFormerV2: the CLIP ViT of each size and the layers whose features
#: the global UniBlocks read (``return_list``).
_L14 = dict(input_resolution=224, patch_size=14, width=1024, layers=24,
            heads=16, return_list=[20, 21, 22, 23])
V2_ARCH_ZOO: Dict[str, dict] = {
    'vit-b16': dict(input_resolution=224, patch_size=16, width=768,
                    layers=12, heads=12, return_list=[8, 9, 10, 11]),
    'vit-l14': _L14,
    'vit-l14-336': dict(_L14, input_resolution=336),
}
_V2_ALIASES = {
    'b16': 'vit-b16',
    'vit-b/16': 'vit-b16',
    'l14': 'vit-l14',
    'vit-l/14': 'vit-l14',
    'l14-336': 'vit-l14-336',
    'vit-l/14_336': 'vit-l14-336',
    'vit-l/14@336px': 'vit-l14-336',
}


def resolve_v2_arch(arch: Union[str, dict]) -> dict:
    """The ViT setting of a UniFormerV2 arch name (or alias) or dict.

    Raises:
        KeyError: an unknown name, or a dict without ``input_resolution``,
            ``patch_size``, ``width``, ``layers`` and ``heads``.
    """
    if isinstance(arch, str):
        key = arch.lower()
        key = _V2_ALIASES.get(key, key)
        if key not in V2_ARCH_ZOO:
            raise KeyError(f'unknown arch {arch!r}; choose from '
                           f'{sorted(V2_ARCH_ZOO)} or pass a dict')
        return copy.deepcopy(V2_ARCH_ZOO[key])
    arch = dict(arch)
    required = {'input_resolution', 'patch_size', 'width', 'layers',
                'heads'}
    missing = required - set(arch)
    if missing:
        raise KeyError(f'arch dict lacks {sorted(missing)}')
    return arch


__all__ = ['ARCH_ZOO', 'resolve_arch', 'V2_ARCH_ZOO', 'resolve_v2_arch']
