"""A plain ``pip install`` of the repository (not editable) into a fresh
virtual environment works without the repository:

* ``import uniformer_mm`` from another directory imports the installed copy;
* the wheel carries the label maps and the OpenMMLab ``.mim`` folder
  (``configs/``, ``tools/``, ``model-index.yml``), and every packaged
  config's model builds (on the ``meta`` device) with the installed package
  alone, its ``uniformer_mm::`` label / channel maps included;
* the ``dense`` extra (``pip install "uniformer-mm[dense]"``) brings mmdet
  and mmseg: their configs build; the pose configs stop with one line saying
  how to install mmpose (which no extra can: it declares torchvision and
  chumpy), and build once it is installed the documented way
  (docs/dense_prediction.md);
* ``mim search uniformer_mm`` (openmim from PyPI) lists every config;
* ``mim train uniformer_mm uniformer_demo_video.py`` finds the packaged
  demo config by name and trains it (1 short epoch), ``mim test`` tests the
  checkpoint.

Slow (a new environment is installed from the pip cache: torch first, so
that nothing pulls another torch). The model index itself is checked in
tests/test_model_index.py.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _paths import REPO

#: what setup_env.sh installs when no torch is present
TORCH_SPEC = os.environ.get('TORCH_SPEC', 'torch==2.13.0')
#: openmim without its dependencies (its pins, through opendatalab /
#: openxlab, would downgrade setuptools, requests, ...), then what it imports
MIM_DEPS = ['click', 'colorama', 'model-index', 'pandas', 'requests', 'rich',
            'tabulate', 'setuptools<81']  # mim imports pkg_resources

#: top-level entries of the repository that are not part of a clone's
#: sources (environments, build output, data, results)
_NOT_SOURCES = {'.venv', '.git', 'build', 'dist', 'work_dirs', 'data',
                'checkpoints'}

#: builds every packaged config (argument ``dense``: the dense-prediction
#: ones only) on the meta device; a config whose framework is missing is
#: skipped with the package's one-line reason, logged on stderr
CHECK = r'''
import json, sys
from pathlib import Path
import torch
import uniformer_mm
from uniformer_mm.apis import build_model, load_config
from uniformer_mm.apis.inference import MissingFrameworkError
from uniformer_mm.label_maps import resolve_path
root = Path(uniformer_mm.__file__).resolve().parent
mim = root / '.mim'
configs = sorted(p.relative_to(mim).as_posix()
                 for p in (mim / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)
if sys.argv[1:] == ['dense']:
    configs = [c for c in configs if c.startswith(
        ('configs/uniformer_det/', 'configs/uniformer_seg/',
         'configs/uniformer_pose/'))]
built, skipped = {}, {}
for rel in configs:
    try:
        cfg = load_config(str(mim / rel))
        with torch.device('meta'):
            net = build_model(cfg)
    except MissingFrameworkError as e:
        skipped[rel] = str(e)
        print(f'skipped {rel}: {e}', file=sys.stderr)
        continue
    built[rel] = sum(p.numel() for p in net.parameters())
print(json.dumps(dict(
    package=str(root), configs=configs, params=built, skipped=skipped,
    tools=sorted(p.name for p in (mim / 'tools').glob('*.py')),
    model_index=(mim / 'model-index.yml').is_file(),
    label_map=resolve_path('uniformer_mm::label_maps/kinetics400.txt'))))
'''


def _sources(dst):
    """A copy of the repository's sources (what a clone has)."""
    def ignore(folder, names):
        top = Path(folder).resolve() == REPO
        return [n for n in names if (top and n in _NOT_SOURCES) or
                n == '__pycache__' or n.endswith('.egg-info')]
    shutil.copytree(REPO, dst, ignore=ignore, symlinks=True)
    return dst


