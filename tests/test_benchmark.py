"""The side-by-side comparison with mmaction2 (tools/analysis/
compare_mmaction.py, ``benchmark.py --compare-mmaction``) on toy models.

Not timed: the speed targets are checked by running the tool on the real
models (docs/benchmarks.md), these tests check that it builds both sides
with the same weights, finds equal outputs and prints ratios.
"""
import os.path as osp
import re
import runpy
import sys

import pytest
import uniformer_mm  # noqa: F401

from _paths import KINETICS_CLIP, analysis_tool

cm = analysis_tool('compare_mmaction')

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
VIDEO = str(KINETICS_CLIP)


def run_benchmark(argv):
    old = sys.argv
    sys.argv = ['benchmark.py'] + argv
    try:
        mod = runpy.run_path(osp.join(ROOT, 'tools/analysis/benchmark.py'),
                             run_name='not_main')
        return mod['main'](argv)
    finally:
        sys.argv = old


def test_compare_tool_prints_ratios(capsys, tmp_path):
    argv = ['--compare-mmaction', 'uniformer-s16', 'uniformerv2-b16',
            '--tiny', '--runs', '2', '--inference-runs', '2', '--warmup', '0',
            '--no-memory',
            '--json', str(tmp_path / 'r.json')]
    argv += ['--pipeline', '--pipeline-n', '1', '--video', VIDEO]
    results = run_benchmark(argv)
    out = capsys.readouterr().out
    for variant in ('uniformer-s16', 'uniformerv2-b16'):
        res = results['models'][variant]
        check = res['check']
        assert check['outputs_equal']
        assert check['eval_out_max_abs'] < 1e-4
        assert check['train_out_max_abs'] < 1e-4
        assert check['param_grad_max_rel'] < 1e-3
        assert not check['param_grads_missing']
        for mode in ('inference', 'train'):
            assert res[mode]['ratio_of_medians'] > 0
            assert len(res[mode]['ours_s']) == 2
        assert re.search(rf'\| {variant}: forward\+backward time \|.*\| '
                         r'\d+\.\d{3}', out)
        assert re.search(rf'\| {variant}: inference time \|', out)
    assert 'EQUAL within' in out
    # mmaction2's V1 SA LayerNorm eps aligned to the official 1e-6
    assert '1e-6' in results['models']['uniformer-s16']['info']['note']
    assert osp.exists(tmp_path / 'r.json')
    assert set(results['pipeline']) == {
        'mmaction2 (no RandAugment)', 'ours (recipe, with RandAugment)',
        'ours without RandAugment'}
    assert 'clips/s ratio' in out
    for r in results['pipeline'].values():
        assert r['output_shape'] == [1, 3, 8, 224, 224]


def test_memory_in_fresh_processes():
    mem = cm.memory_in_subprocess('uniformerv2-b16', tiny=True, reps=1)
    assert mem['ours_median_bytes'] is not None
    assert mem['theirs_median_bytes'] is not None
    assert mem['method']


def test_pipelines_without_randaugment():
    chains = cm.pipeline_chains()
    ours = chains['ours (recipe, with RandAugment)']

    def types(pipe):
        out = []
        for t in pipe:
            out.append(t['type'])
            out += types(t.get('transforms', []))
        return out

    assert 'VideoRandAugment' in types(ours)
    assert 'VideoRandAugment' not in types(chains['ours without RandAugment'])
    assert types(chains['mmaction2 (no RandAugment)'])[:3] == [
        'DecordInit', 'UniformSample', 'DecordDecode']


def test_ours_decodes_with_video_decode():
    ours = cm.pipeline_chains()['ours (recipe, with RandAugment)']
    assert [t['type'] for t in ours][:3] == [
        'VideoInit', 'UniformSample', 'VideoDecode']


@pytest.mark.parametrize('theirs_amp', ['fp16', None])
def test_training_throughput_mode(theirs_amp):
    """The GPU mode's code path on CPU (bf16 autocast; mmaction2 side with
    fp16 + loss scaling, or fp32): real AdamW steps on both sides, clips/s,
    MFU = 3 x forward FLOPs x clips/s / peak."""
    res = cm.training_throughput('uniformerv2-b16', device='cpu', amp='bf16',
                                 theirs_amp=theirs_amp, batch_size=2,
                                 steps=1, runs=2, warmup=1, tiny=True,
                                 peak_tflops=1.0, log=lambda s: None)
    assert res['ours_clips_per_s'] > 0 and res['theirs_clips_per_s'] > 0
    assert res['speedup'] == pytest.approx(
        res['ours_clips_per_s'] / res['theirs_clips_per_s'])
    macs = res['forward_gmacs_per_clip'] * 1e9
    assert macs > 1e6
    for side in ('ours', 'theirs'):
        assert res[f'{side}_mfu'] == pytest.approx(
            6 * macs * res[f'{side}_clips_per_s'] / 1e12)
    assert len(res['times']['ours_s']) == 2


def test_train_step_updates_weights_under_amp():
    ours, _, x, _ = cm.build_pair('uniformer-s16', tiny=True)
    before = [p.detach().clone() for p in ours.parameters()]
    step = cm.make_train_step(ours.train(), x, 'bf16', lr=1e-3)
    loss = step()
    assert loss.isfinite()
    changed = sum(not p.detach().equal(b)
                  for p, b in zip(ours.parameters(), before))
    assert changed == len(before)
