# Kinetics-710 (UniFormerV2 post-pretraining set), sparse sampling, 8 frames
#
# K710 = the union of the Kinetics-400/600/700 training sets, de-duplicated
# by YouTube id, with the videos of the three validation sets removed
# (official DATASET.md), 710 classes
# (``uniformer_mm::label_maps/kinetics710.txt``). Built here from the
# ordinary mmaction2 Kinetics lists: ``LabelMapVideoDataset`` maps each
# list's labels to K710 with the channel maps
# ``uniformer_mm::label_maps/k710_channel_map_k{400,600,700}.json`` (a JSON
# list; entry i = K710 label of class i; mmaction2's files, shipped with the
# package) and drops the videos of ``exclude_lists`` (the lists before it
# and all val lists). The validation set is the union of
# the three val lists, de-duplicated the same way.
#
# With mmaction2's ready-made K710 lists (``data/kinetics710/k{400,600,700}_
# {train,val}_list_videos.txt``, already in K710 labels and de-duplicated)
# use plain ``VideoDataset``s instead: see README.md in this folder.
#
# Sampling, augmentation and views: ./kinetics400.py (./kinetics_style.py);
# knobs: configs/README.md.
_base_ = ['./kinetics_style.py']

dataset_name = 'kinetics710'
dataset_type = 'LabelMapVideoDataset'
num_classes = 710
# the three member lists (K400 / K600 / K700) below replace the single list
# of the base
data_root = data_root_val = None
ann_file_train = ann_file_val = ann_file_test = None
k400_root = 'data/kinetics400/videos_train'
k400_root_val = 'data/kinetics400/videos_val'
k600_root = 'data/kinetics600/videos_train'
k600_root_val = 'data/kinetics600/videos_val'
k700_root = 'data/kinetics700/videos_train'
k700_root_val = 'data/kinetics700/videos_val'
k400_ann_train = 'data/kinetics400/kinetics400_train_list_videos.txt'
k600_ann_train = 'data/kinetics600/kinetics600_train_list_videos.txt'
k700_ann_train = 'data/kinetics700/kinetics700_train_list_videos.txt'
k400_ann_val = 'data/kinetics400/kinetics400_val_list_videos.txt'
k600_ann_val = 'data/kinetics600/kinetics600_val_list_videos.txt'
k700_ann_val = 'data/kinetics700/kinetics700_val_list_videos.txt'
# K400/600/700 labels -> K710 labels (shipped with the package)
k400_channel_map = 'uniformer_mm::label_maps/k710_channel_map_k400.json'
k600_channel_map = 'uniformer_mm::label_maps/k710_channel_map_k600.json'
k700_channel_map = 'uniformer_mm::label_maps/k710_channel_map_k700.json'
k710_val_lists = [k400_ann_val, k600_ann_val, k700_ann_val]


def _k710_sets(pipeline, train):
    """The three member data sets (a function: mmengine drops it from the
    parsed config)."""
    roots = ([k400_root, k600_root, k700_root] if train else
             [k400_root_val, k600_root_val, k700_root_val])
    anns = ([k400_ann_train, k600_ann_train, k700_ann_train]
            if train else k710_val_lists)
    maps = [k400_channel_map, k600_channel_map, k700_channel_map]
    sets = []
    for i, (root, ann, cmap) in enumerate(zip(roots, anns, maps)):
        # drop what an earlier list already has (and, in training, the
        # videos of every val list)
        exclude = anns[:i] + (k710_val_lists if train else [])
        sets.append(
            dict(
                type='${dataset_type}',
                ann_file=ann,
                data_prefix=dict(video=root),
                channel_map=cmap,
                exclude_lists=exclude,
                pipeline=f'${{{pipeline}}}',
                test_mode=not train))
    return sets


train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=_k710_sets('train_pipeline', True)))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=_k710_sets('val_pipeline', False)))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=_k710_sets('test_pipeline', False)))
