"""The web page in a real headless Chromium (Debian's package, driven by Playwright) against a live service.

Each test starts the whole service against both simulators on 127.0.0.1 and uses the page as a person
would: it clicks, types and presses keys, and checks both the page and the simulated units. The dashboard
screenshots are saved to ``artifacts/``.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartsofar.web.auth import hash_password
from smartsofar.web.server import start_http
from tests.browser.chromium import ARTIFACTS, CHROMIUM, open_page
from tests.live_service import LiveService, eventually, live_service

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed "
                                "(scripts/install --dev installs it)")


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveService]:
    async with live_service(tmp_path) as site:
        yield site


async def settled(page: Page) -> None:
    """Wait until the page shows the grid held (the units' reports arrive a second or two after the meter)."""
    await page.wait_for_function("() => { const t = document.querySelector('#grid-w').textContent;"
                                 " const b = document.querySelector('#battery-w').textContent.replace(/[^0-9-]/g, '');"
                                 " return t !== '–' && Number(t.replace(/[^0-9]/g, '')) < 40 && Number(b) < -1200; }")


@pytest.mark.slow
async def test_dashboard_drives_the_units_with_mode_slider_and_standby(browser: Browser, live: LiveService) -> None:
    page = await open_page(browser, live.url)
    await expect(page.locator(".unit-card")).to_have_count(2)
    await expect(page.locator(".unit-card").first).to_contain_text("garage")
    await expect(page.locator(".unit-card .response").first).to_contain_text("s dead time")
    await expect(page.get_by_test_id("grid-w")).not_to_have_text("–")
    await expect(page.locator("#power-slider")).to_be_disabled()  # auto: SmartSofar sets the power

    await page.get_by_label("Manual").check()
    await expect(page.locator("#power-slider")).to_be_enabled()
    await page.fill("#power-number", "1500")
    await page.click("#power-apply")
    assert await eventually(lambda: abs(live.battery_w() - 1500) < 30)
    await expect(page.locator("#setpoint-w")).to_have_text("1,500")

    slider = page.locator("#power-slider")
    await slider.focus()
    for _ in range(10):
        await page.keyboard.press("ArrowLeft")  # 50 W a step
    assert await eventually(lambda: abs(live.battery_w() - 1000) < 30)

    await page.click("#standby-button")
    assert await eventually(lambda: live.battery_w() == 0)
    await expect(page.locator("#setpoint-w")).to_have_text("0")

    await page.get_by_label("Auto").check()
    await expect(page.locator("#power-slider")).to_be_disabled()
    assert await eventually(lambda: live.battery_w() < -1200)
    await expect(page.locator(".unit-card").first).to_contain_text("discharging")
    await expect(page.locator("#safety")).to_have_text("holding the grid at the target")
    await expect(page.locator("#demo-badge")).to_be_hidden()
    await settled(page)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    phone = await open_page(browser, live.url, width=390, height=844)
    await expect(phone.locator(".unit-card")).to_have_count(2)
    await settled(phone)
    await phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)


async def test_the_mode_switch_works_from_the_keyboard(browser: Browser, live: LiveService) -> None:
    page = await open_page(browser, live.url)
    await expect(page.get_by_label("Auto")).to_be_checked()
    await page.get_by_label("Auto").focus()
    await page.keyboard.press("ArrowRight")  # radio group: moves to Manual and selects it
    await expect(page.get_by_label("Manual")).to_be_checked()
    assert await eventually(lambda: live.service.engine is not None
                            and str(live.service.engine.site.mode.mode) == "manual")


async def test_a_refused_value_is_shown_and_changes_nothing(browser: Browser, live: LiveService) -> None:
    page = await open_page(browser, live.url)
    await page.get_by_label("Manual").check()
    await page.fill("#power-number", "9000")
    await page.click("#power-apply")
    await expect(page.locator("#banner")).to_contain_text("between -6000 and 6000 W")
    assert live.service.engine is not None and live.service.engine.site.mode.manual_power_w == 0


