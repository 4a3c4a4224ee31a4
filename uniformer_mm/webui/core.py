"""What the web page does, without the web framework.

Everything here is plain Python over :mod:`uniformer_mm.apis`, so the page
gives exactly the scores of ``tools/infer.py`` (the same
:func:`~uniformer_mm.apis.prepare_inputs` + test step on the same input):

* :func:`read_upload` turns what the user uploaded into an input of the API:
  a video or image file is passed on as a path; several images, or a
  ``.zip`` of images, become an RGB frame array ``(T, H, W, 3)`` (the frames
  in name order, like a frame folder).
* :func:`classify` runs the model and returns a :class:`Classification`:
  top-k names and scores, number of views, timings, the frames the test
  pipeline sampled (:func:`frame_strip`) and notes (e.g. a video shorter
  than one clip, whose frames the sampler repeats).
* :func:`result_html` / :func:`error_html` render a result or a one-line
  error for the page (top-k as a bar chart whose rows carry the exact
  scores in ``data-score`` attributes).
* :func:`find_work_dir_models` lists the checkpoints of ``work_dirs/`` (e.g.
  the demo's, after ``bash tools/demo.sh``); :func:`sample_inputs` the
  bundled samples for a model.
"""
import html
import os
import os.path as osp
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from uniformer_mm.apis import (IMAGE_EXTENSIONS, count_views, prepare_inputs,
                               scores_of_inputs, test_pipeline_cfg,
                               topk_predictions)

__all__ = [
    'InputError', 'ModelEntry', 'Classification', 'read_upload',
    'classify', 'frame_strip', 'clip_span', 'result_html', 'error_html',
    'describe_error', 'find_work_dir_models', 'sample_inputs', 'num_classes',
    'KINETICS_CLASS_COUNTS', 'REPO_ROOT'
]

#: The repository checkout this package lives in (bundled samples are read
#: from its ``tests/data`` when it is there).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Class counts that mean "a Kinetics model" (K400/600/700, K710).
KINETICS_CLASS_COUNTS = (400, 600, 700, 710)
#: Most frames accepted from a zip or a set of images.
MAX_FRAMES = 2000
#: Largest frame strip shown: views (rows) x frames (columns).
MAX_STRIP_VIEWS = 4
MAX_STRIP_FRAMES = 32


class InputError(ValueError):
    """An upload the page cannot use; the message is shown as is."""


@dataclass
class ModelEntry:
    """A model the page can load: ``config`` + ``checkpoint`` files, or a
    ``name`` of the model index (``uniformer_mm.get_model``)."""
    label: str
    config: Optional[str] = None
    checkpoint: Optional[str] = None
    name: Optional[str] = None


