# ActivityNet v1.3 as trimmed-video classification, 16 frames (UniFormerV2)
#
# 200 classes. Training list: the annotated action segments cut into clips
# ("path label" per clip); validation/test list: the whole untrimmed val
# videos with their (single) label -- as the official recipe (DATASET.md:
# trimmed segments for training, the whole video for validation).
# Sparse sampling of 16 frames, 10 clips x 3 crops at test time (the 10x3
# views of the UniFormerV2 model zoo); the rest as ./kinetics400.py.
_base_ = ['./kinetics_style.py']

dataset_name = 'activitynet'
ann_file_train = 'data/activitynet/anet_train_list_videos.txt'
ann_file_val = 'data/activitynet/anet_val_list_videos.txt'
num_classes = 200
clip_len = 16
num_test_clips = 10
