"""The front-ends: the ``qa-bot`` command line and the Gradio web chat."""
