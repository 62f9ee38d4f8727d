"""Evaluation: public QA sets read as corpora with questions, the systems compared, and scoring."""
