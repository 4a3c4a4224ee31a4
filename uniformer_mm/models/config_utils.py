"""Helpers for the dense-prediction configs (mmdet / mmseg / mmpose).

The configs under ``configs/uniformer_{det,seg,pose}`` are read by the
frameworks' own tools as well as ours, so they hold plain values only (no
``'${name}'`` knobs, configs/README.md). The functions here are imported
and called inside those configs: ``mmengine.Config.fromfile`` runs them
while it reads the file, and every tool (and ``cfg.dump()``) sees the dicts
they return, never the functions. A row then states only its own facts::

    _base_ = ['./_base_/fpn_uniformer_8xb4-80k_ade20k-512x512.py']
    from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

    model = dict(backbone=dense_backbone('base', 0.2, stage3_attn='hybrid'))

(The ``import`` must come after ``_base_ = ...``: mmengine reads a config
whose first statement is a non-builtin import as a "new style" config.)

* :func:`dense_backbone`: a row's backbone (arch, drop path, its ImageNet
  initialisation, and what else the row sets), merged into its base's;
* :func:`replace_backbone`: a base's backbone, the ``UniFormerDense`` that
  replaces the framework config's backbone;
* :func:`topdown_heatmap`: the heatmap codec of a top-down pose base and
  the training / test pipelines built from it.
"""
from typing import Sequence, Tuple

#: The archs of the dense models: ``UniFormerDense`` builds the S / B
#: design (the light archs stop it with a ValueError).
DENSE_ARCHS = ('small', 'base')


def in1k_checkpoint(arch: str) -> str:
    """Where the dense configs read the ImageNet-1k weights of ``arch``:
    ``checkpoints/uniformer_{arch}_in1k.pth`` (relative to the working
    directory; docs/checkpoints.md)."""
    return f'checkpoints/uniformer_{arch}_in1k.pth'


def dense_backbone(arch: str, drop_path_rate: float, **settings) -> dict:
    """The backbone of a dense row: its arch, drop path and ImageNet-1k
    initialisation (:func:`in1k_checkpoint` of the arch), and any other
    setting of the row. mmengine merges it into the base's backbone::

        model = dict(backbone=dense_backbone(
            'base', 0.4, stage3_attn='global', with_cp=[0, 0, 2, 0]))

    is ``model = dict(backbone=dict(arch='base', drop_path_rate=0.4,
    stage3_attn='global', with_cp=[0, 0, 2, 0],
    init_cfg=dict(checkpoint='checkpoints/uniformer_base_in1k.pth')))``.

    Args:
        arch (str): ``'small'`` or ``'base'``.
        drop_path_rate (float): The stochastic depth rate.
        **settings: Other ``UniFormerDense`` arguments, as they are
            (``stage3_attn``, ``with_cp`` (official ``checkpoint_num``),
            ``window_size``, ...).

    Returns:
        dict: The backbone settings (a plain dict).

    Raises:
        ValueError: ``arch`` is not a dense arch or ``stage3_attn`` not a
            stage-3 attention mode (one line naming the accepted values).
    """
    if arch not in DENSE_ARCHS:
        raise ValueError(f'dense_backbone: arch {arch!r} has no dense model; '
                         f'use one of {", ".join(DENSE_ARCHS)}')
    if 'stage3_attn' in settings:
        from .backbones.uniformer_dense import STAGE3_ATTN
        if settings['stage3_attn'] not in STAGE3_ATTN:
            raise ValueError(
                f'dense_backbone: stage3_attn {settings["stage3_attn"]!r} is '
                f'not one of {", ".join(STAGE3_ATTN)}')
    return dict(arch=arch, drop_path_rate=drop_path_rate, **settings,
                init_cfg=dict(checkpoint=in1k_checkpoint(arch)))


def replace_backbone(arch: str, drop_path_rate: float,
                     out_indices: Sequence[int], **settings) -> dict:
    """The backbone of a dense base config: a ``UniFormerDense`` that
    replaces (``_delete_=True``) the backbone of the mmdet / mmseg / mmpose
    config the base inherits, initialised (``Pretrained``) from the
    ImageNet-1k weights of ``arch``::

        model = dict(backbone=replace_backbone(
            'small', 0.2, out_indices=(3, ), stage3_attn='global'))

    is ``model = dict(backbone=dict(_delete_=True, type='UniFormerDense',
    arch='small', out_indices=(3, ), drop_path_rate=0.2,
    stage3_attn='global', init_cfg=dict(type='Pretrained',
    checkpoint='checkpoints/uniformer_small_in1k.pth')))``.

    Args:
        arch (str): ``'small'`` or ``'base'`` (rows set their own with
            :func:`dense_backbone`).
        drop_path_rate (float): The stochastic depth rate.
        out_indices (Sequence[int]): The stages returned: ``(0, 1, 2, 3)``
            for FPN / UperNet necks, ``(3, )`` for top-down pose heads.
        **settings: Other ``UniFormerDense`` arguments, as for
            :func:`dense_backbone`.

    Returns:
        dict: The backbone config (a plain dict).
    """
    backbone = dense_backbone(arch, drop_path_rate, **settings)
    backbone['init_cfg']['type'] = 'Pretrained'
    return dict(_delete_=True, type='UniFormerDense',
                out_indices=tuple(out_indices), **backbone)


