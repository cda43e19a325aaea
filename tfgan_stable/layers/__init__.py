"""tfgan_stable.layers"""
