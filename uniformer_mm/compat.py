"""Fixes for known breakages of the PyPI OpenMMLab stack, in one place.

Every fix here

* checks first whether the environment is healthy and is a no-op if it is,
* logs once (through the ``uniformer_mm.compat`` logger) what it changed,
* is covered by ``tests/test_compat.py`` with a test that fails without it.

:func:`apply` runs all of them and is called on ``import uniformer_mm``, so a
config that names ``uniformer_mm`` in ``custom_imports`` gets them too. The
fixes are:

``mmaction_drn``
    The mmaction2 1.2.0 wheel ships without ``mmaction/models/localizers/drn``
    although ``mmaction/models/localizers/__init__.py`` imports it, so
    ``import mmaction.models`` (and with it every mmaction2 model) fails. We
    register a placeholder package whose ``DRN`` raises a clear error when it
    is built; every other mmaction2 model then imports normally.
``torchvision``
    mmpretrain imports torchvision at module level in its transforms, metrics
    and box utilities but does not depend on it. Where torchvision is missing,
    or installed but unusable (the PyPI wheel for a CUDA torch on a CPU torch
    fails with ``operator torchvision::nms does not exist``), a placeholder
    package is put in its place. Nothing of it works: every attribute is a
    class that raises an error naming the reason when it is instantiated or
    called. Our own pipelines never use torchvision.
``mmcv_ext``
    mmcv-lite has no compiled operators (``mmcv._ext``), so ``import
    mmcv.ops`` fails (``No module named 'mmcv._ext'``), and with it
    ``import mmdet.models`` / ``mmseg.models`` / ``mmpose.models``. Where the
    module is missing we register :class:`uniformer_mm.ops.MMCVExtStandIn`
    in its place: ``nms`` and ``roi_align`` (forward and backward) in plain
    PyTorch, which is what RetinaNet, Mask R-CNN, UperNet and top-down pose
    models call on CPU; every other operator raises a one-line error when
    called. Where the compiled module exists nothing is changed.
``pkg_resources``
    mmengine resolves ``mmdet::`` / ``mmseg::`` / ``mmpose::`` config paths
    (and checks installed packages) with ``pkg_resources``, which setuptools
    >= 81 no longer ships (``No module named 'pkg_resources'``). Where it
    cannot be imported, mmengine's ``is_installed`` and
    ``get_installed_path`` are replaced by versions on
    ``importlib.metadata`` with the same results.
``torch_load``
    torch >= 2.6 loads with ``weights_only=True`` by default, which rejects
    the mmengine checkpoint contents (``HistoryBuffer``, numpy arrays and
    scalars in the message hub). We keep the safe loader and allow-list
    exactly those types with ``torch.serialization.add_safe_globals``.
    ``HistoryBuffer.__getstate__`` also pickles its statistics methods,
    which pickle protocol 2 writes as ``getattr(HistoryBuffer, 'min')``
    (``Unsupported global: GLOBAL getattr``); ``builtins.getattr`` is mapped
    to a restricted getattr that resolves only those four methods.
``dist_cpu``
    mmengine 0.10.7's pytorch/slurm/mpi launchers call
    ``torch.cuda.set_device`` unconditionally (fails on CPU torch:
    ``AttributeError: module 'torch._C' has no attribute '_cuda_setDevice'``),
    and the runner wraps models in DDP
    with ``device_ids=[LOCAL_RANK]``, which DDP rejects for CPU modules. On a
    machine without CUDA we initialise the process group without touching
    CUDA (``nccl`` becomes ``gloo``) and drop ``device_ids``.
``amp_cpu``
    mmengine's ``AmpOptimWrapper`` asserts a GPU (``AssertionError:
    ``AmpOptimizerWrapper`` is only available training on gpu, npu, mlu or
    musa``) although mmengine's ``autocast`` supports CPU with bfloat16. On a
    machine without any accelerator we build it on CPU: bfloat16 autocast
    (the only dtype of CPU autocast; ``dtype=None`` means bfloat16, another
    dtype is a clear error) and ``torch.amp.GradScaler('cpu')`` configured by
    ``loss_scale`` as on GPU.
``mmaction_bf16_loss``
    mmaction2's ``BaseHead.loss_by_feat`` computes the top-k training
    accuracy with ``cls_scores.detach().cpu().numpy()``, which fails under
    bfloat16 autocast (``TypeError: Got unsupported ScalarType BFloat16``;
    numpy has no bfloat16), i.e. with ``--amp`` on CPU and with
    ``AmpOptimWrapper(dtype='bfloat16')`` on GPUs. Where a bfloat16 tensor
    cannot become a numpy array, class scores in bfloat16 are cast to
    float32 before the loss (autocast computes the cross-entropy in float32
    anyway, so the loss value is unchanged); logged the first time it casts.
``sync_bn_cpu``
    torch's ``SyncBatchNorm`` raises ``ValueError: SyncBatchNorm expected
    input tensor to be on GPU or XPU ...`` for CPU tensors in a distributed
    run, so a config with ``sync_bn='torch'`` (what mmengine's runner
    converts with ``convert_sync_batchnorm``) cannot train on CPU processes
    (CI, ``tools/dist_train.sh CONFIG 2`` on a machine without GPUs). Where
    torch's ``forward`` has that check, CPU inputs of a distributed run in
    training mode are normalised by :func:`sync_batch_norm_cpu`: the batch
    mean and variance over all ranks from two differentiable all-reduces
    (sum and count, then the sum of squared deviations), in float32 whatever
    the input dtype, running statistics updated like ``nn.BatchNorm``
    (unbiased variance). Gradients flow through the all-reduces, so a DDP run
    with per-rank batch ``b`` on ``n`` ranks computes the outputs and
    gradients of one process with batch ``n * b`` (``tests/test_scale.py``).
    GPU inputs and non-distributed runs use torch's implementation
    unchanged; ``DistributedDataParallel``'s check that rejects CPU modules
    with ``SyncBatchNorm`` layers is skipped for CPU modules. Logged the first
    time a CPU batch is synchronised.
"""
import functools
import importlib.util
import logging
import os
import sys
import types

