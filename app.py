"""Run the web chat on the shipped corpus: ``python app.py`` (builds the index first if missing).

Same as ``qa-bot serve``; options: ``python app.py --port 7861``.
"""

from qa_bot.app.cli import main

if __name__ == "__main__":
    import sys

    main(["serve", *sys.argv[1:]])
