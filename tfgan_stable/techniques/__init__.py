"""tfgan_stable.techniques"""
