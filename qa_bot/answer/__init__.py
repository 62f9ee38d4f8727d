"""From retrieved passages to an answer: the candidate sentences' features and scores, the fitted
weights, the decision to answer or decline, and the verbatim quotes."""
