"""Reading pickled tensors without running code stored in the file.

A pickle names the functions it calls to rebuild its objects (``GLOBAL``
opcodes); ``pickle.load`` imports and calls whatever it names, so a file
can run any code (``os.system``, ``eval``, ...). :class:`RestrictedUnpickler`
resolves every global through an explicit table and refuses the rest with
:class:`RefusedGlobalError` (the documented way to restrict ``pickle``:
``find_class`` is the only door through which a pickle reaches a callable).

Two readers are built on it:

:func:`read_torchscript_state_dict`
    The tensors of a TorchScript archive (``torch.jit.save``, e.g. OpenAI's
    CLIP release ``ViT-B-16.pt``) *without* ``torch.jit.load``, which
    compiles and runs the TorchScript code the archive carries. The archive
    is a zip: ``<name>/data.pkl`` pickles the module tree (module objects
    are ``__torch__.<class>`` instances, tensors are
    ``torch._utils._rebuild_tensor_v2`` over persistent storage ids),
    ``<name>/data/<key>`` holds the raw bytes of each storage and
    ``<name>/code/`` the TorchScript source, of which only the
    ``__parameters__`` / ``__buffers__`` lists are read (as text) to know
    which tensor attributes belong to the ``state_dict()``. Module objects
    are rebuilt as inert :class:`ScriptObjectStub` records; nothing from
    the file is imported, compiled or called.

:func:`load_plain_pickle`
    A plain ``pickle.dump`` file of containers, numbers, strings, numpy
    arrays and torch tensors -- what mmengine's ``DumpResults`` (behind
    ``tools/test.py --dump``) writes. A pickled tensor refers to
    ``torch.storage._load_from_bytes``, which would ``torch.load`` its bytes
    with full pickle; here those bytes go through
    ``torch.load(weights_only=True)`` instead.
"""
import io
import os
import pickle
import re
import zipfile
from collections import OrderedDict
from typing import Callable, Dict, Mapping, Optional, Tuple

import torch

__all__ = [
    'RefusedGlobalError', 'RestrictedUnpickler', 'ScriptObjectStub',
    'read_torchscript_state_dict', 'load_plain_pickle', 'torchscript_root'
]