logger = logging.getLogger('uniformer_mm.compat')

#: Names of the fixes applied in this process, with a one-line reason each.
APPLIED = {}

#: Switches that package code reads where a fix changes its own behaviour
#: (``bf16_depthwise_conv3d``: ``models/layers/cpu_fused.py``).
STATE = {'bf16_depthwise_conv3d': False}


def _note(name, message):
    if name not in APPLIED:
        APPLIED[name] = message
        try:  # into the mmengine log of the current run
            from mmengine.logging import print_log
            print_log(f'uniformer_mm.compat[{name}]: {message}',
                      logger='current', level=logging.INFO)
        except ImportError:  # pragma: no cover - mmengine is a dependency
            logger.warning('uniformer_mm.compat[%s]: %s', name, message)


# --------------------------------------------------------------------------
# mmaction2 1.2.0 without localizers/drn
# --------------------------------------------------------------------------
_DRN_PKG = 'mmaction.models.localizers.drn'


def _mmaction_drn_missing():
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:
        return False  # mmaction2 not installed: nothing to fix
    pkg_dir = os.path.dirname(spec.origin)
    drn_dir = os.path.join(pkg_dir, 'models', 'localizers', 'drn')
    return not os.path.isdir(drn_dir) and _DRN_PKG not in sys.modules


