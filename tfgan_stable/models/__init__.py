"""tfgan_stable.models"""
