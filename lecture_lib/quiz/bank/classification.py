"""Classification (notebook 01): the final activation and loss, multi-hot targets, BCE, class weights, leakage,
DICOM's photometric interpretation and the medical need."""

from __future__ import annotations

import numpy as np

from lecture_lib import labels
from lecture_lib.quiz.kinds import Array, Choice, Number, Option

BCE_TITLES = ("Cardiomegaly", "Effusion", "Pneumothorax")
BCE_TRUE = np.array([1.0, 1.0, 0.0])
BCE_PRED = np.array([0.9, 0.6, 0.2])
NIH_LABEL_STRING = "Effusion|Infiltration|Mass"
OPERATING_SCORES = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
OPERATING_LABELS = np.array([0, 0, 0, 0, 1, 0, 1, 1, 0, 1])
OPERATING_SPECIFICITY = 0.8


def bce_mean(y_true, y_pred, log=np.log) -> float:
    """Return the slide's binary cross-entropy averaged over the outputs."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(y_true * -log(y_pred) + (1 - y_true) * -log(1 - y_pred)))


def _bce_mistakes(d):
    y, p = d["y_true"], d["y_pred"]
    return [
        (3 * bce_mean(y, p), "that is the sum of the three terms; the question asks for their mean."),
        (bce_mean(y, p, log=np.log10), "BCE uses the natural logarithm (np.log), not log10."),
        (
            float(np.mean(y * -np.log(p))),
            "you dropped the (1 − Y)(−log(1 − Y_pred)) term, which is what remains when Y = 0: Pneumothorax's 0.2 "
            "still costs something.",
        ),
        (
            float(np.mean(-np.log(p))),
            "for Y = 0 the loss is −log(1 − Y_pred), not −log(Y_pred): a prediction of 0.2 for an absent finding is "
            "good, not bad.",
        ),
    ]


def sensitivity_at_specificity(scores, labels, specificity) -> float:
    """Return the highest sensitivity of a threshold (score >= threshold is positive) keeping the specificity."""
    from lecture_lib.evaluation import sensitivity_specificity, threshold_at_specificity

    return sensitivity_specificity(labels, scores, threshold_at_specificity(labels, scores, specificity))[0]


def _operating_point_mistakes(d):
    scores, labels = d["scores"], d["labels"]
    negatives = np.sort(scores[labels == 0])
    return [
        (
            float(np.mean(scores[labels == 1] > negatives[-1])),
            "that threshold allows no false alarm at all (specificity 1); a specificity of at least 0.8 allows "
            "one of the six negatives to be called positive.",
        ),
        (1.0, "calling every film positive catches every positive, but its specificity is 0, not at least 0.8."),
        (
            float(np.mean(scores[labels == 0] < 0.7)),
            "that is the specificity at the threshold; the question asks for the sensitivity there.",
        ),
        (
            float(np.mean(scores[labels == 1] > 0.7)),
            "a film whose score equals the threshold is called positive (score >= threshold).",
        ),
    ]


def _multi_hot_mistakes(d):
    text = d["finding_labels"]
    first = text.split("|")[0]
    vector = labels.multi_hot(text)
    return [
        (labels.one_hot(first), "that is the one-hot vector of the first finding only; multi-hot marks every finding."),
        (vector / vector.sum(), "multi-hot marks each finding with a 1; it is not a probability distribution."),
        (vector + labels.one_hot(labels.NO_FINDING), "No Finding (code 10) is 1 only when the image has no finding."),
        (np.roll(vector, -1), "off by one: codes start at 0 (Atelectasis = 0)."),
        (np.roll(vector, 1), "off by one: codes start at 0 (Atelectasis = 0)."),
    ]


_FINAL_ACTIVATION_OPTIONS = (
    Option(
        "Sigmoid → binary cross-entropy",
        "sigmoid squashes each of the 15 outputs into (0, 1) on its own and BCE scores each one as its own yes/no "
        "question, so nothing forces exactly one answer.",
    ),
    Option(
        "SoftMax → cross-entropy",
        "softmax makes the 15 outputs sum to 1, so they compete: a higher Effusion probability must lower "
        "Cardiomegaly's, and two findings cannot both be near 1.",
    ),
    Option(
        "ReLU → mean squared error",
        "ReLU is unbounded, so its output is not a probability, and MSE on a probability learns slowly when the "
        "prediction is confidently wrong.",
    ),
    Option(
        "SoftMax → binary cross-entropy",
        "this mixes the two rows of the slide: softmax ties the 15 outputs together, while BCE treats them as "
        "independent yes/no questions.",
    ),
)

QUESTIONS = (
    Choice(
        id="activation_multilabel",
        title="Several pathologies at once",
        prompt=(
            "A ChestX-ray14 image can carry several findings at once, e.g. `Cardiomegaly|Effusion`. Following the "
            "slide *Reason → Final activation → Loss*, which pair do you put on the 15 outputs?"
        ),
        hint="Should the 15 outputs compete with each other, or should each answer its own yes/no question?",
        explanation="Multiple pathologies → sigmoid → binary cross-entropy: each output is an independent "
        "probability, so Cardiomegaly and Effusion can both be near 1.",
        options=_FINAL_ACTIVATION_OPTIONS,
        truth=(
            "5a9f34b2028da8683de182f91696e109",
            "ba27ed064b411636a335105ed616f685",
            "74409ed27a084660f19a46388a14e4dc",
            "b98c662844dfac4403582890a1a88b54",
        ),
    ),
    Choice(
        id="activation_unique",
        title="Exactly one pathology",
        prompt=(
            "Now every image carries exactly **one** of the 15 titles (No Finding included) and the model must name "
            "it. Which final activation and loss does the slide pair with a unique pathology?"
        ),
        hint="When exactly one class is true, the probabilities should add up to 1.",
        explanation="Unique pathology → SoftMax → cross-entropy: the 15 probabilities sum to 1 and the loss "
        "−Σ y_i log ŷ_i keeps only the true class's term.",
        options=_FINAL_ACTIVATION_OPTIONS,
        truth=(
            "1769c33c5c16bb33ed1898506b509799",
            "e2b36bb564692618e53b157b95187ecb",
            "21f4cfd2c1228e3b76d55a678101463e",
            "90a843805c222caca1cdee437600a5a9",
        ),
    ),
    Choice(
        id="softmax_two_findings",
        title="Softmax on a chest with two findings",
        prompt=(
            "A model with a **softmax** head over the 15 codes sees a chest with Cardiomegaly **and** Effusion. What "
            "is the most it can say about the two findings at the same time?"
        ),
        hint="Write the softmax of the slide and add up all 15 outputs.",
        explanation="Softmax outputs sum to 1, so p(Cardiomegaly) + p(Effusion) ≤ 1: at best 0.5 each, and the "
        "model can never be sure of both. That is why the multi-label model of notebook 01 uses sigmoid.",
        options=(
            Option(
                "Both can be near 1: softmax outputs are independent probabilities",
                "independent outputs are sigmoid's; softmax divides every exp(y_i) by the same sum, so the outputs "
                "compete.",
            ),
            Option(
                "Their probabilities add up to at most 1: it can never be sure of both (at best 0.5 each)",
                "the 15 softmax outputs sum to 1, so two of them share at most 1.",
            ),
            Option(
                "Each gets 1/15, since softmax spreads the probability evenly",
                "softmax spreads evenly only when all 15 inputs are equal; a trained model's inputs are not.",
            ),
            Option(
                "Both can reach 1 if it is trained with binary cross-entropy instead",
                "the loss does not change what the activation can output: softmax outputs sum to 1 whatever the loss "
                "(the trap of notebook 01's first exercise).",
            ),
        ),
        truth=(
            "df846bc943eb944f7f0d1c50163e4e48",
            "65074d8413b2456a52123551f2c65ae4",
            "3f51c87aac7dfb0f609787970da02a8c",
            "e14d4fcae636dab8e6c60d4d60fec3a2",
        ),
    ),
    Array(
        id="multi_hot_nih",
        title="Multi-hot vector of an NIH label string",
        prompt=(
            f'ChestX-ray14\'s `Finding Labels` column says `"{NIH_LABEL_STRING}"` for one image. Write its '
            "multi-hot vector over the slide's 15 codes (0 to 14)."
        ),
        hint="Split the string at `|`, look up each title's code in the slide's table and put a 1 at every one of "
        "them. `lecture_lib.labels` knows the table.",
        explanation="One 1 per finding; `labels.multi_hot(label_string)` builds it. Such a target pairs with sigmoid "
        "and binary cross-entropy.",
        data={"finding_labels": NIH_LABEL_STRING},
        formula=lambda d: labels.multi_hot(d["finding_labels"]),
        describe="a vector of 15 numbers",
        mistakes=_multi_hot_mistakes,
    ),
    Number(
        id="bce_value",
        title="Binary cross-entropy by hand",
        prompt=(
            f"A multi-label model predicts Y_pred = {BCE_PRED.tolist()} for ({', '.join(BCE_TITLES)}); the truth is "
            f"Y = {BCE_TRUE.astype(int).tolist()}. Using the slide's loss "
            "$Loss = Y(-\\log Y_{pred}) + (1 - Y)(-\\log(1 - Y_{pred}))$ with the natural log, what is the **mean** "
            "loss over the three outputs?"
        ),
        hint="Where Y = 1 only −log(Y_pred) remains; where Y = 0 only −log(1 − Y_pred) remains. Add the three "
        "terms and divide by 3.",
        explanation="The two present findings cost −log 0.9 and −log 0.6, the absent one −log(1 − 0.2); Keras' "
        "BinaryCrossentropy averages them the same way.",
        data={"y_true": BCE_TRUE, "y_pred": BCE_PRED},
        formula=lambda d: bce_mean(d["y_true"], d["y_pred"]),
        tolerance=1e-3,
        mistakes=_bce_mistakes,
    ),
    Choice(
        id="class_weighting",
        title="What the positive class weight balances",
        prompt=(
            "A rare finding has **30 positives among 1,000** training images. Notebook 01's weighted binary "
            "cross-entropy multiplies the positive term of the loss by $w_{pos} = N_{neg} / N_{pos}$. What does that "
            "weight balance?"
        ),
        hint="Compute w_pos here, then multiply it by the number of positives.",
        explanation="w_pos = 970 / 30 ≈ 32, and N_pos · w_pos = N_neg = 970: all the positives together weigh as "
        "much as all the negatives together, so missing every positive costs as much as a false alarm on every "
        "negative at the same confidence. The positives' probabilities move up, and recall at a 0.5 threshold with "
        "them.",
        options=(
            Option(
                "One missed positive costs as much as all the negatives together",
                "one positive weighs w_pos ≈ 32 negatives, not all 970 of them; count what the 30 positives weigh "
                "together.",
            ),
            Option(
                "All the positives together weigh as much as all the negatives together",
                "N_pos · w_pos = N_neg: the two classes weigh the same in the loss.",
            ),
            Option(
                "Each positive counts 32 times less, so the model stops over-calling the rare finding",
                "the weight multiplies the positive term, so positives count more, not less, and their "
                "probabilities move up.",
            ),
            Option(
                "Every image counts the same, as in the unweighted loss",
                "that is the unweighted loss, where the 970 negatives dominate; the weight makes the two classes "
                "count the same, not the images.",
            ),
        ),
        truth=(
            "b07fb1714da87896670f7a185e23ffe8",
            "969e0ff2cde6f0b2e200f94edafccc5d",
            "d170fbca823f6d7cbe1422383e8a490e",
            "6e14ba8c7045d0156425593d1df4d505",
        ),
    ),
    Number(
        id="operating_point",
        title="An operating point chosen on validation",
        prompt=(
            "A screening service wants the highest **sensitivity** it can get while keeping the **specificity at least "
            f"{OPERATING_SPECIFICITY}**. On the validation split, ten films have these scores for one finding "
            "(a film is called positive when its score is **≥ the threshold**):\n\n"
            "| score | " + " | ".join(f"{value:g}" for value in OPERATING_SCORES) + " |\n"
            "|---|" + "---|" * len(OPERATING_SCORES) + "\n"
            "| finding | " + " | ".join(str(int(value)) for value in OPERATING_LABELS) + " |\n\n"
            "Choose the threshold on these films. What validation **sensitivity** does it give?"
        ),
        hint="Count the negatives: how many of them may score at or above the threshold with specificity ≥ 0.8? "
        "Then lower the threshold as far as that allows and count the positives above it.",
        explanation="Six negatives: specificity ≥ 0.8 allows one false alarm (5/6 ≈ 0.83), so only the 0.9 "
        "negative may lie above the threshold. The lowest such threshold is 0.7, which catches 0.7, 0.8 and 0.95: "
        "sensitivity 3/4. Notebook 01 chooses its thresholds this way on the validation split "
        "(`evaluation.threshold_at_specificity`) and then reports them once on the test split, where they land "
        "near, not on, the target.",
        data={"scores": OPERATING_SCORES, "labels": OPERATING_LABELS, "specificity": OPERATING_SPECIFICITY},
        formula=lambda d: sensitivity_at_specificity(d["scores"], d["labels"], d["specificity"]),
        tolerance=1e-3,
        mistakes=_operating_point_mistakes,
    ),
    Choice(
        id="leakage_split",
        title="Leakage: an image-level split",
        prompt=(
            "NIH ChestX-ray14 holds 112,120 images of only 30,805 patients: many patients have follow-up studies. "
            "You shuffle the **images** into train and test and report the test AUC. Why is it too optimistic for "
            "new patients?"
        ),
        hint="Think of notebook 01's 1-nearest-neighbour memorizer: what is the nearest training image of a test "
        "image when the same patient has another study in training?",
        explanation="Follow-up studies of one patient land in both parts; a model can recognize the patient and "
        "copy the label it saw in training, which pays most for chronic findings. Split by patient (`by='patient'`, "
        "scikit-learn's GroupShuffleSplit with the patient ids as groups) so the test holds only people the model "
        "never saw.",
        options=(
            Option(
                "The test set gets a different class balance than the training set",
                "a random split keeps the prevalences close on average; imbalance is not what inflates the AUC here.",
            ),
            Option(
                "Nothing is wrong: a random split of images is unbiased",
                "a random image split is unbiased for more images of the people in training, not for new patients: "
                "with follow-ups in both parts, notebook 01's memorizer scores clearly better than with a patient "
                "split.",
            ),
            Option(
                "The same patient's studies land in train and test, so a model can recognize the patient and copy "
                "the label it learnt",
                "a chronic finding is in every study of the patient, so recognizing the chest is enough.",
            ),
            Option(
                "The test images are resized differently from the training images",
                "both parts go through the same loader; the problem is who is in them, not how they are read.",
            ),
        ),
        truth=(
            "f6a4aafd88ffba7c97cfc93b44058bd0",
            "80357e1cb05b8451efb5b73fb73385be",
            "1b998f2ec3ff24709f587e6fcd9907a7",
            "ae53598c5855ab98dabafe9298865e99",
        ),
    ),
    Choice(
        id="honest_evaluation",
        title="Keeping the test result honest",
        prompt="Which practices keep a reported test result honest for **new patients**?",
        hint="The test split may be used once, for the final number, and must hold people the model never saw.",
        explanation="Split by patient, and choose everything (loss, epoch, threshold, model) on the validation "
        "split: notebooks 02 and 03 pick the loss to train on by validation Dice or IoU and measure the test split "
        "once, at the end.",
        options=(
            Option(
                "Split by patient id: all studies of a patient go to the same part",
                "a patient's studies share the chest, so they must not sit on both sides of the split.",
            ),
            Option(
                "Choose the loss, the epoch and the threshold on the validation split; measure the test split once, "
                "at the end",
                "the validation split is for choosing; the test split stays unseen until the final measurement.",
            ),
            Option(
                "Report the best test AUC among several training runs",
                "then the test set has chosen the model, and its number is optimistic: choosing is what the "
                "validation split is for.",
            ),
            Option(
                "Remove exact duplicate images, then split the images at random",
                "follow-up studies are different images of the same chest: removing exact duplicates leaves them "
                "in both parts.",
            ),
        ),
        truth=(
            "dfdb8e3c0996659f9a681674048f14c7",
            "21f00231bb8acf38d233ce6d37a93173",
            "ddb9dd101f1c78aa12670f81caba7625",
            "14265361a611620068f015a8a5aa22ec",
        ),
        multiple=True,
    ),
    Choice(
        id="dicom_monochrome1",
        title="DICOM: MONOCHROME1",
        prompt=(
            "A CR file's header says **Photometric Interpretation = MONOCHROME1**, Bits Stored = 12, with no rescale "
            "and no window. Its stored values $s$ run from 0 to 4095. Which image follows the course's display "
            "convention (values in [0, 1], bone and soft tissue bright, air dark)?"
        ),
        hint="What does MONOCHROME1 say about the lowest stored value: black or white?",
        explanation="MONOCHROME1 stores white as the lowest value (MONOCHROME2 stores black there), so the image "
        "must be inverted: `datasets.dicom.read_dicom` does it as the last step of the display pipeline, after the "
        "rescale (modality LUT) and the window (VOI LUT). A model fed both kinds without it sees the MONOCHROME1 "
        "films as negatives.",
        options=(
            Option(
                "s / 4095",
                "that keeps MONOCHROME1's order, where the lowest value is white: bones would come out dark and the "
                "lungs bright, a negative.",
            ),
            Option(
                "s / 4096",
                "12 bits hold 0 … 4095, so the top value is 2¹² − 1 = 4095; and the order is still MONOCHROME1's, "
                "with white at the lowest value.",
            ),
            Option(
                "1 − s / 4095",
                "it maps the lowest stored value, white in MONOCHROME1, to 1.",
            ),
            Option(
                "(s − mean) / std",
                "standardizing changes the scale, not the order: MONOCHROME1's white stays at the low end, and the "
                "values leave [0, 1].",
            ),
        ),
        truth=(
            "6f49f80db0ae8867be4e721b986c99b1",
            "f9c6ec5b1f616499e17870f41990b9f9",
            "ab98f0aece1e5a3b4891df2b3e5275c1",
            "86c77f7290e14bbbb2137669f7e92ff3",
        ),
    ),
    Choice(
        id="classification_need",
        title="Screening and remote reading",
        prompt=(
            "The slide's medical need: discovery of lung pathologies during the **annual health-check**, and X-ray "
            "analysis **where qualified doctors are not available**. Why should a classifier for these uses output a "
            "probability per finding rather than only yes or no?"
        ),
        hint="Who decides where the cut-off between 'abnormal' and 'normal' lies, and does it depend on the use?",
        explanation="Screening wants high sensitivity (few missed findings among millions of normal films); a "
        "district without a radiologist wants few false alarms among the films it sends on. With a probability per "
        "finding, each use sets its own threshold, chosen on validation data.",
        options=(
            Option(
                "So that the model can replace the radiologist's report",
                "the slide's uses are triage: sort the few abnormal films out to be read first, or tell a local "
                "doctor which films to send to a specialist.",
            ),
            Option(
                "Because a probability of 0.9 means that 90 % of such images have the finding, whatever the model",
                "only a calibrated model's outputs mean that; a network's probabilities must be checked (a "
                "calibration plot) before they are read as frequencies.",
            ),
            Option(
                "So that the threshold can be set for the situation: high sensitivity for screening, few false "
                "alarms where films are sent on",
                "each use chooses its own operating point on the same scores.",
            ),
            Option(
                "Because one image can carry only one finding",
                "a chest X-ray often has several findings; that is why the head is a sigmoid per finding, not why "
                "it outputs probabilities.",
            ),
        ),
        truth=(
            "f2eb88a507de0902e01f476ae81c8e70",
            "11e499f28a947c02350151740533da42",
            "a13788a2e56dca8a20db5c67c6382263",
            "d8184df1248c04f65777f480cc06dabb",
        ),
    ),
)

SECTION = {
    "name": "Classification",
    "title": "Classification",
    "notebook": "01_classification",
    "questions": QUESTIONS,
}
