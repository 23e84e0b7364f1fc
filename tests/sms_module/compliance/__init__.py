"""Tests of the compliance package: the rules of PRODUCT.md §3-§5."""
