"""Train a model from an mmengine config (mmaction2 or mmpretrain).

The command line is the one of mmaction2's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--no-validate] [--auto-scale-lr] [--seed N] [--diff-rank-seed]
        [--deterministic] [--cfg-options KEY=VALUE ...]
        [--launcher {none,pytorch,slurm,mpi}] [--debug]

``uniformer_mm`` is imported before anything is built, so its models are
registered and the fixes of :mod:`uniformer_mm.compat` are applied. Video
configs (``default_scope = 'mmaction'``) and image configs
(``default_scope = 'mmpretrain'``) both work; the runner is
``cfg.runner_type`` when set, else mmengine's ``Runner``.

Mistakes on the command line (a missing config file, a misspelt
``--cfg-options`` key, a value of the wrong type) and in the config
(:mod:`uniformer_mm.engine.config_checks`: unknown types, unexpected
arguments, class counts, ...) end with a one-line error and exit status 2.
So do the known failures of the run itself
(:func:`uniformer_mm.engine.errors.explain`: a checkpoint that does not fit
the model, bad data, non-finite losses; exit status 2 or 1); ``--debug``
(or ``UNIFORMER_MM_DEBUG=1``) shows their traceback instead.

``load_from`` / ``--resume`` checkpoints must fill at least
``min_loaded_fraction`` (default 0.5) of the model's parameters
(:class:`uniformer_mm.engine.hooks.LoadCheckHook`, registered here).
"""
import argparse
import difflib
import inspect
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

#: Top-level keys that ``--cfg-options`` may add although the config does not
#: have them, besides the arguments of the runner (``Runner.__init__``).
_RUNNER_KEYS = {'runner_type', 'default_scope', 'custom_imports', 'launcher',
                # read by uniformer_mm.engine.config_checks
                'config_checks', 'allow_head_mismatch',
                # read by LoadCheckHook (uniformer_mm.checkpoint.coverage)
                'min_loaded_fraction',
                # --- read by mmengine's runner from the config (docs/
                # distributed.md): torch.compile, SyncBN, DDP option
                'compile', 'sync_bn', 'find_unused_parameters'}


class CLIError(Exception):
    """A user mistake that is reported in one line, without a traceback."""


def fail(prog, message):
    """Print ``prog: error: message`` on stderr and exit with status 2."""
    print(f'{osp.basename(prog)}: error: {message}', file=sys.stderr)
    sys.exit(2)


# --------------------------------------------------------------------------
# helpers shared with tools/test.py
# --------------------------------------------------------------------------
def import_uniformer_mm():
    """Import ``uniformer_mm`` (our models, the compat fixes) once.

    Done after the command line is checked, so that its mistakes are
    reported without the import's log lines, and before anything is built.
    """
    try:
        import uniformer_mm
    except ImportError:  # running from a checkout that is not pip-installed
        sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
        import uniformer_mm
    return uniformer_mm


#: The name tools/test.py loads this file under.
SHARED_NAME = '_uniformer_mm_train_cli'

if __name__ not in ('__main__', SHARED_NAME):
    # Imported as a module, e.g. as ``__mp_main__`` in worker processes
    # started with 'spawn', which unpickle mmpretrain / mmaction2 objects
    # and so need the compat fixes first.
    import_uniformer_mm()


def check_config_path(path):
    if not osp.isfile(path):
        kind = 'is a directory' if osp.isdir(path) else 'does not exist'
        raise CLIError(f'config file {path!r} {kind}')


def load_config(path):
    """``Config.fromfile`` with one-line errors for the usual mistakes.

    Imports ``uniformer_mm`` first (see :func:`import_uniformer_mm`).
    """
    check_config_path(path)
    import_uniformer_mm()
    try:
        return Config.fromfile(path)
    except FileNotFoundError as e:  # e.g. a missing _base_ file
        raise CLIError(f'while reading config {path!r}: {e}') from None
    except SyntaxError as e:
        raise CLIError(f'syntax error in config {e.filename}:{e.lineno}: '
                       f'{e.msg}') from None


