"""Convert UniFormer V1 / V2 checkpoints (official, mmaction2, CLIP, ours) to
an mmengine checkpoint of uniformer_mm models, or ours to mmaction2 or to the
official layouts.

    python tools/convert_checkpoint.py SRC DST [--src-format F]
        [--config CFG] [--label-map-from A --label-map-to B]
        [--channel-map MAP.json] [--num-classes N | --drop-head]
        [--to {ours,mmaction,official}] [--container C]
        [--inflate-frames T] [--head-dim N] [--ema] [--allow-unsafe-pickle]

The source format is detected (``--src-format`` overrides it); see
``docs/checkpoints.md``. With ``--config`` the config's model is built (on
the ``meta`` device: no memory, no initialisation) and the converted state
dict must load into it strictly; what was dropped or left to be
re-initialised is reported. The output is ``{'state_dict': ..., 'meta':
{'uniformer_arch': ..., 'uniformer_convert': ..., 'dataset_meta':
{'classes': ...}}}`` (``dataset_meta`` when the class names are known),
written atomically. ``--to official`` writes the official layout in the
container of the model's code base instead (DeiT ``{'model': sd}``, timm
``{'state_dict': sd}``, SlowFast ``{'model_state': sd}``, the raw UniFormerV2
state dict; the container the file came in when it was converted from an
official file by this tool).

Every failure ends with one line ``error: <problem>. <fix>`` on stderr,
exit status 2, and no DST file. The conversion itself is
``uniformer_mm.apis.convert.convert_file`` (the same in Python).
"""
import argparse
import sys
import warnings

SRC_FORMATS = ('ours', 'v1_image', 'v1_tl', 'v1_video', 'v1_light',
               'v1_mmaction', 'v2_official', 'v2_mmaction', 'clip', 'v1_det',
               'v1_seg', 'v1_pose')
#: --container choices of --to official
CONTAINERS = ('model', 'state_dict', 'model_state', 'raw')


class _Parser(argparse.ArgumentParser):

    def error(self, message):  # one line, status 2
        self.exit(2, f'error: {message}. See --help\n')


def parse_args(argv=None):
    p = _Parser(description=__doc__.split('\n\n')[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='source checkpoint')
    p.add_argument('dst', help='output checkpoint (written atomically)')
    p.add_argument('--src-format', choices=SRC_FORMATS,
                   help='skip format detection')
    p.add_argument('--config', help='config whose model must load the '
                   'result strictly')
    p.add_argument('--label-map-from', metavar='A',
                   help='label map the checkpoint was trained with')
    p.add_argument('--label-map-to', metavar='B',
                   help='label map of the output (rows re-ordered by name)')
    p.add_argument('--channel-map', metavar='JSON',
                   help='JSON list: source row of every output class (e.g. '
                   'k710_channel_map_k400.json)')
    group = p.add_mutually_exclusive_group()
    group.add_argument('--num-classes', type=int, metavar='N',
                       help='keep the first N rows (official K710 -> K400 '
                       'rule), or check the count after a mapping')
    group.add_argument('--drop-head', action='store_true',
                       help='remove the classifier (re-initialised)')
    p.add_argument('--to', choices=('ours', 'mmaction', 'official'),
                   default='ours',
                   help='output layout (mmaction: mmaction2 UniFormer / '
                   'UniFormerV2 recognizers; official: the official code '
                   'bases of V1 image / token labeling / light / video and '
                   'V2)')
    p.add_argument('--container', choices=CONTAINERS,
                   help='with --to official: the container (default: the '
                   "one of the model's official code base; raw = the bare "
                   'state dict)')
    p.add_argument('--inflate-frames', type=int, metavar='T',
                   help='inflate 2D weights to a video model: CLIP conv1 '
                   'gets temporal kernel T (centre frame); V1 image weights '
                   'are inflated to the UniFormerVideo layout (repeat / T '
                   'with the architecture\'s kernel sizes; T only enables '
                   'it). Automatic with --config')
    p.add_argument('--class-names', metavar='FILE',
                   help='names of the output classifier rows, in row order '
                   '(a label map), stored as meta.dataset_meta.classes')
    p.add_argument('--head-dim', type=int, metavar='N',
                   help='head_dim the V1 checkpoint was trained with (when '
                   'neither its meta nor its file name tells)')
    p.add_argument('--ema', action='store_true',
                   help='take the EMA weights (model_ema / state_dict_ema)')
    p.add_argument('--allow-unsafe-pickle', action='store_true',
                   help='load legacy pickles that need more than tensors '
                   '(can run code: only for trusted files)')
    return p.parse_args(argv)


# ---------------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        import logging

        from mmengine.logging import MMLogger
        MMLogger.get_instance('mmengine', log_level='WARNING')
        logging.getLogger('uniformer_mm.compat').setLevel(logging.WARNING)
        import uniformer_mm  # noqa: F401 - registers models, compat fixes
        from uniformer_mm.checkpoint import CheckpointError
        from uniformer_mm.apis.convert import OPTIONS, convert_file
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return convert_file(args.src, args.dst, log, **{
                k: getattr(args, k) for k in OPTIONS if hasattr(args, k)})
    except CheckpointError as e:
        msg = str(e)
    except FileNotFoundError as e:
        msg = f'{e}. Check the path'
    except Exception as e:  # noqa: BLE001 - one line, never a traceback
        text = ' '.join(str(e).split())[:300]
        msg = (f'{type(e).__name__}: {text}. Check the inputs; if they are '
               'right, report this with the command line')
    print(f'error: {msg}', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