def _run(cmd, cwd, timeout=900, env=None):
    proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd),
                          capture_output=True, text=True, timeout=timeout,
                          env=env)
    assert proc.returncode == 0, (
        f'{" ".join(map(str, cmd))} failed ({proc.returncode}):\n'
        f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


def _repo_configs():
    return sorted(p.relative_to(REPO).as_posix()
                  for p in (REPO / 'configs').rglob('*.py')
                  if '_base_' not in p.relative_to(REPO).parts)


@pytest.mark.slow
def test_wheel_install_in_fresh_venv(tmp_path):
    venv = tmp_path / 'venv'
    elsewhere = tmp_path / 'elsewhere'  # not the repository
    elsewhere.mkdir()
    _run([sys.executable, '-m', 'venv', venv], elsewhere)
    py = venv / 'bin' / 'python'
    pip = [py, '-m', 'pip', 'install', '-q']
    _run(pip + [TORCH_SPEC], elsewhere)
    version = [py, '-c', 'import torch; print(torch.__version__)']
    torch_version = _run(version, elsewhere).stdout.strip()
    src = _sources(tmp_path / 'src')
    _run(pip + [f'{src}[dense]'], elsewhere)  # not editable
    _run(pip + ['--no-deps', 'openmim'], elsewhere)
    _run(pip + MIM_DEPS, elsewhere)
    env = dict(os.environ, PYTHONPATH='')
    env.pop('PYTHONPATH')

    # the installed copy, from another directory, with the repository gone
    shutil.rmtree(src)
    # the dense extra: mmdet and mmseg build; pose: one line, how to install
    proc = _run([py, '-c', CHECK, 'dense'], elsewhere, env=env)
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    pose = [c for c in info['configs']
            if c.startswith('configs/uniformer_pose/')]
    assert pose and sorted(info['skipped']) == pose
    assert set(info['params']) == set(info['configs']) - set(pose)
    for rel, reason in info['skipped'].items():
        assert 'needs mmpose: mmpose is not installed' in reason
        assert 'pip install --no-deps mmpose==1.3.2' in reason
        assert f'skipped {rel}: {reason}' in proc.stderr.splitlines()
    # mmpose the documented way (docs/dense_prediction.md): then all build
    _run(pip + ['--no-deps', 'mmpose==1.3.2'], elsewhere)
    _run(pip + ['--no-build-isolation', '--no-binary', 'xtcocotools',
                'xtcocotools>=1.12'], elsewhere)
    # nothing replaced the torch installed first
    assert _run(version, elsewhere).stdout.strip() == torch_version
    out = _run([py, '-c', CHECK], elsewhere, env=env).stdout
    info = json.loads(out.strip().splitlines()[-1])
    assert info['skipped'] == {}
    site = (venv / 'lib').resolve()
    assert Path(info['package']).is_relative_to(site), info['package']
    assert Path(info['label_map']).is_relative_to(site)
    assert info['model_index']
    assert {'train.py', 'test.py', 'infer.py'} <= set(info['tools'])
    repo_configs = _repo_configs()
    assert info['configs'] == repo_configs
    assert all(n > 0 for n in info['params'].values())

    # mim search lists every config of the model index
    mim = venv / 'bin' / 'mim'
    table = elsewhere / 'search.json'
    _run([mim, 'search', 'uniformer_mm', '--json', table], elsewhere,
         env=env)
    columns = json.loads(table.read_text())  # {field: {config id: value}}
    found = columns['config']
    assert sorted(found.values()) == repo_configs
    assert all(found[name] == rel for name, rel in
               ((Path(r).stem, r) for r in repo_configs))
    assert columns['parameters'] == {Path(r).stem: info['params'][r]
                                     for r in repo_configs}

    # mim train / mim test find the packaged demo config by its name
    work = elsewhere / 'work'
    small = ['--cfg-options', 'train_cfg.max_epochs=1']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        small += [f'{loader}.dataset.data_root={elsewhere / "demo"}',
                  f'{loader}.dataset.demo_cfg.num_train_per_class=4',
                  f'{loader}.dataset.demo_cfg.num_val_per_class=2']
    proc = _run([mim, 'train', 'uniformer_mm', 'uniformer_demo_video.py',
                 '--work-dir', work] + small, elsewhere, env=env)
    assert '.mim/configs/demo/uniformer_demo_video.py' in proc.stdout
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file(), sorted(os.listdir(work))
    proc = _run([mim, 'test', 'uniformer_mm', 'uniformer_demo_video.py',
                 '--checkpoint', ckpt, '--work-dir', work / 'test'] + small,
                elsewhere, env=env)
    assert re.search(r'acc/top1: [0-9.]+', proc.stdout + proc.stderr), \
        (proc.stdout + proc.stderr)[-3000:]


@pytest.mark.parametrize('version', ['3.9', '3.15'])
def test_setup_env_refuses_an_unsupported_python(tmp_path, version):
    """tools/setup_env.sh stops with one line saying what to do when the
    interpreter is not one torch 2.13.0 has wheels for (here a stand-in
    that reports another version), before it creates anything."""
    fake = tmp_path / f'python{version}'
    fake.write_text(f'#!/bin/sh\necho {version}\n')
    fake.chmod(0o755)
    venv = tmp_path / 'venv'
    proc = subprocess.run(
        ['bash', str(REPO / 'tools' / 'setup_env.sh')], capture_output=True,
        text=True, timeout=60,
        env=dict(os.environ, BASE_PYTHON=str(fake), VENV=str(venv)))
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, err
    assert f'is Python {version}' in err[0] and 'Python 3.10-3.14' in err[0]
    assert 'BASE_PYTHON=' in err[0]
    assert not venv.exists()
