# UniFormer (V1) video recipe on HMDB51 split 1 (official video_classification/
# exp/uniformer_s16x4_hmdb51_prek400):
#
# * model: UniFormer-S video backbone (drop path 0.2) initialised from the
#   Kinetics-400 16x4 video checkpoint (its classifier is dropped); I3DHead;
# * data: dense 16x4 sampling (the official rule), RandAugment m5-n2-mstd0.25,
#   random-resized crop + flip, random erasing 0.25, 2 repeated augmentations,
#   mixup 0.8 / cutmix 1.0 + label smoothing 0.1
#   (configs/_base_/datasets/hmdb51.py), BGR input as the official frame
#   loader; test 5 clips x 3 crops, logits summed (averaged) over the views;
# * schedule: AdamW lr 5e-5 for 128 videos (16 per GPU x 8 GPUs; not scaled
#   by the number of machines), wd 0.05 (none for norms / biases / 1-D),
#   clip 20, warmup 5 + cosine, 25 epochs.
_base_ = ['./uniformer_ucf101.py']

# the data of ../datasets/hmdb51.py
dataset_name = 'hmdb51'
num_classes = 51
bgr_input = True
# BGR input, as the official frame loader (cv2): our decoders give RGB and
# to_rgb=True reverses the channels
model = dict(data_preprocessor=dict(to_rgb='${bgr_input}'))
