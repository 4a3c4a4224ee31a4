"""Run the ``main(argv)`` of several tools in one process (one import of
the stack instead of one per case) and report what a user would have seen.

    python tests/tool_driver.py CASES.json RESULTS.json

``CASES.json`` is a list of ``{"name", "tool" (path relative to the
repository), "argv" (list), "env" (optional dict)}``. For each case the
driver calls ``main(argv)`` of the tool (loaded from its file, as
``tests/test_apis_tools.py`` does) and records ``code`` (the exit status:
``SystemExit``'s, 0 when ``main`` returns), ``stdout``, ``stderr`` and
``escaped``: ``"Type: message"`` when an exception left ``main`` -- from
the real command line that is a traceback. Used by
``tests/test_loading_messages.py``.
"""
import contextlib
import importlib.util
import io
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_TOOLS = {}


def load_tool(rel):
    if rel not in _TOOLS:
        name = '_driver_' + re.sub(r'\W', '_', rel)
        spec = importlib.util.spec_from_file_location(name, REPO / rel)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[rel] = module
    return _TOOLS[rel]


def run_case(case):
    out, err = io.StringIO(), io.StringIO()
    old_env = dict(os.environ)
    os.environ.update(case.get('env') or {})
    result = dict(name=case['name'], code=0, escaped=None)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            load_tool(case['tool']).main([str(a) for a in case['argv']])
    except SystemExit as e:
        code = e.code
        if isinstance(code, str):  # sys.exit('message')
            err.write(code + '\n')
            code = 1
        result['code'] = 0 if code is None else code
    except BaseException as e:  # noqa: BLE001 - what a traceback would show
        result['code'] = None
        result['escaped'] = f'{type(e).__name__}: {e}'
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    result['stdout'] = out.getvalue()
    result['stderr'] = err.getvalue()
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    cases = json.loads(Path(argv[0]).read_text())
    results = {}
    for case in cases:
        results[case['name']] = run_case(case)
        r = results[case['name']]
        print(f"[driver] {case['name']}: code={r['code']} "
              f"escaped={r['escaped']!r:.200}", file=sys.__stderr__,
              flush=True)
    Path(argv[1]).write_text(json.dumps(results, indent=1))


if __name__ == '__main__':
    main()
