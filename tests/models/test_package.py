import subprocess
import sys

import models


def test_public_surface_is_the_categories() -> None:
    assert models.__all__ == ["CATEGORIES"]
    assert models.CATEGORIES == ("medical", "doxxing", "biometric")


def test_importing_the_package_stays_cheap() -> None:
    """alerts imports models.CATEGORIES; that must not drag in jieba or scikit-learn."""
    code = "import sys, models; print(sorted({'jieba', 'sklearn'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
