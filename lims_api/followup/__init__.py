"""Acting on results: positive follow-up cases and the public's test requests (你点我检)."""