async def test_a_typed_power_survives_live_updates_until_it_is_applied(browser: Browser, live: LiveService) -> None:
    page = await open_page(browser, live.url)
    await page.get_by_label("Manual").check()
    await page.fill("#power-number", "1200")
    await page.focus("#power-apply")  # the focus leaves the field, as when the user reaches for Apply ...
    await page.wait_for_timeout(2500)  # ... while live updates arrive
    await expect(page.locator("#power-number")).to_have_value("1200")
    await page.click("#power-apply")
    assert await eventually(lambda: abs(live.battery_w() - 1200) < 30)


async def test_settings_are_saved_and_read_back(browser: Browser, live: LiveService) -> None:
    page = await open_page(browser, f"{live.url}/#settings")
    field = page.locator("#set-control-deadband_w")
    await expect(field).to_be_hidden()  # an advanced setting, folded away
    await page.locator('[data-group="control"] details.advanced > summary').click()
    await expect(field).to_have_value("8")
    await field.fill("-5")
    await page.locator('[data-group="control"] details.advanced > summary').click()  # folded again
    await page.click("#settings-save")
    await expect(page.locator('.field[data-key="control.deadband_w"] .error')).to_contain_text(
        "greater than or equal to 0")  # at the field, unfolded to show it
    await expect(field).to_be_visible()
    await field.fill("12")
    await page.click("#settings-save")
    await expect(page.locator("#settings-result")).to_contain_text("In use now: control.deadband_w")
    await page.reload()
    await page.locator('[data-group="control"] details.advanced > summary').click()
    await expect(page.locator("#set-control-deadband_w")).to_have_value("12")
    assert "deadband_w = 12" in live.config_path.read_text()
    await page.click("#read-meter")
    await expect(page.locator("#read-result")).to_contain_text("Shelly Pro 3EM")


@pytest.mark.parametrize(("width", "height"), [pytest.param(1280, 900, id="desktop"),
                                               pytest.param(390, 844, id="phone")])
async def test_the_settings_page_is_organised_and_worded_for_people(browser: Browser, live: LiveService, width: int,
                                                                   height: int) -> None:
    page = await open_page(browser, f"{live.url}/#settings", width, height)
    await expect(page.locator(".settings-group > h2")).to_have_count(11)
    titles = await page.locator(".settings-group > h2").all_text_contents()
    assert titles == ["Control", "Grid meter", "RS485 bus 1", "garage · id 1", "cellar · id 2", "Tariff and prices",
                      "Planner", "PV forecast", "MQTT & Home Assistant", "Web & security", "Storage"]
    labels = [text.split("applies at once")[0].split("after a restart")[0]
              for text in await page.locator(".field > label").all_text_contents()]
    assert labels and not [t for t in labels if "_" in t or " · " in t], "raw keys shown as labels"
    unit = page.locator('[data-group="buses.0.units.0"]')
    await expect(unit.locator('.field[data-key="buses.0.units.0.max_charge_w"] label')).to_contain_text(
        "Maximum charge power, W")
    phase = unit.locator("#set-buses-0-units-0-phase")
    assert await phase.locator("option").all_text_contents() == ["not set", "a", "b", "c"]
    await expect(unit.locator("#set-buses-0-units-0-dead_time_s")).to_be_hidden()  # advanced
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, "the page is wider than the screen"
    page_height = await page.evaluate("document.documentElement.scrollHeight")
    assert page_height < (12000 if width < 600 else 5500), page_height  # it was 8500 px on a desktop
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"settings-{width}.png"), full_page=True)


