"""A training-ready copy of a video data set: smaller, cheap to decode.

    python tools/data/prepare_videos.py LIST SRC_ROOT OUT_ROOT
        [--short-side 256] [--fps F] [--gop 8] [--bframes 3] [--crf 12]
        [--preset veryfast] [--tune fastdecode|none] [--upscale]
        [--frames] [--no-video] [--jpeg-quality 95]
        [--workers N] [--threads 1]
        [--out-list FILE] [--out-frame-list FILE] [--failed-list FILE]
        [--no-progress]

* ``LIST``: an mmaction2 video list (``<path relative to SRC_ROOT> <label>
  ...`` per line, e.g. ``data/kinetics400/kinetics400_train_list_videos.txt``).
* ``SRC_ROOT``: the folder the paths are relative to (the originals; only
  read).
* ``OUT_ROOT``: where the copy goes: ``OUT_ROOT/<path>.mp4`` (H.264) and,
  with ``--frames``, ``OUT_ROOT/<path without extension>/img_00001.jpg ...``.

Writes into ``OUT_ROOT`` (names from ``LIST``; ``--out-list`` & co. choose
others):

* ``<LIST name>``: the new video list (``<path>.mp4 <label> ...``) of the
  videos that were prepared and verified, in the order of ``LIST``;
* with ``--frames``: ``<LIST name with _videos -> _rawframes>``
  (``<folder> <frame count> <label> ...``, mmaction2's ``RawframeDataset``);
* ``<LIST stem>.failed.txt``: ``<path><TAB><reason>`` of each input that
  could not be prepared (missing, not a video, truncated, undecodable); the
  run goes on without them;
* ``.prepare_videos.jsonl``: the manifest of verified outputs (resuming).

Defaults are chosen for random access (see
``uniformer_mm/datasets/video_prepare.py``): short side 256 (the resolution
the 224 px recipes resize to), every original frame kept, a key frame every
8 frames, 3 non-reference B-frames, ``tune=fastdecode``, CRF 12 (PSNR 42.9
dB against the real Kinetics clip's frames at the same size; the table in
that module's docstring has more). Train on the copy by
pointing the data set at it, e.g. with ``configs/_base_/datasets/
kinetics400.py``::

    train_dataloader = dict(dataset=dict(
        ann_file='data/k400_256/kinetics400_train_list_videos.txt',
        data_prefix=dict(video='data/k400_256')))

Interrupting is safe: SIGTERM / Ctrl-C stops the workers, which delete
their unfinished files; after a SIGKILL the next run deletes them. Running
the same command again resumes: verified outputs are not redone (the
manifest records the settings and each source's size and mtime; changing
either redoes that video). Exit status 0 when the run completed (also with
failed inputs: see the failed list), 128 + signal number when interrupted,
2 on a usage problem (missing list or folder, output root = source root,
another run on the same output root).
"""
import argparse
import os
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

from uniformer_mm.datasets.video_prepare import (  # noqa: E402
    PrepareSettings, prepare_dataset)


def parse_args(argv=None):
    d = PrepareSettings()  # the defaults
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    parser.add_argument('list', help='mmaction2 video list')
    parser.add_argument('src_root', help='folder of the original videos')
    parser.add_argument('out_root', help='folder of the prepared copy')
    parser.add_argument('--short-side', type=int, default=d.short_side,
                        help='short side of the copy (0: keep the size)')
    parser.add_argument('--upscale', action='store_true',
                        help='also enlarge videos smaller than --short-side')
    parser.add_argument('--fps', default=None,
                        help='output frame rate, e.g. 15 or 30000/1001 '
                        '(default: every original frame, one to one)')
    parser.add_argument('--gop', type=int, default=d.gop,
                        help='key frame interval in frames')
    parser.add_argument('--bframes', type=int, default=d.bframes,
                        help='non-reference B-frames between references')
    parser.add_argument('--crf', type=float, default=d.crf,
                        help='libx264 quality (lower: better and larger)')
    parser.add_argument('--preset', default=d.preset,
                        help='libx264 preset (encoding speed)')
    parser.add_argument('--tune', default=d.tune,
                        help="libx264 tune ('none' for none)")
    parser.add_argument('--frames', action='store_true',
                        help='also write JPEG frame folders')
    parser.add_argument('--no-video', action='store_true',
                        help='no H.264 copy (frame folders only)')
    parser.add_argument('--jpeg-quality', type=int, default=d.jpeg_quality)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='processes (default: one per CPU)')
    parser.add_argument('--threads', type=int, default=d.threads,
                        help='encoder/decoder threads per process')
    parser.add_argument('--out-list', help='new video list')
    parser.add_argument('--out-frame-list', help='new frame-folder list')
    parser.add_argument('--failed-list', help='list of failed inputs')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.list, 'list'), (args.src_root, 'source root')):
        if not osp.exists(path):
            print(f'error: the {what} {path} does not exist', file=sys.stderr)
            return 2
    try:
        settings = PrepareSettings(
            short_side=args.short_side or None, fps=args.fps,
            gop=args.gop, bframes=args.bframes, crf=args.crf,
            preset=args.preset,
            tune=None if args.tune in ('', 'none') else args.tune,
            upscale=args.upscale, video=not args.no_video,
            frames=args.frames, jpeg_quality=args.jpeg_quality,
            threads=args.threads)
        result = prepare_dataset(
            args.list, args.src_root, args.out_root, settings,
            workers=args.workers, video_list=args.out_list,
            frame_list=args.out_frame_list, failed_list=args.failed_list,
            progress=not args.no_progress,
            log=lambda s: print(s, flush=True))
    except (ValueError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    return 0 if result is not None else 1


if __name__ == '__main__':
    sys.exit(main())
