"""doxwatch models: text in, judgement out.

Pure functions and one scikit-learn pipeline: no database, no network. The heavy parts
(jieba, scikit-learn) load only when a submodule that needs them is imported, so importing
``models`` for ``CATEGORIES`` stays cheap for ``alerts``.
"""

CATEGORIES: tuple[str, ...] = ("medical", "doxxing", "biometric")

__all__ = ["CATEGORIES"]
