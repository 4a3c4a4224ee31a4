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
from uniformer_mm.analysis import compare_mmaction as cm

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
VIDEO = osp.join(osp.dirname(ROOT), 'shared', 'data', 'videos',
                 'kinetics_arm_wrestling.mp4')


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
    if osp.exists(VIDEO):
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
    if osp.exists(VIDEO):
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
