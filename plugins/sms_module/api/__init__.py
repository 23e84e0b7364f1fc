"""The REST API of PRODUCT.md §12: its blueprint (``views``), its OpenAPI description
(``openapi``) and the per-shop tokens it is called with (``tokens``, stored hashed)."""
