// A headless Chromium driven over stdin/stdout for the dashboard tests
// (browser.py is its Python side). One browser per process; each
// command is one JSON line in, one JSON line out:
//   {"op":"open","url":..,"width":1280,"height":800,"scheme":"light"}  a fresh context and page
//   {"op":"text","selector":..}                      the element's innerText
//   {"op":"wait_text","selector":..,"pattern":..,"timeout_ms":..}  until innerText matches the regex
//   {"op":"wait","selector":..,"timeout_ms":..}      until the element is visible
//   {"op":"count","selector":..}                     how many elements match
//   {"op":"fill","selector":..,"value":..} / {"op":"click","selector":..} / {"op":"press","key":..}
//   {"op":"insert_text","text":..}                    text into the focused element, as one input (a paste)
//   {"op":"eval","js":..}                            the value of a JS expression in the page
//   {"op":"download","selector":..}                  click; {name, text} of the file downloaded
//   {"op":"screenshot","path":..,"full_page":true}
//   {"op":"messages"}                                console errors, warnings and page errors so far
//   {"op":"quit"}
// Answers: {"ok":true,"value":..} or {"ok":false,"error":".."}.
// Chromium is Debian's (/usr/bin/chromium or $CHROMIUM), never a download.
const path = require("path");
const readline = require("readline");
const { chromium } = require(path.join(__dirname, "..", "node_modules", "playwright-core"));

async function main() {
  const profile = process.argv[2];
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=en-US"],
  });
  let page = null;
  let messages = [];

  const ops = {
    async open(c) {
      if (page) await page.close();
      messages = [];
      page = await browser.newPage();
      await page.setViewportSize({ width: c.width || 1280, height: c.height || 800 });
      await page.emulateMedia({ colorScheme: c.scheme || "light" });
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") {
          messages.push({ type: m.type(), text: m.text(), url: m.location().url || "" });
        }
      });
      page.on("pageerror", (e) => messages.push({ type: "pageerror", text: String(e), url: "" }));
      page.on("requestfailed", (r) => messages.push({ type: "requestfailed", text: r.failure()?.errorText || "", url: r.url() }));
      await page.goto(c.url, { waitUntil: "load" });
      return page.url();
    },
    async text(c) { return page.locator(c.selector).first().innerText({ timeout: c.timeout_ms || 5000 }); },
    async wait(c) {
      await page.locator(c.selector).first().waitFor({ state: "visible", timeout: c.timeout_ms || 10000 });
      return true;
    },
    async wait_text(c) {
      const re = new RegExp(c.pattern);
      const deadline = Date.now() + (c.timeout_ms || 10000);
      let last = null;
      while (Date.now() < deadline) {
        try {
          last = await page.locator(c.selector).first().innerText({ timeout: 1000 });
          if (re.test(last)) return last;
        } catch { /* not there yet */ }
        await page.waitForTimeout(100);
      }
      throw new Error(`${c.selector}: text ${JSON.stringify(last)} did not match /${c.pattern}/`);
    },
    async count(c) { return page.locator(c.selector).count(); },
    async fill(c) { await page.locator(c.selector).first().fill(c.value); return true; },
    async click(c) { await page.locator(c.selector).first().click(); return true; },
    async press(c) { await page.keyboard.press(c.key); return true; },
    async insert_text(c) { await page.keyboard.insertText(c.text); return true; },
    async eval(c) { return page.evaluate(c.js); },
    // Clicks and answers the text of the file the page downloads.
    async download(c) {
      const [d] = await Promise.all([page.waitForEvent("download", { timeout: c.timeout_ms || 10000 }),
        page.locator(c.selector).first().click()]);
      return { name: d.suggestedFilename(), text: require("fs").readFileSync(await d.path(), "utf8") };
    },
    async screenshot(c) { await page.screenshot({ path: c.path, fullPage: c.full_page !== false }); return c.path; },
    async messages() { return messages; },
  };

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    if (c.op === "quit") break;
    let answer;
    try {
      if (!ops[c.op]) throw new Error("unknown op " + c.op);
      answer = { ok: true, value: await ops[c.op](c) };
    } catch (e) {
      answer = { ok: false, error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
  await browser.close();
  process.exit(0);  // stdin is still open: without this node would wait for its end
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
