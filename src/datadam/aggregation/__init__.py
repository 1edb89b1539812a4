"""Truth inference and agreement: crowd answers in, one label per task with a confidence out.

Pure NumPy/SciPy, arrays in and arrays out; nothing here touches storage or the web layer.
`aggregate(answers, method=...)` runs one of `METHODS` on an `Answers` table.
"""
