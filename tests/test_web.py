"""The web chat in a real browser (Playwright driving Debian's Chromium) and through gradio_client.

The app runs as a subprocess (`qa-bot serve`) on a free loopback port, over the shipped corpus
plus one article whose headline and text hold HTML and a <script> tag, from another outlet and
date (so the outlet and date filters appear).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks.load_test import free_port
from qa_bot.corpus.files import save_articles
from qa_bot.records import Article

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
HOSTILE = Article(
    id="test-wire-hostile",
    title="Test Wire: <b>Bold</b> headline <script>alert('title')</script>",
    text=(
        "Moderators at the Riverton Gazette found the string <script>alert('owned')</script> "
        "pasted into a reader comment field on Tuesday.\n\n"
        "The gazette said no reader data was exposed."
    ),
    source="Test Wire",
    published="2025-01-15",
)



@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    work = tmp_path_factory.mktemp("web")
    corpus = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)  # the demo collection, with Wikinews's crane report (GUM_news_crane):
    # a "yesterday" to resolve, an attributed toll
    save_articles(corpus, [HOSTILE])
    port = free_port()
    log = open(work / "server.log", "w")  # noqa: SIM115 (the server writes to it until the fixture ends)
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa_bot.app.cli", "serve", "--build", "--corpus", str(corpus), "--index", str(work / "index"),
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the app exited early:\n{(work / 'server.log').read_text()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"the app did not start in 240 s:\n{(work / 'server.log').read_text()}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


# ---------------------------------------------------------------------------- API


def test_api_ask_returns_the_json_contract(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    result = client.predict("What does the BLA want?", api_name="/ask")
    assert set(result) == {"question", "answered", "message", "quotes", "read_as", "closest", "filter", "time", "conflict"}
    assert result["answered"] is True and result["read_as"] == []
    quote = result["quotes"][0]
    assert set(quote) == {"text", "score", "start", "end", "paragraph", "paragraphs", "section", "context", "article", "dates", "lead", "attribution", "also_in",
                          "earlier_report"}
    assert "seeks independence for Balochistan" in quote["text"]
    assert quote["article"]["source"] == "The Indian Express"

    declined = client.predict("What did Apple acquire?", api_name="/ask")
    assert declined["answered"] is False and declined["quotes"] == []

    empty = client.predict("   ", api_name="/ask")
    assert empty["answered"] is False and "empty" in empty["message"]


def test_api_ask_reads_time_words_against_as_of(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    # The shipped article is of 2026-02-01: "this week" asked on 2026-02-03 means it.
    result = client.predict("Who claimed the attacks this week?", "2026-02-03", api_name="/ask_as_of")
    assert result["answered"] is True and result["time"] == {
        "expression": "this week", "from": "2026-01-27", "to": "2026-02-04", "inside": True}
    later = client.predict("Who claimed the attacks this week?", "2026-06-30", api_name="/ask_as_of")
    assert later["time"]["inside"] is False and later["quotes"]  # nothing that week: any date, and it says so
    assert client.predict("Who claimed the attacks?", api_name="/ask")["time"] is None
    bad = client.predict("Who claimed the attacks this week?", "next Tuesday", api_name="/ask_as_of")
    assert bad["answered"] is False and "YYYY-MM-DD" in bad["message"]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def test_app_binds_to_loopback_only(app_url):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net/tcp to see where the app listens")
    port = int(app_url.rsplit(":", 1)[1].strip("/"))
    assert _listening_addresses(port) == {"0100007F"}, "the app must listen on 127.0.0.1 only"


# ---------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install it with 'apt-get install -y chromium' (CI does)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app_url)
    page.wait_for_selector("#qa-input textarea", timeout=60_000)
    yield page
    assert page.dialogs == [], f"a script ran in the page: {page.dialogs}"
    page.close()


BOT = "#qa-chat [data-testid='bot']"


def ask(page, question: str) -> str:
    """Type a question, send it, and return the text of the bot's reply."""
    replies = page.locator(BOT).count()
    page.fill("#qa-input textarea", question)
    page.click("#qa-send")
    page.wait_for_function(
        "([selector, n]) => document.querySelectorAll(selector).length > n", arg=[BOT, replies], timeout=60_000
    )
    return page.locator(BOT).last.inner_text()


def test_question_shows_quote_citation_and_sources(page):
    reply = ask(page, "What does the BLA want?")
    assert "seeks independence for Balochistan" in reply
    assert "The Indian Express" in reply and "2026-02-01" in reply
    assert "high confidence" in reply  # one confidence scale, in words
    assert "section “What does the BLA want?”, paragraph" in reply and "characters" not in reply
    assert page.locator(BOT).last.locator("blockquote").count() >= 1
    mark = page.locator("#qa-sources mark").first
    assert "seeks independence" in mark.inner_text()
    assert "What does the BLA want?" in page.locator("#qa-sources").inner_text()  # section heading


