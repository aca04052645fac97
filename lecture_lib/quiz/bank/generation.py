"""Image generation (notebook 05): SSIM and why, the output activation, the residual bone model, PSNR, BSE-JSRT's
targets, what a recognition score shows, the medical need."""

from __future__ import annotations

import math

import numpy as np

from lecture_lib.quiz.kinds import Choice, Number, Option

SSIM_X = np.array([[0.2, 0.8, 0.2], [0.2, 0.8, 0.2], [0.2, 0.8, 0.2]])
"""A 3×3 patch with a thin bright band (a rib), the truth."""
SSIM_Y = np.array([[0.4, 0.6, 0.4], [0.4, 0.6, 0.4], [0.4, 0.6, 0.4]])
"""The same patch blurred: the band is still there, with less contrast."""
PSNR_MSE = 0.0025


def _latex(matrix) -> str:
    rows = [" & ".join(f"{v:g}" for v in row) for row in np.asarray(matrix)]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def ssim_one_window(x, y, data_range=1.0) -> float:
    """Return SSIM of two images under one uniform window covering them (Wang et al., 2004)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = x.mean(), y.mean()
    var_x, var_y = x.var(), y.var()
    cov = np.mean((x - mu_x) * (y - mu_y))
    return float(((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)))


def _ssim_mistakes(d):
    x, y = d["x"], d["y"]
    mu_x, mu_y = x.mean(), y.mean()
    cov = np.mean((x - mu_x) * (y - mu_y))
    return [
        (
            (2 * mu_x * mu_y) * (2 * cov) / ((mu_x**2 + mu_y**2) * (x.var() + y.var())),
            "keep C₁ = (0.01 L)² and C₂ = (0.03 L)² with L = 1; they are part of SSIM.",
        ),
        (
            (2 * cov + 0.03**2) / (x.var() + y.var() + 0.03**2),
            "that is the contrast-structure term alone; SSIM multiplies it by the luminance term.",
        ),
    ]


def _psnr_mistakes(d):
    mse = d["mse"]
    return [
        (20 * math.log10(1 / mse), "the 20 log₁₀ form takes MAX / RMSE; with MAX² / MSE the factor is 10."),
        (10 * math.log(1 / mse), "decibels use log₁₀, not the natural log."),
        (10 * math.log10(255**2 / mse), "the images are in [0, 1], so MAX = 1, not 255."),
        (math.log10(1 / mse), "decibels are ten times the log₁₀ of the ratio."),
    ]


QUESTIONS = (
    Choice(
        id="ssim_why",
        title="Why SSIM",
        prompt="Why judge a bone-suppressed image with SSIM and not only with MSE?",
        hint="Think of two outputs with the same MSE: one slightly brighter everywhere, one blurred. Which one would a "
        "radiologist reject, and which measure notices?",
        explanation="SSIM multiplies luminance, contrast and structure terms computed in local windows, so it tracks "
        "what we see; MSE treats every pixel error alike, wherever it is. Notebook 05 scales four distortions to the "
        "same MSE: the brightness shift keeps a high SSIM, the blur does not.",
        options=(
            Option(
                "SSIM is computed pixel by pixel, so it is cheaper than MSE",
                "SSIM needs statistics over a window around every pixel (a Gaussian filter), so it costs more than "
                "MSE, not less.",
            ),
            Option(
                "SSIM compares local means, contrasts and the correlation of patterns in a sliding window, so it "
                "punishes blurred or lost edges that a per-pixel average barely notices",
                "SSIM compares local means, contrasts and correlations.",
            ),
            Option(
                "SSIM is a probability, so it pairs with a sigmoid output",
                "SSIM ranges over [−1, 1] and is not a probability; the loss is 1 − SSIM whatever the activation.",
            ),
            Option(
                "A uniform brightness shift costs as much SSIM as a blur with the same MSE",
                "it is the other way round: MSE cannot tell the two apart, while SSIM barely moves for a uniform "
                "shift and drops for a blur, which erases structure.",
            ),
        ),
        truth=(
            "6bbc1dca07579b0e8bfc38e10e9cdd88",
            "4d5383c37160d9d5a05196c5673ccdb8",
            "126de81081eb8ad4d8d6214abf47621f",
            "bf1eba62c02a7e2c86ec591392483cf5",
        ),
    ),
    Number(
        id="ssim_one_window",
        title="SSIM by hand, one window",
        prompt=(
            "A 3×3 patch $x$ holds a thin bright band (a rib); $y$ is the same patch blurred:\n\n"
            f"$$x = {_latex(SSIM_X)} \\qquad y = {_latex(SSIM_Y)}$$\n\n"
            "Compute their SSIM with **one uniform window** over all 9 pixels: means $\\mu$, population variances "
            "$\\sigma^2$ and covariance $\\sigma_{xy}$ (divide by 9), $L = 1$, $C_1 = (0.01 L)^2$, "
            "$C_2 = (0.03 L)^2$:\n\n"
            "$$\\text{SSIM}(x, y) = \\frac{(2\\mu_x\\mu_y + C_1)\\,(2\\sigma_{xy} + C_2)}"
            "{(\\mu_x^2 + \\mu_y^2 + C_1)\\,(\\sigma_x^2 + \\sigma_y^2 + C_2)}$$"
        ),
        hint="`ssim['x'].mean()`, `.var()` and `np.mean((x - mu_x) * (y - mu_y))` give the five statistics.",
        explanation="The means barely differ, so the luminance term stays near 1; the band is still where it was "
        "(x and y are perfectly correlated), but the blur cuts its contrast to a third, and the contrast-structure "
        "term pays for that: SSIM drops well below 1.",
        data={"x": SSIM_X, "y": SSIM_Y},
        data_name="ssim",
        formula=lambda d: ssim_one_window(d["x"], d["y"]),
        tolerance=1e-3,
        mistakes=_ssim_mistakes,
    ),
    Choice(
        id="generation_activation",
        title="The output activation of an image generator",
        prompt=(
            "A generator paints its output image directly from its last feature map (no residual, unlike notebook "
            "05's bone model) and must give intensities in **[0, 1]**, like its input. Which final activation "
            "guarantees that range by itself?"
        ),
        hint="Which activation's range is exactly (0, 1), pixel by pixel?",
        explanation="Sigmoid keeps every pixel in (0, 1) whatever its input; tanh fits images scaled to [−1, 1]; "
        "ReLU bounds only from below, unless its input is itself at most 1, as in notebook 05's ReLU(x − b).",
        options=(
            Option(
                "ReLU",
                "ReLU only clips at 0 from below and is unbounded above, so on an arbitrary pre-activation it can "
                "exceed 1. Notebook 05's bone model stays in [0, 1] with ReLU(x − b) only because x ≤ 1 and b ≥ 0 "
                "make x − b ≤ 1: the bound comes from the residual, not from the ReLU.",
            ),
            Option("Tanh", "tanh outputs (−1, 1); it fits when the images are scaled to [−1, 1], not for [0, 1]."),
            Option("Sigmoid", "sigmoid maps every pixel into (0, 1)."),
            Option(
                "SoftMax 2D",
                "SoftMax 2D makes all pixels of a channel sum to 1: a probability map of positions (landmark "
                "heatmaps), not an image.",
            ),
        ),
        truth=(
            "f60860ca5217b2f2ace323f996cd45e4",
            "497e3249f254e27185a1cdf0e999ae7d",
            "8ca9089196393af0847b646fa08de064",
            "23defb3ef27e41065708ee484703d5cc",
        ),
    ),
    Choice(
        id="bone_residual",
        title="Why the bone model stays in [0, 1]",
        prompt=(
            "Notebook 05's bone-suppression U-Net predicts a bone layer $b \\ge 0$ (a ReLU) and outputs "
            "$\\text{ReLU}(x - b)$, where $x$ is the radiograph in [0, 1]. Why does its output stay in [0, 1]?"
        ),
        hint="Bound x − b from above using what you know about x and b; what does the outer ReLU do?",
        explanation="x ≤ 1 and b ≥ 0 make x − b ≤ 1, and the outer ReLU removes the negative values: the bound "
        "comes from the residual design, not from the ReLU. Predicting the bones is also easier than painting the "
        "whole image: most pixels need b = 0, so an untrained model nearly returns its input.",
        options=(
            Option(
                "ReLU bounds its output to [0, 1]",
                "ReLU's range is [0, ∞): it is unbounded above and only removes negative values here.",
            ),
            Option(
                "The SSIM + MAE loss punishes values above 1",
                "a loss only discourages; here the range holds by construction, before any training.",
            ),
            Option(
                "The last layer is a sigmoid",
                "the model has no sigmoid at the end; the bound comes from subtracting a non-negative b from x.",
            ),
            Option(
                "x ≤ 1 and b ≥ 0 give x − b ≤ 1, and the outer ReLU removes negative values",
                "the residual x − b cannot exceed x, and ReLU clips below at 0.",
            ),
        ),
        truth=(
            "fc96bfce588ecadcad5da7614f7716f1",
            "7ce2660e30aa0aafaa5d0ea3aaba71ee",
            "5a1d37fc2c67d09dd13358e1c6d2376a",
            "371ef543bed5cc55fc3d20b8743c6201",
        ),
    ),
    Number(
        id="psnr_value",
        title="PSNR of a bone-suppressed image",
        prompt=(
            f"A bone-suppressed image with pixels in [0, 1] has MSE = {PSNR_MSE} against the bone-free truth. What "
            "is its peak signal-to-noise ratio, $\\text{PSNR} = 10 \\log_{10}(\\text{MAX}^2 / \\text{MSE})$, in dB, "
            "where MAX is the largest possible pixel value?"
        ),
        hint="MAX is set by the image's range, not by its brightest pixel.",
        explanation="10 log₁₀(1 / 0.0025) = 10 log₁₀ 400 ≈ 26 dB. Every halving of the MSE adds about 3 dB; PSNR "
        "is MSE on a log scale, so it shares MSE's blindness to structure, which is why notebook 05 reports SSIM "
        "beside it.",
        data={"mse": PSNR_MSE},
        formula=lambda d: 10 * math.log10(1 / d["mse"]),
        tolerance=0.01,
        mistakes=_psnr_mistakes,
    ),
    Choice(
        id="bse_target",
        title="What a BSE-JSRT model learns",
        prompt=(
            "BSE-JSRT gives a bone-suppressed version of each JSRT radiograph, made by software (Juhász et al., "
            "2010): JSRT holds scanned films, no dual-energy images. What does a network trained on these pairs "
            "learn?"
        ),
        hint="Where does the target image come from: a measurement or a computation?",
        explanation="The target is an algorithm's estimate of the soft tissue, not a measured image: a network "
        "fitted to it learns that algorithm's mapping, its errors included. Dual-energy pairs measure the soft-"
        "tissue image with a second exposure at another kVp (notebook 05).",
        options=(
            Option(
                "The true soft-tissue image, as a second exposure at another kVp would measure it",
                "the target was computed by software from the same film, not measured: there was no second exposure.",
            ),
            Option(
                "That software's estimate of the soft tissue, its errors included",
                "a network fitted to computed targets reproduces the computation.",
            ),
            Option(
                "Nothing useful: computed targets cannot train a network",
                "they can: the network learns the algorithm's mapping, and the algorithm's errors are the price.",
            ),
            Option(
                "A better image than the software's, because training averages its errors out",
                "a network fitted to the targets reproduces them, systematic errors included; it has nothing to "
                "correct them against.",
            ),
        ),
        truth=(
            "eab419e65676697f942aec40f1f5fd1c",
            "7838bde2702a44fc6e627196b503f1b6",
            "328d67f43f4c03bdd6422653136c0dfc",
            "0bb9ea87ef53080af1f64f9c67997d97",
        ),
    ),
    Choice(
        id="recognition_limits",
        title="What a recognition score shows",
        prompt=(
            "Notebook 05 scores its conditional generator by the share of generated images in which an independent "
            "classifier recognizes the requested finding. What can that score **not** show?"
        ),
        hint="Imagine a generator that draws one perfect cardiomegaly and returns it for every request of "
        "Cardiomegaly.",
        explanation="Recognition shows that the requested finding is drawn. A generator that drew the same perfect "
        "cardiomegaly every time would score 100 % on its row: diversity (compare a row's samples) and realism of "
        "texture need other measures, such as the FID of generative-model papers or a reader study with "
        "radiologists.",
        options=(
            Option(
                "Whether the requested finding is visible in the samples",
                "that is what it measures, through a classifier trained on images that were not generated.",
            ),
            Option(
                "Whether the generator follows the requested code rather than another finding",
                "the confusion view shows that: each row is one request, and off-diagonal values show what the "
                "samples are mistaken for.",
            ),
            Option(
                "Whether the samples are diverse and realistic",
                "one perfect sample repeated would score 100 %.",
            ),
            Option(
                "Whether the judge works on real images",
                "notebook 05 checks the classifier on real test images first, in the table's first columns.",
            ),
        ),
        truth=(
            "72808106265fe30ab329915e989fac5c",
            "bb8ee55a173cc478e6e4af85df3a08ea",
            "8974c259b0e57e8842d8d1e87ef7afd5",
            "beee889ea3b938da43b856f6e732e656",
        ),
    ),
    Choice(
        id="generation_need",
        title="What bone suppression gives the reader",
        prompt=(
            "The slide's first need for image generation is the **removal of redundant image parts**, e.g. bone "
            "suppression. What does it give the radiologist?"
        ),
        hint="What is often missed on a chest film because something lies over it?",
        explanation="A small nodule behind a rib is one of the classic misses of chest radiography. Dual-energy "
        "subtraction removes the bones with a second exposure, special hardware and extra dose; a network trained "
        "on image pairs makes the soft-tissue image from an ordinary radiograph, and the radiologist reads both "
        "(notebook 05).",
        options=(
            Option(
                "A soft-tissue image without ribs and clavicles, read beside the film, where a nodule behind a rib "
                "stands out",
                "the bones no longer hide what lies behind them.",
            ),
            Option(
                "A lower dose than the ordinary radiograph",
                "the network works on the radiograph already taken, so the dose is that film's; it avoids the "
                "second exposure of dual-energy subtraction.",
            ),
            Option(
                "A replacement for the original film, which can then be archived unread",
                "the radiologist reads both: a generated image can carry the network's errors, and the film is the "
                "measurement.",
            ),
            Option(
                "Images of rare findings for training other models",
                "that is the slide's second need, the generation of pathologic images.",
            ),
        ),
        truth=(
            "0357381f43ee629125302fb4f5d42764",
            "2e2702807e278b0e4e70b2c1d496b8fa",
            "db75fb916e4e4a0f48b27e4bc0221881",
            "8cc461f342d1b8a7624c427837247351",
        ),
    ),
)

SECTION = {
    "name": "Generation",
    "title": "Image generation",
    "notebook": "05_generation",
    "questions": QUESTIONS,
}
