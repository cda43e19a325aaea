"""Per-example GAN losses."""
