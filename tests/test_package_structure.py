"""The package's structure: no circle of imports, and nothing of the
product imports mmaction2's own UniFormer ports.

Both checks read the source with :mod:`ast` (nothing of the package runs),
so they see every import a reader sees.

The import graph
----------------
A node is a module of ``uniformer_mm/`` (a package is its ``__init__.py``).
An edge ``a -> b`` is an import statement in ``a`` that names ``b``:

* ``import uniformer_mm.x.y`` / ``from uniformer_mm.x.y import name`` /
  ``from ..x.y import name`` -> ``uniformer_mm.x.y``;
  ``from uniformer_mm.x import y`` where ``y`` is a module -> ``x.y``,
  otherwise -> the package ``uniformer_mm.x`` (its ``__init__``).
* **Function-level imports count like module-level ones.** An import put
  inside a function to dodge a circle still ties the two modules together
  (``checkpoint/arch.py`` once imported the arch zoo from the V1 backbone
  inside a function, and the backbone imported ``checkpoint/loader.py``,
  which imports ``checkpoint/arch.py``): deferring it only moves the
  failure from import time to call time. Imports under ``if TYPE_CHECKING``
  would count too (the package has none).
* The implicit initialisation of the parent packages of an imported module
  is not an edge: a module importing ``uniformer_mm.checkpoint.io`` is not
  said to import ``uniformer_mm/checkpoint/__init__.py`` (every module of a
  package would otherwise be in a circle with its own package's face).
* Imports of other projects (torch, mmengine, mmaction, ...) are not nodes.
"""
import ast
from pathlib import Path

from _paths import REPO

PACKAGE = REPO / 'uniformer_mm'

#: mmaction2's UniFormer ports (its backbones ``UniFormer``/``UniFormerV2``
#: and their modules). The benchmark harness that compares against them
#: lives in ``tools/analysis/`` (not installed).
MMACTION_PORT_MODULES = ('mmaction.models.backbones.uniformer',
                         'mmaction.models.backbones.uniformerv2')
#: ``'UniFormer'`` is not listed: in mmpretrain's registry that name is
#: ours (the V1 image backbone); mmaction2's V2 port is ``'UniFormerV2'``
#: (ours is ``'UniFormerV2Video'``).
MMACTION_PORT_TYPES = ('UniFormerV2', )


def _modules(root=PACKAGE):
    """``{dotted name: path}`` of every module of the package."""
    mods = {}
    for path in sorted(root.rglob('*.py')):
        parts = list(path.relative_to(root.parent).with_suffix('').parts)
        if parts[-1] == '__init__':
            parts = parts[:-1]
        mods['.'.join(parts)] = path
    return mods


def _imported(node, module, is_package):
    """Dotted names an import statement names (absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split('.') if is_package else module.split('.')[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = '.'.join(base + ([node.module] if node.module else []))
    else:
        target = node.module
    return [target] + [f'{target}.{alias.name}' for alias in node.names]


def import_graph(root=PACKAGE):
    """``{module: set of modules it imports}`` (see the module docstring)."""
    mods = _modules(root)
    graph = {}
    for module, path in mods.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == '__init__.py'
        edges = set()
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            names = _imported(node, module, is_package)
            if isinstance(node, ast.ImportFrom):
                # a submodule named in the import list, else the module
                subs = [n for n in names[1:] if n in mods]
                names = subs if len(subs) == len(names) - 1 else \
                    [names[0]] + subs
            edges.update(n for n in names if n in mods and n != module)
        graph[module] = edges
    return graph


def find_cycles(graph):
    """The strongly connected components with more than one module
    (Tarjan's algorithm, iterative)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def _describe(cycle, graph):
    return '; '.join(f'{m} -> {", ".join(sorted(graph[m] & set(cycle)))}'
                     for m in cycle)


def test_find_cycles_sees_a_deferred_circle(tmp_path):
    """The checker itself: a circle closed by a function-level import (the
    arch zoo circle this package had) is found; the same files with the zoo
    in a leaf module are not a circle."""
    pkg = tmp_path / 'uniformer_mm'
    (pkg / 'checkpoint').mkdir(parents=True)
    (pkg / 'models').mkdir()
    for d in (pkg, pkg / 'checkpoint', pkg / 'models'):
        (d / '__init__.py').write_text('')
    (pkg / 'checkpoint' / 'arch.py').write_text(
        'def names():\n'
        '    from uniformer_mm.models.backbone import ARCH_ZOO\n'
        '    return list(ARCH_ZOO)\n')
    (pkg / 'checkpoint' / 'loader.py').write_text(
        'from .arch import names\n')
    (pkg / 'models' / 'backbone.py').write_text(
        'from ..checkpoint.loader import names\nARCH_ZOO = {}\n')
    graph = import_graph(pkg)
    assert find_cycles(graph) == [[
        'uniformer_mm.checkpoint.arch', 'uniformer_mm.checkpoint.loader',
        'uniformer_mm.models.backbone'
    ]]
    (pkg / 'models' / 'arch_zoo.py').write_text('ARCH_ZOO = {}\n')
    (pkg / 'checkpoint' / 'arch.py').write_text(
        'from uniformer_mm.models.arch_zoo import ARCH_ZOO\n')
    assert find_cycles(import_graph(pkg)) == []


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 60, sorted(graph)  # the walk found the package
    # a few edges the graph must hold (the reader's view of the layers)
    assert 'uniformer_mm.models.arch_zoo' in graph[
        'uniformer_mm.checkpoint.arch']
    assert 'uniformer_mm.checkpoint.loader' in graph[
        'uniformer_mm.models.backbones.uniformer']
    cycles = find_cycles(graph)
    assert not cycles, 'import circles: ' + ' | '.join(
        _describe(c, graph) for c in cycles)


def test_arch_zoo_is_a_leaf():
    """Both the models and the checkpoint layer import the arch zoo, so it
    imports nothing of the package."""
    assert import_graph()['uniformer_mm.models.arch_zoo'] == set()


def _port_uses(path):
    """Lines of ``path`` that import an mmaction2 UniFormer port module or
    build / fetch one of its port types from a registry."""
    tree = ast.parse(path.read_text(), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(
                node, ast.Import) else [node.module or ''] +
                [f'{node.module}.{a.name}' for a in node.names])
            if isinstance(node, ast.ImportFrom) and node.module in (
                    'mmaction.models.backbones', 'mmaction.models'):
                names += [a.name for a in node.names]
            if any(n.startswith(MMACTION_PORT_MODULES)
                   or n in MMACTION_PORT_TYPES for n in names):
                hits.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in MMACTION_PORT_TYPES or node.value.startswith(
                    MMACTION_PORT_MODULES):
                hits.append(node.lineno)
    return hits


def test_no_module_imports_mmaction2_uniformer_ports(tmp_path):
    """The product builds its own backbones; comparisons against mmaction2's
    ports are tools (``tools/analysis/compare_mmaction.py``)."""
    uses = {str(p.relative_to(REPO)): _port_uses(p)
            for p in sorted(PACKAGE.rglob('*.py'))}
    uses = {p: lines for p, lines in uses.items() if lines}
    assert not uses, f'mmaction2 UniFormer ports used in: {uses}'
    # the check sees the forms the old harness used
    probe = tmp_path / 'probe.py'
    probe.write_text("from mmaction.models.backbones.uniformerv2 import "
                     "UniFormerV2\nMODELS.build(dict(type='UniFormerV2'))\n")
    assert _port_uses(probe) == [1, 2]
    harness = REPO / 'tools' / 'analysis' / 'compare_mmaction.py'
    assert _port_uses(harness), 'the harness lives in tools/analysis'