def fix_mmaction_drn():
    """Make ``import mmaction.models`` work when the DRN package is absent."""
    if not _mmaction_drn_missing():
        return False
    from mmaction.registry import MODELS
    import torch.nn as nn

    class DRN(nn.Module):
        """Placeholder for mmaction2's DRN localizer, absent from the wheel."""

        def __init__(self, *args, **kwargs):
            raise RuntimeError(
                'DRN is not available: the installed mmaction2 package lacks '
                'mmaction/models/localizers/drn (a packaging bug of the '
                'mmaction2 1.2.0 wheel). Install mmaction2 from source to '
                'use DRN.')

    pkg = types.ModuleType(_DRN_PKG)
    pkg.__path__ = []  # a package, so that ``drn.drn`` resolves
    pkg.__file__ = __file__
    mod = types.ModuleType(_DRN_PKG + '.drn')
    mod.__file__ = __file__
    mod.DRN = DRN
    pkg.drn = mod
    sys.modules[_DRN_PKG] = pkg
    sys.modules[_DRN_PKG + '.drn'] = mod
    if 'DRN' not in MODELS.module_dict:
        MODELS.register_module(name='DRN', module=DRN)
    _note('mmaction_drn',
          'mmaction2 lacks models/localizers/drn; registered a placeholder '
          'DRN so that mmaction.models imports (building DRN raises).')
    return True


# --------------------------------------------------------------------------
# torchvision missing or unusable
# --------------------------------------------------------------------------
_TV_MODULES = ('torchvision', 'torchvision.transforms',
               'torchvision.transforms.functional',
               'torchvision.transforms.transforms', 'torchvision.ops',
               'torchvision.ops.boxes')