async def test_units_are_added_and_removed_from_the_settings_page(browser: Browser, live: LiveService) -> None:
    page = await open_page(browser, f"{live.url}/#settings")
    page.on("dialog", lambda dialog: dialog.accept())
    bus = page.locator('[data-group="buses.0"]')
    await bus.locator("details.adder-unit > summary").click()
    await bus.locator('input[id$="-id"]').fill("2")
    await bus.locator("details.adder-unit button").click()
    await expect(bus.locator("details.adder-unit .error")).to_contain_text("already used")  # refused at the form
    await bus.locator('input[id$="-id"]').fill("3")
    await bus.locator('input[id$="-name"]').fill("attic")
    await bus.locator("details.adder-unit button").click()
    await expect(page.locator('[data-group="buses.0.units.2"] > h2')).to_have_text("attic · id 3")
    await expect(page.locator("#settings-result")).to_contain_text("after a restart")
    saved = tomllib.loads(live.config_path.read_text())
    assert [u["id"] for u in saved["buses"][0]["units"]] == [1, 2, 3]
    await page.locator('[data-group="buses.0.units.2"] .card-actions button').click()
    await expect(page.locator('[data-group="buses.0.units.2"]')).to_have_count(0)
    assert [u["id"] for u in tomllib.loads(live.config_path.read_text())["buses"][0]["units"]] == [1, 2]


async def test_history_and_logs_pages(browser: Browser, live: LiveService) -> None:
    assert await eventually(lambda: bool(live.service.history and live.service.history.count("site_10s")), 25)
    page = await open_page(browser, f"{live.url}/#history")
    await expect(page.locator("#hist-chart canvas")).to_have_count(1)
    await expect(page.locator("#hist-chart")).to_contain_text("Grid C W")  # the demo's Pro 3EM has phases
    await expect(page.locator("#days-table tbody tr")).not_to_have_count(0)
    await page.click("a[data-page=logs]")
    await expect(page.locator("#log-lines")).to_contain_text("web page on")
    await page.select_option("#log-level", "WARNING")
    await expect(page.locator("#log-lines")).not_to_contain_text("web page on")


async def test_a_password_protects_the_page(browser: Browser, tmp_path: Path) -> None:
    web = {"password_hash": hash_password("correct horse"), "read_only_without_login": False}
    async with live_service(tmp_path, config={"web": web}) as site:
        page = await open_page(browser, site.url)
        dialog = page.locator("#login-dialog")
        await expect(dialog).to_be_visible()
        await page.fill("#login-password", "wrong password")
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#login-error")).to_have_text("wrong password")
        await page.fill("#login-password", "correct horse")
        await page.click("#login-form button[type=submit]")
        await expect(dialog).to_be_hidden()
        await expect(page.get_by_test_id("grid-w")).not_to_have_text("–")
        await page.get_by_label("Standby").check()
        assert await eventually(lambda: site.service.engine is not None
                                and str(site.service.engine.site.mode.mode) == "standby")


async def test_the_plan_page_shows_prices_and_holds_the_batteries_for_an_hour(browser: Browser,
                                                                            tmp_path: Path) -> None:
    tariff = {"tariff": {"kind": "time_of_use", "price": 0.27, "preset": "heures_creuses", "offpeak_price": 0.2068}}
    async with live_service(tmp_path, config=tariff) as live:
        page = await open_page(browser, f"{live.url}/#dashboard", width=390, height=844)  # a phone
        await settled(page)
        await page.click("a[data-page=plan]")
        await expect(page.locator("#plan-price")).to_contain_text("EUR/kWh")
        await expect(page.locator("#plan-chart canvas")).to_have_count(1)
        plot_px = await page.locator("#plan-chart .u-over").evaluate("e => e.getBoundingClientRect().width")
        assert plot_px > 180, plot_px  # on a phone the axes leave the plot room (three of them left it 90 px)
        await page.click("[data-battery-mode=hold]")
        await expect(page.locator("#plan-mode")).to_have_text("hold")
        await expect(page.locator("#plan-reason")).to_contain_text("asked by the web page")
        assert await eventually(lambda: abs(sum(u.power_w for u in live.plant.units.values())) < 50, 15)
        # a window that is not in force while the test runs: "normal" must be the mode at its end
        hours = "14:00-17:00" if 1 <= time.localtime().tm_hour < 6 else "02:00-05:00"
        await page.click("#schedule-add")
        await page.locator("#schedule-table tbody tr input[name=hours]").fill(hours)
        await page.click("#schedule-save")
        await expect(page.locator("#schedule-result")).to_contain_text("Saved: 1 entry")
        assert hours in live.config_path.read_text()
        await page.locator("#schedule-table tbody tr input[name=hours]").fill("2 to 5")
        await page.click("#schedule-save")
        await expect(page.locator("#schedule-result")).to_contain_text("HH:MM")
        await page.click("[data-battery-mode=normal]")
        await expect(page.locator("#plan-mode")).to_have_text("normal")
        assert await eventually(lambda: sum(u.power_w for u in live.plant.units.values()) < -1200, 15)


