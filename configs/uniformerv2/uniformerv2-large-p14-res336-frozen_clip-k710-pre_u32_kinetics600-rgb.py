# paper: top-1 89.2, params 354M, FLOPs 6268G (estimated) x 4 clips x 3 crops
# UniFormerV2-L/14@336 with a frozen CLIP backbone, CLIP-400M -> K710 ->
# Kinetics-600, 32 frames. Official exp/k600/frozen_k600+k710_l14_f32x336:
# batch 256 (32 per GPU x 8 GPUs), lr 5e-5, 5 epochs (1 warmup), from the
# frozen K710 model, classifier initialised from the K710 rows of the K600
# classes; test 32x3x4, softmax averaged. The model zoo reports 4 clips x 3
# crops (run.sh: 3 x 1).
_base_ = ['./uniformerv2-large-p14-res336-frozen_clip-k710-pre_u32_kinetics400-rgb.py']

dataset_name = 'kinetics600'
num_classes = 600
from uniformer_mm.datasets.config_utils import k710_classifier  # noqa: E402
model = dict(cls_head=k710_classifier('k600'))
