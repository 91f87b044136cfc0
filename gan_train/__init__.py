"""gan_train."""
