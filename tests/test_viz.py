"""Tests of lecture_lib.viz: each function returns a Figure with the expected axes and artists; bad input is refused."""

from __future__ import annotations

import types

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from sklearn.metrics import roc_auc_score

from lecture_lib import labels, viz

H, W = 32, 40


def _image():
    return np.linspace(0, 1, H * W, dtype=np.float32).reshape(H, W, 1)


def _texts(ax):
    return [text.get_text() for text in ax.texts]


def _legend_texts(ax):
    legend = ax.get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend else []


def _rectangles(ax):
    return [patch for patch in ax.patches if isinstance(patch, Rectangle)]


def test_figures_are_not_kept_by_pyplot():
    before = plt.get_fignums()
    fig = viz.show_images(np.zeros((3, H, W, 1)))
    assert isinstance(fig, Figure) and plt.get_fignums() == before


def test_show_images_grid_and_titles():
    images = np.stack([_image() * k / 5 for k in range(6)])
    fig = viz.show_images(images, titles=[f"image {k}" for k in range(6)], ncols=4)
    assert len(fig.axes) == 8  # 2 rows x 4 columns
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 6 and all(not ax.axison for ax in fig.axes if not ax.images)
    assert [ax.get_title() for ax in shown] == [f"image {k}" for k in range(6)]
    long_title = "Cardiomegaly, Nodule, Pneumonia, Pneumothorax"
    wrapped = viz.show_images(images[:1], titles=[long_title], size=2.0).axes[0].get_title()
    assert wrapped.replace("\n", " ") == long_title and max(len(line) for line in wrapped.split("\n")) <= 22
    assert shown[3].images[0].get_clim() == (0.0, 1.0)  # no per-image stretch: brightness is comparable
    np.testing.assert_allclose(shown[5].images[0].get_array(), images[5, ..., 0])


def test_show_images_accepts_lists_single_images_and_autoscale():
    fig = viz.show_images([np.zeros((8, 8)), np.ones((16, 12, 1)) * 0.5])
    assert len(fig.axes) == 2
    fig = viz.show_images(_image()[..., 0] * 3, vmin=None, vmax=None)
    assert len(fig.axes) == 1 and fig.axes[0].images[0].get_clim() == pytest.approx((0.0, 3.0))


