"""tfgan_stable.nets"""
