"""Search: one question in, ranked and cited passages with highlights out.

In: a question and an opened index. Out: hits (passage, scores, citation span, highlight spans).
"""
