"""A video list whose labels are mapped into another label space (K710)."""
import os.path as osp
import re
from typing import Callable, List, Optional, Sequence, Union

from mmaction.datasets import VideoDataset
from mmaction.registry import DATASETS
from mmengine.fileio import get_local_path

from ..label_maps import read_channel_map

_KINETICS_NAME = re.compile(r'^(?P<id>.{11})_\d+_\d+$')


def video_id(path: str) -> str:
    """YouTube id of a Kinetics-style file name.

    ``.../abseiling/0wR5jVB-WPk_000417_000427.mp4`` -> ``0wR5jVB-WPk``
    (mmaction2's ``{id}_{start:06d}_{end:06d}`` names); any other name gives
    its stem (``.../0wR5jVB-WPk.mp4`` -> ``0wR5jVB-WPk``).
    """
    stem = osp.splitext(osp.basename(path))[0]
    match = _KINETICS_NAME.match(stem)
    return match.group('id') if match else stem


def _list_ids(ann_file: str) -> set:
    ids = set()
    with get_local_path(ann_file) as path, open(path) as f:
        for line in f:
            fields = line.strip().split()
            if fields:
                ids.add(video_id(fields[0]))
    return ids


@DATASETS.register_module()
class LabelMapVideoDataset(VideoDataset):
    """mmaction2 ``VideoDataset`` whose labels are mapped through a channel
    map, optionally without the videos listed elsewhere.

    Builds Kinetics-710 from the ordinary Kinetics-400/600/700 lists
    (mmaction2 format, ``path label`` per line): concatenate three of these
    with ``channel_map`` = ``k710_channel_map_k{400,600,700}.json`` (a JSON
    list: entry ``i`` is the K710 label of source class ``i``) and
    ``exclude_lists`` naming the lists whose videos must not appear (the
    lists concatenated before this one, to drop duplicates, and every
    validation list, to drop the val videos that leak into the train
    lists). Videos are identified by YouTube id (:func:`video_id`), as in
    the official K710 construction (DATASET.md: union of the train sets,
    de-duplicated by YouTube id, leaked val videos removed).

    Args:
        ann_file (str): the annotation list.
        pipeline (list): the data pipeline.
        channel_map (str | list[int], optional): the label map (a JSON file
            or list; a file path or a shipped map such as
            ``'uniformer_mm::label_maps/k710_channel_map_k400.json'``, see
            :mod:`uniformer_mm.label_maps`). None keeps the labels.
        exclude_lists (sequence[str]): annotation lists whose videos are
            removed from this one. Default ().
        **kwargs: the other arguments of ``VideoDataset``.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 channel_map: Optional[Union[str, Sequence[int]]] = None,
                 exclude_lists: Sequence[str] = (),
                 **kwargs) -> None:
        self.channel_map = None if channel_map is None else \
            read_channel_map(channel_map)
        self.exclude_lists = list(exclude_lists)
        super().__init__(ann_file, pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.exclude_lists:
            excluded = set()
            for ann in self.exclude_lists:
                excluded |= _list_ids(ann)
            data_list = [
                info for info in data_list
                if video_id(info['filename']) not in excluded
            ]
        if self.channel_map is not None:
            for info in data_list:
                label = info['label']
                if isinstance(label, (list, tuple)):
                    info['label'] = [self.channel_map[x] for x in label]
                else:
                    info['label'] = self.channel_map[label]
        return data_list
