"""Every fix of ``uniformer_mm.compat`` fails without it and works with it.

Each fix has a snippet. ``without_fix`` runs all of them in one fresh
interpreter that never imports ``uniformer_mm``; ``with_fix`` runs the same
snippets after ``import uniformer_mm``. A test asserts the known error
without the fix and success with it. Where the environment turns out to be
healthy (the snippet works without the fix) the test is skipped, after
checking that ``compat.apply()`` did not record the fix (it must then be a
no-op).

The snippets run in one process per mode (not one per fix) to keep the
suite light: importing the OpenMMLab stack takes several seconds.
"""
import json
import os
import pickle
import socket
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 300


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def cpu_only():
    import torch
    return not torch.cuda.is_available()


# One snippet per fix. Each runs with `tmp` (a fresh directory) in scope and
# raises if the broken behaviour shows.
SNIPPETS = {
    'mmaction_drn': '''
        import mmaction.models
        from mmaction.registry import MODELS
        assert MODELS.get('Recognizer3D') is not None
    ''',
    'torchvision': '''
        import mmpretrain.models
        import mmpretrain.datasets
        from mmpretrain.registry import MODELS
        assert MODELS.get('ImageClassifier') is not None
    ''',
    'torch_load': '''
        import numpy as np
        import torch
        import torch.nn as nn
        from mmengine.model import BaseModel
        from mmengine.runner import Runner, load_checkpoint

        class Net(BaseModel):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 1)

            def forward(self, x, mode='loss'):
                return dict(loss=self.fc(x).pow(2).mean())

        data = [dict(x=torch.randn(4)) for _ in range(4)]
        runner = Runner(
            model=Net(), work_dir=tmp,
            train_dataloader=dict(
                dataset=data, batch_size=2,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate')),
            train_cfg=dict(by_epoch=True, max_epochs=1),
            optim_wrapper=dict(optimizer=dict(
                type='SGD', lr=0.1, momentum=0.9)),
            param_scheduler=dict(type='StepLR', step_size=1),
            default_hooks=dict(logger=dict(type='LoggerHook', interval=1)))
        runner.train()  # CheckpointHook: runner.save_checkpoint(epoch_1.pth)
        runner.message_hub.update_info('np_value', np.float64(0.25))
        runner.save_checkpoint(tmp, 'more.pth')  # and one saved by hand
        for name in ('epoch_1.pth', 'more.pth'):
            ckpt = torch.load(tmp + '/' + name, weights_only=True)
            assert ckpt['meta']['iter'] == 2, ckpt['meta']
            assert ckpt['optimizer']['state'] and ckpt['param_schedulers']
            hub = ckpt['message_hub']
            assert hub['log_scalars']['train/loss'].mean() >= 0
            assert isinstance(hub['runtime_info']['eta'], np.floating)
        assert hub['runtime_info']['np_value'] == 0.25
        load_checkpoint(Net(), tmp + '/epoch_1.pth')  # torch.load default
    ''',
    'dist_cpu': '''
        import torch
        import torch.distributed as torch_dist
        from mmengine.dist import init_dist
        init_dist('pytorch', backend='nccl')
        t = torch.ones(2)
        torch_dist.all_reduce(t)
        assert t.tolist() == [1.0, 1.0]
        torch_dist.destroy_process_group()
    ''',
    'dist_cpu_mpi': '''
        import os
        import torch
        import torch.distributed as torch_dist
        from mmengine.dist import init_dist
        os.environ.update(
            OMPI_COMM_WORLD_LOCAL_RANK='0', OMPI_COMM_WORLD_SIZE='1',
            OMPI_COMM_WORLD_RANK='0',
            MASTER_PORT=os.environ['MASTER_PORT_MPI'])
        init_dist('mpi', backend='nccl')
        assert torch_dist.get_world_size() == 1
        torch_dist.destroy_process_group()
    ''',
    'mmcv_ext': '''
        import torch
        from mmcv.ops import RoIAlign, nms
        boxes = torch.tensor([[0., 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]])
        _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
        assert keep.tolist() == [0, 2], keep
        out = RoIAlign((2, 2), 1.0, 0)(torch.ones(1, 1, 8, 8),
                                       torch.tensor([[0., 1, 1, 5, 5]]))
        assert torch.allclose(out, torch.ones(1, 1, 2, 2))
    ''',
    'pkg_resources': '''
        import os
        from mmengine.utils import get_installed_path, is_installed
        import mmengine
        assert is_installed('mmengine')
        assert get_installed_path('mmengine') == os.path.dirname(
            mmengine.__file__)
    ''',
    'amp_cpu': '''
        import torch
        from mmengine.optim import AmpOptimWrapper
        model = torch.nn.Linear(4, 2)
        wrapper = AmpOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
        with wrapper.optim_context(model):
            out = model(torch.randn(3, 4))
        assert out.dtype == torch.bfloat16, out.dtype
        wrapper.update_params(out.float().sum())
        assert 'loss_scaler' in wrapper.state_dict()
    ''',
}

