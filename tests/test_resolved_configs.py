"""Every config resolves to the dict it had before the config zoo was
restructured (issue 17).

``tests/data/resolved_configs.json.gz`` holds the resolved dict of every
config under ``configs/`` (not ``_base_``) as written by
``python tests/resolved_configs.py --write`` from the configs of ``main``
before the restructure: ``Config.fromfile`` + the knob resolution of the
tools (:func:`uniformer_mm.engine.config_knobs.load_config`), keys sorted,
tuples as lists. This test resolves every config the same way and asserts
that the two dicts are equal.

What the comparison leaves out -- artifacts of how the files are laid
out, which no builder, runner or tool reads (the tools read the model, the
loaders and their pipelines, the evaluators, schedules, hooks, runtime,
``num_classes`` and ``label_map``; all of those must be equal):

* ``ADDED``: the building blocks the restructured bases introduce (the
  per-split clip samplers, the test crop, the train augmentation, the data
  set name the paths are made from, the demo's ``parsed_knobs``, ...;
  Kinetics-710's unused single-list
  paths, None): a config may have them where it had none; where a config
  had the key before, it is compared;
* ``DROPPED``: helper variables of the old row files (``sampling``: the
  ``update_transforms`` arguments of a row);
* ``KNOBS``: the top-level settings the pipelines are built from. Before
  the restructure a row that changed its pipelines with
  ``update_transforms`` left them at its base's values (a 32-frame row said
  ``clip_len = 8``); now the pipelines are built from them, so they are
  compared through the pipelines (equal above) and
  :func:`test_knobs_match_pipelines` checks that each knob has the value
  the pipelines use;
* ``_delete_`` keys: mmengine's merge instruction; where a child said
  ``_delete_=True`` for a dict its base did not have, mmengine left the
  instruction in the final dict (the K600 rows' ``cls_head.init_cfg``); the
  rows that now inherit a sibling row do not need it;
* ``PIPELINES``: the top-level ``train/val/test_pipeline``. Rows changed
  only their data loaders, the top-level pipelines kept describing the base
  (``uniformer_mm.apis.test_pipeline_cfg`` reads the loader first for that
  reason); now they are the loaders' pipelines, which are compared above,
  and :func:`test_knobs_match_pipelines` checks that each is its loader's.
"""
import pytest

from uniformer_mm.datasets.config_utils import iter_transforms

from resolved_configs import config_paths, load_stored, resolve

#: building blocks of the restructured bases (see the module docstring)
ADDED = frozenset({
    'dataset_name', 'train_sampler', 'val_sampler', 'test_sampler',
    'test_crop', 'train_augment', 'filename_tmpl', 'parsed_knobs',
    # Kinetics-710 reads three lists (k*_root, k*_ann_*): its single-list
    # paths from the base are None
    'data_root', 'data_root_val', 'ann_file_train', 'ann_file_val',
    'ann_file_test'})
#: helper variables of the old files (see the module docstring)
DROPPED = frozenset({'sampling'})
#: settings compared through the pipelines (see the module docstring)
KNOBS = frozenset({'clip_len', 'num_test_clips', 'crop_size',
                   'frame_interval', 'train_short_side', 'rand_augment'})
#: top-level pipelines compared through the loaders (module docstring)
PIPELINES = frozenset({'train_pipeline', 'val_pipeline', 'test_pipeline'})

STORED = load_stored()


def _no_delete(value):
    if isinstance(value, dict):
        return {k: _no_delete(v) for k, v in value.items() if k != '_delete_'}
    if isinstance(value, list):
        return [_no_delete(v) for v in value]
    return value


def normalise(resolved, stored):
    """``resolved`` without the keys the comparison leaves out."""
    return {k: _no_delete(v) for k, v in resolved.items()
            if k not in DROPPED and k not in KNOBS and k not in PIPELINES and
            not (k in ADDED and k not in stored)}


def differences(old, new, path=''):
    """The paths where ``old`` and ``new`` differ (at most 10)."""
    out = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            here = f'{path}.{key}' if path else key
            if key not in new:
                out.append(f'{here}: removed (was {old[key]!r:.80})')
            elif key not in old:
                out.append(f'{here}: added ({new[key]!r:.80})')
            else:
                out += differences(old[key], new[key], here)
    elif isinstance(old, list) and isinstance(new, list) and \
            len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            out += differences(a, b, f'{path}.{i}')
    elif old != new:
        out.append(f'{path}: {old!r:.80} -> {new!r:.80}')
    return out[:10]


def test_every_config_is_stored():
    assert sorted(STORED) == config_paths()


@pytest.mark.parametrize('rel', config_paths())
def test_resolved_config_unchanged(rel):
    if rel not in STORED:
        pytest.fail(f'{rel} is new: add it with python '
                    'tests/resolved_configs.py --write only if it is a new '
                    'row (not a renamed one)')
    old = STORED[rel]
    diff = differences(normalise(old, old), normalise(resolve(rel), old))
    assert not diff, '\n'.join(diff)


SAMPLERS = ('UniformSample', 'OfficialDenseSample', 'OfficialSparseSample',
            'SampleFrames')


@pytest.mark.parametrize('rel', config_paths())
def test_knobs_match_pipelines(rel):
    """``clip_len``, ``frame_interval``, ``num_test_clips`` and
    ``crop_size`` of a resolved config are what its loaders use."""
    cfg = resolve(rel)
    loaders = {k: cfg[k] for k in ('train_dataloader', 'val_dataloader',
                                   'test_dataloader') if cfg.get(k)}
    checked = 0
    for key, loader in loaders.items():
        for t in iter_transforms(loader):
            if t['type'] in SAMPLERS:
                for knob in ('clip_len', 'frame_interval'):
                    if knob in cfg and knob in t:
                        assert t[knob] == cfg[knob], (key, knob, t)
                        checked += 1
                if key == 'test_dataloader' and 'num_test_clips' in cfg:
                    assert t['num_clips'] == cfg['num_test_clips'], t
            if t['type'] in ('OfficialShortSideResize',) and \
                    'crop_size' in cfg:
                assert t['short_side'] == cfg['crop_size'], (key, t)
    if 'clip_len' in cfg and 'UniformSample' in str(loaders):
        assert checked, 'no sampler found'
    for key, loader in loaders.items():
        pipeline = loader.get('dataset', {}).get('pipeline')
        top = key.replace('_dataloader', '_pipeline')
        # video configs (the image configs are not built from knobs)
        if pipeline is not None and top in cfg and 'clip_len' in cfg:
            assert cfg[top] == pipeline, f'{top} is not {key}\'s pipeline'