def _evcc_solar(today: date) -> Starlette:
    """evcc's /api/tariff/solar: 1 kW from 10:00 to 15:00 today (5 kWh) and 500 W tomorrow (2.5 kWh), local."""
    rates = []
    for day, watts in ((today, 1000.0), (today + timedelta(days=1), 500.0)):
        for hour in range(10, 15):
            start = datetime(day.year, day.month, day.day, hour).astimezone()
            rates.append({"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat(), "value": watts})

    async def solar(request: Request) -> Response:
        return JSONResponse({"rates": rates})

    return Starlette(routes=[Route("/api/tariff/solar", solar)])


async def test_the_plan_page_shows_the_pv_forecast(browser: Browser, tmp_path: Path) -> None:
    evcc = await start_http(_evcc_solar(date.today()))
    config = {"tariff": {"kind": "time_of_use", "price": 0.27, "preset": "heures_creuses", "offpeak_price": 0.2068},
              "pv_forecast": {"source": "evcc", "url": evcc.url}}
    try:
        async with live_service(tmp_path, config=config) as live:
            page = await open_page(browser, f"{live.url}/#plan")
            await expect(page.locator("#plan-feed")).to_contain_text("PV forecast from evcc: 5.0 kWh today, 2.5 kWh "
                                                                     "tomorrow")
            # no history yet, and evcc's forecasts cover today and tomorrow only: not the week the plan learns from
            await expect(page.locator("#plan-feed")).to_contain_text("until the forecasts kept cover the last 7 days")
    finally:
        await evcc.stop()


async def test_a_scheduled_export_set_on_the_plan_page_discharges_beyond_the_house(browser: Browser,
                                                                               tmp_path: Path) -> None:
    tariff = {"tariff": {"kind": "time_of_use", "price": 0.27, "preset": "heures_creuses", "offpeak_price": 0.2068}}
    async with live_service(tmp_path, config=tariff) as live:  # the house draws 1300 W
        page = await open_page(browser, f"{live.url}/#plan")
        hour = time.localtime().tm_hour
        await page.click("#schedule-add")
        row = page.locator("#schedule-table tbody tr")
        await row.locator("input[name=hours]").fill(f"{hour:02d}:00-{(hour + 2) % 24:02d}:00")
        await row.locator("select").select_option("export")
        await row.locator("input[name=soc_pct]").fill("20")
        await page.click("[data-battery-mode=normal]")  # reloads the plan: the unsaved entry must survive it
        await expect(page.locator("#plan-mode")).to_have_text("normal")
        await expect(row.locator("input[name=soc_pct]")).to_have_value("20")
        await page.click("#schedule-save")
        await expect(page.locator("#schedule-result")).to_contain_text("Saved: 1 entry")
        assert 'mode = "export"' in live.config_path.read_text()
        assert await eventually(lambda: live.battery_w() < -2500, 20)  # well beyond the house's 1300 W
        await page.reload()
        await expect(page.locator("#plan-mode")).to_contain_text("export from the batteries")
        await expect(page.locator("#plan-reason")).to_contain_text("export down to 20 %")
        await row.locator("input[name=soc_pct]").fill("100")  # an export with nothing to export down to
        await page.click("#schedule-save")
        await expect(page.locator("#schedule-result")).to_contain_text("export down to")
