"""Something-Something V2 frames like the official ones: JPEG frames at 30
fps from the 12 fps webm videos, short side 320.

The official UniFormer / UniFormerV2 SSv2 results were trained and tested on
frames extracted at 30 fps (``ffmpeg -i VIDEO -r 30 -q:v 1
img_%05d.jpg``, Sense-X/UniFormer ``video_classification/DATASET.md``) and,
per the authors (Sense-X/UniFormer#92), resized to a short side of 320; the
official lists count those frames (median 123 in validation). This tool
writes such frames with PyAV (FFmpeg's libraries, no ``ffmpeg`` program
needed)::

    python tools/data/sthv2/extract_frames.py VIDEOS OUT [--ids LIST]
        [--fps 30] [--short-side 320] [--workers N] [--overwrite]

``VIDEOS/<id>.webm`` -> ``OUT/<id>/img_00001.jpg, img_00002.jpg, ...``:

* frame rate: the video (``n`` frames at its average rate, 12 fps for SSv2)
  is seen at ``--fps``: ``round(n * 30 / 12)`` frames, frame ``k`` showing
  the source frame nearest in time, ``round(k * 12 / 30)`` -- the rule of
  ``uniformer_mm.datasets.transforms.official_sampling`` (so a config that
  maps the official indices onto 12 fps frames reads the same pictures);
  ffmpeg's ``-r 30`` duplicates frames the same way, its frame counts can
  differ from ours by a frame or two at the end of a video;
* size: short side ``--short-side`` (0: keep the size), the other side
  ``round(L * short / S)``, FFmpeg's bicubic scaler;
* JPEG: FFmpeg's MJPEG encoder (the one ffmpeg uses), quantiser 2 (what
  ``-q:v 1`` gives: FFmpeg raises it to the encoder's default ``qmin`` of
  2), full-range YUV 4:2:0.

A video is written to ``OUT/<id>.tmp`` and renamed when complete, so an
interrupted run can be restarted (finished videos are skipped unless
``--overwrite``). Then build the lists::

    python tools/data/sthv2/build_file_list.py v2 ANN_DIR --frames OUT

Exit status 0, 1 if some videos could not be read (each named in one line),
2 for a usage error.
"""
import argparse
import os
import os.path as osp
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction


