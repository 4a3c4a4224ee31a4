"""Write a video's top-k predictions onto its frames (GIF or MP4).

    python tools/visualize_predictions.py CONFIG CHECKPOINT VIDEO
        --out out.gif|out.mp4 [--label-map FILE] [--topk 3]
        [--fps 8] [--max-frames 64] [--width 320] [--device cpu]

The video is classified once with the config's test pipeline (all its views,
fused as the head does; see ``uniformer_mm/apis/inference.py``); the top-k
labels and scores are drawn onto every written frame. ``--max-frames``
frames are taken evenly over the whole video and resized to ``--width``
pixels. ``.gif`` files are written with Pillow, ``.mp4`` with OpenCV
(``mp4v``). CHECKPOINT ``none``: random weights (smoke test).
"""
import argparse
import os
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import uniformer_mm  # noqa: F401

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from uniformer_mm.apis import (class_names, init_model,  # noqa: E402
                               predict_scores, topk_predictions)
from uniformer_mm.engine.errors import (add_debug_argument,  # noqa: E402
                                        cli_errors)
from uniformer_mm.label_maps import LabelMapError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw top-k predictions onto a video.')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="checkpoint, or 'none'")
    parser.add_argument('video')
    parser.add_argument('--out', required=True, help='.gif or .mp4 file')
    parser.add_argument(
        '--label-map',
        help='class names, one per line: a file or a shipped map such as '
        "'uniformer_mm::label_maps/kinetics400.txt'; default: the "
        "checkpoint's class names, else the config's label_map")
    parser.add_argument('--topk', type=int, default=3)
    parser.add_argument('--fps', type=float, default=None,
                        help='output frame rate (default: keeps the '
                        'duration of the video)')
    parser.add_argument('--max-frames', type=int, default=64,
                        help='frames written, evenly over the video')
    parser.add_argument('--width', type=int, default=320,
                        help='output width in pixels (height: aspect kept)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, KEY=VALUE with dotted keys')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def read_frames(path, max_frames):
    """``(frames [N, H, W, 3] RGB uint8, fps)``, ``max_frames`` evenly."""
    import decord
    reader = decord.VideoReader(path)
    total = len(reader)
    if total == 0:
        raise ValueError(f'{path}: no frames')
    count = min(total, max_frames) if max_frames > 0 else total
    index = np.linspace(0, total - 1, count).round().astype(int)
    frames = reader.get_batch(list(index)).asnumpy()
    fps = float(reader.get_avg_fps() or 25.)
    # frames written per second of video
    out_fps = fps * count / total
    return frames, out_fps


def draw_predictions(frame, predictions):
    """Copy of an RGB ``frame`` with the predictions in a shaded box."""
    frame = frame.copy()
    h, w = frame.shape[:2]
    scale = max(0.35, min(1.0, w / 640))
    thickness = 1
    font = cv2.FONT_HERSHEY_SIMPLEX
    lines = []
    for rank, (index, name, score) in enumerate(predictions, 1):
        label = name if name is not None else f'class {index}'
        lines.append(f'{rank}. {label}: {score:.3f}')
    sizes = [cv2.getTextSize(t, font, scale, thickness)[0] for t in lines]
    line_h = max(s[1] for s in sizes) + int(8 * scale) + 2
    box_w = min(w, max(s[0] for s in sizes) + 12)
    box_h = min(h, line_h * len(lines) + 6)
    overlay = frame[:box_h, :box_w].astype(np.float32)
    frame[:box_h, :box_w] = (overlay * 0.4).astype(np.uint8)
    for i, text in enumerate(lines):
        y = 3 + line_h * (i + 1) - int(4 * scale)
        cv2.putText(frame, text, (6, y), font, scale, (255, 255, 255),
                    thickness, cv2.LINE_AA)
    return frame


def write_video(frames, out, fps):
    """Write RGB frames to ``.gif`` (Pillow) or ``.mp4`` (OpenCV)."""
    out_dir = osp.dirname(osp.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    ext = osp.splitext(out)[1].lower()
    if ext == '.gif':
        from PIL import Image
        images = [Image.fromarray(f) for f in frames]
        images[0].save(
            out, save_all=True, append_images=images[1:],
            duration=max(20, int(round(1000 / fps))), loop=0)
    elif ext in ('.mp4', '.avi'):
        h, w = frames[0].shape[:2]
        fourcc = cv2.VideoWriter_fourcc(*('mp4v' if ext == '.mp4' else
                                          'MJPG'))
        writer = cv2.VideoWriter(out, fourcc, fps, (w, h))
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot write {out}')
        for f in frames:
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        writer.release()
    else:
        raise ValueError(f'--out must end with .gif or .mp4, got {out}')


def main(argv=None):
    args = parse_args(argv)
    with cli_errors('visualize_predictions.py', debug=args.debug):
        return run(args)


def run(args):
    if osp.splitext(args.out)[1].lower() not in ('.gif', '.mp4', '.avi'):
        sys.exit('visualize_predictions.py: error: --out must be a .gif or '
                 '.mp4 file')
    random_init = args.checkpoint.lower() == 'none'
    model = init_model(args.config, None if random_init else args.checkpoint,
                       device=args.device, cfg_options=args.cfg_options)
    if model.task != 'video':
        sys.exit('visualize_predictions.py: error: needs a video config')
    if random_init:
        print('WARNING: checkpoint "none": random weights, the predictions '
              'are meaningless', file=sys.stderr)
    try:
        names = class_names(model, args.label_map)
    except (FileNotFoundError, LabelMapError) as e:
        sys.exit(f'visualize_predictions.py: error: --label-map: {e}')
    scores, views = predict_scores(model, args.video)
    predictions = topk_predictions(scores, args.topk, names)
    frames, fps = read_frames(args.video, args.max_frames)
    if args.width and frames.shape[2] != args.width:
        h = max(2, int(round(frames.shape[1] * args.width /
                             frames.shape[2] / 2)) * 2)
        frames = np.stack([
            cv2.resize(f, (args.width, h), interpolation=cv2.INTER_AREA)
            for f in frames
        ])
    drawn = [draw_predictions(f, predictions) for f in frames]
    write_video(drawn, args.out, args.fps or fps)
    for rank, (index, name, score) in enumerate(predictions, 1):
        print(f'{rank}. {name if name is not None else index}: {score:.4f}')
    print(f'saved {args.out} ({len(drawn)} frames, {views} view'
          f'{"s" if views > 1 else ""})')
    return predictions


if __name__ == '__main__':
    main()