class _UnavailableMeta(type):
    """Every attribute of an unavailable torchvision object is unavailable."""

    def __getattr__(cls, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _unavailable(f'{cls.__qualname__}.{name}', cls._reason)


def _unavailable(qualname, reason):

    def _raise(self, *args, **kwargs):
        raise RuntimeError(
            f'torchvision is not usable in this environment ({reason}); '
            f'`{qualname}` was called. uniformer_mm pipelines do not need '
            'torchvision; install a torchvision build that matches your '
            'torch to use torchvision transforms.')

    return _UnavailableMeta(qualname.rsplit('.', 1)[-1], (), {
        '__init__': _raise,
        '__call__': _raise,
        '__qualname__': qualname,
        '_reason': reason,
    })


class _UnavailableModule(types.ModuleType):

    def __init__(self, name, reason):
        super().__init__(name)
        self.__spec__ = importlib.util.spec_from_loader(name, loader=None)
        self.__path__ = []
        self.__file__ = __file__
        self._reason = reason
        self.__version__ = '0.0.0+unavailable'

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _unavailable(f'{self.__name__}.{name}', self._reason)

    def __dir__(self):
        return []


def _torchvision_problem():
    """Return why torchvision cannot be used, or None if it imports fine."""
    if isinstance(sys.modules.get('torchvision'), _UnavailableModule):
        return None  # already replaced
    try:
        import torchvision  # noqa: F401
        import torchvision.ops.boxes  # noqa: F401
        import torchvision.transforms.functional  # noqa: F401
    except Exception as e:  # ModuleNotFoundError, RuntimeError of C++ ops
        for key in list(sys.modules):
            if key == 'torchvision' or key.startswith('torchvision.'):
                del sys.modules[key]
        return f'{type(e).__name__}: {e}'.splitlines()[0]
    return None


def fix_torchvision():
    """Let mmpretrain import where torchvision is missing or broken."""
    reason = _torchvision_problem()
    if reason is None:
        return False
    modules = {name: _UnavailableModule(name, reason) for name in _TV_MODULES}
    for name, module in modules.items():
        parent, _, child = name.rpartition('.')
        if parent:
            setattr(modules[parent], child, module)
        sys.modules[name] = module
    _note('torchvision',
          f'torchvision cannot be imported ({reason}); installed a '
          'placeholder so that mmpretrain imports (using it raises).')
    return True


# --------------------------------------------------------------------------
# mmcv-lite without the compiled operators (mmcv._ext)
# --------------------------------------------------------------------------
def _mmcv_ext_missing():
    if 'mmcv._ext' in sys.modules:
        return False  # real, or our stand-in already
    if importlib.util.find_spec('mmcv') is None:
        return False  # no mmcv at all: nothing to stand in for
    return importlib.util.find_spec('mmcv._ext') is None


def fix_mmcv_ext():
    """Register the plain-PyTorch ``mmcv._ext`` where mmcv has none."""
    if not _mmcv_ext_missing():
        return False
    import mmcv
    from .ops import MMCVExtStandIn
    from .ops.mmcv_ext import PROVIDED
    module = MMCVExtStandIn()
    sys.modules['mmcv._ext'] = module
    mmcv._ext = module
    _note('mmcv_ext',
          'mmcv has no compiled operators (mmcv-lite); registered a '
          f'plain-PyTorch mmcv._ext with {", ".join(PROVIDED)} so that '
          'mmcv.ops, mmdet, mmseg and mmpose import (other operators raise '
          'when called).')
    return True


# --------------------------------------------------------------------------
# pkg_resources removed from setuptools (>= 81)
# --------------------------------------------------------------------------
def _pkg_resources_missing():
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        return True
    return False


def _distribution(package):
    from importlib import metadata
    try:
        return metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None


def _dist_module_dir(dist, package):
    """The import directory of an installed distribution: ``<location>/
    <package>`` if it exists, else its first top-level module."""
    location = str(dist.locate_file(''))
    path = os.path.join(location, package)
    if os.path.exists(path):
        return path
    top = (dist.read_text('top_level.txt') or '').split()
    if not top:
        raise ValueError(f'can not infer the module name of {package}')
    return os.path.join(location, top[0])


def is_installed(package):
    """mmengine's ``is_installed`` without ``pkg_resources``."""
    if _distribution(package) is not None:
        return True
    spec = importlib.util.find_spec(package)
    return spec is not None and spec.origin is not None


def get_installed_path(package):
    """mmengine's ``get_installed_path`` without ``pkg_resources``."""
    dist = _distribution(package)
    if dist is None:
        spec = importlib.util.find_spec(package)
        if spec is None:
            from importlib.metadata import PackageNotFoundError
            raise PackageNotFoundError(package)
        if spec.origin is None:
            raise RuntimeError(f'{package} is a namespace package, which is '
                               'invalid for `get_install_path`')
        return os.path.dirname(spec.origin)
    return _dist_module_dir(dist, package)


def fix_pkg_resources():
    """Let mmengine find installed packages (``mmdet::`` config scopes)
    without ``pkg_resources``."""
    if not _pkg_resources_missing():
        return False
    from mmengine.utils import package_utils
    if package_utils.get_installed_path is get_installed_path:
        return False
    import mmengine.config.config as config_mod
    import mmengine.utils as utils_mod
    modules = [package_utils, config_mod, utils_mod]
    try:
        import mmengine.hub.hub as hub_mod
        modules.append(hub_mod)
    except ImportError:  # pragma: no cover - part of mmengine
        pass
    for mod in modules:
        for name, fn in (('is_installed', is_installed),
                         ('get_installed_path', get_installed_path)):
            if hasattr(mod, name):
                setattr(mod, name, fn)
    _note('pkg_resources',
          'setuptools has no pkg_resources; mmengine finds installed '
          'packages (mmdet::/mmseg::/mmpose:: config paths) through '
          'importlib.metadata.')
    return True


# --------------------------------------------------------------------------
# torch.load(weights_only=True) and mmengine checkpoints
# --------------------------------------------------------------------------
def _checkpoint_safe_globals():
    import numpy as np
    from mmengine.logging import HistoryBuffer
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
        np.int64, np.uint8, np.bool_)]
    return [HistoryBuffer, _reconstruct, scalar, np.ndarray, np.dtype,
            *dtype_classes, (_history_buffer_getattr, 'builtins.getattr')]


