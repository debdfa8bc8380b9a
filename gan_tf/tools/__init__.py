"""Tools beside the library: `bench` times gan_tf against TensorFlow's DCGAN tutorial, `compare` runs the GAN
lab's variants side by side, and `clock` is their training clock, which leaves out the time spent measuring."""