def topdown_heatmap(input_size: Tuple[int, int],
                    heatmap_size: Tuple[int, int],
                    sigma: float) -> Tuple[dict, list, list]:
    """The heatmap codec of a top-down pose config and the pipelines that
    follow it, as the official recipe (Sense-X/UniFormer
    ``pose_estimation/exp/top_down_*``) trains and tests:

    * ``codec``: ``MSRAHeatmap`` of the input size, heatmap size and sigma
      (the head's decoder is this codec too);
    * ``train_pipeline``: random flip, half body, scale and rotation of the
      box (``RandomBBoxTransform`` without shifting it: the official
      pipeline has no random shift, mmpose 1's shifts 30 % of the boxes by
      default), the affine crop to ``input_size``, the target heatmaps;
    * ``val_pipeline``: the affine crop to ``input_size``.

    Usage (a base of another input size states only that; the config then
    gives ``codec`` to the head's ``decoder`` and the pipelines to its data
    loaders, as ``configs/uniformer_pose/_base_/*.py`` do)::

        codec, train_pipeline, val_pipeline = topdown_heatmap(
            input_size=(288, 384), heatmap_size=(72, 96), sigma=3)

    Args:
        input_size (tuple[int, int]): The input (width, height).
        heatmap_size (tuple[int, int]): The heatmap (width, height).
        sigma (float): The Gaussian sigma of the target heatmaps.

    Returns:
        tuple[dict, list, list]: ``(codec, train_pipeline, val_pipeline)``.
    """
    codec = dict(type='MSRAHeatmap', input_size=tuple(input_size),
                 heatmap_size=tuple(heatmap_size), sigma=sigma)

    train_pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal'),
        dict(type='RandomHalfBody'),
        dict(type='RandomBBoxTransform', shift_prob=0.),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='GenerateTarget', encoder=dict(codec)),
        dict(type='PackPoseInputs')
    ]
    val_pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='PackPoseInputs')
    ]
    return codec, train_pipeline, val_pipeline


def uniformerv2_model(arch=None, *, clip=None, checkpoint=None, **backbone):
    """The ``model`` change of a UniFormerV2 row (or recipe): its backbone
    arguments, the classifier input width of its ViT, and where its weights
    come from -- the facts a row states, without the dicts around them::

        _base_ = ['../_base_/recipes/uniformerv2_k400.py']
        from uniformer_mm.models.config_utils import uniformerv2_model  # noqa
        model = uniformerv2_model(
            'vit-l14', t_size=8, checkpoint='k710_uniformerv2_l14_8x224.pyth')

    gives ``backbone=dict(arch='vit-l14', t_size=8, clip_pretrained=None,
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformerv2/
    k710_uniformerv2_l14_8x224.pyth', prefix='backbone.'))`` and
    ``cls_head=dict(in_channels=1024)``, merged into the base's model.

    Args:
        arch (str, optional): ``'vit-b16'``, ``'vit-l14'`` or
            ``'vit-l14-336'`` (:data:`uniformer_mm.models.arch_zoo.
            V2_ARCH_ZOO`); the head's ``in_channels`` follows its width.
            None: the base's arch and head are kept.
        clip (str, optional): the OpenAI CLIP weights the ViT starts from
            (``clip_pretrained``): a file name under ``checkpoints/clip/``
            or a path with a ``/``. Where to get them: docs/checkpoints.md.
        checkpoint (str, optional): an official UniFormerV2 checkpoint whose
            backbone weights initialise this model (a ``Pretrained``
            ``init_cfg`` with prefix ``backbone.``; its classifier is not
            read, as the official DELETE_SPECIAL_HEAD): a file name under
            ``checkpoints/uniformerv2/`` or a path with a ``/``. It replaces
            the CLIP initialisation of the base (``clip_pretrained=None``).
        **backbone: the other backbone arguments (``t_size``, ``frozen``,
            ``with_cp``, ``checkpoint_num``, ``return_list``, ...).

    Returns:
        dict: ``backbone`` (and ``cls_head`` when ``arch`` is given).

    Raises:
        ValueError: both ``clip`` and ``checkpoint`` given (a model starts
            from one of them).
        KeyError: an unknown ``arch`` (one line naming the known ones).
    """
    if clip is not None and checkpoint is not None:
        raise ValueError(
            'uniformerv2_model: give clip (CLIP weights) or checkpoint (an '
            f'official UniFormerV2 model), not both: {clip!r}, {checkpoint!r}')

    def path(name, folder):
        return name if '/' in name else f'checkpoints/{folder}/{name}'

    backbone = dict(backbone)
    model = dict(backbone=backbone)
    if arch is not None:
        from .arch_zoo import resolve_v2_arch
        backbone['arch'] = arch
        model['cls_head'] = dict(in_channels=resolve_v2_arch(arch)['width'])
    if clip is not None:
        backbone['clip_pretrained'] = path(clip, 'clip')
    if checkpoint is not None:
        backbone['clip_pretrained'] = None
        backbone['init_cfg'] = dict(
            type='Pretrained',
            checkpoint=path(checkpoint, 'uniformerv2'),
            prefix='backbone.')
    return model