def test_the_demo_collection_opens_with_examples_from_several_articles(page):
    """The chat opens on the shipped collection (44 articles, and the test's hostile one), with
    example questions from corpus/QUESTIONS.md that more than one article answers."""
    assert "Articles in the corpus (45)" in page.locator("#qa-corpus").inner_text()
    examples = page.locator(".qa-example").all_inner_texts()
    assert len(examples) >= 3 and "What does the BLA want?" in examples
    assert "What caused the crane to fall into Mecca's Grand Mosque?" in examples


def test_example_question_click(page):
    page.locator(".qa-example", has_text="What does the BLA want?").click()
    page.wait_for_selector("#qa-chat [data-testid='bot']", timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"#qa-chat [data-testid='bot']\")].some(e => e.innerText.includes('seeks independence'))",
        timeout=60_000,
    )


def test_a_misspelt_word_is_read_as_the_article_word_and_the_reader_is_told(page):
    reply = ask(page, "What does the BLA wnat?")
    assert "Also read “wnat” as “want”." in reply
    assert "seeks independence for Balochistan" in reply
    last = page.locator(BOT).last
    assert last.locator(".qa-read-as").inner_text() == "Also read “wnat” as “want”."
    assert last.locator("blockquote").count() >= 1  # the note does not swallow the quotes' markup


def test_unanswerable_question_says_so(page):
    reply = ask(page, "Who is playing in the Australian Open 2026 final?")
    assert "Nothing in the articles is about this question" in reply and "rephras" in reply
    assert page.locator(BOT).last.locator("blockquote").count() == 0


def test_a_decline_with_a_passage_on_the_subject_shows_it_as_the_closest_not_as_an_answer(page):
    """No article tells of a bridge collapse; the closest passage (a report that no one died in an
    exchange of fire) is shown, marked as not an answer, rather than "the articles do not answer"."""
    reply = ask(page, "How many people died when the bridge collapsed?")
    assert "I could not find a clear answer in the articles" in reply and "% match" in reply
    last = page.locator(BOT).last
    assert last.locator("blockquote").count() == 1 and "Closest passage, not a clear answer" in reply
    assert "deaths" in last.locator("blockquote").inner_text()
    assert "Closest passage, not a clear answer" in page.locator("#qa-sources").inner_text()


def test_follow_up_question_uses_the_conversation_and_says_so(page):
    ask(page, "How many people were killed?")
    reply = ask(page, "How many of them were civilians?")
    assert "31 civilians" in reply
    assert "Read as a follow-up to “How many people were killed?”" in reply
    # The reader can ask it as written instead.
    page.click("#qa-alone")
    page.wait_for_function("([s, n]) => document.querySelectorAll(s).length > n", arg=[BOT, 2], timeout=60_000)
    assert "(on its own)" in page.locator("#qa-chat [data-testid='user']").last.inner_text()
    assert "Read as a follow-up" not in page.locator(BOT).last.inner_text()


def test_a_new_question_after_another_is_not_hijacked(page):
    """Short who-questions used to get the previous question appended: "Who claimed
    responsibility?" was answered with the casualty sentences, "Who is Randhir Jaiswal?" declined."""
    ask(page, "How many people were killed?")
    reply = ask(page, "Who claimed responsibility?")
    assert "Read as a follow-up" not in reply
    assert "claimed responsibility" in page.locator(BOT).last.locator("blockquote").first.inner_text()
    reply = ask(page, "Who is Randhir Jaiswal?")
    assert "Read as a follow-up" not in reply and "spokesperson Randhir Jaiswal" in reply
    assert not page.locator("#qa-alone").is_visible()


def test_article_html_and_scripts_render_as_text(page):
    reply = ask(page, "What did moderators find in a reader comment field?")
    assert "<script>alert('owned')</script>" in reply  # shown, as text
    assert "<b>Bold</b>" in reply  # the headline's tags are text too
    chat = page.locator("#qa-chat")
    assert chat.locator("script").count() == 0 and chat.locator("b", has_text="Bold").count() == 0
    assert page.locator("#qa-sources script").count() == 0
    assert "<script>alert('owned')</script>" in page.locator("#qa-sources").inner_text()


def test_question_html_renders_as_text(page):
    ask(page, "<img src=x onerror=alert(1)> what is <i>CPEC</i>?")
    user = page.locator("#qa-chat [data-testid='user']").last
    assert "<img src=x onerror=alert(1)>" in user.inner_text()
    assert page.locator("#qa-chat img[src='x']").count() == 0
    assert page.locator("#qa-chat i", has_text="CPEC").count() == 0


