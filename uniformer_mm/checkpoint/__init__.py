"""Checkpoints in and out: formats, conversion, inflation, class order.

* :mod:`.io` -- safe reading (``weights_only=True``, one-line errors) and
  atomic writing;
* :mod:`.formats` -- format detection and one filter per foreign format
  (official V1 image / token labeling / video / light, mmaction2 V1 and V2,
  official V2, CLIP), plus ours -> mmaction2;
* :mod:`.inflate` -- 2D -> 3D inflation (V1: average over T; V2 ``conv1``:
  centre frame);
* :mod:`.head` -- classifier rows: label-map re-ordering, channel maps
  (K710 -> K400/600/700), slicing, dropping;
* :mod:`.arch` -- architecture inference and the head_dim check;
* :mod:`.loader` -- config-level loading (backbone ``init_cfg``
  ``Pretrained``, ``load_from=PATH``, ``load_from='uniformer://PATH'``);
* :mod:`.clip`, :mod:`.mmaction_v2` -- CLIP and mmaction2 V2 mappings.

File conversion with a config's model (:func:`convert_file`, what
``tools/convert_checkpoint.py`` runs) builds models, so it lives above them
in :mod:`uniformer_mm.apis.convert`.

Importing this package registers the loaders with mmengine's
``CheckpointLoader``. It never imports the models (the models import it); of
the model package it reads only the leaf :mod:`uniformer_mm.models.arch_zoo`.
"""
from .io import (CheckpointError, CorruptCheckpointError, UnsafePickleError,
                 load_checkpoint_file, save_checkpoint_atomic)
from .formats import (FORMATS, OFFICIAL_FORMATS, ConvertResult,  # noqa: I001
                      convert_checkpoint, convert_clip, convert_v1_image,
                      convert_v1_light, convert_v1_mmaction, convert_v1_tl,
                      convert_v1_video, convert_v2_mmaction,
                      convert_v2_official, detect_format, to_mmaction,
                      to_official, unwrap)
from .inflate import inflate_average, inflate_state_dict, inflate_v1, inflate_v2
from .head import (drop_head, read_channel_map, read_label_map,
                   remap_by_label_maps, select_rows, slice_rows)
from .arch import HeadDimMismatchError, check_head_dim, head_dim_from_filename
from .loader import load_pretrained_backbone, register_loaders

register_loaders()

__all__ = [
    'CheckpointError', 'CorruptCheckpointError', 'UnsafePickleError',
    'load_checkpoint_file', 'save_checkpoint_atomic', 'FORMATS',
    'OFFICIAL_FORMATS', 'ConvertResult', 'convert_checkpoint', 'convert_clip',
    'convert_v1_image', 'convert_v1_light', 'convert_v1_mmaction',
    'convert_v1_tl', 'convert_v1_video', 'convert_v2_mmaction',
    'convert_v2_official', 'detect_format', 'to_mmaction', 'to_official',
    'unwrap',
    'inflate_average', 'inflate_state_dict', 'inflate_v1', 'inflate_v2',
    'drop_head', 'read_channel_map', 'read_label_map', 'remap_by_label_maps',
    'select_rows', 'slice_rows', 'HeadDimMismatchError', 'check_head_dim',
    'head_dim_from_filename', 'load_pretrained_backbone', 'register_loaders'
]
