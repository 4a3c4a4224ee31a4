"""A local web page to try a model on your own video, image or frames.

    python tools/webui.py [CONFIG CHECKPOINT | --model NAME]
        [--port 7860] [--host 127.0.0.1] [--device auto]
        [--label-map FILE] [--work-dirs DIR ...] [--cfg-options KEY=VALUE ...]

Without a model, the page offers the checkpoints found in ``work_dirs/``
(e.g. the demo's after ``bash tools/demo.sh``). Upload a video, an image,
several images (the frames of a clip) or a ``.zip`` of frames, or pick a
bundled sample; the page shows the frames the config's test pipeline
samples, the top-5 classes with their probabilities, the number of views and
the time taken. Scores are those of ``tools/infer.py`` for the same input
and checkpoint (same API, same test pipeline). Needs the optional extra:
``pip install -r requirements/webui.txt``. See docs/webui.md.
"""
import argparse
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import uniformer_mm  # noqa: F401

from mmengine.config import DictAction  # noqa: E402

from uniformer_mm.webui.core import (REPO_ROOT, ModelEntry,  # noqa: E402
                                     find_work_dir_models)

PROG = 'webui.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='A local web page to classify your videos / images '
        'with a UniFormer model.')
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument(
        'checkpoint', nargs='?',
        help="checkpoint file, or 'none' for random weights")
    parser.add_argument(
        '--model', metavar='NAME',
        help='a model of the model index (uniformer_mm.get_model) instead '
        'of CONFIG CHECKPOINT')
    parser.add_argument('--port', type=int, default=7860,
                        help='port (default 7860)')
    parser.add_argument(
        '--host', default='127.0.0.1',
        help='address to listen on (default 127.0.0.1: this machine only)')
    parser.add_argument(
        '--device', default='auto',
        help="'auto' (cuda when present, else cpu), cpu, cuda, cuda:1 ...")
    parser.add_argument(
        '--label-map', help='class names, one per line (label order); '
        "default: the checkpoint's class names")
    parser.add_argument(
        '--work-dirs', nargs='+', metavar='DIR',
        help='where to look for checkpoints when no model is given '
        '(default: work_dirs/ here and in the checkout)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, KEY=VALUE with dotted keys')
    return parser.parse_args(argv)


def _fail(message):
    sys.exit(f'{PROG}: error: {message}')


def model_entries(args):
    """The models the page offers, from the command line or work_dirs/."""
    if args.model and args.config:
        _fail('give either CONFIG CHECKPOINT or --model NAME, not both')
    if args.model:
        try:
            from uniformer_mm import get_model  # noqa: F401
        except ImportError:
            _fail('--model: name lookup is not available in this version '
                  '(no uniformer_mm.get_model); pass CONFIG CHECKPOINT '
                  'instead')
        return [ModelEntry(label=args.model, name=args.model)]
    if args.config:
        if not args.checkpoint:
            _fail('CONFIG needs a CHECKPOINT (a .pth file, or none for '
                  'random weights)')
        if not osp.isfile(args.config):
            _fail(f'config {args.config!r} does not exist')
        if args.checkpoint.lower() != 'none' and \
                not osp.isfile(args.checkpoint) and \
                '://' not in args.checkpoint:
            _fail(f'checkpoint {args.checkpoint!r} does not exist (use '
                  "'none' for random weights)")
        return [ModelEntry(label=f'{args.config} + {args.checkpoint}',
                           config=args.config, checkpoint=args.checkpoint)]
    roots = args.work_dirs or ['work_dirs', REPO_ROOT / 'work_dirs']
    entries = find_work_dir_models(roots)
    if not entries:
        where = ', '.join(str(r) for r in args.work_dirs) \
            if args.work_dirs else 'work_dirs/'
        _fail(f'no model given and no checkpoint found in {where}: run '
              'bash tools/demo.sh first, or pass CONFIG CHECKPOINT')
    return entries


def resolve_device(device):
    import torch
    if device == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if device.startswith('cuda') and not torch.cuda.is_available():
        _fail(f'--device {device}: no CUDA device here; use --device cpu')
    return device


def check_port(host, port):
    """Fail with one line when ``host:port`` cannot be listened on."""
    import socket
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        _fail(f'cannot listen on {host}:{port} '
              f'({err.strerror or err}); pass another --port or --host')


def main(argv=None):
    args = parse_args(argv)
    entries = model_entries(args)
    check_port(args.host, args.port)
    if args.label_map and not osp.isfile(args.label_map):
        _fail(f'label map {args.label_map!r} does not exist')
    from uniformer_mm.webui.app import offline_environment
    offline_environment()
    try:
        import gradio  # noqa: F401
    except ImportError:
        _fail('the web page needs gradio: pip install -r '
              'requirements/webui.txt')
    from uniformer_mm.webui.app import Session, build_app, launch
    session = Session(entries, device=resolve_device(args.device),
                      label_map=args.label_map, cfg_options=args.cfg_options)
    try:
        try:
            session.select(session.labels[0])
        except Exception as err:
            _fail(f'cannot load {session.labels[0]}: {type(err).__name__}: '
                  f'{" ".join(str(err).split())}')
        app = build_app(session)
        print(f'[webui] {len(entries)} model(s); loaded {session.label} on '
              f'{session.device}', flush=True)
        print(f'[webui] open http://{args.host}:{args.port} (Ctrl+C stops)',
              flush=True)
        try:
            launch(app, host=args.host, port=args.port)
        except OSError as err:  # taken since the check
            _fail(f'cannot listen on {args.host}:{args.port} '
                  f'({" ".join(str(err).split())}); pass another --port')
    finally:
        session.close()


if __name__ == '__main__':
    main()
