"""Small synthetic data sets for the demo configs and the tests.

:func:`make_video_demo`
    Real ``.mp4`` videos (MPEG-4 Part 2, ``mp4v``, which decord decodes) of a
    shape (random type, size, colour, with a white outline) moving *left*,
    *right*, *up* or *down* over a dark, smooth, noisy static background, with
    mmaction2 ``VideoDataset`` annotation lists. The classes
    differ **only in temporal order**: the motion wraps around the frame (the
    scene is a torus) and the start position is uniform, so the position of
    the shape in any frame is uniform over the image for every class and every
    frame index; shape, size, colour, speed and background are drawn
    independently of the class. Hence every single frame has exactly the same
    distribution in every class (playing a *right* video backwards gives a
    *left* video), and only the order of frames tells the classes apart.
:func:`make_image_demo`
    PNG images of a few shape classes in mmpretrain's ``CustomDataset`` folder
    layout (``root/{train,val}/<class>/*.png``).

Both are deterministic given ``seed`` (each sample has its own random stream,
so the samples do not depend on how many are generated), idempotent (a
``meta.json`` records the parameters; a matching data set is left alone), and
safe against concurrent callers (a file lock, and the data set is written into
a temporary directory that is renamed into place only when complete).
"""
import json
import os
import os.path as osp
import shutil
import tempfile

import cv2
import numpy as np

from ..checkpoint.io import file_lock

__all__ = [
    'VIDEO_CLASSES', 'IMAGE_CLASSES', 'make_video_demo', 'make_image_demo',
    'render_video', 'render_image'
]

#: Class names of the video demo, in label order. Label ``i`` moves along
#: ``_DIRECTIONS[i]`` (x to the right, y downwards).
VIDEO_CLASSES = ('move_left', 'move_right', 'move_up', 'move_down')
_DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1))

#: Class names of the image demo (alphabetical, as ``CustomDataset`` sorts
#: the folders; the label is the index in this tuple).
IMAGE_CLASSES = ('circle', 'cross', 'square', 'triangle')

_SHAPES = ('square', 'circle', 'triangle', 'cross', 'diamond')
# range of the shape's speed, in pixels per frame at size 64
_SPEED = (1.5, 3.0)
# Bump when the rendering changes, so that existing data is regenerated.
_VIDEO_VERSION = 2
_IMAGE_VERSION = 1
_META = 'meta.json'
_SPLIT_CODE = {'train': 0, 'val': 1}


# --------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------
def _background(rng, size, noise=(3, 8)):
    """Static noisy background: smooth random colour field + pixel noise."""
    grid = rng.integers(2, 6)
    low = rng.uniform(0, 255, (grid, grid, 3)).astype(np.float32)
    bg = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
    bg += rng.normal(0, rng.uniform(*noise), (size, size, 3))
    return bg


def _shape_mask(kind, size, radius, angle=0.):
    """Float mask in [0, 1] of a shape centred in a ``size`` x ``size`` image.

    Drawn at 4x resolution and downsampled, for anti-aliased edges.
    """
    s = 4
    big = np.zeros((size * s, size * s), np.uint8)
    c = np.array([size * s / 2, size * s / 2])
    r = radius * s
    if kind == 'circle':
        cv2.circle(big, tuple(int(v) for v in c), int(r), 255, -1)
    else:
        if kind == 'square':
            pts = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
            pts = np.array(pts, np.float64) * 0.85
        elif kind == 'diamond':
            pts = np.array([(0, -1), (1, 0), (0, 1), (-1, 0)], np.float64)
        elif kind == 'triangle':
            a = np.deg2rad([-90, 30, 150])
            pts = np.stack([np.cos(a), np.sin(a)], 1)
        elif kind == 'cross':
            w = 0.35
            pts = np.array([(-w, -1), (w, -1), (w, -w), (1, -w), (1, w),
                            (w, w), (w, 1), (-w, 1), (-w, w), (-1, w),
                            (-1, -w), (-w, -w)], np.float64)
        else:
            raise ValueError(f'unknown shape {kind!r}')
        t = np.deg2rad(angle)
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        pts = c + (pts @ rot.T) * r
        cv2.fillPoly(big, [np.round(pts).astype(np.int32)], 255)
    small = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.


