"""The collectors' workbench in a real browser: an agent works a case (a no-answer, then a promise to
pay, both on the timeline) and asks for a waiver; a supervisor approves it from the inbox and reassigns
the case; an auditor sees no control that changes anything, and the API refuses the change they forge.
The screenshots in docs/images are taken here."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import DOCS_IMAGES

CASE = "L1-2026-06-15"


def wait(driver: WebDriver, seconds: float = 10) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, seconds)


def sign_in(driver: WebDriver, url: str, user: str) -> None:
    driver.get(f"{url}/#/")
    driver.execute_script("sessionStorage.clear(); localStorage.setItem('dueflow.lang', 'en');")
    driver.refresh()  # signed out: the page offers the local users
    wait(driver).until(ec.element_to_be_clickable((By.ID, f"sign-in-{user}"))).click()


def timeline(driver: WebDriver, kind: str) -> list[Any]:
    return driver.find_elements(By.CSS_SELECTOR, f"#timeline li[data-type='{kind}']")


def test_an_agent_records_a_no_answer_then_a_promise_and_sees_both_on_the_timeline(site: Any, browser: Any) -> None:
    url, bench = site
    sign_in(browser, url, "ag1")
    rows = wait(browser).until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "#queue-table tbody tr")))
    mine = {c.case_id for c in bench.runtime.services.cases.all() if c.assigned_to == "ag1"}
    assert {row.get_attribute("data-case") for row in rows} == mine and CASE in mine
    browser.save_screenshot(str(DOCS_IMAGES / "workbench-queue.png"))
    browser.find_element(By.LINK_TEXT, CASE).click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "case-title"), CASE))

    Select(browser.find_element(By.ID, "disposition")).select_by_value("no_answer")
    browser.find_element(By.ID, "record-outcome").click()
    wait(browser).until(lambda d: len(timeline(d, "call_outcome")) == 1)
    assert "No answer" in timeline(browser, "call_outcome")[0].text

    Select(browser.find_element(By.ID, "disposition")).select_by_value("promise_to_pay")
    browser.find_element(By.ID, "promise-date").send_keys("06/25/2026")
    browser.find_element(By.ID, "promise-amount").send_keys("500.00")
    browser.find_element(By.ID, "outcome-note").send_keys("will pay on payday")
    browser.find_element(By.ID, "record-outcome").click()
    wait(browser).until(lambda d: len(timeline(d, "call_outcome")) == 2)
    newest, older = (e.text for e in timeline(browser, "call_outcome"))  # the timeline reads newest first
    assert "Promise to pay" in newest and "will pay on payday" in newest and "No answer" in older
    assert len(timeline(browser, "promise_to_pay")) == 1
    case = bench.runtime.services.cases.require(CASE)  # the record, not the page, says it happened
    assert case.promise is not None and str(case.promise.amount) == "500.00"
    assert str(case.promise.promised_date) == "2026-06-25"
    browser.save_screenshot(str(DOCS_IMAGES / "workbench-case.png"))


def test_a_supervisor_approves_the_agents_waiver_request_and_reassigns_the_case(site: Any, browser: Any) -> None:
    url, bench = site
    sign_in(browser, url, "ag1")
    browser.get(f"{url}/#/case/{CASE}")
    field = wait(browser).until(ec.presence_of_element_located((By.ID, "waive-interest")))
    field.clear()
    field.send_keys("0.01")  # an agent may waive no interest: held for a supervisor
    browser.find_element(By.ID, "calculate-plan").click()  # the calculator first: who must approve, what it costs
    wait(browser).until(ec.presence_of_element_located((By.ID, "plan-installments")))
    assert "supervisor" in browser.find_element(By.ID, "plan-preview").text
    browser.find_element(By.ID, "propose-plan").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "action-status"), "Saved"))
    assert bench.runtime.services.cases.require(CASE).waiver_request is not None

    sign_in(browser, url, "sup1")
    browser.get(f"{url}/#/approvals")
    wait(browser).until(ec.element_to_be_clickable((By.ID, f"approve-{CASE}")))
    browser.save_screenshot(str(DOCS_IMAGES / "workbench-approvals.png"))
    browser.find_element(By.ID, f"approve-{CASE}").click()
    wait(browser).until(lambda d: not d.find_elements(By.ID, f"approve-{CASE}"))
    case = bench.runtime.services.cases.require(CASE)
    assert case.waiver_request is None and case.plan is not None and str(case.plan.waived_interest) == "0.01"

    browser.get(f"{url}/#/case/{CASE}")
    agent = wait(browser).until(ec.presence_of_element_located((By.ID, "assign-agent")))
    agent.clear()
    agent.send_keys("ag2")
    browser.find_element(By.ID, "assign-button").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "case-assignee"), "ag2"))
    assert bench.runtime.services.cases.require(CASE).assigned_to == "ag2"
    browser.get(f"{url}/#/team")
    wait(browser).until(ec.presence_of_element_located((By.ID, "by-agent")))
    browser.save_screenshot(str(DOCS_IMAGES / "workbench-team.png"))


def test_an_auditor_sees_no_control_that_changes_anything_and_a_forged_change_is_refused(
    site: Any, browser: Any
) -> None:
    url, bench = site
    sign_in(browser, url, "aud1")
    browser.get(f"{url}/#/case/{CASE}")
    wait(browser).until(ec.presence_of_element_located((By.ID, "read-only")))
    assert "verified" in browser.find_element(By.ID, "chain").text
    for control in ("outcome-form", "plan-form", "assign-form", "note-form", "reveal-phone"):
        assert not browser.find_elements(By.ID, control), control
    assert not browser.find_elements(By.CSS_SELECTOR, "main form, main button")
    before = bench.runtime.services.audit_store.read_case("L1", CASE)
    forged = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch('/api/cases/L1-2026-06-15/notes', {method: 'POST',
          headers: {'Content-Type': 'application/json', 'X-Local-User': 'aud1'},
          body: JSON.stringify({text: 'forged'})}).then(r => done(r.status));
        """
    )
    assert forged == 403
    assert bench.runtime.services.audit_store.read_case("L1", CASE) == before
    # the same page in Chinese: the labels change, the data does not
    Select(browser.find_element(By.ID, "lang")).select_by_value("zh-CN")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "read-only"), "只读"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert "逾期账单" in browser.find_element(By.ID, "statement-h").text
    browser.get(f"{url}/#/queue")
    wait(browser).until(ec.presence_of_element_located((By.ID, "queue-table")))
    browser.save_screenshot(str(DOCS_IMAGES / "workbench-queue-zh.png"))
