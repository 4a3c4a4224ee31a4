"""mmaction2 UniFormerV2 checkpoints -> ``UniFormerV2Video`` + ``UniFormerV2Head``.

mmaction2's ``UniFormerV2`` backbone and ``UniFormerHead`` use exactly our
parameter names (``backbone.<official name>`` with ``transformer.proj.0`` ->
``transformer.norm`` and ``transformer.proj.2`` -> ``cls_head.fc_cls``), so the
mapping is the identity on the keys; :func:`mmaction_to_uniformerv2` only
unwraps the container, checks that every key belongs to the layout and handles
the one structural difference: mmaction2 cannot build frozen models, so a
checkpoint always has ``backbone.transformer.balance``, which a frozen target
does not have (``frozen=True`` drops it).
"""
import re
from collections import OrderedDict
from typing import Dict

import torch

_KNOWN = re.compile(
    r'^(backbone\.(conv1\.weight|class_embedding|positional_embedding|'
    r'ln_pre\.(weight|bias)|'
    r'transformer\.(resblocks\.\d+\.|dpe\.\d+\.|dec\.\d+\.|norm\.|balance$|'
    r'temporal_cls_token$))|cls_head\.fc_cls\.(weight|bias)$)')


def mmaction_to_uniformerv2(checkpoint: Dict,
                            frozen: bool = False) -> 'OrderedDict[str, torch.Tensor]':
    """Convert an mmaction2 UniFormerV2 recognizer state dict.

    Args:
        checkpoint: the recognizer state dict or an mmengine checkpoint
            (``{'state_dict': ..., 'meta': ...}``).
        frozen: the target is built with ``frozen=True`` (drop ``balance``).

    Returns:
        The state dict for a recognizer with ``backbone=UniFormerV2Video``
        and ``cls_head=UniFormerV2Head``.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    out = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        if key.startswith('data_preprocessor.'):
            continue  # buffers of the preprocessor (mean/std), not weights
        if not _KNOWN.match(key):
            unknown.append(key)
            continue
        if frozen and key == 'backbone.transformer.balance':
            continue
        out[key] = value
    if unknown:
        raise KeyError(f'not mmaction2 UniFormerV2 keys: {unknown[:10]}'
                       f'{" ..." if len(unknown) > 10 else ""}')
    return out
