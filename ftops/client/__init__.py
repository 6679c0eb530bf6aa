"""The Mistral fine-tuning API over httpx: files, jobs, models; pagination; retries; typed errors.

Imports nothing from ftops except ``ftops.errors`` (and its own modules).
"""
