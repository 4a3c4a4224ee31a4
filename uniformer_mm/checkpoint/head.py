"""Classifier rows: label order, class subsets, dropping the head.

A classifier row ``i`` scores class ``i`` of the label map the model was
trained with. The official UniFormer releases use the SlowFast/official
Kinetics class order, mmaction2's zoo its own label files (e.g.
``kinetics_label_map_k400.txt``): loading one into the other's pipeline
without re-ordering gives near-zero accuracy (Sense-X/UniFormer#38, #66,
#72). This module permutes / selects the rows of every classifier in a state
dict of our layout:

* :func:`remap_by_label_maps` -- rows re-ordered (and possibly subset) from
  label map A to label map B, matched by class name;
* :func:`select_rows` -- explicit row indices, e.g. a K710 -> K400/600/700
  channel map (:func:`read_channel_map`,
  ``k710_channel_map_k{400,600,700}.json``);
* :func:`slice_rows` -- first ``n`` rows (the official K710 -> K400 rule:
  K710's order starts with the K400 classes);
* :func:`drop_head` -- remove the classifiers (re-initialised on load).

Label-map files: text with one class per line (mmaction2), a JSON list, or a
JSON object ``{name: index}`` (SlowFast ``classids.json``). Names are
compared case-insensitively, ignoring quotes, ``_`` vs space and repeated
spaces.
"""
import os
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Sequence

import torch

from .. import label_maps
from .io import CheckpointError

#: Last module names of the classifiers in our layout: mmpretrain
#: ``head.fc`` / ``head.fc_aux`` / ``head.fc_cls_token``, mmaction2
#: ``cls_head.fc_cls`` / ``cls_head.fc_cls_token``.
CLASSIFIER_NAMES = ('fc', 'fc_cls', 'fc_aux', 'fc_cls_token')


def classifier_keys(state_dict: Mapping[str, torch.Tensor]) -> List[str]:
    """Keys of the class-indexed parameters (weights and biases)."""
    keys = []
    for key in state_dict:
        parts = key.split('.')
        if (parts[0] in ('head', 'cls_head') and len(parts) == 3
                and parts[1] in CLASSIFIER_NAMES
                and parts[2] in ('weight', 'bias')):
            keys.append(key)
    return keys


def num_classes(state_dict: Mapping[str, torch.Tensor]):
    """Rows of the classifiers (None without one); raises if they differ."""
    rows = {state_dict[k].shape[0] for k in classifier_keys(state_dict)}
    if len(rows) > 1:
        raise CheckpointError(
            f'the classifiers disagree on the number of classes '
            f'({sorted(rows)})', 'Check the file')
    return rows.pop() if rows else None


def normalize_name(name: str) -> str:
    name = name.strip().strip('"\'').lower().replace('_', ' ')
    return re.sub(r'\s+', ' ', name)


def read_label_map(path: str) -> List[str]:
    """Class names in index order from a label-map file (any path
    :func:`uniformer_mm.label_maps.read_label_map` accepts, the shipped
    ``'uniformer_mm::label_maps/NAME'`` maps included)."""
    try:
        return label_maps.read_label_map(path)
    except (label_maps.LabelMapError, FileNotFoundError) as e:
        raise CheckpointError(str(e), 'Fix the label-map file') from e


def label_indices(src: Sequence[str], dst: Sequence[str],
                  src_name: str = 'source', dst_name: str = 'target'
                  ) -> List[int]:
    """For each class of ``dst``, its index in ``src`` (matched by name)."""
    index: Dict[str, int] = {}
    for i, name in enumerate(src):
        key = normalize_name(name)
        if key in index:
            raise CheckpointError(f'{src_name} lists {name!r} twice',
                                  'Fix the label map')
        index[key] = i
    missing = [n for n in dst if normalize_name(n) not in index]
    if missing:
        raise CheckpointError(
            f'{len(missing)} classes of {dst_name} are not in {src_name} '
            f'(e.g. {", ".join(repr(m) for m in missing[:3])})',
            'Use label maps of the same dataset, a --channel-map (K710 -> '
            'K400/600/700: k710_channel_map_k*.json), or --drop-head')
    return [index[normalize_name(n)] for n in dst]


def select_rows(state_dict, indices: Sequence[int]):
    """Keep classifier rows ``indices`` (in that order)."""
    keys = classifier_keys(state_dict)
    if not keys:
        raise CheckpointError('the checkpoint has no classifier to re-order',
                              'Drop the class-mapping options')
    rows = num_classes(state_dict)
    bad = [i for i in indices if not 0 <= int(i) < rows]
    if bad:
        raise CheckpointError(
            f'class index {bad[0]} out of range for a {rows}-class '
            'classifier', 'Use a mapping made for this checkpoint')
    out = OrderedDict(state_dict)
    index = torch.as_tensor([int(i) for i in indices], dtype=torch.long)
    for key in keys:
        out[key] = state_dict[key].index_select(0, index).clone()
    if hasattr(state_dict, '_metadata'):
        out._metadata = state_dict._metadata
    return out


def slice_rows(state_dict, n: int):
    """Keep the first ``n`` classifier rows."""
    rows = num_classes(state_dict)
    if rows is None:
        raise CheckpointError('the checkpoint has no classifier',
                              'Drop --num-classes')
    if n > rows:
        raise CheckpointError(
            f'cannot make {n} classes out of a {rows}-class classifier',
            'Use --drop-head to train a new classifier')
    return select_rows(state_dict, list(range(n)))


def remap_by_label_maps(state_dict, src_map: str, dst_map: str):
    """Re-order rows from label map ``src_map`` to ``dst_map``."""
    src, dst = read_label_map(src_map), read_label_map(dst_map)
    rows = num_classes(state_dict)
    if rows is not None and rows != len(src):
        raise CheckpointError(
            f'{os.path.basename(src_map)} has {len(src)} classes but the '
            f'checkpoint classifier {rows}',
            'Pass the label map the checkpoint was trained with')
    return select_rows(state_dict, label_indices(
        src, dst, os.path.basename(src_map), os.path.basename(dst_map)))


def read_channel_map(path: str) -> List[int]:
    """A JSON list of source rows, one per target class (or
    ``{target_index: source_index}``); see
    :func:`uniformer_mm.label_maps.read_channel_map`."""
    try:
        return label_maps.read_channel_map(path)
    except (label_maps.LabelMapError, FileNotFoundError) as e:
        raise CheckpointError(str(e), 'Fix the channel map') from e


def drop_head(state_dict):
    """Remove the classifier parameters (they are re-initialised)."""
    drop = set(classifier_keys(state_dict))
    out = OrderedDict((k, v) for k, v in state_dict.items() if k not in drop)
    if hasattr(state_dict, '_metadata'):
        out._metadata = state_dict._metadata
    return out


__all__ = ['CLASSIFIER_NAMES', 'classifier_keys', 'num_classes',
           'read_label_map', 'label_indices', 'select_rows', 'slice_rows',
           'remap_by_label_maps', 'read_channel_map', 'drop_head',
           'normalize_name']