def _runner_keys(cfg):
    keys = set(_RUNNER_KEYS)
    from mmengine.runner import Runner
    keys.update(inspect.signature(Runner.__init__).parameters)
    runner_type = cfg.get('runner_type')
    if isinstance(runner_type, str):
        from mmengine.registry import RUNNERS
        try:
            cls = RUNNERS.get(runner_type)
        except Exception:  # unknown type: reported when it is built
            cls = None
        if cls is not None:
            keys.update(inspect.signature(cls.__init__).parameters)
    keys.discard('self')
    return keys


def _close(word, candidates):
    match = difflib.get_close_matches(
        word, [str(c) for c in candidates], n=1, cutoff=0.8)
    return f" (did you mean '{match[0]}'?)" if match else ''


def _kind(value):
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, int):
        return 'an integer'
    if isinstance(value, float):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    return f'a {type(value).__name__}'


def check_value_type(key, old, new):
    """A ``--cfg-options`` value that cannot replace the config's value:
    a number or boolean replaced by something else (``max_epochs=ten``,
    ``max_epochs=2.5``, ``lr=fast``). ``None`` may replace anything;
    strings, lists and dicts may be replaced by anything (``arch=small``
    replaces an arch dict, ``scale=224`` a pair)."""
    if new is None or old is None:
        return
    if isinstance(old, bool):
        ok = isinstance(new, bool)
    elif isinstance(old, int):
        ok = isinstance(new, int) and not isinstance(new, bool)
    elif isinstance(old, float):
        ok = isinstance(new, (int, float)) and not isinstance(new, bool)
    else:
        return
    if not ok:
        raise CLIError(
            f'--cfg-options {key}={new!r}: expects {_kind(old)} (the config '
            f'has {old!r}), got {_kind(new)}; e.g. {key}={old!r}')


def check_cfg_options(cfg, options):
    """Reject ``--cfg-options`` keys that are most likely misspelt, and
    values of the wrong type (:func:`check_value_type`).

    A key may add new entries (``model.backbone.drop_path_rate=0.1`` where
    the config does not set it), but

    * a new top-level key must be one the runner reads,
    * a new key that is a near miss of an existing sibling
      (``train_cfg.max_epoch`` next to ``max_epochs``) is an error,
    * a path cannot go through a value that is not a dict (or a list, with
      a numeric index in range).
    """
    top = cfg._cfg_dict if hasattr(cfg, '_cfg_dict') else cfg
    runner_keys = None
    for key in options:
        node, walked, found = top, [], True
        for part in key.split('.'):
            where = '.'.join(walked)
            if isinstance(node, (list, tuple)):
                if not part.isdigit():
                    raise CLIError(
                        f'--cfg-options {key}: {where!r} is a list, index it '
                        f'with a number (e.g. {where}.0)')
                if int(part) >= len(node):
                    raise CLIError(
                        f'--cfg-options {key}: index {part} is out of range '
                        f'for {where!r} (a list of {len(node)})')
                node = node[int(part)]
            elif isinstance(node, dict):
                if part in node:
                    node = node[part]
                else:
                    hint = _close(part, node.keys())
                    if not walked:
                        if runner_keys is None:
                            runner_keys = _runner_keys(cfg)
                        if part not in runner_keys:
                            raise CLIError(
                                f'--cfg-options {key}: the config has no '
                                f'top-level key {part!r}{hint}')
                    elif hint:
                        raise CLIError(
                            f'--cfg-options {key}: {where!r} has no key '
                            f'{part!r}{hint}')
                    found = False
                    break  # adding a new entry: nothing more to check
            else:
                raise CLIError(
                    f'--cfg-options {key}: {where!r} is {node!r}, not a '
                    f'dict, so it has no key {part!r}')
            walked.append(part)
        if found:
            check_value_type(key, node, options[key])


def merge_cfg_options(cfg, options):
    """Validate (see :func:`check_cfg_options`) and merge ``options``."""
    if not options:
        return
    check_cfg_options(cfg, options)
    try:
        cfg.merge_from_dict(options)
    except (TypeError, KeyError, IndexError) as e:
        raise CLIError(f'--cfg-options: {e}') from None


def resolve_config_knobs(cfg):
    """Fill in the ``${name}`` references of the config
    (:mod:`uniformer_mm.engine.config_knobs`) after ``--cfg-options``."""
    from uniformer_mm.engine.config_knobs import KnobError, resolve_knobs
    try:
        resolve_knobs(cfg)
    except KnobError as e:
        raise CLIError(str(e)) from None


