# HACS Clips/Segments as trimmed-video classification, 16 frames
# (UniFormerV2): the sampling and views of ./activitynet.py.
#
# 200 classes (ActivityNet's, same names). Training list: the annotated
# action segments cut into clips ("path label" per clip); validation/test
# list: the whole val videos with their label (as the official recipe does
# for ActivityNet / HACS).
_base_ = ['./activitynet.py']

dataset_name = 'hacs'
ann_file_train = 'data/hacs/hacs_train_list_videos.txt'  # not anet_*
ann_file_val = 'data/hacs/hacs_val_list_videos.txt'
label_map = 'uniformer_mm::label_maps/activitynet.txt'
