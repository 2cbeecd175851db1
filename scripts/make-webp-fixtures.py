#!/usr/bin/env python3
"""Writes the two small WebP files of the image-header fuzz test (vit ImageHeaderFuzzTest).

javax.imageio cannot write WebP, so the fixtures are made once with Pillow and committed:
  /usr/bin/python3 scripts/make-webp-fixtures.py
"""
import os
from PIL import Image

out = os.path.join(os.path.dirname(__file__), "..", "vit", "src", "test", "resources", "images")
img = Image.new("RGB", (12, 10))
img.putdata([((x * 20) % 256, (y * 25) % 256, ((x + y) * 9) % 256) for y in range(10) for x in range(12)])
img.save(os.path.join(out, "small-lossless.webp"), "WEBP", lossless=True)
img.save(os.path.join(out, "small-lossy.webp"), "WEBP", quality=80)
