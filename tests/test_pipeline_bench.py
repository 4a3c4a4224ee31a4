"""tools/analysis/bench_video_pipeline.py on tiny settings (not timed: the
figures come from a quiet machine, docs/benchmarks.md): it builds the
sources, runs every kind of setting in one process and through loader
workers, and prints the tables."""
import json
import runpy
from pathlib import Path

import pytest

import uniformer_mm  # noqa: F401

from _paths import analysis_tool

REPO = Path(__file__).resolve().parents[1]
pb = analysis_tool('pipeline_bench')


@pytest.mark.slow
def test_bench_tiny_run(tmp_path, capsys):
    tool = runpy.run_path(str(REPO / 'tools/analysis/bench_video_pipeline.py'),
                          run_name='not_main')
    out_json = tmp_path / 'bench.json'
    summary = tool['main']([
        '--sources', 'original', 'prepared', 'frames', '--pipelines',
        'train', 'train-device', 'dense', 'test', 'mmaction2-train',
        '--backends', 'pyav', 'decord', '--runs', '2', '--clips', '1',
        '--warmup', '0', '--workers', '2', '--work-dir',
        str(tmp_path / 'work'), '--json', str(out_json),
        '--gpu-clips-per-s', 'uniformerv2-b16=400'])
    out = capsys.readouterr().out
    names = set(summary)
    assert 'original / mmaction2-train / decord' in names
    assert 'prepared / train / decord' in names
    assert 'frames / train-device / rawframes' in names
    assert 'prepared / dense / decord' not in names  # dense: first backend
    for name, r in summary.items():
        assert r['runs'] == 2 and len(r['clips_per_s_runs']) == 2
        assert r['clips_per_s'] > 0 and r['clips_per_cpu_s'] > 0
        assert r['decode_ms_per_clip'] > 0
        if r['backend'] == 'pyav':
            assert r['decoded_frames_per_sample'] > 0
    # repeated augmentation of the dense recipe: 2 clips per sample
    dense = summary['original / dense / pyav']
    assert dense['runs'] == 2
    # loader workers: the train settings of the first backend, mmaction2's
    assert summary['prepared / train / pyav']['loader_clips_per_s'] > 0
    assert 'loader_clips_per_s' in summary[
        'original / mmaction2-train / decord']
    assert 'loader_clips_per_s' not in summary['prepared / train / decord']
    # RandAugment and the crop are timed inside RepeatClips
    stages = summary['prepared / train / pyav']['stage_ms_per_clip']
    assert any(k.endswith(':VideoRandAugment') for k in stages)
    assert 'ours train (prepared, pyav) vs mmaction2 train (original)' in out
    assert 'Cores per GPU, UniFormerV2-B/16 8x224 at 400 training clips/s' \
        in out
    assert 'Cores per GPU, UniFormer-B 16x224' in out
    data = json.loads(out_json.read_text())
    rows = [r for r in data['cores_per_gpu']
            if r['setting'] == 'prepared / train / pyav']
    assert rows[0]['cores'] == pytest.approx(
        400 / summary['prepared / train / pyav']['clips_per_s'])


def test_gpu_rate_from_flops():
    # 40 % of 989.4 TFLOP/s over 6 x 148 GMACs per clip
    assert pb.gpu_clips_per_s('uniformerv2-b16', 989.4, 0.4) == \
        pytest.approx(0.4 * 989.4e12 / (6 * 148e9))
