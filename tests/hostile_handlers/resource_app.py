"""A function that never mentions the package and imports a loader-inspecting package."""

import respkg


def handler(event, context):
    return {
        "loader_is_real": respkg.LOADER_IS_REAL,
        "has_data": respkg.HAS_DATA,
        "listing": respkg.LISTING,
        "is_dir": respkg.IS_DIR,
        "data": respkg.DATA,
    }