#: ``HistoryBuffer`` methods that its pickled state refers to by getattr.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name):
    """``getattr`` for the weights-only unpickler, limited to what mmengine
    checkpoints need: the default statistics methods of ``HistoryBuffer``
    (pickled by reference as ``getattr(HistoryBuffer, name)``)."""
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    import pickle
    raise pickle.UnpicklingError(
        f'weights_only load: getattr({obj!r}, {name!r}) is not allowed '
        '(uniformer_mm.compat allows only HistoryBuffer.'
        f'{{{",".join(_HISTORY_BUFFER_METHODS)}}})')


def fix_torch_load():
    """Allow-list the types of mmengine checkpoints for the safe loader."""
    import torch
    ser = torch.serialization
    if not hasattr(ser, 'add_safe_globals'):
        return False  # torch < 2.4: weights_only is not the default anyway
    wanted = _checkpoint_safe_globals()
    present = ser.get_safe_globals()
    ids = set(map(id, present))
    missing = [g for g in wanted  # tuples (fn, path) compare by value
               if (g not in present if isinstance(g, tuple) else
                   id(g) not in ids)]
    if not missing:
        return False
    ser.add_safe_globals(missing)
    _note('torch_load',
          'allow-listed mmengine checkpoint types (HistoryBuffer and its '
          'statistics methods, numpy arrays/scalars) for '
          'torch.load(weights_only=True).')
    return True


# --------------------------------------------------------------------------
# torch.distributed on CPU-only machines
# --------------------------------------------------------------------------
def _cpu_only():
    import torch
    return not torch.cuda.is_available()