@dataclass
class Classification:
    """One input through the model (what the page shows)."""
    input_name: str
    kind: str  # 'video', 'image' or 'frames'
    predictions: list  # [(index, name or None, score)], best first
    probabilities: bool  # scores are probabilities (sum to 1)
    views: int
    seconds: float  # prepare + model
    prepare_seconds: float
    model_seconds: float
    device: str
    strip: Optional[np.ndarray]  # uint8 RGB, sampled frames (rows = views)
    strip_note: str
    notes: List[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# uploads
# --------------------------------------------------------------------------
def _natural_key(name):
    """Sort key putting ``img_2`` before ``img_10``."""
    return [int(t) if t.isdigit() else t.lower()
            for t in re.split(r'(\d+)', name)]


def _is_image(name):
    return osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _decode_frames(items):
    """``[(name, bytes)]`` -> ``(T, H, W, 3)`` uint8 RGB, name order."""
    import mmcv
    items = sorted(items, key=lambda item: _natural_key(item[0]))
    if len(items) > MAX_FRAMES:
        raise InputError(f'{len(items)} images: more than the {MAX_FRAMES} '
                         'frames the page accepts; upload a video instead')
    frames = []
    for name, data in items:
        img = mmcv.imfrombytes(data, channel_order='rgb') if data else None
        if img is None:
            raise InputError(f'{name}: not a readable image; remove it or '
                             'replace it with a JPEG/PNG frame')
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if frames and img.shape != frames[0].shape:
            raise InputError(
                f'{name} is {img.shape[1]}x{img.shape[0]} but '
                f'{items[0][0]} is {frames[0].shape[1]}x{frames[0].shape[0]}'
                ': all frames must have the same size')
        frames.append(img[..., :3])
    return np.stack(frames)


def read_upload(paths: Union[str, Sequence[str]]):
    """An input of :func:`classify` from uploaded files.

    Args:
        paths: one file (a video, an image or a ``.zip`` of frames) or
            several images (frames, taken in name order).

    Returns:
        ``(source, name, kind)``: ``source`` is a path (video or image file)
        or an RGB frame array ``(T, H, W, 3)``; ``name`` what the page calls
        the input; ``kind`` ``'video'``, ``'image'`` or ``'frames'``.

    Raises:
        InputError: nothing uploaded, a zip without images, several files
            that are not all images, frames of different sizes.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [str(p) for p in (paths or []) if p]
    if not paths:
        raise InputError('no file: upload a video, an image, several images '
                         '(frames) or a .zip of frames')
    if len(paths) == 1:
        path = paths[0]
        name = osp.basename(path)
        if osp.splitext(path)[1].lower() == '.zip':
            return _read_zip(path), name, 'frames'
        return path, name, 'image' if _is_image(path) else 'video'
    others = [osp.basename(p) for p in paths if not _is_image(p)]
    if others:
        raise InputError(
            f'{len(paths)} files including {others[0]}, which is not an '
            'image: upload one video, or images only (the frames of a '
            'clip), or a .zip of frames')
    items = []
    for path in paths:
        with open(path, 'rb') as f:
            items.append((osp.basename(path), f.read()))
    name = f'{len(paths)} images ({min(n for n, _ in items)} ...)'
    return _decode_frames(items), name, 'frames'


def _read_zip(path):
    """The images of a zip (any folder depth), decoded in memory: nothing is
    extracted to disk."""
    name = osp.basename(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info for info in archive.infolist()
                if not info.is_dir() and _is_image(info.filename)
                and not info.filename.startswith('__MACOSX/')
            ]
            if not members:
                raise InputError(f'{name}: the zip holds no images '
                                 f'({", ".join(IMAGE_EXTENSIONS[:3])}, ...)'
                                 '; zip the frames of a clip')
            if len(members) > MAX_FRAMES:
                raise InputError(
                    f'{name}: {len(members)} images, more than the '
                    f'{MAX_FRAMES} frames the page accepts')
            items = [(info.filename, archive.read(info)) for info in members]
    except zipfile.BadZipFile as err:
        raise InputError(f'{name}: not a readable zip file ({err}); '
                         're-create the archive') from None
    return _decode_frames(items)


# --------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------
def num_classes(model) -> Optional[int]:
    """Output classes of a recognizer / classifier head (None if unknown)."""
    head = getattr(model, 'cls_head', None) or getattr(model, 'head', None)
    count = getattr(head, 'num_classes', None)
    return int(count) if count is not None else None


def clip_span(cfg) -> Optional[int]:
    """Frames of a video that one clip of the test pipeline covers without
    repeating frames (``clip_len * frame_interval`` of its frame sampler),
    or None when the pipeline has no sampler with a ``clip_len``."""
    steps, _ = test_pipeline_cfg(cfg, 'video')
    for step in steps:
        if isinstance(step.get('clip_len'), int):
            return int(step['clip_len']) * int(step.get('frame_interval', 1))
    return None


def _count_frames(source, kind):
    """Frames in the input (the video is opened, not decoded)."""
    if kind == 'image':
        return 1
    if not isinstance(source, str):
        return len(source)
    from uniformer_mm.datasets.transforms.video_decode import VideoInit
    results = VideoInit().transform(dict(filename=source))
    reader = results['video_reader']
    close = getattr(reader, 'close', None)
    if close is not None:
        close()
    return int(results['total_frames'])


def _short_input_note(model, source, kind):
    if model.task != 'video':
        return None
    span = clip_span(model.cfg)
    if not span:
        return None
    frames = _count_frames(source, kind)
    if frames >= span:
        return None
    if frames == 1:
        return (f'one frame: the clip repeats it {span} times, so the '
                'model sees no motion')
    return (f'the input has {frames} frames, fewer than the {span} one clip '
            'covers: the sampler repeats frames, so the prediction is less '
            'reliable')


def frame_strip(model, packed: dict, tile: int = 112):
    """The frames a packed sample holds, as one RGB image.

    Rows are views (clips x crops; at most ``MAX_STRIP_VIEWS``), columns the
    frames of a view (at most ``MAX_STRIP_FRAMES``); each frame is scaled to
    ``tile`` pixels high (nearest neighbour when enlarged, so pixels stay
    visible). The inputs are shown as the model receives them before its
    data preprocessor normalises them; when the preprocessor swaps BGR to
    RGB (``to_rgb``) the swap is applied here too.

    Returns ``(image, note)``, ``note`` a short description of the layout.
    """
    import cv2
    inputs = packed['inputs'].detach().cpu()
    if inputs.dim() == 5:  # video NCTHW: [views, C, T, H, W]
        grid = inputs.permute(0, 2, 3, 4, 1)
    elif inputs.dim() == 4:  # NCHW (2D recognizers) [frames, C, H, W]
        grid = inputs.permute(0, 2, 3, 1)[None]
    elif inputs.dim() == 3:  # image [C, H, W]
        grid = inputs.permute(1, 2, 0)[None, None]
    else:
        raise ValueError(f'unexpected input shape {tuple(inputs.shape)}')
    grid = grid.float().clamp(0, 255).to(torch.uint8).numpy()
    views, frames = grid.shape[:2]
    if getattr(model.data_preprocessor, 'to_rgb', False):
        grid = grid[..., ::-1]
    grid = grid[:MAX_STRIP_VIEWS, :MAX_STRIP_FRAMES]
    h, w = grid.shape[2:4]
    scale = tile / h
    size = (max(1, round(w * scale)), tile)
    interp = cv2.INTER_NEAREST if scale >= 1 else cv2.INTER_AREA
    gap = 4
    rows = []
    for view in grid:
        tiles = [cv2.resize(np.ascontiguousarray(f), size,
                            interpolation=interp) for f in view]
        row = np.full((tile, len(tiles) * (size[0] + gap) - gap, 3), 255,
                      np.uint8)
        for i, t in enumerate(tiles):
            x = i * (size[0] + gap)
            row[:, x:x + size[0]] = t[..., :3] if t.ndim == 3 else t[..., None]
        rows.append(row)
    strip = np.full((len(rows) * (tile + gap) - gap, rows[0].shape[1], 3),
                    255, np.uint8)
    for i, row in enumerate(rows):
        strip[i * (tile + gap):i * (tile + gap) + tile] = row
    note = (f'{frames} frame{"s" if frames > 1 else ""} of {w}x{h} per view'
            if model.task == 'video' else f'the {w}x{h} image')
    if views > 1:
        shown = min(views, MAX_STRIP_VIEWS)
        note += f'; one row per view ({shown} of {views} shown)' \
            if shown < views else f'; one row per view ({views} views)'
    if frames > MAX_STRIP_FRAMES:
        note += f'; first {MAX_STRIP_FRAMES} frames shown'
    return strip, note


def _are_probabilities(scores):
    scores = np.asarray(scores, dtype=np.float64)
    return bool(scores.min() >= 0 and scores.max() <= 1 and
                abs(scores.sum() - 1) < 1e-3)


def classify(model, source, name: str = 'input', kind: str = 'video',
             names: Optional[Sequence[str]] = None,
             topk: int = 5) -> Classification:
    """Classify ``source`` (a path or an RGB array, see
    :func:`read_upload`) with ``model`` (from
    :func:`~uniformer_mm.apis.init_model`).

    The scores are those of :func:`~uniformer_mm.apis.predict_scores` (it is
    the same two calls: :func:`~uniformer_mm.apis.prepare_inputs`, then
    :func:`~uniformer_mm.apis.scores_of_inputs`), so they equal
    ``tools/infer.py``'s for the same input and checkpoint.
    """
    start = time.perf_counter()
    packed = prepare_inputs(model, source)
    prepared = time.perf_counter()
    scores = scores_of_inputs(model, packed)
    done = time.perf_counter()
    try:
        strip, strip_note = frame_strip(model, packed)
    except Exception as err:  # an odd input layout: show the scores anyway
        strip, strip_note = None, f'not shown ({type(err).__name__}: {err})'
    notes = []
    note = _short_input_note(model, source, kind)
    if note:
        notes.append(note)
    device = next(model.parameters()).device
    return Classification(
        input_name=name,
        kind=kind,
        predictions=topk_predictions(scores, topk, names),
        probabilities=_are_probabilities(scores),
        views=count_views(packed, model.task),
        seconds=done - start,
        prepare_seconds=prepared - start,
        model_seconds=done - prepared,
        device=str(device),
        strip=strip,
        strip_note=strip_note,
        notes=notes)


def describe_error(name: str, err: BaseException,
                   paths: Sequence[str] = ()) -> str:
    """One line for the page about an input that failed: the input's name,
    what went wrong (upload paths replaced by their base names) and what to
    upload instead."""
    text = str(err) or type(err).__name__
    for path in paths:
        text = text.replace(str(path), osp.basename(str(path)))
    text = ' '.join(text.split())
    if isinstance(err, InputError):
        return text
    from uniformer_mm.datasets.transforms.video_decode import \
        VideoDecodeError
    if isinstance(err, VideoDecodeError):
        return (f'{name}: cannot be read as a video ({text}). Upload a video '
                '(mp4, avi, mkv, webm, ...), an image, several images or a '
                '.zip of frames.')
    if not isinstance(err, (ValueError, TypeError, FileNotFoundError)):
        text = f'{type(err).__name__}: {text}'
    return text if text.startswith(f'{name}:') else f'{name}: {text}'


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------
_RESULT_STYLE = (
    'font-size:15px;line-height:1.4;color:#1f2937;'
    'background:#ffffff;border-radius:8px;padding:4px 2px')
_BAR_COLOURS = ('#2563eb', '#60a5fa', '#93c5fd', '#bfdbfe', '#dbeafe')


def result_html(result: Classification) -> str:
    """The top-k of a classification as an HTML bar chart, with the input,
    the number of views and the time taken."""
    esc = html.escape
    views = f'{result.views} view{"s" if result.views > 1 else ""}'
    head = (f'<b>{esc(result.input_name)}</b> ({result.kind}) &middot; '
            f'<span class="umm-views">{views}</span> &middot; '
            f'<span class="umm-seconds">{result.seconds:.2f} s</span> '
            f'(decode + pipeline {result.prepare_seconds:.2f} s, model '
            f'{result.model_seconds:.2f} s) on {esc(result.device)}')
    what = 'probability' if result.probabilities else 'score'
    top = max((s for _, _, s in result.predictions), default=1.) or 1.
    rows = []
    for rank, (index, label, score) in enumerate(result.predictions, 1):
        shown = label if label is not None else f'class {index}'
        if result.probabilities:
            width = 100. * min(max(score, 0.), 1.)
        else:
            width = 100. * max(score, 0.) / top if top > 0 else 0.
        colour = _BAR_COLOURS[min(rank - 1, len(_BAR_COLOURS) - 1)]
        rows.append(
            f'<tr class="umm-pred" data-rank="{rank}" '
            f'data-label="{esc(shown)}" data-index="{index}" '
            f'data-score="{score!r}">'
            f'<td style="padding:3px 8px;text-align:right">{rank}</td>'
            f'<td class="umm-label" style="padding:3px 8px;'
            f'white-space:nowrap">{esc(shown)}</td>'
            '<td style="padding:3px 8px;width:60%">'
            '<div style="background:#eef2f7;border-radius:4px;height:18px">'
            f'<div style="background:{colour};width:{width:.1f}%;'
            'height:18px;border-radius:4px"></div></div></td>'
            f'<td class="umm-score" style="padding:3px 8px;text-align:right;'
            f'font-family:monospace">{score:.4f}</td></tr>')
    notes = ''.join(
        '<div class="umm-note" style="margin:6px 0;padding:6px 10px;'
        'background:#fff7ed;border-left:4px solid #f97316">'
        f'&#9888; {esc(n)}</div>' for n in result.notes)
    return (
        f'<div id="umm-output" class="umm-result" data-status="ok" '
        f'data-input="{esc(result.input_name)}" data-views="{result.views}" '
        f'data-seconds="{result.seconds:.4f}" style="{_RESULT_STYLE}">'
        f'<div class="umm-head" style="margin-bottom:6px">{head}</div>'
        f'{notes}'
        '<table class="umm-topk" style="width:100%;border-collapse:collapse">'
        '<tr style="color:#6b7280;font-size:13px"><th style="text-align:'
        'right;padding:3px 8px">#</th><th style="text-align:left;'
        'padding:3px 8px">class</th><th></th><th style="text-align:right;'
        f'padding:3px 8px">{what}</th></tr>'
        f'{"".join(rows)}</table></div>')


def error_html(name: str, message: str) -> str:
    """A one-line error for the page."""
    return (
        f'<div id="umm-output" class="umm-result" data-status="error" '
        f'data-input="{html.escape(name)}" style="{_RESULT_STYLE}">'
        '<div class="umm-error" style="padding:8px 12px;background:#fef2f2;'
        'border-left:4px solid #dc2626;color:#991b1b">'
        f'&#9888; {html.escape(message)}</div></div>')


# --------------------------------------------------------------------------
# models and samples
# --------------------------------------------------------------------------
def _newest(paths):
    return max(paths, key=lambda p: (p.stat().st_mtime, p.name))


def find_work_dir_models(roots: Sequence[Union[str, Path]] = ('work_dirs',)
                         ) -> List[ModelEntry]:
    """The trained models in ``<root>/<run>/`` folders (mmengine work dirs,
    e.g. ``work_dirs/demo_video`` of ``bash tools/demo.sh``).

    A run counts when it holds the config mmengine dumped there (a ``.py``;
    the newest if several) and checkpoints; its best checkpoint
    (``best_*.pth``) and its last one (``last_checkpoint``, else the newest
    ``epoch_*``/``iter_*.pth``) are listed, newest run first.
    """
    runs = []
    seen = set()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for run in sorted(p for p in root.iterdir() if p.is_dir()):
            key = run.resolve()
            if key in seen:
                continue
            seen.add(key)
            configs = list(run.glob('*.py'))
            ckpts = list(run.glob('*.pth'))
            if not configs or not ckpts:
                continue
            config = _newest(configs)
            chosen = []
            best = [c for c in ckpts if c.name.startswith('best_')]
            if best:
                chosen.append(_newest(best))
            last = None
            pointer = run / 'last_checkpoint'
            if pointer.is_file():
                # it holds an absolute path; the run may have moved since
                name = Path(pointer.read_text().strip()).name
                if name and (run / name).is_file():
                    last = run / name
            if last is None:
                regular = [c for c in ckpts if re.match(r'(epoch|iter)_\d+',
                                                        c.name)]
                last = _newest(regular) if regular else None
            if last is not None and last not in chosen:
                chosen.append(last)
            if not chosen:
                chosen.append(_newest(ckpts))
            runs.append((max(c.stat().st_mtime for c in chosen), run,
                         config, chosen))
    runs.sort(key=lambda r: -r[0])
    entries = []
    for _, run, config, chosen in runs:
        for ckpt in chosen:
            entries.append(ModelEntry(
                label=f'{run.parent.name}/{run.name}/{ckpt.name}',
                config=str(config), checkpoint=str(ckpt)))
    return entries


def sample_inputs(model, cache_dir: Union[str, Path]) -> Dict[str, object]:
    """Bundled inputs for ``model``: label -> path (or list of image paths,
    a frame folder).

    * video models: one validation video per class of the demo data set
      (generated into ``cache_dir`` by
      :func:`~uniformer_mm.datasets.make_video_demo`), the frame folder
      ``tests/data/frames`` of a checkout, and for Kinetics models
      (400/600/700/710 classes) ``tests/data/videos/
      kinetics_arm_wrestling.mp4`` first;
    * image models: one validation image per class of the demo image data
      set (:func:`~uniformer_mm.datasets.make_image_demo`).
    """
    from uniformer_mm.datasets.demo_data import (IMAGE_CLASSES, VIDEO_CLASSES,
                                                 make_image_demo,
                                                 make_video_demo)
    cache_dir = Path(cache_dir)
    data = REPO_ROOT / 'tests' / 'data'
    samples = {}
    if model.task == 'video':
        clip = data / 'videos' / 'kinetics_arm_wrestling.mp4'
        if num_classes(model) in KINETICS_CLASS_COUNTS and clip.is_file():
            samples['Kinetics clip: arm wrestling'] = str(clip)
        info = make_video_demo(cache_dir / 'demo_video',
                               num_train_per_class=1, num_val_per_class=1)
        for cls in VIDEO_CLASSES:
            samples[f'demo video: {cls}'] = osp.join(
                info['video_dir'], 'val', f'{cls}_0000.mp4')
        frames = sorted((data / 'frames').glob('*.jpg'))
        if frames:
            samples[f'frame folder: {len(frames)} JPEG frames'] = [
                str(f) for f in frames]
    else:
        info = make_image_demo(cache_dir / 'demo_image',
                               num_train_per_class=1, num_val_per_class=1)
        for cls in IMAGE_CLASSES:
            samples[f'demo image: {cls}'] = osp.join(info['val_dir'], cls,
                                                     '0000.png')
    return samples
