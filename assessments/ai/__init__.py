"""AI for assessments: one provider interface (``base``), Gemini and an offline provider."""