def _shift(img, dx, dy, wrap):
    """Translate by a sub-pixel offset; wrap around the borders if asked."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    h, w = img.shape[:2]
    border = cv2.BORDER_WRAP if wrap else cv2.BORDER_CONSTANT
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=border, borderValue=0)


def render_video(rng, label, num_frames=16, size=64, wrap=True):
    """Render one video of class ``label`` as uint8 RGB frames [T, H, W, 3].

    ``wrap=True`` (what the data sets use) moves the shape on a torus from a
    uniform start, so single frames carry no information about the class.
    ``wrap=False`` is for tests only: the shape starts at a uniform position
    from which its whole path stays inside the frame, so a *right* mover is
    on the left at the start and on the right at the end -- single frames
    then reveal the class (a leak the tests must be able to detect).
    """
    dx, dy = _DIRECTIONS[label]
    # a dark, smooth, noisy background and a shape of random colour with a
    # white outline (visible on any background and through the codec)
    bg = _background(rng, size) * 0.5
    kind = _SHAPES[rng.integers(len(_SHAPES))]
    radius = rng.uniform(0.12, 0.2) * size
    mask = _shape_mask(kind, size, radius, angle=rng.uniform(0, 360))
    inner = cv2.erode(mask, np.ones((3, 3), np.uint8))[..., None]
    sprite = rng.uniform(0, 255, 3) * inner + 255. * (1 - inner)
    sprite = sprite.astype(np.float32)
    speed = rng.uniform(*_SPEED) * size / 64  # pixels per frame
    travel = speed * (num_frames - 1)
    if wrap:
        x0, y0 = rng.uniform(0, size, 2)
    else:
        lo, hi = radius, size - radius
        travel = min(travel, 0.8 * (hi - lo))  # keep the path in the frame
        speed = travel / max(num_frames - 1, 1)
        along = rng.uniform(lo, hi - travel)
        across = rng.uniform(lo, hi)
        if dx:
            x0, y0 = (along if dx > 0 else size - along), across
        else:
            x0, y0 = across, (along if dy > 0 else size - along)
    noise_sigma = rng.uniform(1, 3)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for t in range(num_frames):
        # the sprite is drawn centred; shift its centre to (x, y)
        ox = x0 + dx * speed * t - size / 2
        oy = y0 + dy * speed * t - size / 2
        a = _shift(mask, ox, oy, wrap)[..., None]
        s = _shift(sprite, ox, oy, wrap)
        f = bg * (1 - a) + s * a + rng.normal(0, noise_sigma, bg.shape)
        frames[t] = np.clip(f, 0, 255).astype(np.uint8)
    return frames


def render_image(rng, label, size=32):
    """Render one image of shape class ``IMAGE_CLASSES[label]`` (uint8 RGB)."""
    bg = _background(rng, size, noise=(5, 15)) * 0.5 + 64
    kind = IMAGE_CLASSES[label]
    radius = rng.uniform(0.25, 0.4) * size
    mask = _shape_mask(kind, size, radius, angle=rng.uniform(-20, 20))
    off = rng.uniform(-0.12, 0.12, 2) * size
    mask = _shift(mask, off[0], off[1], wrap=False)[..., None]
    color = rng.uniform(128, 255, 3)
    img = bg * (1 - mask) + color * mask + rng.normal(0, 6, bg.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _sample_rng(seed, split, label, index):
    return np.random.default_rng([seed, _SPLIT_CODE[split], label, index])


def _write_mp4(path, frames, fps):
    """Write RGB frames as an MPEG-4 Part 2 ``.mp4`` (decodable by decord)."""
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (w, h))
    if not writer.isOpened():
        raise RuntimeError(
            f'OpenCV cannot write {path!r} with the mp4v codec; an OpenCV '
            'build with FFMPEG video I/O (e.g. opencv-python) is needed.')
    try:
        for f in frames:
            writer.write(np.ascontiguousarray(f[..., ::-1]))  # RGB -> BGR
    finally:
        writer.release()


# --------------------------------------------------------------------------
# idempotent, concurrency-safe generation
# --------------------------------------------------------------------------
def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _read_meta(root):
    try:
        with open(osp.join(root, _META)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _generate(root, meta, write_fn, overwrite):
    """Write the data set described by ``meta`` into ``root`` unless there.

    ``write_fn(tmp_dir)`` writes the data into an empty directory. Returns
    True if data was generated, False if a matching data set was present.
    """
    root = osp.abspath(root)
    with file_lock(root):
        old = _read_meta(root)
        if old == meta and not overwrite:
            return False
        if osp.exists(root):
            if not osp.isdir(root):
                raise FileExistsError(f'{root} exists and is not a directory')
            ours = isinstance(old, dict) and old.get(
                'generator') == meta['generator']
            if not ours and os.listdir(root):
                raise FileExistsError(
                    f'{root} is not empty and holds no data set of '
                    f"{meta['generator']} (no matching {_META}); refusing "
                    'to overwrite it. Choose another root or remove the '
                    'directory.')
        parent = osp.dirname(root)
        tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.tmp-',
                               dir=parent)
        try:
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private
            write_fn(tmp)
            with open(osp.join(tmp, _META), 'w') as f:
                json.dump(meta, f, indent=2, sort_keys=True)
            if osp.exists(root):
                trash = tempfile.mkdtemp(
                    prefix=f'.{osp.basename(root)}.old-', dir=parent)
                os.rename(root, osp.join(trash, 'data'))
                os.rename(tmp, root)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.rename(tmp, root)
        finally:
            if osp.exists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
    return True


def make_video_demo(root,
                    num_train_per_class=48,
                    num_val_per_class=12,
                    num_frames=16,
                    size=64,
                    seed=0,
                    fps=8,
                    overwrite=False):
    """Generate the synthetic motion-direction video data set in ``root``.

    Layout::

        root/videos/{train,val}/<class>_<index>.mp4
        root/train_list.txt   # "videos/train/move_left_0000.mp4 0" lines
        root/val_list.txt
        root/label_map.txt    # one class name per line, in label order
        root/meta.json        # the generation parameters

    Paths in the lists are relative to ``root`` (use ``data_prefix=
    dict(video=root)`` in mmaction2's ``VideoDataset``).

    If ``root`` already holds a data set generated with the same parameters
    nothing is done; a demo data set with other parameters is replaced (it is
    derived data); ``overwrite=True`` always regenerates. A non-empty
    directory without ``meta.json`` is never touched (FileExistsError).

    Returns:
        dict: ``root``, ``train_list``, ``val_list``, ``label_map``,
        ``video_dir``, ``classes``, ``generated`` (False if the data was
        already there).
    """
    for name, v in (('num_train_per_class', num_train_per_class),
                    ('num_val_per_class', num_val_per_class),
                    ('num_frames', num_frames), ('size', size)):
        if int(v) < 1:
            raise ValueError(f'{name} must be >= 1, got {v}')
    meta = dict(
        generator='uniformer_mm.datasets.make_video_demo',
        version=_VIDEO_VERSION,
        classes=list(VIDEO_CLASSES),
        num_train_per_class=int(num_train_per_class),
        num_val_per_class=int(num_val_per_class),
        num_frames=int(num_frames),
        size=int(size),
        seed=int(seed),
        fps=int(fps))
    counts = {'train': meta['num_train_per_class'],
              'val': meta['num_val_per_class']}

    def write(tmp):
        for split, n in counts.items():
            os.makedirs(osp.join(tmp, 'videos', split))
            lines = []
            for label, cls in enumerate(VIDEO_CLASSES):
                for i in range(n):
                    rel = f'videos/{split}/{cls}_{i:04d}.mp4'
                    frames = render_video(
                        _sample_rng(meta['seed'], split, label, i), label,
                        meta['num_frames'], meta['size'])
                    _write_mp4(osp.join(tmp, rel), frames, meta['fps'])
                    lines.append(f'{rel} {label}\n')
            with open(osp.join(tmp, f'{split}_list.txt'), 'w') as f:
                f.writelines(lines)
        with open(osp.join(tmp, 'label_map.txt'), 'w') as f:
            f.writelines(c + '\n' for c in VIDEO_CLASSES)

    generated = _generate(root, meta, write, overwrite)
    root = osp.abspath(root)
    return dict(
        root=root,
        train_list=osp.join(root, 'train_list.txt'),
        val_list=osp.join(root, 'val_list.txt'),
        label_map=osp.join(root, 'label_map.txt'),
        video_dir=osp.join(root, 'videos'),
        classes=list(VIDEO_CLASSES),
        generated=generated)


def make_image_demo(root,
                    num_train_per_class=250,
                    num_val_per_class=25,
                    size=32,
                    seed=0,
                    overwrite=False):
    """Generate the synthetic shape image data set in ``root``.

    Layout (mmpretrain ``CustomDataset``, classes = sub-folder names)::

        root/train/<class>/<index>.png
        root/val/<class>/<index>.png
        root/meta.json

    Same idempotence/overwrite rules as :func:`make_video_demo`.

    Returns:
        dict: ``root``, ``train_dir``, ``val_dir``, ``classes``,
        ``generated``.
    """
    for name, v in (('num_train_per_class', num_train_per_class),
                    ('num_val_per_class', num_val_per_class), ('size', size)):
        if int(v) < 1:
            raise ValueError(f'{name} must be >= 1, got {v}')
    meta = dict(
        generator='uniformer_mm.datasets.make_image_demo',
        version=_IMAGE_VERSION,
        classes=list(IMAGE_CLASSES),
        num_train_per_class=int(num_train_per_class),
        num_val_per_class=int(num_val_per_class),
        size=int(size),
        seed=int(seed))
    counts = {'train': meta['num_train_per_class'],
              'val': meta['num_val_per_class']}

    def write(tmp):
        for split, n in counts.items():
            for label, cls in enumerate(IMAGE_CLASSES):
                d = osp.join(tmp, split, cls)
                os.makedirs(d)
                for i in range(n):
                    img = render_image(
                        _sample_rng(meta['seed'], split, label, i), label,
                        meta['size'])
                    if not cv2.imwrite(osp.join(d, f'{i:04d}.png'),
                                       img[..., ::-1]):
                        raise RuntimeError(f'cannot write images to {d}')

    generated = _generate(root, meta, write, overwrite)
    root = osp.abspath(root)
    return dict(
        root=root,
        train_dir=osp.join(root, 'train'),
        val_dir=osp.join(root, 'val'),
        classes=list(IMAGE_CLASSES),
        generated=generated)
