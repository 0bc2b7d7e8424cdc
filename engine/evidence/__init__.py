"""Evidence files: bundles (a case file with the files it names), file types sniffed from their
bytes, and reading a kind's attributes from images and PDFs (OCR, red stamps).

Bundles and sniffing need nothing beyond the standard library. Reading needs the ``evidence``
extra (rapidocr-onnxruntime, OpenCV, pypdfium2); ``engine.evidence.read`` imports it lazily and
raises ``ReadingUnavailable`` naming what to install.
"""