RUNNER = '''
import json, os, sys, tempfile, traceback
if {with_fix!r}:
    import uniformer_mm
results = {{}}
for name, code in {snippets!r}.items():
    try:
        with tempfile.TemporaryDirectory() as tmp:
            exec(code, {{'tmp': tmp, '__name__': 'snippet_' + name}})
        results[name] = dict(ok=True)
    except BaseException as e:
        results[name] = dict(
            ok=False, error=f'{{type(e).__name__}}: {{e}}',
            traceback=traceback.format_exc())
results['_uniformer_mm_imported'] = 'uniformer_mm' in sys.modules
if {with_fix!r}:
    results['_applied'] = sorted(uniformer_mm.compat.APPLIED)
print('@@RESULTS@@' + json.dumps(results))
'''


def _start_snippets(with_fix, tmp_path):
    code = RUNNER.format(
        with_fix=with_fix,
        snippets={k: textwrap.dedent(v) for k, v in SNIPPETS.items()})
    env = dict(os.environ, RANK='0', WORLD_SIZE='1', LOCAL_RANK='0',
               MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()),
               MASTER_PORT_MPI=str(free_port()))
    return subprocess.Popen(
        [sys.executable, '-c', code], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _results(proc):
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    marker = [line for line in stdout.splitlines()
              if line.startswith('@@RESULTS@@')]
    assert proc.returncode == 0 and marker, (
        f'snippet runner failed (rc={proc.returncode}):\n{stdout}\n{stderr}')
    return json.loads(marker[0][len('@@RESULTS@@'):])


@pytest.fixture(scope='module')
def snippet_results(tmp_path_factory):
    """(without_fix, with_fix) results; both interpreters run at once."""
    procs = [_start_snippets(False, tmp_path_factory.mktemp('without')),
             _start_snippets(True, tmp_path_factory.mktemp('with'))]
    try:
        return [_results(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


@pytest.fixture(scope='module')
def without_fix(snippet_results):
    results = snippet_results[0]
    assert not results['_uniformer_mm_imported']
    return results


@pytest.fixture(scope='module')
def with_fix(snippet_results):
    return snippet_results[1]


def check_fix(name, without_fix, with_fix, expect, recorded=None):
    """Assert the snippet ``name`` fails without the fix with an error
    containing one of ``expect`` and passes with it; skip when healthy."""
    recorded = recorded or [name]
    before = without_fix[name]
    if before['ok']:
        assert not set(recorded) & set(with_fix['_applied']), (
            f'environment is healthy for {name} but compat recorded '
            f'{with_fix["_applied"]}')
        pytest.skip(f'{name}: works without the fix in this environment '
                    '(the fix is a no-op here)')
    assert any(e.lower() in before['error'].lower() for e in expect), \
        before['traceback']
    after = with_fix[name]
    assert after['ok'], after['traceback']
    assert set(recorded) <= set(with_fix['_applied'])


def test_mmaction_drn(without_fix, with_fix):
    check_fix('mmaction_drn', without_fix, with_fix,
              expect=["No module named 'mmaction.models.localizers.drn'"])


def test_torchvision(without_fix, with_fix):
    check_fix('torchvision', without_fix, with_fix,
              expect=["No module named 'torchvision'",
                      'torchvision::nms does not exist', 'torchvision'])


def test_torch_load(without_fix, with_fix):
    import torch
    if not hasattr(torch.serialization, 'add_safe_globals'):
        assert 'torch_load' not in with_fix['_applied']
        pytest.skip('torch < 2.4: no weights_only allow-list (and '
                    'weights_only is not the default); the fix is a no-op')
    check_fix('torch_load', without_fix, with_fix,
              expect=['Weights only load failed'])
    # the GLOBAL getattr of HistoryBuffer's statistics methods is the part
    # that allow-listing HistoryBuffer alone does not cover
    assert 'getattr' in without_fix['torch_load']['error'] or \
        'HistoryBuffer' in without_fix['torch_load']['error']


@pytest.mark.skipif(sys.platform == 'win32', reason='gloo over TCP')
def test_dist_cpu(without_fix, with_fix):
    if not cpu_only():
        assert not {'dist_backend', 'ddp_device_ids'} & set(
            with_fix['_applied'])
        pytest.skip('CUDA is available: the launchers work as they are')
    check_fix('dist_cpu', without_fix, with_fix,
              expect=['cuda', 'nvidia', 'gpu'], recorded=['dist_backend'])


@pytest.mark.skipif(sys.platform == 'win32', reason='gloo over TCP')
def test_dist_cpu_mpi_launcher(without_fix, with_fix):
    if not cpu_only():
        pytest.skip('CUDA is available: the launchers work as they are')
    check_fix('dist_cpu_mpi', without_fix, with_fix,
              expect=['cuda', 'nvidia', 'gpu'], recorded=['dist_backend'])


def test_mmcv_ext(without_fix, with_fix):
    check_fix('mmcv_ext', without_fix, with_fix,
              expect=["No module named 'mmcv._ext'"])


def test_pkg_resources(without_fix, with_fix):
    check_fix('pkg_resources', without_fix, with_fix,
              expect=["No module named 'pkg_resources'"])


def test_amp_cpu(without_fix, with_fix):
    check_fix('amp_cpu', without_fix, with_fix,
              expect=['only available training on gpu'])


# --------------------------------------------------------------------------
# in-process checks of details of the fixes
# --------------------------------------------------------------------------
def test_torchvision_placeholder_raises_clear_error():
    import uniformer_mm
    if 'torchvision' not in uniformer_mm.compat.APPLIED:
        pytest.skip('torchvision is usable here: no placeholder installed')
    import torchvision
    import torchvision.transforms.functional as F
    from torchvision.ops.boxes import batched_nms
    reason = uniformer_mm.compat.APPLIED['torchvision']
    assert 'torchvision' in reason
    with pytest.raises(RuntimeError, match='torchvision is not usable'):
        F.resize(None, [2, 2])
    with pytest.raises(RuntimeError, match=r'transforms\.ToTensor'):
        torchvision.transforms.ToTensor()
    with pytest.raises(RuntimeError, match='was called'):
        batched_nms(None, None, None, 0.5)
    # attributes resolve (imports work), dunders do not (no fake protocol)
    assert not hasattr(torchvision, '__fake_dunder__')


def test_torch_load_getattr_is_restricted(tmp_path):
    """Only HistoryBuffer's statistics methods resolve through getattr."""
    import torch
    import uniformer_mm  # noqa: F401
    from mmengine.logging import HistoryBuffer

    class Sneaky:
        def __reduce__(self):
            return getattr, (HistoryBuffer, 'update')

    path = tmp_path / 'sneaky.pth'
    torch.save({'x': Sneaky()}, path)
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        torch.load(path, weights_only=True)
    buf = HistoryBuffer()
    buf.update(3.0)
    torch.save({'buf': buf}, tmp_path / 'ok.pth')
    assert torch.load(tmp_path / 'ok.pth', weights_only=True)[
        'buf'].current() == 3.0


def test_mmaction_bf16_loss():
    """mmaction2's head loss with bfloat16 class scores: torch's numpy
    conversion refuses bfloat16, so the head's own loss_by_feat fails; the
    fixed one gives the float32 loss."""
    import torch
    import uniformer_mm
    from mmaction.models.heads import TSNHead
    from mmaction.structures import ActionDataSample
    head = TSNHead(num_classes=4, in_channels=8)
    scores = torch.tensor([[2., 0, 0, 1], [0, 3, 0, 0]])
    samples = [ActionDataSample().set_gt_label(label) for label in (0, 2)]
    loss_by_feat = type(head).loss_by_feat
    if not getattr(loss_by_feat, '_uniformer_mm_bf16', False):
        scores.bfloat16().numpy()  # healthy: numpy holds bfloat16
        assert 'mmaction_bf16_loss' not in uniformer_mm.compat.APPLIED
        pytest.skip('numpy holds bfloat16 here: the fix is a no-op')
    with pytest.raises(TypeError, match='BFloat16'):
        loss_by_feat.__wrapped__(head, scores.bfloat16(), samples)
    fixed = head.loss_by_feat(scores.bfloat16(), samples)
    reference = head.loss_by_feat(scores, samples)
    assert fixed['loss_cls'].dtype == torch.float32
    assert fixed['loss_cls'].item() == pytest.approx(
        reference['loss_cls'].item(), rel=1e-2)
    assert fixed['top1_acc'] == reference['top1_acc'] == 0.5
    assert 'mmaction_bf16_loss' in uniformer_mm.compat.APPLIED


DDP_SCRIPT = '''
import json, os
import torch
import torch.distributed as torch_dist
import uniformer_mm
from mmengine.dist import get_rank, init_dist
from mmengine.model import MMDistributedDataParallel

init_dist('pytorch', backend='nccl')
rank = get_rank()
torch.manual_seed(0)
model = torch.nn.Linear(4, 2)
local_rank = int(os.environ['LOCAL_RANK'])
result = dict(rank=rank, backend=torch_dist.get_backend())
if not torch.cuda.is_available():
    # without the fix: DDP rejects device_ids for a CPU module
    try:
        MMDistributedDataParallel.__init__.__wrapped__(
            MMDistributedDataParallel.__new__(MMDistributedDataParallel),
            module=model, device_ids=[local_rank])
        result['unfixed_error'] = None
    except ValueError as e:
        result['unfixed_error'] = str(e)
ddp = MMDistributedDataParallel(module=model, device_ids=[local_rank])
x = torch.full((3, 4), float(rank + 1))
ddp(x).sum().backward()
result['grads'] = torch.cat(
    [p.grad.flatten() for p in model.parameters()]).tolist()
# one file per rank: both ranks share stdout, where lines can interleave
with open(f'result_rank{rank}.json', 'w') as f:
    json.dump(result, f)
torch_dist.destroy_process_group()
'''


@pytest.mark.skipif(sys.platform == 'win32', reason='gloo over TCP')
def test_ddp_two_processes_cpu(tmp_path):
    """torchrun (torch.distributed.run), 2 processes, init_dist with nccl
    and DDP with device_ids: on CPU both are fixed, gradients all-reduce."""
    script = tmp_path / 'ddp_step.py'
    script.write_text(DDP_SCRIPT)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1',
           '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
           '--master_port', str(free_port()), str(script)]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)
    if proc.returncode != 0 and \
            'terminate called without an active exception' in proc.stderr:
        # a gloo thread aborting a rank (C++ std::terminate) was seen once
        # in ~10 full-suite runs on the loaded 2-core CI machine, never in
        # isolation; a second failure is a real one
        print('first launch aborted in gloo, retrying:', proc.stderr[-500:])
        cmd[cmd.index('--master_port') + 1] = str(free_port())
        proc = subprocess.run(cmd, cwd=tmp_path, env=env,
                              capture_output=True, text=True,
                              timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = [json.loads((tmp_path / f'result_rank{r}.json').read_text())
               for r in (0, 1)]
    assert [r['rank'] for r in results] == [0, 1], proc.stdout
    if cpu_only():
        assert all(r['backend'] == 'gloo' for r in results)
        for r in results:
            assert r['unfixed_error'] and 'device_ids' in r['unfixed_error']
    # identical on both ranks, and the average of the per-rank gradients:
    # d/dW sum(Wx + b) = sum over the batch of x = 3 * (rank + 1)
    assert results[0]['grads'] == results[1]['grads']
    weight_grads, bias_grads = results[0]['grads'][:8], results[0]['grads'][8:]
    assert weight_grads == pytest.approx([4.5] * 8)
    assert bias_grads == pytest.approx([3.0] * 2)


def test_bf16_depthwise_conv3d():
    """torch's CPU bfloat16 depthwise conv3d weight gradient on a
    channels-last map (UniFormer V1's ``pos_embed`` on a 2-frame map):
    wrong without the fix (relative error ~1, or inf from uninitialised
    memory), equal to the contiguous layout's with it."""
    import torch
    from uniformer_mm import compat
    from uniformer_mm.models.layers.uniformer_blocks import DepthwiseConv3d
    if not compat._bf16_depthwise_conv3d_broken():
        assert 'bf16_depthwise_conv3d' not in compat.APPLIED
        pytest.skip('bfloat16 depthwise conv3d is healthy here (no-op)')
    assert compat.STATE['bf16_depthwise_conv3d']
    assert 'bf16_depthwise_conv3d' in compat.APPLIED
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 16, 2, 4, 4, generator=gen)
    g = torch.randn(2, 16, 2, 4, 4, generator=gen)
    conv = DepthwiseConv3d(16, 16, 3, padding=1, groups=16)

    def weight_grad(layout, dtype=torch.bfloat16):
        conv.zero_grad(set_to_none=True)
        inp = x.contiguous(memory_format=layout).requires_grad_()
        with torch.autocast('cpu', dtype=dtype, enabled=dtype != torch.float):
            out = conv(inp)
        out.float().backward(g)
        return conv.weight.grad.clone()

    ref = weight_grad(torch.contiguous_format, torch.float)
    try:
        compat.STATE['bf16_depthwise_conv3d'] = False  # without the fix
        broken = weight_grad(torch.channels_last_3d)
    finally:
        compat.STATE['bf16_depthwise_conv3d'] = True
    fixed = weight_grad(torch.channels_last_3d)
    rel = lambda a: float((a - ref).norm() / ref.norm())  # noqa: E731
    assert not torch.isfinite(broken).all() or rel(broken) > 0.2
    assert rel(fixed) < 0.02, rel(fixed)
    assert torch.equal(fixed, weight_grad(torch.contiguous_format))
