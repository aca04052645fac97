"""Model builders, one module per lecture section; each `build_*` returns a named `keras.Model`.

Example:
    >>> from lecture_lib import models
    >>> model = models.build_unet((128, 128, 1), num_classes=3, final_activation="softmax")
"""

from lecture_lib.models.classification import build_cnn_classifier, build_resnet, grad_cam, resnet_layer_table
from lecture_lib.models.detection import (
    build_grid_detector,
    build_lesion_detector,
    decode_grid_predictions,
    decode_lesion_predictions,
    encode_grid_targets,
    encode_lesion_targets,
)
from lecture_lib.models.generation import build_bone_suppression_unet, build_conditional_vae, sample
from lecture_lib.models.landmarks import (
    build_heatmap_landmark_net,
    build_landmark_regressor,
    denormalize_landmarks,
    landmark_heatmaps,
    normalize_landmarks,
)
from lecture_lib.models.segmentation import build_unet

__all__ = [
    "build_cnn_classifier",
    "build_resnet",
    "grad_cam",
    "resnet_layer_table",
    "build_unet",
    "build_lesion_detector",
    "build_grid_detector",
    "encode_lesion_targets",
    "decode_lesion_predictions",
    "encode_grid_targets",
    "decode_grid_predictions",
    "build_landmark_regressor",
    "build_heatmap_landmark_net",
    "landmark_heatmaps",
    "normalize_landmarks",
    "denormalize_landmarks",
    "build_bone_suppression_unet",
    "build_conditional_vae",
    "sample",
]
