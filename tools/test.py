"""Test (evaluate) a checkpoint with an mmengine config (mmaction2 or
mmpretrain).

The command line is the one of mmaction2's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump X.pkl]
        [--show-dir DIR] [--show] [--interval N] [--wait-time S]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]
        [--debug]

The checkpoint is loaded through ``cfg.load_from`` and must fill at least
``min_loaded_fraction`` (default 0.5) of the model (a V1 checkpoint for a
V2 config, or one of another width, is a one-line error naming the arch it
fits; ``--cfg-options min_loaded_fraction=0`` loads it anyway). Known
failures are one line (``--debug`` for the traceback). ``--dump`` appends
mmengine's ``DumpResults`` metric to ``test_evaluator``, which pickles the
per-sample predictions. ``--show-dir``/``--show`` enable the config's
``default_hooks.visualization``.
"""
import argparse
import importlib.util
import os.path as osp
import sys


def _train_cli():
    """tools/train.py, loaded by path under the name ``SHARED_NAME`` there
    (it then imports uniformer_mm only when a config is loaded)."""
    spec = importlib.util.spec_from_file_location(
        '_uniformer_mm_train_cli', osp.join(osp.dirname(
            osp.abspath(__file__)), 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cli = _train_cli()
if __name__ != '__main__':
    # e.g. ``__mp_main__`` of 'spawn' worker processes: they unpickle
    # mmpretrain / mmaction2 objects and need the compat fixes first.
    cli.import_uniformer_mm()

from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test (and eval) a UniFormer checkpoint (mmaction2 or '
        'mmpretrain config).')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--dump', type=str,
        help='dump the per-sample predictions to this pickle file (.pkl) '
        'for offline evaluation')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as KEY=VALUE pairs with '
        'dotted keys, e.g. test_dataloader.batch_size=1')
    parser.add_argument(
        '--show-dir',
        help='directory where the visualization images will be saved')
    parser.add_argument(
        '--show', action='store_true',
        help='whether to display the prediction results in a window')
    parser.add_argument(
        '--interval', type=int, default=1,
        help='visualize every N-th sample (with --show/--show-dir)')
    parser.add_argument(
        '--wait-time', type=float, default=2,
        help='seconds each shown window stays open (with --show)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    cli.add_debug_argument(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    cli.set_local_rank(args.local_rank)
    return args


def merge_args(cfg, args):
    """Apply the command line to ``cfg``."""
    cli.merge_cfg_options(cfg, args.cfg_options)
    cli.resolve_config_knobs(cfg)
    cfg.launcher = args.launcher
    cli.set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint

    if args.show or args.show_dir is not None:
        hooks = cfg.get('default_hooks') or {}
        if 'visualization' not in hooks:
            raise cli.CLIError(
                '--show/--show-dir need a VisualizationHook: set '
                "default_hooks.visualization=dict(type='VisualizationHook') "
                'in the config')
        vis = hooks['visualization']
        vis.enable = True
        vis.show = args.show
        vis.wait_time = args.wait_time
        vis.out_dir = args.show_dir
        vis.interval = args.interval

    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise cli.CLIError(f'--dump {args.dump}: the dump file must end '
                               'with .pkl or .pickle')
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        evaluator = cfg.get('test_evaluator')
        if evaluator is None:
            cfg.test_evaluator = [dump_metric]
        elif isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = [*evaluator, dump_metric]
        elif isinstance(evaluator, dict) and 'metrics' in evaluator:
            # the Evaluator form: dict(type=..., metrics=[...])
            metrics = evaluator['metrics']
            metrics = list(metrics) if isinstance(metrics, (list, tuple)) \
                else [metrics]
            evaluator['metrics'] = [*metrics, dump_metric]
        else:
            cfg.test_evaluator = [evaluator, dump_metric]
    return cfg


def main(argv=None):
    args = parse_args(argv)
    prog = sys.argv[0] if argv is None else 'test.py'
    try:
        cli.check_config_path(args.config)
        if not (osp.isfile(args.checkpoint) or '://' in args.checkpoint):
            raise cli.CLIError(
                f'checkpoint {args.checkpoint!r} does not exist')
        cfg = cli.load_config(args.config)
        cfg = merge_args(cfg, args)
        notes = cli.check_config_cli(cfg, mode='test')
    except cli.CLIError as e:
        cli.fail(prog, e)

    def test():
        runner = cli.build_runner(cfg)
        for note in notes:
            runner.logger.warning(note)
        return runner.test()

    return cli.run_reporting_errors(prog, args.debug, test)


if __name__ == '__main__':
    main()
