"""What serves one lesson or one system: the recipes of the trained models, notebook 02's drift,
the reader's training data, the hand-written wordings, notebook 06's combined system, table and
explorer, and the checks the lessons and exercises run. May import anything in utils."""
