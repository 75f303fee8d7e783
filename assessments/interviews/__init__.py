"""Interview practice and hiring panels (app label ``interviews``)."""