class RefusedGlobalError(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list.

    Attributes:
        module (str), name (str): The refused global, e.g. ``'posix'``,
            ``'system'``.
    """

    def __init__(self, module: str, name: str, what: str = 'this reader'):
        self.module = module
        self.name = name
        super().__init__(f'{what} refuses the global {module}.{name} '
                         '(only tensors, storages and plain containers are '
                         'rebuilt; nothing from the file is called)')


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose globals come from a fixed table.

    Args:
        file: A binary file object.
        allowed (Mapping): ``{(module, name): object}``; the object is what
            the global resolves to (usually our own safe re-implementation,
            never the real function of the file's choosing).
        dynamic (callable, optional): ``(module, name) -> object or None``
            for families of names (the ``__torch__.*`` classes of a
            TorchScript archive).
        persistent_load (callable, optional): Handles persistent ids
            (storages of a zip archive); without it they are refused.
        what (str): Named in the refusal message.
    """

    def __init__(self, file, allowed: Mapping[Tuple[str, str], object],
                 dynamic: Optional[Callable] = None,
                 persistent_load: Optional[Callable] = None,
                 what: str = 'the restricted unpickler'):
        super().__init__(file)
        self._allowed = dict(allowed)
        self._dynamic = dynamic
        self._persistent = persistent_load
        self._what = what

    def find_class(self, module, name):
        obj = self._allowed.get((module, name))
        if obj is None and self._dynamic is not None:
            obj = self._dynamic(module, name)
        if obj is None:
            raise RefusedGlobalError(module, name, self._what)
        return obj

    def persistent_load(self, pid):
        if self._persistent is None:
            raise pickle.UnpicklingError(
                f'{self._what} refuses persistent id {pid!r}')
        return self._persistent(pid)


# ---------------------------------------------------------------------------
# tensors
# ---------------------------------------------------------------------------
class _StorageType:
    """What ``torch.FloatStorage`` & co. resolve to: just a dtype."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError('a storage type cannot be called')


_STORAGE_NAMES = {
    'DoubleStorage': torch.float64, 'FloatStorage': torch.float32,
    'HalfStorage': torch.float16, 'BFloat16Storage': torch.bfloat16,
    'LongStorage': torch.int64, 'IntStorage': torch.int32,
    'ShortStorage': torch.int16, 'CharStorage': torch.int8,
    'ByteStorage': torch.uint8, 'BoolStorage': torch.bool,
    'ComplexFloatStorage': torch.complex64,
    'ComplexDoubleStorage': torch.complex128,
}
_STORAGE_TYPES = {('torch', name): _StorageType(dtype)
                  for name, dtype in _STORAGE_NAMES.items()}


def _flat_storage(storage) -> torch.Tensor:
    """A 1-D tensor over a whole storage (a flat tensor passes through)."""
    if isinstance(storage, torch.Tensor) and storage.dim() == 1:
        return storage
    if isinstance(storage, torch.storage.TypedStorage):
        return torch.empty(0, dtype=storage.dtype).set_(storage)
    raise pickle.UnpicklingError(
        f'a tensor must be rebuilt from a storage, got '
        f'{type(storage).__name__}')


def _ints(value, what):
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise pickle.UnpicklingError(f'tensor {what} must be ints, got '
                                     f'{value!r}')
    return tuple(value)


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    """``torch._utils._rebuild_tensor(_v2)`` on a flat storage tensor:
    a strided view (bounds are checked by ``as_strided``)."""
    flat = _flat_storage(storage)
    if not isinstance(storage_offset, int):
        raise pickle.UnpicklingError('tensor offset must be an int')
    size, stride = _ints(size, 'size'), _ints(stride, 'stride')
    if len(size) != len(stride):
        raise pickle.UnpicklingError('tensor size and stride differ in rank')
    numel = 1
    for s in size:
        numel *= s
    if numel == 0:
        return flat.new_empty(size)
    end = storage_offset + sum((s - 1) * st for s, st in zip(size, stride))
    if storage_offset < 0 or min(stride, default=0) < 0 or \
            end >= flat.numel():
        raise pickle.UnpicklingError(
            f'tensor of size {size} at offset {storage_offset} does not fit '
            f'its storage of {flat.numel()} elements (truncated or corrupt '
            'file)')
    return flat.as_strided(size, stride, storage_offset)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None,
                       *unused):
    if not isinstance(data, torch.Tensor):
        raise pickle.UnpicklingError('a parameter must hold a tensor')
    return data


def _ordered_dict(*args):
    if args and not (len(args) == 1 and isinstance(args[0], (list, tuple))):
        raise pickle.UnpicklingError('OrderedDict takes one list of pairs')
    return OrderedDict(*args)


def _identity(value, *unused):
    return value


_TENSOR_GLOBALS = {
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
    ('torch._utils', '_rebuild_tensor'): _rebuild_tensor,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
    ('collections', 'OrderedDict'): _ordered_dict,
    **_STORAGE_TYPES,
}

#: TorchScript list / type-tag helpers (``torch.jit._pickle``): all return
#: their first argument.
_JIT_PICKLE_GLOBALS = {('torch.jit._pickle', name): _identity for name in (
    'build_intlist', 'build_tensorlist', 'build_doublelist',
    'build_boollist', 'restore_type_tag')}


# ---------------------------------------------------------------------------
# TorchScript archives
# ---------------------------------------------------------------------------
class ScriptObjectStub:
    """An inert stand-in for a ``__torch__.*`` object of a TorchScript
    archive: it records the attributes the pickle sets and nothing else
    (``NEWOBJ`` creates it; calling the class is refused)."""

    qualname = '__torch__'

    def __init__(self, *args, **kwargs):
        raise pickle.UnpicklingError(
            f'{self.qualname} cannot be called while unpickling')

    def __setstate__(self, state):
        self.__dict__['attributes'] = (dict(state) if isinstance(
            state, dict) else {'__state__': state})

    @property
    def attrs(self) -> dict:
        return self.__dict__.get('attributes', {})

    def __repr__(self):
        return f'<{self.qualname} stub>'


def _torchscript_classes():
    cache = {}

    def resolve(module, name):
        if module != '__torch__' and not module.startswith('__torch__.'):
            return None
        key = f'{module}.{name}'
        if key not in cache:
            cache[key] = type(name, (ScriptObjectStub, ),
                              {'qualname': key, '__module__': __name__})
        return cache[key]

    return resolve


_CLASS_RE = re.compile(r'^class\s+(\w+)\s*\(\s*(\w+)\s*\)\s*:', re.M)
_LIST_RE = r'^\s+{}\s*=\s*\[(.*?)\]'


def _schema(zf: zipfile.ZipFile, prefix: str) -> Dict[str, tuple]:
    """``{qualified class: (parameters, buffers)}`` from the archive's
    TorchScript source, read as text (never compiled)."""
    schema = {}
    code = prefix + 'code/'
    for name in zf.namelist():
        if not (name.startswith(code) and name.endswith('.py')):
            continue
        module = name[len(code):-3].replace('/', '.')
        text = zf.read(name).decode('utf-8', errors='replace')
        starts = list(_CLASS_RE.finditer(text))
        for i, match in enumerate(starts):
            if match.group(2) != 'Module':
                continue
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            body = text[match.end():end]
            lists = []
            for key in ('__parameters__', '__buffers__'):
                found = re.search(_LIST_RE.format(key), body, re.M)
                lists.append(re.findall(r'"([^"]*)"', found.group(1))
                             if found else [])
            schema[f'{module}.{match.group(1)}'] = tuple(lists)
    return schema


def _archive_prefix(zf: zipfile.ZipFile) -> str:
    pickles = [n for n in zf.namelist()
               if n.endswith('/data.pkl') and n.count('/') == 1]
    if len(pickles) != 1:
        raise ValueError('not a TorchScript archive: expected one '
                         f'<name>/data.pkl, found {len(pickles)}')
    return pickles[0][:-len('data.pkl')]


def torchscript_root(path: str, map_location='cpu'):
    """Unpickle ``data.pkl`` of a TorchScript archive with tensors rebuilt
    from its storages and modules as :class:`ScriptObjectStub`.

    Returns ``(root, schema)``. Raises :class:`RefusedGlobalError` if the
    pickle names anything else, ``ValueError`` for a malformed archive.
    """
    with zipfile.ZipFile(path) as zf:
        prefix = _archive_prefix(zf)
        names = set(zf.namelist())
        order = prefix + 'byteorder'
        if order in names and zf.read(order).strip() not in (b'little', ):
            raise ValueError('big-endian TorchScript archives are not '
                             'supported')
        storages = {}

        def load_storage(pid):
            if not (isinstance(pid, tuple) and len(pid) == 5
                    and pid[0] == 'storage'):
                raise pickle.UnpicklingError(
                    f'unexpected persistent id {pid!r}')
            _, kind, key, _location, numel = pid
            if not isinstance(kind, _StorageType) or not isinstance(
                    key, str) or not isinstance(numel, int) or numel < 0:
                raise pickle.UnpicklingError(
                    f'unexpected storage reference {pid!r}')
            if key in storages:
                flat = storages[key]
                if flat.dtype != kind.dtype:
                    raise pickle.UnpicklingError(
                        f'storage {key} used with two dtypes')
                return flat
            record = f'{prefix}data/{key}'
            if record not in names:
                raise ValueError(f'storage {record} is missing')
            nbytes = numel * torch.empty((), dtype=kind.dtype).element_size()
            data = zf.read(record)
            if len(data) < nbytes:
                raise ValueError(f'storage {record} holds {len(data)} bytes, '
                                 f'{nbytes} expected (truncated file)')
            flat = (torch.frombuffer(bytearray(data[:nbytes]),
                                     dtype=kind.dtype)
                    if numel else torch.empty(0, dtype=kind.dtype))
            if map_location not in (None, 'cpu'):
                flat = flat.to(map_location)
            storages[key] = flat
            return flat

        unpickler = RestrictedUnpickler(
            io.BytesIO(zf.read(prefix + 'data.pkl')),
            {**_TENSOR_GLOBALS, **_JIT_PICKLE_GLOBALS},
            dynamic=_torchscript_classes(), persistent_load=load_storage,
            what='the TorchScript tensor reader')
        root = unpickler.load()
        return root, _schema(zf, prefix)


def _is_module(obj, schema):
    if not isinstance(obj, ScriptObjectStub):
        return False
    if obj.qualname in schema:
        return True
    return 'training' in obj.attrs  # every nn.Module has it


def _collect(obj, prefix, schema, out, seen):
    if id(obj) in seen:  # a module shared by two parents: once, as torch
        return
    seen.add(id(obj))
    attrs = obj.attrs
    if obj.qualname in schema:
        params, buffers = schema[obj.qualname]
        names = list(params) + list(buffers)
    else:  # no source for this class: every tensor attribute
        names = [k for k, v in attrs.items() if isinstance(v, torch.Tensor)]
    for name in names:
        value = attrs.get(name)
        if isinstance(value, torch.Tensor):
            out[prefix + name] = value
    for name, value in attrs.items():
        if _is_module(value, schema):
            _collect(value, f'{prefix}{name}.', schema, out, seen)


def read_torchscript_state_dict(path: str, map_location='cpu'
                                ) -> 'OrderedDict[str, torch.Tensor]':
    """What ``torch.jit.load(path).state_dict()`` returns, without running
    any code of the archive.

    Raises:
        RefusedGlobalError: ``data.pkl`` names a global other than the
            tensor rebuilders, storage types, ``OrderedDict``, the
            ``torch.jit._pickle`` list helpers and ``__torch__.*`` classes.
        ValueError / pickle.UnpicklingError: A malformed or truncated
            archive.
    """
    root, schema = torchscript_root(path, map_location)
    if not _is_module(root, schema):
        raise ValueError('the archive does not hold a module')
    out = OrderedDict()
    _collect(root, '', schema, out, set())
    return out


# ---------------------------------------------------------------------------
# plain pickles (results dumps)
# ---------------------------------------------------------------------------
def _storage_from_bytes(data):
    """``torch.storage._load_from_bytes``, but weights-only."""
    if not isinstance(data, (bytes, bytearray)):
        raise pickle.UnpicklingError('a storage must be rebuilt from bytes')
    return torch.load(io.BytesIO(data), map_location='cpu',
                      weights_only=True)


def _codecs_encode(text, encoding='utf-8', *unused):
    """``_codecs.encode`` as protocol-2 pickles use it for bytes."""
    if not isinstance(text, str) or encoding != 'latin1':
        raise pickle.UnpicklingError('_codecs.encode is allowed for latin1 '
                                     'strings only')
    return text.encode('latin1')


def _numpy_globals():
    import numpy as np
    out = {('numpy', 'ndarray'): np.ndarray, ('numpy', 'dtype'): np.dtype}
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        out[(module, '_reconstruct')] = multiarray._reconstruct
        out[(module, 'scalar')] = multiarray.scalar
    for name in ('Float16DType', 'Float32DType', 'Float64DType', 'Int8DType',
                 'Int16DType', 'Int32DType', 'Int64DType', 'UInt8DType',
                 'BoolDType'):
        cls = getattr(np.dtypes, name, None) if hasattr(np, 'dtypes') \
            else None
        if cls is not None:
            out[('numpy.dtypes', name)] = cls
    return out


def load_plain_pickle(path: str):
    """Read a ``pickle.dump`` file of containers, numbers, strings, numpy
    arrays and torch tensors, refusing every other global.

    A file written by ``torch.save`` (zip) is read with
    ``torch.load(weights_only=True)``.

    Raises:
        RefusedGlobalError: The file needs something else (it would run
            code with ``pickle.load``).
    """
    path = os.fspath(path)
    if zipfile.is_zipfile(path):
        return torch.load(path, map_location='cpu', weights_only=True)
    allowed = {
        **_TENSOR_GLOBALS, **_numpy_globals(),
        ('torch.storage', '_load_from_bytes'): _storage_from_bytes,
        ('_codecs', 'encode'): _codecs_encode,
    }
    with open(path, 'rb') as f:
        return RestrictedUnpickler(f, allowed,
                                   what='the results reader').load()