@pytest.mark.parametrize(
    ("images", "kwargs", "match"),
    [
        (np.zeros((2, H, W, 3)), {}, r"shape \(2, 32, 40, 3\)"),
        (np.zeros((3, H, W)), {"titles": ["a", "b"]}, "2 titles for 3 images"),
        ([], {}, "empty"),
    ],
)
def test_show_images_errors(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.show_images(images, **kwargs)


def test_overlay_masks_contours_and_legend():
    masks = np.zeros((H, W, 3), dtype=np.uint8)
    masks[2:6, 3:8, 0] = 1  # rows 2-5, columns 3-7
    masks[20:25, 30:35, 0] = 1  # a second, separate piece of the same structure
    masks[10:16, 10:20, 1] = 1
    fig = viz.overlay_masks(_image(), masks, names=["right lung", "heart", "pneumothorax"])
    ax = fig.axes[0]
    assert len(ax.lines) == 3  # two contours for channel 0, one for channel 1, none for the empty channel
    assert _legend_texts(ax) == ["right lung", "heart", "pneumothorax (empty)"]
    # The 0.5 contour runs halfway between inside and outside pixel centres: pixel (row, col) covers
    # [col, col + 1) x [row, row + 1), so the first block's outline spans x in [3, 8] and y in [2, 6].
    xs, ys = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == pytest.approx((3.0, 8.0, 2.0, 6.0))
    assert ax.lines[0].get_color() != ax.lines[2].get_color()


def test_overlay_masks_border_touching_mask_is_closed_and_probabilities_thresholded():
    probabilities = np.zeros((H, W))
    probabilities[:10, :10] = 0.9
    probabilities[20:, 20:] = 0.3  # below the 0.5 threshold: not drawn
    ax = viz.overlay_masks(_image(), probabilities, fill_alpha=0).axes[0]
    assert len(ax.lines) == 1 and len(ax.images) == 1
    line = ax.lines[0]
    assert (line.get_xdata()[0], line.get_ydata()[0]) == pytest.approx((line.get_xdata()[-1], line.get_ydata()[-1]))
    # Linear interpolation between the centre of column 0 (x = 0.5, value 0.9) and the zero padding (x = -0.5):
    # the 0.5 level lies (0.9 - 0.5) / 0.9 of the way out, at x = 0.5 - 4/9 = 1/18.
    assert line.get_xdata().min() == pytest.approx(1 / 18)


def test_overlay_masks_draws_into_given_axes():
    fig, axes = plt.subplots(1, 2)
    returned = viz.overlay_masks(_image(), np.ones((H, W)), ax=axes[1])
    assert returned is fig and len(axes[1].lines) == 1 and not axes[0].lines
    plt.close(fig)


@pytest.mark.parametrize(
    ("masks", "names", "match"),
    [
        (np.zeros((H + 1, W, 2)), None, r"masks has shape \(33, 40, 2\) but the image is \(32, 40\)"),
        (np.zeros((H, W, 2)), ["one"], "1 mask names for 2 mask channels"),
    ],
)
def test_overlay_masks_errors(masks, names, match):
    with pytest.raises(ValueError, match=match):
        viz.overlay_masks(_image(), masks, names=names)


def test_draw_boxes_skips_padding_and_labels_class_and_score():
    boxes = np.array([[2, 3, 12, 9], [20, 10, 35, 30], [-1, -1, -1, -1]], dtype=np.float32)
    fig = viz.draw_boxes(_image(), boxes, classes=[11, 9, -1], scores=[0.912, 0.5, 0.0])
    ax = fig.axes[0]
    rectangles = _rectangles(ax)
    assert len(rectangles) == 2
    assert rectangles[0].get_xy() == (2, 3) and (rectangles[0].get_width(), rectangles[0].get_height()) == (10, 6)
    assert _texts(ax) == ["Nodule 0.91", "Mass 0.50"]  # slide codes 11 and 9


def test_draw_boxes_names_threshold_and_no_classes():
    boxes = [[2, 3, 12, 9], [20, 10, 35, 30]]
    ax = viz.draw_boxes(_image(), boxes, classes=[1, 0], class_names=["lesion", "device"]).axes[0]
    assert _texts(ax) == ["device", "lesion"]
    ax = viz.draw_boxes(_image(), boxes, scores=[0.2, 0.8], score_threshold=0.5).axes[0]
    assert len(_rectangles(ax)) == 1 and _texts(ax) == ["0.80"]
    ax = viz.draw_boxes(_image(), [4, 4, 8, 8]).axes[0]
    assert len(_rectangles(ax)) == 1 and _texts(ax) == []  # ground truth without class: a box, no label


@pytest.mark.parametrize(
    ("boxes", "kwargs", "match"),
    [
        (np.zeros((2, 3)), {}, r"boxes has shape \(2, 3\)"),
        ([[10, 5, 4, 20]], {}, r"box 0 is \[10.0, 5.0, 4.0, 20.0\].*convert_format"),
        ([[1, 1, 4, 4]], {"classes": [1, 2]}, "classes has 2 entries for 1 boxes"),
        ([[1, 1, 4, 4]], {"scores": [0.1, 0.2]}, "scores has 2 entries for 1 boxes"),
    ],
)
def test_draw_boxes_errors(boxes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.draw_boxes(_image(), boxes, **kwargs)


def test_draw_landmarks_names_and_missing_points():
    points = np.array([[10, 10], [np.nan, np.nan], [30, 20]], dtype=np.float32)
    ax = viz.draw_landmarks(_image(), points, names=["apex", "absent", "heart"]).axes[0]
    assert _texts(ax) == ["apex", "heart"]
    # x = 30 is in the right 30 % of a 40-pixel-wide image: its name is written to the left so it is not clipped.
    assert [text.get_horizontalalignment() for text in ax.texts] == ["left", "right"]
    (scatter,) = ax.collections
    np.testing.assert_allclose(scatter.get_offsets(), [[10, 10], [30, 20]])


def test_draw_landmarks_against_truth_with_error_lines():
    predicted = np.array([[10, 10], [20, 20], [np.nan, np.nan]])
    truth = np.array([[13, 14], [20, 20], [5, 5]])
    ax = viz.draw_landmarks(_image(), predicted, truth=truth, pixel_spacing_mm=(0.5, 2.0)).axes[0]
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == 2  # the absent prediction has no error line
    # Errors: |(3, 4)| = 5 px and 0 px -> mean 2.5 px. In mm, x is the column (2.0 mm), y the row (0.5 mm):
    # |(6, 2)| = sqrt(40) = 6.32 mm and 0 -> mean 3.16 mm.
    assert ax.get_title() == "mean error 2.5 px = 3.2 mm"
    assert _legend_texts(ax) == ["truth", "prediction", "error"]


@pytest.mark.parametrize(
    ("points", "kwargs", "match"),
    [
        (np.zeros((4, 3)), {}, r"points has shape \(4, 3\)"),
        (np.zeros((4, 2)), {"truth": np.zeros((3, 2))}, r"truth has shape \(3, 2\); expected \(4, 2\)"),
        (np.zeros((4, 2)), {"names": ["a"]}, "1 names for 4 points"),
    ],
)
def test_draw_landmarks_errors(points, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.draw_landmarks(_image(), points, **kwargs)


def test_overlay_heatmap_stretches_and_normalizes():
    heatmap = np.arange(16, dtype=np.float32).reshape(4, 4) * 2 + 1
    fig = viz.overlay_heatmap(_image(), heatmap, alpha=0.3)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # image axes + colour bar
    base, overlay = [artist for artist in ax.get_children() if isinstance(artist, AxesImage)]
    assert overlay.get_extent() == base.get_extent() == [0, W, H, 0]
    np.testing.assert_allclose(overlay.get_array(), (heatmap - 1) / 30)
    assert overlay.get_alpha() == 0.3


def test_overlay_heatmap_reduces_channels_and_refuses_bad_input():
    heatmaps = np.zeros((H, W, 3))
    heatmaps[5, 5, 0], heatmaps[9, 9, 2] = 1.0, 0.5
    ax = viz.overlay_heatmap(_image(), heatmaps, normalize=False, colorbar=False).axes[0]
    np.testing.assert_allclose(ax.images[1].get_array(), heatmaps.max(axis=-1))
    with pytest.raises(ValueError, match=r"heatmap has shape \(2, 4, 4, 1\)"):
        viz.overlay_heatmap(_image(), np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match="NaN"):
        viz.overlay_heatmap(_image(), np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\], got 1.5"):
        viz.overlay_heatmap(_image(), np.zeros((4, 4)), alpha=1.5)


def test_before_after_with_difference():
    before = np.zeros((H, W), dtype=np.float32)
    after = before.copy()
    after[:, : W // 2] = 0.2  # half the image changes by 0.2 -> mean |difference| 0.1
    fig = viz.before_after(before, after[..., None], titles=("radiograph", "bone-free"))
    assert len(fig.axes) == 4  # three panels + colour bar
    assert [ax.get_title() for ax in fig.axes[:2]] == ["radiograph", "bone-free"]
    assert fig.axes[2].get_title() == "bone-free − radiograph\nmean |difference| 0.100"
    difference = fig.axes[2].images[0]
    np.testing.assert_allclose(difference.get_array(), after - before)
    assert difference.get_clim() == pytest.approx((-0.2, 0.2))  # symmetric: 0 is the neutral colour
    assert len(viz.before_after(before, after, difference=False).axes) == 2


def test_before_after_errors():
    with pytest.raises(ValueError, match=r"before has shape \(32, 40\) but after has \(40, 32\)"):
        viz.before_after(np.zeros((H, W)), np.zeros((W, H)))
    with pytest.raises(ValueError, match="titles must hold 2 names"):
        viz.before_after(np.zeros((H, W)), np.zeros((H, W)), titles=("one",))


def test_plot_roc_curves_auc_in_legend():
    # Class 0 is scikit-learn's documented example (AUC 0.75); class 1 is perfectly separated (AUC 1);
    # class 2 has an unknown (NaN) label that must be left out: without it, the scores separate perfectly.
    y_true = np.array([[0, 1, 0], [0, 0, np.nan], [1, 1, 1], [1, 0, 1]])
    y_score = np.array([[0.1, 0.9, 0.1], [0.4, 0.1, 0.95], [0.35, 0.8, 0.7], [0.8, 0.2, 0.8]])
    assert roc_auc_score(y_true[:, 0], y_score[:, 0]) == 0.75
    ax = viz.plot_roc_curves(y_true, y_score, class_names=["a", "b", "c"]).axes[0]
    assert len(ax.lines) == 4  # chance diagonal + three curves
    assert _legend_texts(ax) == ["chance (AUC 0.50)", "a (AUC 0.75)", "b (AUC 1.00)", "c (AUC 1.00)"]
    assert ax.get_title() == "ROC curves — mean AUC 0.917"


def test_plot_roc_curves_default_names_binary_and_constant_class():
    rng = np.random.default_rng(0)
    y_true = (rng.random((40, 15)) < 0.5).astype(np.float32)
    y_true[:, 7] = 0  # no Hernia at all: no ROC curve
    y_score = rng.random((40, 15))
    with pytest.warns(UserWarning, match="no ROC curve for Hernia"):
        ax = viz.plot_roc_curves(y_true, y_score).axes[0]
    legend = _legend_texts(ax)
    assert legend[1].startswith(f"{labels.PATHOLOGIES[0]} (AUC ") and "Hernia (AUC n/a)" in legend
    expected = f"Cardiomegaly (AUC {roc_auc_score(y_true[:, 1], y_score[:, 1]):.2f})"
    assert expected in legend
    ax = viz.plot_roc_curves([0, 1, 1, 0], [0.2, 0.6, 0.7, 0.1]).axes[0]
    assert _legend_texts(ax)[1] == "class 0 (AUC 1.00)"
    with pytest.raises(ValueError, match=r"y_true has shape \(4,\) but y_score has \(3,\)"):
        viz.plot_roc_curves([0, 1, 1, 0], [0.2, 0.6, 0.7])
    with pytest.raises(ValueError, match="1 class names for 2 classes"):
        viz.plot_roc_curves(np.eye(2), np.eye(2), class_names=["x"])


def _curves(scale, epochs=5):
    steps = np.arange(1, epochs + 1)
    return {"loss": list(scale / steps), "val_loss": list(scale * 1.5 / steps), "mae": list(1 / steps)}


def test_plot_learning_curves_single_run_and_keras_history():
    import keras

    history = keras.callbacks.History()
    history.history = _curves(2.0)
    for source in (history, history.history):
        fig = viz.plot_learning_curves(source)
        loss_ax, mae_ax = fig.axes[:2]
        assert (loss_ax.get_title(), mae_ax.get_title()) == ("loss", "mae")
        assert len(loss_ax.lines) == 2 and len(mae_ax.lines) == 1
        assert [line.get_linestyle() for line in loss_ax.lines] == ["-", "--"]
        np.testing.assert_allclose(loss_ax.lines[1].get_xdata(), [1, 2, 3, 4, 5])
        np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), 3.0 / np.arange(1, 6))


def test_plot_learning_curves_overlays_runs():
    runs = {"MAE": _curves(1.0), "MSE": _curves(2.0), "Wing": _curves(0.5)}
    fig = viz.plot_learning_curves(runs, metrics=["loss"], log_scale=True)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and len(ax.lines) == 6 and ax.get_yscale() == "log"
    assert _legend_texts(ax) == [f"{run} {part}" for run in runs for part in ("train", "validation")]
    assert len({line.get_color() for line in ax.lines}) == 3  # one colour per run


def test_plot_learning_curves_errors():
    with pytest.raises(ValueError, match=r"metrics \['auc'\] are not recorded; available: \['loss', 'mae'\]"):
        viz.plot_learning_curves(_curves(1.0), metrics=["auc"])
    with pytest.raises(TypeError, match="expected a keras History"):
        viz.plot_learning_curves({"run": [1, 2, 3], "other": {"loss": [1]}})


def _record_set(num_images=2, with_everything=True):
    image = _image()
    masks = np.zeros((num_images, H, W, 2), dtype=np.uint8)
    masks[:, 4:14, 4:16, 0] = 1
    boxes = np.full((num_images, 3, 4), -1, dtype=np.float32)
    boxes[:, 0] = [20, 5, 30, 15]
    boxes[:, 1] = [22, 18, 36, 30]
    classes = np.full((num_images, 3), -1, dtype=np.int32)
    classes[:, :2] = [11, 9]
    fields = {
        "images": np.stack([image] * num_images),
        "labels": np.stack([labels.multi_hot("Mass|Nodule")] * num_images),
        "patient_ids": np.array([f"p{i}" for i in range(num_images)]),
        "views": np.array(["PA"] * num_images),
        "pixel_spacing_mm": np.full((num_images, 2), 0.5, dtype=np.float32),
    }
    if with_everything:
        fields |= {
            "masks": masks,
            "mask_names": ("right_lung", "heart"),
            "boxes": boxes,
            "box_classes": classes,
            "landmarks": np.tile(
                np.array([[5.0, 5.0], [np.nan, np.nan], [30, 20]], dtype=np.float32), (num_images, 1, 1)
            ),
            "landmark_names": ("apex", "absent", "heart_left"),
            "targets": {"bone_free": np.stack([image * 0.5] * num_images)},
        }
    return fields


def test_show_sample_overlays_every_kind_of_ground_truth():
    cxr = types.SimpleNamespace(**_record_set())
    fig = viz.show_sample(cxr, 1)
    raw, overlay, bone_free = fig.axes[:3]
    assert raw.get_title() == "#1 p1 PA 0.5 mm/px\nMass, Nodule"
    assert len(overlay.lines) == 1  # one contour (the empty heart mask has none)
    assert len(_rectangles(overlay)) == 2  # padding row skipped
    assert _texts(overlay) == ["Nodule", "Mass", "apex", "heart_left"]
    assert _legend_texts(overlay) == ["right_lung", "Nodule", "Mass", "landmarks"]  # empty masks left out
    assert bone_free.get_title() == "bone-free twin"
    np.testing.assert_allclose(bone_free.images[0].get_array(), _image()[..., 0] * 0.5)


def test_show_sample_with_a_real_cxrset_and_minimal_records():
    schema = pytest.importorskip("lecture_lib.datasets.schema")
    fields = _record_set()
    fields["patient_ids"] = fields["patient_ids"].astype(str)
    fig = viz.show_sample(schema.CXRSet(**fields), 0)
    assert len(fig.axes) == 3 and len(_rectangles(fig.axes[1])) == 2
    fig = viz.show_sample(types.SimpleNamespace(images=np.zeros((1, H, W, 1))), 0)
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "#0"
    unknown = types.SimpleNamespace(images=np.zeros((1, H, W, 1)), labels=np.full((1, 15), np.nan))
    assert viz.show_sample(unknown, 0).axes[0].get_title() == "#0\nno label (unknown: 15)"
    with pytest.raises(IndexError, match="index 5 is out of range for 1 images"):
        viz.show_sample(unknown, 5)


def test_save_figure(tmp_path):
    fig = viz.show_images(np.zeros((2, H, W, 1)))
    path = viz.save_figure(fig, tmp_path / "nested" / "grid.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert viz.save_figure(fig.axes[0], tmp_path / "grid.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(TypeError, match="got ndarray"):
        viz.save_figure(np.zeros(3), tmp_path / "x.png")


def test_plot_bland_altman_points_lines_and_numbers():
    # differences a - b = [1, 0, -1, 4]: bias 1, SD sqrt(14 / 3) = 2.160247, limits 1 ± 4.234084 (= -3.23, +5.23)
    a, b = np.array([10.0, 12.0, 14.0, 20.0]), np.array([9.0, 12.0, 15.0, 16.0])
    fig = viz.plot_bland_altman(a, b, title="heart area", unit="cm²", names=("predicted", "true"))
    ax = fig.axes[0]
    points = ax.collections[0].get_offsets()
    np.testing.assert_allclose(points, np.column_stack([[9.5, 12.0, 14.5, 18.0], [1.0, 0.0, -1.0, 4.0]]))
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines())  # zero, lower limit, bias, upper limit
    np.testing.assert_allclose(levels, [-3.234084, 0.0, 1.0, 5.234084], atol=1e-6)
    assert [line.get_linestyle() for line in ax.get_lines()].count("--") == 2
    assert _texts(ax) == ["+1.96 SD +5.23 cm²", "bias +1.00 cm²", "−1.96 SD -3.23 cm²"]
    assert ax.get_title() == "heart area\nbias +1.00, limits [-3.23, +5.23] cm²"
    assert ax.get_xlabel() == "mean of predicted and true (cm²)"
    assert ax.get_ylabel() == "difference predicted − true (cm²)"
    plt.close(fig)


def test_plot_bland_altman_draws_into_given_axes_and_refuses_unpaired_input():
    fig, axes = plt.subplots(1, 2)
    assert viz.plot_bland_altman([0.5, 0.6, 0.4], [0.5, 0.55, 0.45], ax=axes[1], title=None) is fig
    # differences [0, 0.05, -0.05]: bias 0 (not -1.85e-17), SD 0.05, limits ±0.098; three digits on the limits
    assert axes[1].get_title() == "bias +0.0000, limits [-0.0980, +0.0980]" and not axes[0].collections
    with pytest.raises(ValueError, match=r"a has shape \(3,\) and b has \(2,\)"):
        viz.plot_bland_altman([1.0, 2.0, 3.0], [1.0, 2.0])
    plt.close(fig)
