"""``UniFormerInferencer``: classify videos and images by model name, in the
style of mmpretrain's inferencers.

>>> from uniformer_mm import UniFormerInferencer
>>> inferencer = UniFormerInferencer('uniformerv2_k400')   # released weights
>>> inferencer('video.mp4', topk=3)
[{'input': 'video.mp4', 'pred_label': 6, 'pred_score': 0.93,
  'pred_class': 'arm wrestling', 'pred_scores': array([...]),
  'topk': [{'label': 6, 'class': 'arm wrestling', 'score': 0.93}, ...],
  'num_views': 12}]

Inputs: a video file, an image file, a folder of frames (its images, sorted
by name, are the frames of one video), a ``uint8`` RGB array (``(T, H, W,
3)`` frames or an ``(H, W, 3)`` image), or a list of these. For an image
model a folder stands for the images in it. Every input goes through the
config's own test pipeline (the views that ``tools/test.py`` runs: clips x
crops) and the model's ``test_step``, so the scores are those of
``tools/test.py`` on the same video; ``batch_size`` inputs are run
together.
"""
import os
import os.path as osp
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from .hub import get_model, list_models
from .inference import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, _scope,
                        build_test_pipeline, count_views, prepare_inputs)

__all__ = ['UniFormerInferencer', 'FrameFolder']


class FrameFolder(Sequence):
    """The image files of a folder (sorted by name) as a lazy sequence of
    RGB frames: ``folder[i]`` reads frame ``i`` (what mmaction2's
    ``ArrayDecode`` indexes)."""

    def __init__(self, folder: str):
        self.folder = str(folder)
        self.files = sorted(
            osp.join(self.folder, n) for n in os.listdir(self.folder)
            if osp.splitext(n)[1].lower() in IMAGE_EXTENSIONS)
        if not self.files:
            raise FileNotFoundError(
                f'{self.folder}: no frames (image files '
                f'{", ".join(IMAGE_EXTENSIONS[:4])}, ...) in the folder')

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        import mmcv
        frame = mmcv.imread(self.files[int(index)], channel_order='rgb')
        if frame is None:
            raise ValueError(f'cannot read frame {self.files[int(index)]}')
        return frame


class UniFormerInferencer:
    """Top-k classification of videos and images with a UniFormer model.

    Args:
        model: a model name (``list_models()``), a config file or an
            mmengine ``Config``, or a built model (with ``cfg``).
        pretrained: for a name: ``True`` (default) loads its released
            checkpoint (downloaded, verified, converted and cached by
            :func:`uniformer_mm.get_model`); a path (any supported format)
            loads that; ``False``: random weights.
        device: ``'cpu'`` (default), ``'cuda:0'``, ...
        classes: class names (default: the checkpoint's
            ``meta['dataset_meta']['classes']``, else the config's label
            map).
        **kwargs: passed to :func:`uniformer_mm.get_model` (``source``,
            ``mirrors``, ``cfg_options``, ``progress``).
    """

    def __init__(self, model, pretrained: Union[bool, str] = True,
                 device: Union[str, torch.device, None] = None,
                 classes: Optional[Sequence[str]] = None, **kwargs):
        if isinstance(model, torch.nn.Module):
            self.model = model
        else:
            self.model = get_model(model, pretrained=pretrained,
                                   device=device, **kwargs)
        self.task = getattr(self.model, 'task', None) or 'video'
        meta = getattr(self.model, 'dataset_meta', None) or {}
        names = classes if classes is not None else meta.get('classes')
        self.classes = list(names) if names is not None else None
        self._pipelines = {}

    @staticmethod
    def list_models(pattern: Optional[str] = None, task=None) -> List[str]:
        """The model names (see :func:`uniformer_mm.list_models`)."""
        return list_models(pattern, task=task)

    # ------------------------------------------------------------ inputs
    def _expand(self, inputs) -> list:
        """One entry per prediction: paths, frame folders, arrays."""
        if isinstance(inputs, (str, Path, np.ndarray, FrameFolder)):
            inputs = [inputs]
        items = []
        for item in inputs:
            if isinstance(item, (str, Path)) and osp.isdir(str(item)):
                items.extend(self._folder(str(item)))
            else:
                items.append(item)
        return items

    def _folder(self, folder):
        names = sorted(os.listdir(folder))
        images = [n for n in names
                  if osp.splitext(n)[1].lower() in IMAGE_EXTENSIONS]
        if self.task == 'image':
            if not images:
                raise FileNotFoundError(f'{folder}: no images in the folder')
            return [osp.join(folder, n) for n in images]
        if images:
            return [FrameFolder(folder)]
        videos = [osp.join(folder, n) for n in names
                  if osp.splitext(n)[1].lower() in VIDEO_EXTENSIONS]
        if not videos:
            raise FileNotFoundError(
                f'{folder}: neither frames (images) nor videos in the folder')
        return videos

    def _pipeline(self, source):
        if source not in self._pipelines:
            self._pipelines[source] = build_test_pipeline(self.model, source)
        return self._pipelines[source]

    def _prepare(self, item):
        if isinstance(item, FrameFolder):
            if self.task != 'video':
                raise ValueError('frame folders are for video models')
            data = dict(array=item, total_frames=len(item), start_index=0,
                        modality='RGB', label=-1)
            return self._pipeline('array')(data)
        return prepare_inputs(self.model, item)

    @staticmethod
    def _name_of(item):
        if isinstance(item, FrameFolder):
            return item.folder
        if isinstance(item, (str, Path)):
            return str(item)
        return f'<array {tuple(np.shape(item))}>'

    # ------------------------------------------------------------- call
    def __call__(self, inputs, batch_size: int = 1, topk: int = 5,
                 return_datasamples: bool = False) -> list:
        """Predict.

        Args:
            inputs: an input or a list of inputs (see the module doc).
            batch_size: inputs run through the model together.
            topk: entries of each result's ``topk`` list.
            return_datasamples: return mmaction2 / mmpretrain data samples
                instead of dicts.

        Returns:
            One dict per input: ``input``, ``pred_scores`` (float32 array,
            views fused as the head does), ``pred_label``, ``pred_score``,
            ``pred_class`` (None without names), ``topk`` (``[{'label',
            'class', 'score'}]``, best first), ``num_views``.
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        items = self._expand(inputs)
        results = []
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            packed = [self._prepare(item) for item in batch]
            with _scope(self.task), torch.no_grad():
                samples = self.model.test_step(pseudo_collate(packed))
            for item, sample, pk in zip(batch, samples, packed):
                if return_datasamples:
                    results.append(sample)
                else:
                    results.append(self._to_dict(item, sample, pk, topk))
        return results

    def _to_dict(self, item, sample, packed, topk):
        scores = sample.pred_score.detach().float().cpu().numpy()
        if scores.ndim > 1:  # average_clips=None: one row per view
            scores = scores.reshape(-1, scores.shape[-1]).mean(0)
        order = np.argsort(-scores, kind='stable')[:max(1, int(topk))]
        names = self.classes

        def name(i):
            return names[i] if names is not None and i < len(names) else None

        best = int(order[0])
        return dict(
            input=self._name_of(item), pred_scores=scores,
            pred_label=best, pred_score=float(scores[best]),
            pred_class=name(best),
            topk=[dict(label=int(i), score=float(scores[i]),
                       **{'class': name(int(i))}) for i in order],
            num_views=count_views(packed, self.task))