class UsageError(Exception):
    """A problem reported in one line (exit status 2)."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Extract Something-Something V2 frames at 30 fps, short '
        'side 320 (the official frames).')
    parser.add_argument('videos', help='folder of the <id>.webm videos')
    parser.add_argument('out', help='output folder (<id>/img_00001.jpg ...)')
    parser.add_argument('--ids', help='file whose lines start with the ids '
                        '(or <id>.webm) to extract; default: every video')
    parser.add_argument('--fps', type=float, default=30.,
                        help='output frame rate (default 30)')
    parser.add_argument('--short-side', type=int, default=320,
                        help='short side of the frames; 0 keeps the size '
                        '(default 320)')
    parser.add_argument('--workers', type=int, default=1,
                        help='parallel processes (default 1)')
    parser.add_argument('--overwrite', action='store_true',
                        help='extract videos whose folder already exists')
    return parser.parse_args(argv)


def output_size(height, width, short_side):
    """``(h, w)`` with the short side ``short_side`` (0: unchanged), the
    other side rounded (half up), both at least 1."""
    if not short_side:
        return height, width
    if height <= width:
        return short_side, max(1, int(width * short_side / height + 0.5))
    return max(1, int(height * short_side / width + 0.5)), short_side


def _mjpeg_encoder(av, height, width):
    ctx = av.CodecContext.create('mjpeg', 'w')
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = 'yuvj420p'
    ctx.time_base = Fraction(1, 30)
    ctx.options = {'qmin': '2', 'qmax': '2'}  # fixed quantiser 2
    return ctx


def extract(video, out_dir, fps=30., short_side=320):
    """Write the frames of ``video`` into ``out_dir`` (created; must not
    exist). Returns the number of frames written."""
    import av

    from uniformer_mm.datasets.transforms.official_sampling import \
        source_frame_indices
    with av.open(video) as container:
        if not container.streams.video:
            raise ValueError('no video stream')
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        frames = list(container.decode(stream))
    if not frames:
        raise ValueError('no frames could be decoded')
    if not rate:
        raise ValueError('the video has no frame rate')
    frames.sort(key=lambda f: f.pts if f.pts is not None else 0)
    height, width = output_size(frames[0].height, frames[0].width,
                                short_side)
    source = source_frame_indices(len(frames), Fraction(rate),
                                  Fraction(fps).limit_denominator(1001))
    os.makedirs(out_dir)
    encoder = _mjpeg_encoder(av, height, width)
    cache = {}  # source index -> JPEG bytes
    for k, i in enumerate(source.tolist(), 1):
        if i not in cache:
            cache.clear()  # frames come in order: keep the last one only
            image = frames[i].reformat(width=width, height=height,
                                       format='yuvj420p',
                                       interpolation='BICUBIC')
            packets = encoder.encode(image)
            cache[i] = b''.join(bytes(p) for p in packets)
        with open(osp.join(out_dir, f'img_{k:05d}.jpg'), 'wb') as f:
            f.write(cache[i])
    return len(source)


def _job(task):
    """(id, frames or None, error or None) for one video (worker)."""
    vid, video, out_root, fps, short_side = task
    final = osp.join(out_root, vid)
    tmp = final + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        count = extract(video, tmp, fps, short_side)
    except Exception as err:  # one line per bad video, the others go on
        shutil.rmtree(tmp, ignore_errors=True)
        text = ' '.join(str(err).split())[:200]
        return vid, None, f'{type(err).__name__}: {text}'
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    return vid, count, None


def _ids(args):
    if args.ids:
        if not osp.isfile(args.ids):
            raise UsageError(f'--ids file {args.ids!r} does not exist')
        with open(args.ids) as f:
            names = [line.split()[0] for line in f if line.strip()]
        return [osp.splitext(n)[0] if n.endswith('.webm') else n
                for n in names]
    return sorted((osp.splitext(n)[0] for n in os.listdir(args.videos)
                   if n.endswith('.webm')),
                  key=lambda n: (len(n), n))


def main(argv=None):
    args = parse_args(argv)
    try:
        if not osp.isdir(args.videos):
            raise UsageError(f'video folder {args.videos!r} does not exist')
        if args.fps <= 0 or args.short_side < 0 or args.workers < 1:
            raise UsageError('--fps must be > 0, --short-side >= 0, '
                             '--workers >= 1')
        ids = _ids(args)
    except UsageError as e:
        print(f'extract_frames.py: error: {e}', file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    tasks, skipped, missing = [], 0, []
    for vid in ids:
        video = osp.join(args.videos, f'{vid}.webm')
        if not osp.isfile(video):
            missing.append(vid)
        elif osp.isdir(osp.join(args.out, vid)) and not args.overwrite:
            skipped += 1
        else:
            tasks.append((vid, video, args.out, args.fps, args.short_side))
    failed = []
    done = 0
    if args.workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            results = pool.map(_job, tasks, chunksize=16)
            for vid, count, err in results:
                done, failed = _report(vid, count, err, done, failed,
                                       len(tasks))
    else:
        for task in tasks:
            done, failed = _report(*_job(task), done, failed, len(tasks))
    print(f'{done} videos extracted to {args.out}, {skipped} already there'
          + (f', {len(missing)} not found (e.g. {missing[0]}.webm)'
             if missing else '')
          + (f', {len(failed)} failed' if failed else ''))
    return 1 if failed else 0


def _report(vid, count, err, done, failed, total):
    if err is not None:
        print(f'{vid}.webm: {err}', file=sys.stderr)
        return done, failed + [vid]
    done += 1
    if done % 1000 == 0 or done == total:
        print(f'[{done}/{total}] {vid}: {count} frames', flush=True)
    return done, failed


if __name__ == '__main__':
    sys.exit(main())
