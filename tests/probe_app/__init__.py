"""A tenant app that exists only in tests: its second migration plays "a migration added later"."""