def test_corpus_list_and_outlet_filter(page):
    page.click("#qa-corpus")
    table = page.locator("#qa-corpus-table")
    table.wait_for(timeout=10_000)
    text = table.inner_text()
    assert "The Indian Express" in text and "Test Wire" in text and "2026-02-01" in text
    assert page.locator("#qa-corpus-table b", has_text="Bold").count() == 0

    page.click("#qa-filters")
    page.get_by_label("The Indian Express").uncheck()
    reply = ask(page, "What does the BLA want?")
    assert "seeks independence" not in reply, "with its only outlet filtered out, the BLA article is not quoted"
    assert "articles from Test Wire or Wikinews" in reply
    assert "A filter is on: clear it to search every article." in reply
    page.get_by_label("The Indian Express").check()
    page.get_by_label("Published to").fill("2025-12-31")
    reply = ask(page, "What does the BLA want?")
    assert "seeks independence" not in reply, "the BLA article (2026-02-01) is after the date range"
    assert "published on or before 2025-12-31" in reply and "A filter is on" in reply


def test_news_answers_show_who_said_it_a_dispute_and_the_dates_searched(page):
    reply = ask(page, "How many security personnel were killed?")
    assert "17 security personnel" in reply and "according to the Pakistani military" in reply
    assert "The sources differ: 17, according to the Pakistani military" in reply
    assert "84, as claimed by the BLA" in reply
    page.click("#qa-when")
    page.get_by_label("Asked as of").fill("2026-02-03")
    reply = ask(page, "Who claimed the attacks this week?")
    assert "Read “this week” as articles published 2026-01-27 to 2026-02-04." in reply
    assert "claimed responsibility" in reply
    page.get_by_label("Asked as of").fill("3 Feb")
    page.fill("#qa-input textarea", "Who claimed the attacks this week?")
    page.click("#qa-send")
    page.wait_for_selector("text=write it as YYYY-MM-DD", timeout=30_000)  # refused, nothing asked


def test_a_relative_date_in_a_quote_is_shown_with_its_day_and_the_quote_with_its_source(page):
    reply = ask(page, "What caused the crane to fall into Mecca's Grand Mosque?")
    assert "A storm yesterday [11 September 2015] caused a crane to fall" in reply
    assert "according to Saudi Arabia's Civil Defense Authority" in reply
    assert page.locator("#qa-chat .qa-date", has_text="11 September 2015").count() >= 1


def test_clicking_an_earlier_answer_shows_its_sources(page):
    ask(page, "What does the BLA want?")
    ask(page, "What is CPEC?")
    assert "China-Pakistan Economic Corridor" in page.locator("#qa-sources mark").first.inner_text()
    page.locator("#qa-chat .bot-row .selectable").first.click()
    page.wait_for_function(
        "() => document.querySelector('#qa-sources mark')?.innerText.includes('seeks independence')",
        timeout=30_000,
    )
    assert "What does the BLA want?" in page.locator("#qa-sources").inner_text()


@pytest.mark.parametrize("question, words", [
    ("x" * 5000, "The question is 5,000 characters long; the limit is 1,000. Ask something shorter."),
    ("   ", "The question is empty; type a question such as 'What does the BLA want?'"),
])
def test_an_over_long_or_empty_question_is_refused_with_the_cli_words(page, question, words):
    """The box used to cut a 5,000-character question to 1,000 and answer that; an empty one did
    nothing at all. Both are now refused as the command line refuses them, and the text stays."""
    replies = page.locator(BOT).count()
    page.fill("#qa-input textarea", question)
    page.click("#qa-send")
    page.get_by_text(words).first.wait_for(timeout=30_000)
    assert page.locator(BOT).count() == replies, "no answer to a refused question"
    assert page.input_value("#qa-input textarea") == question


def test_new_conversation_is_above_the_fold_at_1366_by_768(browser, app_url):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(app_url)
    page.wait_for_selector("#qa-input textarea", timeout=60_000)
    box = page.locator("#qa-new").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768
    page.close()


def test_on_a_phone_the_sources_follow_the_answer_and_nothing_scrolls_sideways(browser, app_url):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(app_url)
    page.wait_for_selector("#qa-input textarea", timeout=60_000)
    ask(page, "How many people were killed?")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no horizontal scroll"
    answer = page.locator(BOT).last
    folded = answer.locator("details.qa-inline-sources")
    assert folded.is_visible() and not page.locator("#qa-sources").is_visible()
    folded.locator("summary").click()
    mark = folded.locator("mark").first
    assert "were killed" in mark.inner_text() and mark.is_visible()
    quote, sources = answer.locator("blockquote").last.bounding_box(), folded.bounding_box()
    assert sources["y"] > quote["y"] and sources["y"] - (quote["y"] + quote["height"]) < 400, (
        "the sources come right after the answer, not a screen and a half below it")
    page.close()