def fix_dist_cpu():
    """Make mmengine's launchers and DDP wrapper work on CPU-only machines."""
    import torch
    import torch.distributed as torch_dist
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import distributed as ddp_mod
    if getattr(dist_utils, '_uniformer_mm_patched', False):
        return False
    original_init = dist_utils._init_dist_pytorch
    original_slurm = dist_utils._init_dist_slurm

    @functools.wraps(original_init)
    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if not _cpu_only() or init_backend != 'torch':
            return original_init(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            backend = 'gloo'
            _note('dist_backend', 'no CUDA device: using the gloo backend '
                  'instead of nccl.')
        torch_dist.init_process_group(backend=backend, **kwargs)

    @functools.wraps(original_slurm)
    def init_dist_slurm(backend, port=None, init_backend='torch', **kwargs):
        if not _cpu_only() or init_backend != 'torch':
            return original_slurm(backend, port=port,
                                  init_backend=init_backend, **kwargs)
        # Same environment as mmengine's slurm launcher, without CUDA.
        import subprocess
        proc_id = int(os.environ['SLURM_PROCID'])
        ntasks = int(os.environ['SLURM_NTASKS'])
        node_list = os.environ['SLURM_NODELIST']
        addr = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
        if port is not None:
            os.environ['MASTER_PORT'] = str(port)
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ.setdefault('MASTER_ADDR', addr)
        os.environ['WORLD_SIZE'] = str(ntasks)
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
        os.environ['RANK'] = str(proc_id)
        torch_dist.init_process_group(
            backend='gloo' if backend == 'nccl' else backend, **kwargs)

    original_mpi = dist_utils._init_dist_mpi

    @functools.wraps(original_mpi)
    def init_dist_mpi(backend, **kwargs):
        if not _cpu_only() or backend == 'smddp':
            return original_mpi(backend, **kwargs)
        # Same environment as mmengine's mpi launcher, without CUDA.
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            raise KeyError('The environment variable MASTER_ADDR is not set')
        os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
        os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
        if backend == 'nccl':
            backend = 'gloo'
            _note('dist_backend', 'no CUDA device: using the gloo backend '
                  'instead of nccl.')
        torch_dist.init_process_group(backend=backend, **kwargs)

    ddp_cls = ddp_mod.MMDistributedDataParallel
    original_ddp_init = ddp_cls.__init__

    @functools.wraps(original_ddp_init)
    def ddp_init(self, module, detect_anomalous_params=False, **kwargs):
        if _cpu_only() and kwargs.get('device_ids') is not None:
            kwargs['device_ids'] = None
            _note('ddp_device_ids', 'no CUDA device: DDP wraps the CPU model '
                  'with device_ids=None.')
        original_ddp_init(self, module,
                          detect_anomalous_params=detect_anomalous_params,
                          **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch
    dist_utils._init_dist_slurm = init_dist_slurm
    dist_utils._init_dist_mpi = init_dist_mpi
    ddp_cls.__init__ = ddp_init
    dist_utils._uniformer_mm_patched = True
    del torch
    return True


# --------------------------------------------------------------------------
# AmpOptimWrapper on CPU-only machines
# --------------------------------------------------------------------------
def _no_accelerator():
    from mmengine.device import get_device
    return get_device() == 'cpu'


def fix_amp_cpu():
    """Let mmengine's AmpOptimWrapper train with bf16 autocast on CPU."""
    import torch
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    if getattr(AmpOptimWrapper, '_uniformer_mm_cpu', False):
        return False
    if not hasattr(torch, 'amp') or not hasattr(torch.amp, 'GradScaler'):
        return False  # torch < 2.3 has no CPU GradScaler: leave it alone
    original_init = AmpOptimWrapper.__init__

    @functools.wraps(original_init)
    def amp_init(self, loss_scale='dynamic', dtype=None, use_fsdp=False,
                 **kwargs):
        if not _no_accelerator() or use_fsdp:
            return original_init(self, loss_scale=loss_scale, dtype=dtype,
                                 use_fsdp=use_fsdp, **kwargs)
        if dtype is None:
            dtype = torch.bfloat16
        elif isinstance(dtype, str):
            assert dtype in self.valid_dtypes, (
                f'dtype should be any of {self.valid_dtypes}, got {dtype}')
            dtype = getattr(torch, dtype)
        if dtype != torch.bfloat16:
            raise ValueError(
                f'AmpOptimWrapper on CPU: autocast supports only bfloat16, '
                f'got dtype={dtype}; set optim_wrapper.dtype="bfloat16".')
        # What AmpOptimWrapper.__init__ does, minus the GPU assertion and
        # with a CPU GradScaler.
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        if loss_scale == 'dynamic':
            self.loss_scaler = torch.amp.GradScaler('cpu')
        elif isinstance(loss_scale, float):
            self._scale_update_param = loss_scale
            self.loss_scaler = torch.amp.GradScaler(
                'cpu', init_scale=loss_scale)
        elif isinstance(loss_scale, dict):
            self.loss_scaler = torch.amp.GradScaler('cpu', **loss_scale)
        else:
            raise TypeError('loss_scale must be of type float, dict, or '
                            f'"dynamic", but got {loss_scale}')
        self.cast_dtype = dtype
        _note('amp_cpu', 'no GPU: AmpOptimWrapper uses bfloat16 autocast on '
              "CPU with torch.amp.GradScaler('cpu') (mmengine asserts a "
              'GPU).')

    AmpOptimWrapper.__init__ = amp_init
    AmpOptimWrapper._uniformer_mm_cpu = True
    return True


# --------------------------------------------------------------------------
# mmaction2's loss with bfloat16 class scores
# --------------------------------------------------------------------------
def _bf16_numpy_fails():
    import torch
    try:
        torch.zeros(1, dtype=torch.bfloat16).numpy()
    except TypeError:
        return True
    return False


def fix_mmaction_bf16_loss():
    """Cast bfloat16 class scores to float32 before mmaction2's head loss
    where numpy cannot hold them."""
    try:
        from mmaction.models.heads.base import BaseHead
    except ImportError:  # pragma: no cover - mmaction2 is a dependency
        return False
    if getattr(BaseHead.loss_by_feat, '_uniformer_mm_bf16', False) or \
            not _bf16_numpy_fails():
        return False
    import torch
    original = BaseHead.loss_by_feat

    @functools.wraps(original)
    def loss_by_feat(self, cls_scores, data_samples, *args, **kwargs):
        if torch.is_tensor(cls_scores) and cls_scores.dtype == torch.bfloat16:
            cls_scores = cls_scores.float()
            _note('mmaction_bf16_loss',
                  "mmaction2's BaseHead.loss_by_feat converts class scores "
                  'to numpy, which has no bfloat16: bfloat16 scores are '
                  'cast to float32 before the loss.')
        return original(self, cls_scores, data_samples, *args, **kwargs)

    loss_by_feat._uniformer_mm_bf16 = True
    BaseHead.loss_by_feat = loss_by_feat
    return True


# --------------------------------------------------------------------------
# SyncBatchNorm on CPU (gloo)
# --------------------------------------------------------------------------
def _all_reduce_sum(tensor, group):
    """Differentiable sum over the ranks of ``group``: the gradient of every
    rank's input is the sum of the output gradients of all ranks."""
    import torch
    import torch.distributed as dist

    class _AllReduceSum(torch.autograd.Function):

        @staticmethod
        def forward(ctx, tensor):
            out = tensor.clone()
            dist.all_reduce(out, op=dist.ReduceOp.SUM, group=group)
            return out

        @staticmethod
        def backward(ctx, grad):
            grad = grad.clone()
            dist.all_reduce(grad, op=dist.ReduceOp.SUM, group=group)
            return grad

    return _AllReduceSum.apply(tensor)


def sync_batch_norm_cpu(bn, input, momentum: float):
    """Training-mode batch norm of ``input`` with statistics over all
    ranks of ``bn.process_group``; updates ``bn``'s running statistics."""
    import torch
    import torch.distributed as dist
    group = bn.process_group or dist.group.WORLD
    c = input.shape[1]
    dims = [0] + list(range(2, input.dim()))
    shape = [1, c] + [1] * (input.dim() - 2)
    x = input.float()
    count = torch.full((1, ), x.numel() // c, dtype=torch.float32)
    total = _all_reduce_sum(torch.cat([x.sum(dims), count]), group)
    n = total[-1]
    mean = total[:-1] / n
    centred = x - mean.view(shape)
    var = _all_reduce_sum((centred * centred).sum(dims), group) / n
    out = centred * torch.rsqrt(var + bn.eps).view(shape)
    if bn.affine:
        out = out * bn.weight.float().view(shape) + bn.bias.float().view(shape)
    if bn.track_running_stats and bn.running_mean is not None:
        with torch.no_grad():
            unbiased = var.detach() * (n / (n - 1).clamp(min=1))
            bn.running_mean.mul_(1 - momentum).add_(
                mean.detach().to(bn.running_mean.dtype), alpha=momentum)
            bn.running_var.mul_(1 - momentum).add_(
                unbiased.to(bn.running_var.dtype), alpha=momentum)
    return out.to(input.dtype)


def _sync_bn_rejects_cpu(forward):
    """Whether torch's ``SyncBatchNorm.forward`` refuses CPU inputs (its
    source has the GPU-only check; unreadable source counts as refusing)."""
    import inspect
    try:
        source = inspect.getsource(forward)
    except (OSError, TypeError):
        return True
    return 'expected input tensor to be on GPU' in source


def fix_sync_bn_cpu():
    """Let ``SyncBatchNorm`` train on CPU tensors in a distributed run."""
    import torch.distributed as dist
    from torch.nn.modules.batchnorm import SyncBatchNorm
    if getattr(SyncBatchNorm.forward, '_uniformer_mm_cpu', False) or \
            not _sync_bn_rejects_cpu(SyncBatchNorm.forward):
        return False
    original = SyncBatchNorm.forward

    @functools.wraps(original)
    def forward(self, input):
        if not (input.device.type == 'cpu' and self.training
                and dist.is_available() and dist.is_initialized()
                and dist.get_world_size(self.process_group
                                        or dist.group.WORLD) > 1):
            return original(self, input)
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
        _note('sync_bn_cpu', 'SyncBatchNorm on CPU tensors: batch '
              'statistics all-reduced over the gloo group (torch '
              'supports GPU tensors only).')
        return sync_batch_norm_cpu(self, input, momentum)

    forward._uniformer_mm_cpu = True
    SyncBatchNorm.forward = forward

    # DDP refuses to wrap CPU modules with SyncBatchNorm layers
    # ("SyncBatchNorm layers only work with GPU modules"): they work now.
    from torch.nn.parallel import DistributedDataParallel as DDP
    check = getattr(DDP, '_passing_sync_batchnorm_handle', None)
    if check is not None:

        @functools.wraps(check)
        def passing_sync_batchnorm_handle(self, module):
            if getattr(self, 'device_type', None) == 'cpu':
                return None
            return check(self, module)

        DDP._passing_sync_batchnorm_handle = passing_sync_batchnorm_handle
    return True


# --------------------------------------------------------------------------
# torch CPU: bfloat16 depthwise conv3d weight gradient on channels-last maps
# --------------------------------------------------------------------------
def _bf16_depthwise_conv3d_broken():
    """Whether torch's CPU bfloat16 depthwise ``conv3d`` gives a wrong
    weight gradient for a channels-last input (torch 2.13: relative error
    ~1, or inf/NaN read from uninitialised memory, where the kernel is
    larger than the map in a dimension, e.g. UniFormer V1's 3x3x3
    ``pos_embed`` on a 2-frame map, its 5x5x5 ``attn`` on 4 frames), against
    the same convolution on a contiguous input."""
    import torch
    import torch.nn.functional as F
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 8, 2, 4, 4, generator=gen).bfloat16()
    w = torch.randn(8, 1, 3, 3, 3, generator=gen).bfloat16()
    g = torch.randn(2, 8, 2, 4, 4, generator=gen).bfloat16()
    grads = []
    for layout in (torch.contiguous_format, torch.channels_last_3d):
        weight = w.clone().requires_grad_()
        F.conv3d(x.contiguous(memory_format=layout), weight, None, padding=1,
                 groups=8).backward(g.contiguous(memory_format=layout))
        grads.append(weight.grad.float())
    ref, got = grads
    return not bool(torch.isfinite(got).all()) or \
        float((got - ref).norm() / ref.norm()) > 0.05


def fix_bf16_depthwise_conv3d():
    """Where :func:`_bf16_depthwise_conv3d_broken`, the depthwise 3D
    convolutions of the models (``DepthwiseConv3d``) make a channels-last
    input contiguous before a bfloat16 convolution that needs gradients
    (bf16 autocast training on CPU); the results are those of the
    contiguous layout. A no-op elsewhere."""
    if STATE['bf16_depthwise_conv3d']:
        return False
    try:
        broken = _bf16_depthwise_conv3d_broken()
    except Exception:  # noqa: BLE001 - no bfloat16 conv3d: nothing to fix
        return False
    if not broken:
        return False
    STATE['bf16_depthwise_conv3d'] = True
    _note('bf16_depthwise_conv3d',
          "torch's CPU bfloat16 depthwise conv3d weight gradient is wrong "
          'on channels-last inputs: the models convolve a contiguous copy '
          'in bfloat16 training on CPU.')
    return True


def apply():
    """Apply every fix (idempotent). Returns the names applied so far."""
    fix_mmcv_ext()
    fix_torchvision()
    fix_pkg_resources()
    fix_mmaction_drn()
    fix_torch_load()
    fix_dist_cpu()
    fix_amp_cpu()
    fix_mmaction_bf16_loss()
    fix_sync_bn_cpu()
    fix_bf16_depthwise_conv3d()
    return dict(APPLIED)
