"""High-level APIs: build a model from a config and run it on videos or
images (:mod:`.inference`), export it to ONNX (:mod:`.export`), and models
by name: the model index (:mod:`.model_index`), download / verify / convert
/ cache (:mod:`.hub`; the downloader is
:mod:`uniformer_mm.checkpoint.download`), the inferencer
(:mod:`.inferencer`) and checkpoint file conversion (:mod:`.convert`)."""
from .inference import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, build_model,
                        build_test_pipeline, check_model_config, class_names,
                        config_class_names, count_views, extract_clip_feature,
                        get_task, inference_model, init_model, load_config,
                        load_label_map, load_weights, pool_backbone_output,
                        predict_scores, prepare_inputs, scores_of_inputs,
                        test_pipeline_cfg, topk_predictions)
from .hub import (HubError, fetch_checkpoint, get_model,  # noqa: I001
                  list_models, model_info)
from .inferencer import UniFormerInferencer
from .convert import convert_file

__all__ = [
    'IMAGE_EXTENSIONS', 'VIDEO_EXTENSIONS', 'build_model',
    'build_test_pipeline', 'check_model_config', 'class_names',
    'config_class_names', 'count_views', 'extract_clip_feature', 'get_task',
    'inference_model', 'init_model', 'load_config', 'load_label_map',
    'load_weights', 'pool_backbone_output', 'predict_scores',
    'prepare_inputs', 'scores_of_inputs', 'test_pipeline_cfg',
    'topk_predictions',
    'HubError', 'fetch_checkpoint', 'get_model', 'list_models', 'model_info',
    'UniFormerInferencer', 'convert_file'
]
