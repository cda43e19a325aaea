"""tfgan_stable.metrics"""
