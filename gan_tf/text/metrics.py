"""The figures of written texts, as pure functions of lists of str (and of token lists): quality and diversity.

BLEU is nltk's (Papineni et al. 2002, nltk.translate.bleu_score.sentence_bleu with its smoothing method1, as
Texygen computes it), not a copy of it. Texts are split into tokens once, by tokenizer(): words where the
texts are written with spaces (English), else characters (Chinese).

  bleu           each text against the held-out real texts, averaged: n-grams that real texts have (quality)
  self_bleu      each text against the *other* texts of its own set, averaged: how alike a set's texts are
                 (lower is more diverse). Texygen's self-BLEU counts each text among its own references
                 (geek-ai/Texygen#46), which makes it 1 for any set of unique texts too; here it never is.
  distinct       the share of a set's n-grams that are distinct (Li et al. 2016)
  unique_share   the share of distinct texts; copied_share the share found verbatim among the training texts
  form_share     the share whose form (the lengths of its runs of letters or characters, and its punctuation
                 between them: "7，7。7，7。" for a quatrain) a training text has
"""

import concurrent.futures
import multiprocessing
import unicodedata

from nltk.translate import bleu_score

ORDERS = (2, 3, 4)  # BLEU-2, BLEU-3 and BLEU-4.


def tokenizer(texts):
    """How texts are split into tokens for BLEU: by spaces when most of `texts` hold a space (words), else into
    characters."""
    spaced = sum(" " in text for text in texts) > len(texts) / 2
    return str.split if spaced else list


def weights(order):
    """BLEU-n's weights: 1/n for each of the 1- to n-gram precisions."""
    return (1.0 / order,) * order


def sentence_bleus(hypothesis, references):
    """nltk's sentence BLEU-2, 3 and 4 of one tokenised hypothesis against tokenised references: [b2, b3, b4]."""
    smoothing = bleu_score.SmoothingFunction().method1
    return bleu_score.sentence_bleu(references, hypothesis, [weights(order) for order in ORDERS], smoothing)


def mean_bleus(hypotheses, references, leave_out=False, workers=2):
    """The mean BLEU-2, 3, 4 of tokenised `hypotheses` against tokenised `references`, each hypothesis i without
    references[i] when `leave_out`: {"2": b2, "3": b3, "4": b4}. nltk's BLEU is pure Python: the hypotheses are
    shared out among `workers` processes, each given the references once."""
    items = [(hypothesis, index if leave_out else -1) for index, hypothesis in enumerate(hypotheses)]
    if workers <= 1 or len(items) < 50:
        share_references(references)
        rows = [bleus_of(item) for item in items]
    else:
        context = multiprocessing.get_context("spawn")  # A fresh Python: forking a TensorFlow process is unsafe.
        with concurrent.futures.ProcessPoolExecutor(workers, context, share_references, (references,)) as pool:
            rows = list(pool.map(bleus_of, items, chunksize=max(1, len(items) // (4 * workers))))
    return {f"{order}": sum(row[column] for row in rows) / len(rows) for column, order in enumerate(ORDERS)}


REFERENCES = []  # A process's references, set once by share_references().


def share_references(references):
    global REFERENCES
    REFERENCES = references


def bleus_of(item):
    """sentence_bleus() of (hypothesis, index of the reference to leave out or -1) against REFERENCES."""
    hypothesis, left_out = item
    references = REFERENCES if left_out < 0 else REFERENCES[:left_out] + REFERENCES[left_out + 1 :]
    return sentence_bleus(hypothesis, references)


def bleu(texts, references, tokenize=list, workers=2):
    """The mean BLEU-2, 3, 4 of `texts` against `references` (held-out real texts): {"2": b2, "3": b3, "4": b4}."""
    return mean_bleus([tokenize(text) for text in texts], [tokenize(text) for text in references], False, workers)


def self_bleu(texts, tokenize=list, workers=2):
    """The mean BLEU-2, 3, 4 of each text against the other texts of `texts` (never itself): {"2": ..., ...}."""
    tokens = [tokenize(text) for text in texts]
    return mean_bleus(tokens, tokens, leave_out=True, workers=workers)


def ngrams(tokens, order):
    return [tuple(tokens[start : start + order]) for start in range(len(tokens) - order + 1)]


def distinct(texts, order, tokenize=list):
    """The share of distinct n-grams among all n-grams of `texts` (each text's, none across two texts); 0 for none."""
    grams = [gram for text in texts for gram in ngrams(tokenize(text), order)]
    return len(set(grams)) / len(grams) if grams else 0.0


def unique_share(texts):
    """The share of distinct texts among `texts`."""
    return len(set(texts)) / len(texts)


def copied_share(texts, training_texts):
    """The share of `texts` that are, letter for letter, a training text."""
    training = set(training_texts)
    return sum(text in training for text in texts) / len(texts)


def form(text):
    """A text's form: the length of each run of characters that are neither punctuation nor spaces, and the
    punctuation between them. "白日依山尽，黄河入海流。" -> "5，5。"; "Hi, you." -> "2,3."."""
    parts, run = [], 0
    for character in text:
        if unicodedata.category(character).startswith("P"):
            parts.append(f"{run}{character}" if run else character)
            run = 0
        elif character != " ":
            run += 1
        elif run:
            parts.append(str(run) + " ")
            run = 0
    return "".join(parts) + (str(run) if run else "")


def form_share(texts, training_texts):
    """The share of `texts` whose form (form()) is the form of a training text."""
    forms = {form(text) for text in training_texts}
    return sum(form(text) in forms for text in texts) / len(texts)
