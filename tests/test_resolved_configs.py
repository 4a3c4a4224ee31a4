"""Every config resolves to the dict it had before the config zoo was
restructured (issue 17).

``tests/data/resolved_configs.json.gz`` holds the resolved dict of every
config under ``configs/`` (not ``_base_``) as written by
``python tests/resolved_configs.py --write`` from the configs of ``main``
before the restructure: ``Config.fromfile`` + the knob resolution of the
tools (:func:`uniformer_mm.engine.config_knobs.load_config`), keys sorted,
tuples as lists. This test resolves every config the same way and asserts
that the two dicts are equal.

What the comparison leaves out (``LAYOUT_ONLY``): top-level variables that
are artifacts of how the files are laid out -- helper values a config file
kept only to write its own pipelines, which no builder, tool or runner
reads. Everything else -- model, data loaders and their pipelines, views,
evaluators, schedules, hooks, runtime, and the top-level settings a user or
a tool reads (``num_classes``, ``label_map``, ``clip_len``, data paths,
...) -- must be equal.
"""
import pytest

from resolved_configs import config_paths, load_stored, resolve

#: top-level names dropped on both sides before comparing (see docstring)
LAYOUT_ONLY = frozenset()

STORED = load_stored()


def normalise(resolved):
    return {k: v for k, v in resolved.items() if k not in LAYOUT_ONLY}


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
    diff = differences(normalise(STORED[rel]), normalise(resolve(rel)))
    assert not diff, '\n'.join(diff)
