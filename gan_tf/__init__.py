"""gan_tf: a GAN on handwritten digits, written to be read, with an encoder and tests."""

__version__ = "0.1.0"
