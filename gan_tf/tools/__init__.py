"""Tools beside the library: `bench` times gan_tf against TensorFlow's DCGAN tutorial."""
