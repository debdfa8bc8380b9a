"""gan_tf's second story: texts (sayings, poems) written by a language model and by a GAN trained from it.

Read it in this order, as the pictures' story (gan_tf/__init__.py); it runs on the same machinery (runtime/):

  data      texts from a .txt file, a fortune file or a folder, cleaned, as token ids (B, T) with a vocabulary
  config    every setting of a text run, with its reason
  models    a causal Transformer: the language model (and so the generator) and the discriminator
  losses    what each network minimises, as pure functions: cross-entropy, the policy gradient, KL
  step      one train step of the language model, and one of the GAN
  sample    writing texts: temperature, top-k, top-p, a prompt, an acrostic
  train     the two phases: the language model, then the GAN that starts from it
  metrics   BLEU, self-BLEU, distinct n-grams, copies and form, as pure functions
  evaluate  both models beside real texts, the judge, and the temperature sweep

Conventions, kept everywhere: token ids are int32 (B, T), position 0 holds the start token (one per
class, in a run with classes), the pad id 0 is masked out of every loss and metric, models return
logits before the softmax, and texts are Python str outside the models.
"""
