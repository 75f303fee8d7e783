"""The question bank in the portal's Wagtail admin (``/cms/questions/``) and the candidate
partial shared with the exam player (``rendering.candidate_context``)."""
