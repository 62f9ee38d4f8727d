"""Run the web chat on the shipped corpus: ``python app.py``, the index of ``corpus/`` built (or
updated, when articles changed) first.

Same as ``qa-bot serve --build``; options: ``python app.py --port 7861``.
"""

from qa_bot.app.cli import main

if __name__ == "__main__":
    import sys

    main(["serve", "--build", *sys.argv[1:]])
