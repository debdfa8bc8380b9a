"""The text figures against values computed by hand."""

import math

import pytest

from gan_tf.text import evaluate
from gan_tf.text import metrics


def test_bleu_by_hand():
    # "abcd" against "abce": unigrams 3 of 4, bigrams 2 of 3 (ab, bc), trigrams 1 of 2 (abc), no 4-gram;
    # the lengths are equal, so no brevity penalty. BLEU-2 = (3/4 * 2/3)^(1/2), BLEU-3 = (3/4 * 2/3 * 1/2)^(1/3);
    # BLEU-4's 4-gram precision 0/1 is smoothed (method1: 0.1 / 1).
    figures = metrics.bleu(["abcd"], ["abce"], workers=1)
    assert figures["2"] == pytest.approx(math.sqrt(0.5))
    assert figures["3"] == pytest.approx(0.25 ** (1 / 3))
    assert figures["4"] == pytest.approx((0.75 * 2 / 3 * 0.5 * 0.1) ** 0.25)


def test_self_bleu_never_counts_a_text_among_its_own_references():
    # Two texts alike and a third unlike both: each of the two has the other as a reference (BLEU 1).
    texts = ["abcd", "abcd", "wxyz"]
    figures = metrics.self_bleu(texts, workers=1)
    alone = metrics.bleu(["wxyz"], ["abcd", "abcd"], workers=1)["2"]
    assert figures["2"] == pytest.approx((1 + 1 + alone) / 3)
    assert metrics.self_bleu(["abcd", "wxyz"], workers=1)["2"] < 0.01  # Texygen's way would give 1.


def test_the_workers_give_the_figures_of_one_process():
    texts = [f"{chr(97 + index % 7)}bc{chr(97 + index % 5)}de" for index in range(60)]
    assert metrics.self_bleu(texts, workers=2) == pytest.approx(metrics.self_bleu(texts, workers=1))


def test_words_or_characters():
    assert metrics.tokenizer(["a saying", "another one", "x"])("a b") == ["a", "b"]
    assert metrics.tokenizer(["床前明月光", "疑是地上霜"])("床前") == ["床", "前"]


def test_distinct_unique_copied_and_form():
    texts = ["abab", "abab", "abc"]
    # Bigrams: ab ba ab | ab ba ab | ab bc: 8 in all, 3 distinct.
    assert metrics.distinct(texts, 2) == pytest.approx(3 / 8)
    assert metrics.unique_share(texts) == pytest.approx(2 / 3)
    assert metrics.copied_share(texts, ["abc", "zzz"]) == pytest.approx(1 / 3)
    assert metrics.form("白日依山尽，黄河入海流。") == "5，5。" and metrics.form("Hi, you.") == "2,3."
    quatrain = "一二三四五六七，一二三四五六七。一二三四五六七，一二三四五六七。"
    assert metrics.form_share([quatrain.replace("一", "天"), "一二三，四。"], [quatrain]) == pytest.approx(0.5)


def test_the_gap_beyond_a_curve_by_hand():
    def point(temperature, self_bleu4, bleu4, judge_loss):
        return {"temperature": temperature, "self_bleu4": self_bleu4, "bleu4": bleu4, "judge_loss": judge_loss}

    # The reference's curve, given from high temperature to low: self-BLEU-4 0.1 to 0.3.
    reference = [point(1.2, 0.1, 0.2, 5.0), point(1.0, 0.2, 0.4, 4.0), point(0.8, 0.3, 0.5, 3.5)]
    curve = [
        point(1.2, 0.05, 0.9, 1.0),  # Outside the reference's span: not compared.
        point(1.0, 0.15, 0.35, 4.2),  # At 0.15 the curve passes BLEU-4 0.3 and the judge's loss 4.5.
        point(0.8, 0.25, 0.44, 3.6),  # At 0.25: BLEU-4 0.45 (below it by 0.01), the judge's loss 3.75.
    ]
    gaps = evaluate.beyond(curve, reference)
    assert gaps["bleu4"] == {"gap": pytest.approx(0.05), "temperature": 1.0}
    assert gaps["judge_loss"] == {"gap": pytest.approx(0.3), "temperature": 1.0}
    assert evaluate.gap_text(gaps["bleu4"], 4) == "+0.0500 at 1"
    behind = evaluate.beyond([point(0.8, 0.25, 0.44, 3.9)], reference)
    assert behind["bleu4"]["gap"] == pytest.approx(-0.01) and behind["judge_loss"]["gap"] == pytest.approx(-0.15)
    assert evaluate.beyond([curve[0]], reference) == {"bleu4": None, "judge_loss": None}
    assert evaluate.gap_text(None, 4) == "none in span"