def set_work_dir(cfg, work_dir, config_path):
    """``--work-dir`` > ``cfg.work_dir`` > ``./work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


#: default hooks mmengine's runner knows by name (``None`` removes them)
_MMENGINE_DEFAULT_HOOKS = {'runtime_info', 'timer', 'sampler_seed', 'logger',
                           'param_scheduler', 'checkpoint'}


def drop_disabled_hooks(cfg):
    """Remove ``default_hooks`` entries set to ``None`` that mmengine does not
    know by name (our ``preemption`` / ``bad_samples``, mmaction2's
    ``sync_buffers``, ...): mmengine accepts ``None`` only for its own six
    and asserts on any other."""
    hooks = cfg.get('default_hooks')
    if not hooks:
        return
    for name in [k for k, v in hooks.items()
                 if v is None and k not in _MMENGINE_DEFAULT_HOOKS]:
        hooks.pop(name)


def build_runner(cfg):
    """``cfg.runner_type`` if the config names one, else mmengine Runner.

    ``default_hooks`` entries set to ``None`` are switched off (any name).
    :class:`~uniformer_mm.engine.hooks.LoadCheckHook` is registered unless
    the config has it (``load_from`` / ``resume`` must fill the model).
    The fixes of :mod:`uniformer_mm.compat` in effect are written to the
    run's log.
    """
    drop_disabled_hooks(cfg)
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        from mmengine.runner import Runner
        runner = Runner.from_cfg(cfg)
    from uniformer_mm.engine.hooks import LoadCheckHook
    if not any(isinstance(h, LoadCheckHook) for h in runner.hooks):
        runner.register_hook(LoadCheckHook())
    applied = import_uniformer_mm().compat.APPLIED
    if applied:
        runner.logger.info(
            f'uniformer_mm.compat fixes in effect: {", ".join(applied)} '
            '(see uniformer_mm/compat.py)')
    return runner


def check_config_cli(cfg, mode='train'):
    """:func:`uniformer_mm.engine.config_checks.check_config`; its errors
    become a one-line-per-problem CLIError, its warnings are returned."""
    from uniformer_mm.engine.config_checks import (ConfigCheckError,
                                                   check_config)
    try:
        return check_config(cfg, mode=mode)
    except ConfigCheckError as e:
        raise CLIError(str(e).replace('\n', '\n  ')) from None


def add_debug_argument(parser):
    parser.add_argument(
        '--debug', action='store_true',
        help='show the traceback of errors that are otherwise reported in '
        'one line (also: UNIFORMER_MM_DEBUG=1)')


def run_reporting_errors(prog, debug, fn, *args):
    """``fn(*args)`` inside :func:`uniformer_mm.engine.errors.cli_errors`:
    known mistakes end the tool with one line and a non-zero status."""
    from uniformer_mm.engine.errors import cli_errors
    with cli_errors(prog, debug=debug):
        return fn(*args)


def set_local_rank(local_rank):
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)


# --------------------------------------------------------------------------
# train.py proper
# --------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train a UniFormer model (mmaction2 or mmpretrain '
        'config).')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; without a value, resume from the '
        'latest checkpoint in the work dir (if any)')
    parser.add_argument(
        '--amp', action='store_true',
        help='automatic mixed precision training (bf16 autocast on CPU)')
    parser.add_argument(
        '--no-validate', action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by the actual / base batch size '
        '(needs `auto_scale_lr` in the config)')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed', action='store_true',
        help='use a different seed on every rank')
    parser.add_argument(
        '--deterministic', action='store_true',
        help='use deterministic algorithms (cuDNN included)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as KEY=VALUE pairs with '
        'dotted keys, e.g. train_cfg.max_epochs=10 '
        'optim_wrapper.optimizer.lr=1e-3. Lists: key="[a,b]" or key=a,b; '
        'list items: key.0.field=value (quote brackets in the shell).')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    add_debug_argument(parser)
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank (older); torchrun sets the LOCAL_RANK variable instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    set_local_rank(args.local_rank)
    return args


#: what --amp turns an optimizer wrapper type into
_AMP_WRAPPERS = {
    'OptimWrapper': 'AmpOptimWrapper',
    'AmpOptimWrapper': 'AmpOptimWrapper',
    'SkipNonFiniteOptimWrapper': 'SkipNonFiniteAmpOptimWrapper',
    'SkipNonFiniteAmpOptimWrapper': 'SkipNonFiniteAmpOptimWrapper',
}


def _on_cpu():
    from mmengine.device import get_device
    return get_device() == 'cpu'


def merge_args(cfg, args, notes):
    """Apply the command line to ``cfg``; append log lines to ``notes``."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)

    if args.amp:
        optim_wrapper = cfg.get('optim_wrapper')
        if not isinstance(optim_wrapper, dict):
            raise CLIError('--amp needs an `optim_wrapper` dict in the config')
        wrapper_type = optim_wrapper.get('type', 'OptimWrapper')
        if wrapper_type not in _AMP_WRAPPERS:
            raise CLIError(
                f'--amp works with {", ".join(sorted(_AMP_WRAPPERS))}, but '
                f'the config uses {wrapper_type!r}; set its AMP options in '
                'the config instead')
        optim_wrapper.type = _AMP_WRAPPERS[wrapper_type]
        optim_wrapper.setdefault('loss_scale', 'dynamic')
        if _on_cpu():
            old = optim_wrapper.get('dtype')
            optim_wrapper.dtype = 'bfloat16'
            from mmengine.optim import AmpOptimWrapper
            how = ('mmengine\'s AmpOptimWrapper asserts a GPU, '
                   'uniformer_mm.compat (amp_cpu) builds it on CPU with '
                   'torch.amp.GradScaler(\'cpu\')'
                   if getattr(AmpOptimWrapper, '_uniformer_mm_cpu', False)
                   else 'AmpOptimWrapper on CPU')
            changed = (f' (dtype {old!r} replaced: CPU autocast supports '
                       'only bfloat16)' if old not in (None, 'bfloat16')
                       else '')
            notes.append('--amp without a GPU: bfloat16 autocast on CPU'
                         f'{changed}; {how}.')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if '://' not in args.resume:
            from uniformer_mm.engine.checkpoint_guard import \
                inspect_checkpoint
            info = inspect_checkpoint(args.resume)
            if not info['ok']:
                raise CLIError(f'--resume: checkpoint {args.resume} '
                               f'{info["problem"]}')
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        auto_scale_lr = cfg.get('auto_scale_lr')
        if not isinstance(auto_scale_lr, dict) or \
                'base_batch_size' not in auto_scale_lr:
            raise CLIError(
                '--auto-scale-lr needs `auto_scale_lr = dict('
                'base_batch_size=N)` in the config (N: the total batch size '
                'the learning rate was tuned for)')
        auto_scale_lr.enable = True

    randomness = dict(cfg.get('randomness') or {})
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    if randomness:
        randomness.setdefault('seed', None)
        cfg.randomness = randomness

    merge_cfg_options(cfg, args.cfg_options)
    resolve_config_knobs(cfg)

    if args.resume == 'auto':
        # the last_checkpoint target, or the newest intact checkpoint if it
        # is truncated / missing / non-finite (uniformer_mm.engine.
        # checkpoint_guard)
        from uniformer_mm.engine import ResumeError, resolve_resume
        try:
            path, note = resolve_resume(cfg.work_dir)
        except ResumeError as e:
            raise CLIError(str(e)) from None
        if path is None:
            notes.append(f'--resume: no checkpoint in {cfg.work_dir}, '
                         'training starts from scratch.')
        elif note:  # not the last_checkpoint target, which mmengine reads
            cfg.load_from = path
            notes.append(note)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    prog = sys.argv[0] if argv is None else 'train.py'
    notes = []
    try:
        cfg = load_config(args.config)
        cfg = merge_args(cfg, args, notes)
        notes.extend(check_config_cli(cfg))
    except CLIError as e:
        fail(prog, e)

    def train():
        runner = build_runner(cfg)
        for note in notes:
            runner.logger.info(note)
        runner.train()

    run_reporting_errors(prog, args.debug, train)


if __name__ == '__main__':
    main()
